/**
 * The benchmark script (scripts/bench.ts): its --quick mode produces well-formed results, and
 * the helpers behind it compute what they claim. No timing assertions: only shapes and counts.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  fmtCount,
  parseCount,
  ROOT,
  stats,
  syntheticRecords,
  treeHashCount,
  type BenchEntry,
  type BenchResults,
} from "../../scripts/lib/bench/common.js";
import {
  mergeResults,
  README_END,
  README_START,
  renderReadmeSection,
  updateReadme,
} from "../../scripts/lib/bench/report.js";
import type { TreeBenchData, TreeRun } from "../../scripts/lib/bench/tree.js";
import type { ConstraintsBenchData } from "../../scripts/lib/bench/constraints.js";
import { buildTree } from "../../circuits/lib/tree.js";

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  return new Promise((resolve) => {
    execFile(tsx, ["scripts/bench.ts", ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function entry<T>(data: T): BenchEntry<T> {
  return {
    date: "2026-11-26T00:00:00.000Z",
    quick: false,
    seconds: 1,
    loadavg: { start: [1, 1, 1], end: [1, 1, 1] },
    status: "ok",
    data,
  };
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

  describe("helpers", function () {
    it("stats gives median, min and max (even count: mean of the middle two)", function () {
      expect(stats([3, 1, 2])).to.deep.include({ median: 2, min: 1, max: 3 });
      expect(stats([4, 1, 3, 2]).median).to.equal(2.5);
      expect(() => stats([])).to.throw(RangeError);
    });

    it("parseCount reads 1e6, 10^5 and plain numbers and refuses the rest", function () {
      expect(parseCount("1e6")).to.equal(1_000_000);
      expect(parseCount("10^5")).to.equal(100_000);
      expect(parseCount("1234")).to.equal(1234);
      expect(() => parseCount("0")).to.throw(RangeError);
      expect(() => parseCount("1.5")).to.throw(RangeError);
      expect(fmtCount(1_000_000)).to.equal("10^6");
      expect(fmtCount(1234)).to.equal("1,234");
    });

    it("treeHashCount matches the nodes a tiny tree has", async function () {
      // depth 3, 5 records: 6 used leaves + 1 padding leaf hash; levels 1..3 hold 3, 2, 1
      // non-padding nodes, plus one padding node per level.
      expect(treeHashCount(5, 3)).to.deep.equal({ leaf: 7, node: 6 + 3 });
      const records = syntheticRecords(5);
      const tree = await buildTree(
        records,
        records.map((_, i) => BigInt(i + 1)),
        3,
      );
      expect(tree.leafCount).to.equal(5);
    });

    it("syntheticRecords is deterministic and within the record bounds", function () {
      const a = syntheticRecords(50);
      expect(a).to.deep.equal(syntheticRecords(50));
      for (const r of a) {
        expect(r.key >= 1n && r.key < (1n << 128n) - 1n).to.equal(true);
        expect(r.values).to.have.length(4);
      }
    });

    it("mergeResults keeps older entries of benchmarks not run again", function () {
      const old: BenchResults = {
        machine: { cpuModel: "x", cpus: 1, memoryMiB: 1, node: "v0", platform: "p" },
        date: "2020-01-01T00:00:00.000Z",
        benchmarks: { gas: entry({ rows: [], circuits: [] }), tree: entry({ depth: 1, runs: [] }) },
      };
      const merged = mergeResults(old, { tree: entry({ depth: 20, runs: [] }) });
      expect(merged.benchmarks.gas).to.deep.equal(old.benchmarks.gas);
      expect((merged.benchmarks.tree!.data as TreeBenchData).depth).to.equal(20);
      expect(Object.keys(merged.benchmarks)).to.deep.equal(["tree", "gas"]);
    });

    it("mergeResults keeps tree sizes not measured again, stamped with their own date", function () {
      const run = (records: number) => ({ records, depth: 20 }) as unknown as TreeRun;
      const old: BenchResults = {
        machine: { cpuModel: "x", cpus: 1, memoryMiB: 1, node: "v0", platform: "p" },
        date: "2020-01-01T00:00:00.000Z",
        benchmarks: { tree: { ...entry({ depth: 20, runs: [run(1e6), run(1e4)] }), date: "old" } },
      };
      const merged = mergeResults(old, { tree: entry({ depth: 20, runs: [run(1e4)] }) });
      const runs = (merged.benchmarks.tree!.data as TreeBenchData).runs;
      expect(runs.map((r) => r.records)).to.deep.equal([1e4, 1e6]);
      expect(runs[1]!.date).to.equal("old");
      expect(runs[0]!.date).to.equal(undefined);
    });

    it("updateReadme replaces only the marked section, or appends it once", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "partproof-readme-"));
      const file = path.join(dir, "README.md");
      try {
        writeFileSync(file, "# Title\n\nIntro.\n");
        const results: BenchResults = {
          machine: { cpuModel: "x", cpus: 2, memoryMiB: 2048, node: "v22", platform: "p" },
          date: "2026-11-26T00:00:00.000Z",
          benchmarks: {},
        };
        await updateReadme(file, renderReadmeSection(results));
        const once = readFileSync(file, "utf8");
        expect(once.startsWith("# Title\n\nIntro.\n\n" + README_START)).to.equal(true);
        writeFileSync(file, once + "\n## After\n");
        await updateReadme(file, renderReadmeSection(results));
        const twice = readFileSync(file, "utf8");
        expect(twice.split(README_START)).to.have.length(2);
        expect(twice.split(README_END)).to.have.length(2);
        expect(twice.endsWith("\n## After\n")).to.equal(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
