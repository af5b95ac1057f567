/**
 * Child process of the `tree` benchmark: builds the commitment tree (circuits/lib/tree.ts) of
 * `n` synthetic records at `depth` with fresh random salts, and prints one JSON line with the
 * times and this process's peak RSS.
 *
 * Usage: node --import tsx scripts/lib/bench/tree-child.ts <n> <depth> [prove-input.json]
 * With a third argument, also writes the `prove` benchmark's circuit input over this tree.
 */
import { buildTree, getPoseidon, randomSalt, sortRecords } from "../../../circuits/lib/tree.js";
import { writeProveInput } from "./prove-input.js";
import {
  parseCount,
  peakRssMiB,
  round,
  rssMiB,
  syntheticRecords,
  treeHashCount,
} from "./common.js";

/** The JSON line this child prints. */
export interface TreeChildResult {
  records: number;
  depth: number;
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
  /** total hashes / (buildMs − sortMs) · 1000. */
  hashesPerSecond: number;
  /** RSS after Poseidon was built, before the records were made, MiB. */
  baselineRssMiB: number;
  /** Peak RSS of this process (records, salts, tree), MiB. */
  peakRssMiB: number;
  /** Record count the root commits to (sanity check). */
  leafCount: number;
}

const n = parseCount(process.argv[2] ?? "");
const depth = Number(process.argv[3]);
const say = (m: string) => process.stderr.write(m + "\n");

await getPoseidon();
const baselineRssMiB = rssMiB();
let t = performance.now();
const records = syntheticRecords(n);
const generateMs = performance.now() - t;
t = performance.now();
const salts = records.map(() => randomSalt());
const saltMs = performance.now() - t;
say(`${n} records generated and salted; sorting`);
t = performance.now();
sortRecords(records, salts);
const sortMs = performance.now() - t;
say(`sorted in ${(sortMs / 1000).toFixed(1)} s; building the depth-${depth} tree`);
t = performance.now();
const tree = await buildTree(records, salts, depth);
const buildMs = performance.now() - t;
const h = treeHashCount(n, depth);
const total = h.leaf + h.node;
const result: TreeChildResult = {
  records: n,
  depth,
  generateMs: round(generateMs, 1),
  saltMs: round(saltMs, 1),
  sortMs: round(sortMs, 1),
  buildMs: round(buildMs, 1),
  hashes: { ...h, total },
  hashesPerSecond: Math.round((total / Math.max(buildMs - sortMs, 1e-3)) * 1000),
  baselineRssMiB,
  peakRssMiB: peakRssMiB(),
  leafCount: tree.leafCount,
};
const inputFile = process.argv[4];
if (inputFile) {
  const p = writeProveInput(tree, inputFile);
  say(`wrote the prove input (range of ${p.rangeCount} records) to ${inputFile}`);
}
console.log(JSON.stringify(result));
process.exit(0);
