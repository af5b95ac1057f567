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

  for (const [from, to, rule] of [
    ["cli", "../gateway/app.js", "cli-is-an-app"],
    ["gateway", "../cli/partproof.js", "gateway-is-an-app"],
    ["ignition", "../scripts/lib/circuit-build.js", "ignition-is-deployment-only"],
    ["protocol", "../gateway/errors.js", "protocol-below-apps"],
    ["scripts/lib", "../../test/gateway/helpers.js", "no-test-imports"],
  ] as const) {
    it(`fails on a planted ${from} → ${to.replace(/^(\.\.\/)+/, "")} import (${rule})`, async function () {
      const plant = path.join(REPO_ROOT, from, "__planted_wrong_way.ts");
      await writeFile(plant, `import "${to}";\nexport const planted = 1;\n`);
      try {
        const r = await depcruise([from]);
        expect(r.code).to.not.equal(0);
        expect(r.out).to.include(rule);
        expect(r.out).to.include("__planted_wrong_way.ts");
      } finally {
        await rm(plant, { force: true });
      }
    });
  }
});
