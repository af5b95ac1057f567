import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { REPO_ROOT } from "../../protocol/manifest.js";

/** Runs `npm run lint:deps`' dependency-cruiser on `dirs`; resolves with exit code and output. */
function depcruise(dirs: string[]): Promise<{ code: number; out: string }> {
  const bin = path.join(REPO_ROOT, "node_modules", ".bin", "depcruise");
  return new Promise((resolve) => {
    execFile(
      bin,
      [...dirs, "--config", ".dependency-cruiser.cjs"],
      { cwd: REPO_ROOT },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe("dependency rule (.dependency-cruiser.cjs)", function () {
  this.timeout(120_000);

  it("passes on the tree as it is", async function () {
    const r = await depcruise([
      "gateway",
      "cli",
      "scripts",
      "ignition",
      "protocol",
      "circuits/lib",
    ]);
    expect(r.out).to.match(/no dependency violations found/);
    expect(r.code).to.equal(0);
  });

  const planted = [
    ["cli", "../gateway/app.js", "cli-is-an-app"],
    ["gateway", "../cli/partproof.js", "gateway-is-an-app"],
    ["ignition", "../scripts/lib/circuit-build.js", "ignition-is-deployment-only"],
    ["protocol", "../gateway/errors.js", "protocol-below-apps"],
    ["scripts/lib", "../../test/gateway/helpers.js", "no-test-imports"],
  ] as const;

  describe("with an import planted the wrong way in each of five folders", function () {
    // one dependency-cruiser run over the five folders, each holding its planted file (one run
    // per plant cost ~2-3 s each); every test reads its own rule's line for its own file
    let run: { code: number; out: string };
    before(async function () {
      const files = planted.map(([from]) => path.join(REPO_ROOT, from, "__planted_wrong_way.ts"));
      try {
        for (const [i, [, to]] of planted.entries()) {
          await writeFile(files[i]!, `import "${to}";\nexport const planted = 1;\n`);
        }
        run = await depcruise(planted.map(([from]) => from));
      } finally {
        for (const f of files) await rm(f, { force: true });
      }
    });

    it("fails", function () {
      expect(run.code).to.not.equal(0);
    });

    for (const [from, to, rule] of planted) {
      it(`names ${rule} for the planted ${from} → ${to.replace(/^(\.\.\/)+/, "")} import`, function () {
        const line = run.out
          .split("\n")
          .find((l) => l.includes(`${rule}:`) && l.includes(`${from}/__planted_wrong_way.ts`));
        expect(line, run.out).to.match(/^\s*error /); // an error (the run fails), not a warning
      });
    }
  });
});
