/**
 * Child process of the `tree` benchmark: builds the commitment tree (circuits/lib/tree.ts) of
 * `n` synthetic records at `depth` with fresh random salts, and prints one JSON line with the
 * times and this process's peak RSS.
 *
 * Usage: node --import tsx scripts/lib/bench/tree-child.ts <n> <depth> [prove-input.json]
 *          [--engine auto|native|js] [--append K]
 * With a third argument, also writes the `prove` benchmark's circuit input over this tree.
 * --append K then adds K records twice, each time onto this tree with `previous`: once with
 * keys above every key (new parts), once as later days of random parts and plants (keys land
 * all over the sorted order).
 */
import { parseArgs } from "node:util";
import {
  buildTree,
  getPoseidon,
  lastBuildStats,
  randomSalts,
  sortRecords,
  type BuildStats,
  type TreeRecord,
} from "../../../circuits/lib/tree.js";
import { nativeKernel, type NativeKernel } from "../../../circuits/lib/tree-engine.js";
import { writeProveInput } from "./prove-input.js";
import {
  parseCount,
  peakRssMiB,
  SYNTH_PARTS,
  round,
  rssMiB,
  syntheticRecords,
  treeHashCount,
} from "./common.js";

/** One append measured by the child. */
export interface TreeAppendRun {
  /** Records added onto the tree of `records`. */
  added: number;
  /** "end": keys above every key; "scattered": later days of random parts and plants. */
  where: "end" | "scattered";
  /** buildTree of all records with `previous` = the first tree (salting the added ones included), ms. */
  ms: number;
  /** Leaves and nodes hashed and copied. */
  hashed: BuildStats["hashed"];
  reused: BuildStats["reused"];
}

/** The JSON line this child prints. */
export interface TreeChildResult {
  records: number;
  depth: number;
  /** Hashing engine buildTree used ("native" or "js"). */
  engine: "native" | "js";
  /** The native engine's field kernels ("adx" assembly or portable "c"; PARTPROOF_POSEIDON_KERNEL). */
  kernel?: NativeKernel;
  /** Records committed per second: records / (salting + buildTree), i.e. salt, sort and hash. */
  recordsPerSecond: number;
  /** Appends onto this tree (--append). */
  appends?: TreeAppendRun[];
  /** Generating the synthetic records, ms. */
  generateMs: number;
  /** Drawing one random salt per record, ms. */
  saltMs: number;
  /** sortRecords alone (buildTree sorts too; measured separately to split the time), ms. */
  sortMs: number;
  /** buildTree: check, sort, every Poseidon hash and the sums, ms. */
  buildMs: number;
  /** Poseidon hashes buildTree computes (leaves: 7 inputs; nodes: 16 inputs). */
  hashes: { leaf: number; node: number; total: number };
  /** buildTree's phases (BuildStats.ms): check, pack and sort; then hashing, ms. */
  buildPhasesMs?: { prepare: number; hash: number };
  /** total hashes / (buildMs − sortMs) · 1000. */
  hashesPerSecond: number;
  /**
   * CPU time of this process (all threads) during buildTree, ms: on a loaded machine the wall
   * times above depend on the share of the cores this process got; this much less so.
   */
  buildCpuMs?: number;
  /** RSS after Poseidon was built, before the records were made, MiB. */
  baselineRssMiB: number;
  /** Peak RSS of this process (records, salts, tree), MiB. */
  peakRssMiB: number;
  /** Record count the root commits to (sanity check). */
  leafCount: number;
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { engine: { type: "string", default: "auto" }, append: { type: "string" } },
});
const n = parseCount(positionals[0] ?? "");
const depth = Number(positionals[1]);
const engine = opts.engine as "auto" | "native" | "js";
if (!["auto", "native", "js"].includes(engine)) throw new Error(`--engine: ${engine}?`);
const say = (m: string) => process.stderr.write(m + "\n");

await getPoseidon();
const baselineRssMiB = rssMiB();
let t = performance.now();
const records = syntheticRecords(n);
const generateMs = performance.now() - t;
t = performance.now();
const salts = randomSalts(n);
const saltMs = performance.now() - t;
say(`${n} records generated and salted; sorting`);
t = performance.now();
sortRecords(records, salts);
const sortMs = performance.now() - t;
say(`sorted in ${(sortMs / 1000).toFixed(1)} s; building the depth-${depth} tree`);
t = performance.now();
const cpu0 = process.cpuUsage();
const tree = await buildTree(records, salts, depth, { engine });
const buildMs = performance.now() - t;
const cpu1 = process.cpuUsage(cpu0);
const buildCpuMs = (cpu1.user + cpu1.system) / 1000;
const usedEngine = lastBuildStats()!.engine;
const phases = lastBuildStats()!.ms;
say(`built in ${(buildMs / 1000).toFixed(1)} s with the ${usedEngine} engine`);

const appends: TreeAppendRun[] = [];
if (opts.append) {
  const k = parseCount(opts.append);
  const fresh = syntheticRecords(k, 7);
  const variants: [TreeAppendRun["where"], TreeRecord[]][] = [
    ["end", fresh.map((r) => ({ ...r, key: r.key + (BigInt(SYNTH_PARTS) << 80n) }))],
    // 730 days later than the synthetic days: after its part and plant's records
    ["scattered", fresh.map((r) => ({ ...r, key: r.key + 730n }))],
  ];
  for (const [where, more] of variants) {
    say(`appending ${k} records (${where})`);
    const t1 = performance.now();
    const moreSalts = randomSalts(more.length);
    await buildTree([...records, ...more], [...salts, ...moreSalts], depth, {
      engine,
      previous: tree,
    });
    const ms = performance.now() - t1;
    const st = lastBuildStats()!;
    appends.push({ added: k, where, ms: round(ms, 1), hashed: st.hashed, reused: st.reused });
    say(`  ${(ms / 1000).toFixed(2)} s; hashed ${JSON.stringify(st.hashed)}`);
  }
}
const h = treeHashCount(n, depth);
const total = h.leaf + h.node;
const result: TreeChildResult = {
  records: n,
  depth,
  engine: usedEngine,
  ...(usedEngine === "native" ? { kernel: nativeKernel() } : {}),
  recordsPerSecond: Math.round((n / Math.max(saltMs + buildMs, 1e-3)) * 1000),
  ...(appends.length ? { appends } : {}),
  generateMs: round(generateMs, 1),
  saltMs: round(saltMs, 1),
  sortMs: round(sortMs, 1),
  buildMs: round(buildMs, 1),
  buildPhasesMs: { prepare: round(phases.prepare, 1), hash: round(phases.hash, 1) },
  hashes: { ...h, total },
  hashesPerSecond: Math.round((total / Math.max(buildMs - sortMs, 1e-3)) * 1000),
  buildCpuMs: round(buildCpuMs, 1),
  baselineRssMiB,
  peakRssMiB: peakRssMiB(),
  leafCount: tree.leafCount,
};
const inputFile = positionals[2];
if (inputFile) {
  const p = writeProveInput(tree, inputFile);
  say(`wrote the prove input (range of ${p.rangeCount} records) to ${inputFile}`);
}
console.log(JSON.stringify(result));
process.exit(0);
