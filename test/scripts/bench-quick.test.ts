/**
 * The benchmark script (scripts/bench.ts) run as a user runs it: its --quick mode produces
 * well-formed results, and it refuses an unknown benchmark. A slow file (test/tiers.ts): it runs
 * the script in a child process; the helpers' tests are in bench.test.ts. No timing assertions:
 * only shapes and counts.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, treeHashCount, type BenchResults } from "../../scripts/lib/bench/common.js";
import type { TreeBenchData } from "../../scripts/lib/bench/tree.js";
import type { ConstraintsBenchData } from "../../scripts/lib/bench/constraints.js";

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  return new Promise((resolve) => {
    execFile(tsx, ["scripts/bench.ts", ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("scripts/bench.ts", function () {
  this.timeout(300_000);

  describe("--quick", function () {
    let dir: string;
    let results: BenchResults;
    let markdown: string;
    let run: { code: number; stdout: string; stderr: string };

    before(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "partproof-bench-test-"));
      run = await runBench(["--quick", "--only", "constraints,tree", "--out", dir]);
      results = JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as BenchResults;
      markdown = readFileSync(path.join(dir, "RESULTS.md"), "utf8");
    });

    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it("exits 0 and prints progress lines with the elapsed time", function () {
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^\[\s*\d+\.\d s\] ── tree/m);
    });

    it("records the machine: cpus, memory and node version", function () {
      expect(results.machine.cpus).to.be.a("number").and.to.be.at.least(1);
      expect(results.machine.memoryMiB).to.be.a("number").and.to.be.above(0);
      expect(results.machine.node).to.equal(process.version);
      expect(Date.parse(results.date)).to.not.be.NaN;
    });

    it("writes only the selected benchmarks, marked quick, with load averages", function () {
      expect(Object.keys(results.benchmarks)).to.deep.equal(["constraints", "tree"]);
      for (const e of Object.values(results.benchmarks)) {
        expect(e!.quick).to.equal(true);
        expect(e!.status).to.equal("ok");
        expect(e!.loadavg.start).to.have.length(3);
        expect(e!.loadavg.end).to.have.length(3);
      }
    });

    it("builds a 10^3-record tree at depth 20 and counts its hashes", function () {
      const tree = results.benchmarks.tree!.data as TreeBenchData;
      expect(tree.depth).to.equal(20);
      expect(tree.runs).to.have.length(1);
      const r = tree.runs[0]!;
      expect(r.records).to.equal(1000);
      expect(r.leafCount).to.equal(1000);
      expect(r.hashes.total).to.equal(r.hashes.leaf + r.hashes.node);
      expect(r.hashes).to.deep.include(treeHashCount(1000, 20));
      expect(r.buildMs).to.be.above(0);
      // buildTree's own phases: preparing, then hashing, within the build measured around it
      expect(r.buildPhasesMs!.hash).to.be.above(0);
      expect(r.buildPhasesMs!.prepare + r.buildPhasesMs!.hash).to.be.at.most(r.buildMs + 1);
      expect(r.hashesPerSecond).to.be.above(0);
      expect(r.peakRssMiB).to.be.at.least(r.baselineRssMiB);
    });

    it("lists the compiled test circuit with its five public inputs", function () {
      const c = results.benchmarks.constraints!.data as ConstraintsBenchData;
      const d4 = c.circuits.find((x) => x.name === "range_d4");
      expect(d4, "range_d4 compiled by the test build").to.not.equal(undefined);
      expect(d4!.publicInputs).to.equal(5);
      expect(d4!.constraints).to.be.above(0);
      expect(2 ** d4!.requiredPtau).to.be.above(d4!.constraints);
    });

    it("renders the tables into RESULTS.md", function () {
      expect(markdown).to.include("| records | buildTree (s) |");
      expect(markdown).to.match(/\|\s+10\^3\s+\|\s+\d+\.\d\d\s+\|/);
      expect(markdown).to.match(/\| range_d4\s+\| test\s+\|\s+\d[\d,]*\s+\|/);
    });
  });

  it("refuses an unknown benchmark name with exit code 2", async function () {
    const r = await runBench(["--only", "tree,nope"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('unknown benchmark "nope"');
  });
});
