import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SLOW_FILES, allTestFiles, quickTestFiles } from "./tiers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (f: string) => readFileSync(path.join(ROOT, f), "utf8");

/** Every `*.test.ts` under test/, found by walking the folders one by one (not by tiers.ts). */
function walkTestFiles(dir = "test"): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? walkTestFiles(`${dir}/${e.name}`)
      : e.name.endsWith(".test.ts")
        ? [`${dir}/${e.name}`]
        : [],
  );
}

describe("test tiers (test/tiers.ts)", function () {
  it("lists as slow only test files that exist, each with a reason", function () {
    const listed = Object.entries(SLOW_FILES);
    expect(listed.length).to.be.greaterThan(0);
    for (const [file, why] of listed) {
      expect(existsSync(path.join(ROOT, file)), `${file} (listed slow) exists`).to.equal(true);
      expect(file, "a slow entry is a test file").to.match(/^test\/.+\.test\.ts$/);
      expect(why.trim().length, `${file} says why it is slow`).to.be.greaterThan(10);
    }
  });

  it("puts every test file in exactly one tier: the quick tier, or the slow list", function () {
    const quick = quickTestFiles();
    const slow = Object.keys(SLOW_FILES);
    expect(
      quick.filter((f) => slow.includes(f)),
      "in both tiers",
    ).to.deep.equal([]);
    const tests = walkTestFiles().sort();
    const inATier = new Set([...quick, ...slow]);
    expect(
      tests.filter((f) => !inATier.has(f)),
      "test files in no tier",
    ).to.deep.equal([]);
    expect(quick.length + slow.length).to.equal(allTestFiles().length);
  });

  it("keeps every area in the quick tier, the contracts' reverts included", function () {
    const quick = quickTestFiles().filter((f) => f.endsWith(".test.ts"));
    for (const area of [
      "contracts",
      "circuits",
      "protocol",
      "gateway",
      "cli",
      "scripts",
      "console",
    ]) {
      expect(
        quick.filter((f) => f.startsWith(`test/${area}/`)),
        `quick tier files of test/${area}`,
      ).to.not.deep.equal([]);
    }
    const reverts = quick.filter(
      (f) => f.startsWith("test/contracts/") && read(f).includes("revertedWithCustomError"),
    );
    expect(reverts, "quick contract tests of custom-error reverts").to.not.deep.equal([]);
    // circuits at the test size, as the build makes them for `npm test`
    expect(quick.some((f) => f.startsWith("test/circuits/") && read(f).includes("_d4"))).to.equal(
      true,
    );
  });

  it("runs the quick tier as `npm test` and every file as `npm run test:all`, which CI runs as the README says", function () {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts["test:inner"]).to.match(/tsx test\/tiers\.ts quick$/);
    // no file arguments: hardhat runs every file under test/
    expect(scripts["test:all:inner"]).to.match(/&& hardhat test$/);
    const ci = read(".ci/run");
    expect(ci).to.match(/^npm run test:all$/m);
    expect(ci).to.not.match(/^npm test$/m);
    const start = read("README.md").split("## Start here")[1]!.split("```")[1]!;
    const commands = start
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l && l !== "bash");
    expect(commands).to.deep.equal(["npm run demo", "npm run test:all"]);
  });
});
