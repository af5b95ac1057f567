/**
 * The benchmark script's helpers (scripts/lib/bench) compute what they claim; the script itself,
 * run with --quick, in bench-quick.test.ts (a slow file: test/tiers.ts). No timing assertions:
 * only shapes and counts.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  fmtCount,
  parseCount,
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
import { buildTree } from "../../circuits/lib/tree.js";

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
