/**
 * `partproof` as an installed package: `npm pack`, then `npm install -g` of the tarball into a
 * temporary prefix, then the bin run from outside the checkout. What the CLI needs at run time
 * (verification keys, circuit manifest, contract bindings) must ship in the tarball; the
 * source tree's scripts/ must not.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../../scripts/lib/circuit-build.js";

const run = promisify(execFile);

describe("partproof as an installed package", function () {
  this.timeout(10 * 60_000);
  let tmp: string;
  let bin: string;
  let pkg: string;

  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "partproof-pack-"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", tmp], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const { filename } = (JSON.parse(stdout) as { filename: string }[])[0]!;
    const prefix = path.join(tmp, "prefix");
    await run(
      "npm",
      ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline"].concat([
        "--loglevel=error",
        path.join(tmp, filename),
      ]),
      { cwd: tmp, maxBuffer: 16 * 1024 * 1024 },
    );
    bin = path.join(prefix, "bin", "partproof");
    pkg = path.join(prefix, "lib", "node_modules", "partproof");
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("installs the bin with what it needs at run time and without scripts/", () => {
    expect(existsSync(bin)).to.equal(true);
    expect(existsSync(path.join(pkg, "scripts"))).to.equal(false);
    expect(existsSync(path.join(pkg, "circuits", "circuits.json"))).to.equal(true);
    expect(
      existsSync(path.join(pkg, "circuits", "build", "range_d4", "range_d4.vkey.json")),
    ).to.equal(true);
    expect(existsSync(path.join(pkg, "types", "ethers-contracts", "index.ts"))).to.equal(true);
  });

  it("runs `partproof --help` from outside the checkout", async () => {
    const { stdout } = await run(bin, ["--help"], { cwd: tmp });
    expect(stdout).to.match(/^Usage: partproof \[options\] \[command\]/);
    expect(stdout).to.include("automaker");
    const sub = await run(bin, ["automaker", "query", "--help"], { cwd: tmp });
    expect(sub.stdout).to.match(
      /--version <id>\s+the published version to ask\s+\(default:\s+the\s+latest\s+version\)/,
    );
  });

  it("answers a mistyped option in one line and exit code 2", async () => {
    const err = await run(bin, ["auditor", "report", "--bogus"], { cwd: tmp }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).to.equal(2);
    expect(err?.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(err?.stderr).to.match(
      /^error: unknown option '--bogus' — usage: partproof auditor report/,
    );
  });
});
