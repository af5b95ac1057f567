/**
 * The commitment of one asset version: a Poseidon Merkle-sum tree over salted records sorted
 * by their index key. Same hashes as the circuits (circuits/leaf_node.circom,
 * circuits/node_hash.circom); see circuits/README.md for the layout.
 *
 * Leaves: index 0 is the low sentinel (key 0), then the n records sorted by key, then padding
 * leaves (key 2^128 - 1) up to 2^depth. Every leaf stores the next leaf's key (`nextKey`).
 * A node is the tuple [hash, count, sum0..sum3, min_m, max_m].
 *
 * The nodes live in byte buffers, one per level (layout in tree-engine.ts), hashed by the
 * native Poseidon addon (circuits/native/, built by `npm run build`) on all cores, or by
 * circomlibjs' WASM Poseidon on worker threads when the addon is not there (with a warning;
 * same tree). tree-reference.ts computes the same tree the plain way, for the tests.
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import {
  NODE_BYTES,
  RECORD_BYTES,
  jsEngine,
  levelSizes,
  loadNativeEngine,
  nativeUnavailableReason,
  type TreeEngine,
} from "./tree-engine.js";

import { FIELD_COUNT, VALUE_MAX } from "./limits.js";

export { getPoseidon } from "./tree-engine.js";
// Defined in limits.ts (no Node imports) so that browser code can use them; re-exported here.
export { FIELD_COUNT, VALUE_MAX };

/** Number of field elements in a node tuple: hash, count, 4 sums, min, max. */
export const NODE_WIDTH = 8;
/** Key of the low sentinel leaf (index 0). */
export const KEY_LOW_SENTINEL = 0n;
/** Key of the padding leaves (the high sentinel), 2^128 - 1. */
export const KEY_HIGH_SENTINEL = (1n << 128n) - 1n;
/** The value field whose MIN/MAX the production instances carry. */
export const DEFAULT_MINMAX_FIELD = 3;

/** One record as the circuits see it: a 128-bit key and four unsigned 64-bit values. */
export interface TreeRecord {
  /** Index key, 1 <= key <= 2^128 - 2. */
  key: bigint;
  /** The four values, each 0 <= v <= 2^64 - 1. */
  values: readonly bigint[];
}

/** One leaf as committed (the preimage of its hash). */
export interface Leaf {
  key: bigint;
  nextKey: bigint;
  values: bigint[];
  salt: bigint;
}

/** A committed tree: root, record count, and access to any node, leaf or path. */
export interface MerkleSumTree {
  /** Tree depth (2^depth leaves). */
  readonly depth: number;
  /** The value field whose MIN/MAX the nodes carry. */
  readonly minMaxField: number;
  /** Root hash: what a version publishes on-chain. */
  readonly root: bigint;
  /** Number of records (sentinel and padding leaves excluded). */
  readonly leafCount: number;
  /** Node tuple [hash, count, sum0..3, min, max] at `level` (0 = leaves) and `index`. */
  node(level: number, index: number): bigint[];
  /** The committed leaf at `index` (0 = low sentinel, 1..n = records in key order). */
  leaf(index: number): Leaf;
  /** Sibling node tuples from the leaf level up: path(i)[l] is the sibling at level l. */
  path(index: number): bigint[][];
  /** The leaves' keys in tree order (index 0 .. n + 1; padding beyond is KEY_HIGH_SENTINEL). */
  keyAt(index: number): bigint;
}

/** Options of {@link buildTree}. */
export interface BuildOptions {
  /** Value field whose MIN/MAX the nodes carry (default 3); must match the circuit's m. */
  minMaxField?: number;
  /**
   * Commit the records in the given order instead of sorting them. Only for tests of the
   * audit circuit, which must catch such an unsorted (malformed) tree.
   */
  keepOrder?: boolean;
  /**
   * Threads for hashing (0 or 1 = one). Default: the machine's cores, up to 4 (the JS
   * engine hashes trees under 2^14 leaves in this thread).
   */
  workers?: number;
  /**
   * A tree built before (same depth and minMaxField): every subtree whose leaves did not
   * change or move by other than a multiple of its width is copied from it, not hashed.
   * Ignored when it does not match (or with keepOrder); the result is the same either way.
   */
  previous?: MerkleSumTree;
  /**
   * Hashing engine: "native" (C addon built by `npm run build`), "js" (circomlibjs WASM, the
   * reference), or "auto" (default: native when it is built, else JS with a warning).
   */
  engine?: "auto" | "native" | "js";
}

/** A fresh secret salt: a uniformly random 248-bit field element. */
export function randomSalt(): bigint {
  return BigInt("0x" + randomBytes(31).toString("hex"));
}

/**
 * `n` fresh secret salts, each like {@link randomSalt}, drawn from one randomBytes call per
 * 2^15 salts: one call per salt costs ~8x more for a million records.
 */
export function randomSalts(n: number): bigint[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randomSalts: bad count ${n}`);
  const out = new Array<bigint>(n);
  const CHUNK = 1 << 15;
  for (let i = 0; i < n; i += CHUNK) {
    const m = Math.min(CHUNK, n - i);
    const hex = randomBytes(31 * m).toString("hex");
    for (let j = 0; j < m; j++) out[i + j] = BigInt("0x" + hex.slice(62 * j, 62 * j + 62));
  }
  return out;
}

/**
 * Orders records (with their salts) the way the tree commits them: by key, then by values,
 * then by salt, so ties have one deterministic order.
 */
export function sortRecords(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
): { records: TreeRecord[]; salts: bigint[] } {
  if (records.length !== salts.length) {
    throw new RangeError(`got ${records.length} records but ${salts.length} salts`);
  }
  const { records: r, salts: s } = sortPacked(records, salts, packRecords(records, salts));
  return { records: r, salts: s };
}

/**
 * sortRecords over records already packed (packRecords): the comparisons read 32-bit words
 * of the packed bytes (numbers, not bigints: ~10x faster on 10^6 records). Also returns the
 * sorted order as indices of packed rows (the hashers read the rows through it: no copy).
 */
function sortPacked(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  packed: Uint8Array,
): { records: TreeRecord[]; salts: bigint[]; order: Uint32Array } {
  const n = records.length;
  const W = RECORD_BYTES / 4;
  const w = new Uint32Array(packed.buffer, packed.byteOffset, n * W);
  // word order of significance: key (words 3..0), v0..v3 (hi, lo each), salt (words 19..12)
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 19, 18, 17, 16, 15, 14, 13, 12];
  const cmp = (i: number, j: number): number => {
    const a = i * W;
    const b = j * W;
    for (const k of order) {
      const d = w[a + k]! - w[b + k]!;
      if (d !== 0) return d;
    }
    return 0;
  };
  // An appended version's records arrive as the previous version's, already in this order,
  // then the new batch: only what follows the longest ordered prefix is sorted, then merged in
  // (at 10^6 records a full sort took ~3 s of an append's ~11 s). Same order as a full sort:
  // records that compare equal are byte-identical, key, values and salt.
  let prefix = Math.min(n, 1);
  while (prefix < n && cmp(prefix - 1, prefix) <= 0) prefix++;
  let idx: Uint32Array;
  if (prefix === n) {
    idx = new Uint32Array(n).map((_, i) => i);
  } else {
    const tail = sortRows(w, W, prefix, n, cmp);
    idx = new Uint32Array(n);
    let a = 0;
    let b = 0;
    for (let k = 0; k < n; k++) {
      idx[k] = b >= tail.length || (a < prefix && cmp(a, tail[b]!) <= 0) ? a++ : tail[b++]!;
    }
  }
  const sortedRecords = new Array<TreeRecord>(n);
  const sortedSalts = new Array<bigint>(n);
  for (let k = 0; k < n; k++) {
    sortedRecords[k] = records[idx[k]!]!;
    sortedSalts[k] = salts[idx[k]!]!;
  }
  return { records: sortedRecords, salts: sortedSalts, order: idx };
}

/** Below this many rows {@link sortRows} sorts with the comparison alone. */
const RADIX_MIN_ROWS = 1024;

/**
 * The rows from..to − 1 of packed rows (`W` 32-bit words each, the 128-bit key in words 0..3)
 * in the order of `cmp`, as row indices: a stable LSD radix sort on the key (16-bit digits,
 * skipping digits that are the same in every row), then each run of equal keys sorted by
 * `cmp`. Why not Array.prototype.sort(cmp) alone: ~20 comparisons per row through a closure
 * took 3.5 s of a 10^6-record build (this: ~0.3 s; same order, test/circuits/tree-sort).
 */
function sortRows(
  w: Uint32Array,
  W: number,
  from: number,
  to: number,
  cmp: (i: number, j: number) => number,
): Uint32Array {
  const m = to - from;
  if (m < RADIX_MIN_ROWS) {
    return Uint32Array.from({ length: m }, (_, j) => from + j).sort(cmp);
  }
  const keys = new Uint32Array(4 * m); // the key words of row from + j at 4j
  for (let j = 0; j < m; j++) {
    const r = (from + j) * W;
    keys[4 * j] = w[r]!;
    keys[4 * j + 1] = w[r + 1]!;
    keys[4 * j + 2] = w[r + 2]!;
    keys[4 * j + 3] = w[r + 3]!;
  }
  const B = 1 << 16;
  const counts = new Uint32Array(8 * B); // digit d (bits 16d..16d + 15 of the key) at d·B
  for (let j = 0; j < m; j++) {
    for (let q = 0; q < 4; q++) {
      const k = keys[4 * j + q]!;
      const lo = 2 * q * B + (k & 0xffff);
      const hi = (2 * q + 1) * B + (k >>> 16);
      counts[lo] = counts[lo]! + 1;
      counts[hi] = counts[hi]! + 1;
    }
  }
  let cur = new Uint32Array(m).map((_, j) => j);
  let next = new Uint32Array(m);
  for (let d = 0; d < 8; d++) {
    const c = counts.subarray(d * B, (d + 1) * B);
    const q = d >> 1;
    const shift = 16 * (d & 1);
    if (c[(keys[q]! >>> shift) & 0xffff] === m) continue; // the same digit in every row
    let sum = 0;
    for (let v = 0; v < B; v++) {
      const k = c[v]!;
      c[v] = sum;
      sum += k;
    }
    for (let t = 0; t < m; t++) {
      const j = cur[t]!;
      next[c[(keys[4 * j + q]! >>> shift) & 0xffff]!++] = j;
    }
    [cur, next] = [next, cur];
  }
  // runs of equal keys: by values, then salt
  const sameKey = (a: number, b: number): boolean =>
    keys[4 * a] === keys[4 * b] &&
    keys[4 * a + 1] === keys[4 * b + 1] &&
    keys[4 * a + 2] === keys[4 * b + 2] &&
    keys[4 * a + 3] === keys[4 * b + 3];
  const out = new Uint32Array(m);
  for (let t = 0; t < m;) {
    let e = t + 1;
    while (e < m && sameKey(cur[t]!, cur[e]!)) e++;
    if (e - t === 1) {
      out[t] = from + cur[t]!;
    } else {
      const run = Uint32Array.from(cur.subarray(t, e), (j) => from + j).sort(cmp);
      out.set(run, t);
    }
    t = e;
  }
  return out;
}
function checkRecord(r: TreeRecord, i: number): void {
  if (r.key < 1n || r.key >= KEY_HIGH_SENTINEL) {
    throw new RangeError(`record ${i}: key must be in [1, 2^128 - 2], got ${r.key}`);
  }
  if (r.values.length !== FIELD_COUNT) {
    throw new RangeError(`record ${i}: expected ${FIELD_COUNT} values, got ${r.values.length}`);
  }
  for (const v of r.values) {
    if (v < 0n || v > VALUE_MAX) {
      throw new RangeError(`record ${i}: values must be unsigned 64-bit integers, got ${v}`);
    }
  }
}

const MASK64 = (1n << 64n) - 1n;
const FR = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** Shift value of a node that cannot be reused from the previous tree. */
const NO_REUSE = -0x80000000;

/** What a tree keeps of itself so that a later build can reuse its nodes. */
interface TreeState {
  depth: number;
  minMaxField: number;
  /** Records and salts in leaf order (leaf i = record i − 1). */
  records: readonly TreeRecord[];
  salts: readonly bigint[];
  /** Whether the records were sorted with {@link sortRecords} (reuse needs it). */
  sorted: boolean;
  /** levels[l] = the non-padding nodes of level l, NODE_BYTES each. */
  levels: Uint8Array[];
  /** pads[l] = the padding node of level l. */
  pads: Uint8Array[];
}
const states = new WeakMap<MerkleSumTree, TreeState>();

/** Which engine the last {@link buildTree} call used, and how much it reused. */
export interface BuildStats {
  engine: "native" | "js";
  /** Leaves and internal nodes hashed (padding excluded). */
  hashed: { leaves: number; nodes: number };
  /** Leaves and internal nodes copied from `previous`. */
  reused: { leaves: number; nodes: number };
  /**
   * Wall time of the build's phases, ms: checking, packing and sorting the records (this
   * thread), then hashing and copying nodes (the engine's threads).
   */
  ms: { prepare: number; hash: number };
}
let lastStats: BuildStats | undefined;
/** Statistics of the most recent {@link buildTree} in this thread (for benchmarks and tests). */
export function lastBuildStats(): BuildStats | undefined {
  return lastStats;
}

let warned = false;
function pickEngine(choice: BuildOptions["engine"]): TreeEngine {
  if (choice === "js") return jsEngine;
  const native = loadNativeEngine();
  if (native) return native;
  if (choice === "native") {
    throw new Error(`the native Poseidon engine is not available: ${nativeUnavailableReason()}`);
  }
  if (!warned) {
    warned = true;
    process.emitWarning(
      `${nativeUnavailableReason()}; commitment trees are hashed in JavaScript, ~5x slower`,
      { code: "PARTPROOF_NATIVE_POSEIDON" },
    );
  }
  return jsEngine;
}

function packRecords(records: readonly TreeRecord[], salts: readonly bigint[]): Uint8Array {
  const buf = new Uint8Array(records.length * RECORD_BYTES);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const o = i * RECORD_BYTES;
    // setBigUint64 stores its argument mod 2^64: no masks (each bigint operation allocates)
    v.setBigUint64(o, r.key, true);
    v.setBigUint64(o + 8, r.key >> 64n, true);
    for (let f = 0; f < FIELD_COUNT; f++) v.setBigUint64(o + 16 + 8 * f, r.values[f]!, true);
    const s = salts[i]!;
    v.setBigUint64(o + 48, s, true);
    v.setBigUint64(o + 56, s >> 64n, true);
    v.setBigUint64(o + 64, s >> 128n, true);
    v.setBigUint64(o + 72, s >> 192n, true);
  }
  return buf;
}

function readNode(buf: Uint8Array, index: number): bigint[] {
  const v = new DataView(buf.buffer, buf.byteOffset + index * NODE_BYTES, NODE_BYTES);
  const hash =
    v.getBigUint64(0, true) +
    (v.getBigUint64(8, true) << 64n) +
    (v.getBigUint64(16, true) << 128n) +
    (v.getBigUint64(24, true) << 192n);
  const out = [hash, v.getBigUint64(32, true)];
  for (let f = 0; f < FIELD_COUNT; f++) {
    out.push(v.getBigUint64(40 + 16 * f, true) + (v.getBigUint64(48 + 16 * f, true) << 64n));
  }
  out.push(v.getBigUint64(104, true), v.getBigUint64(112, true));
  return out;
}

function compareRecords(a: TreeRecord, sa: bigint, b: TreeRecord, sb: bigint): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  for (let f = 0; f < FIELD_COUNT; f++) {
    if (a.values[f] !== b.values[f]) return a.values[f]! < b.values[f]! ? -1 : 1;
  }
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/**
 * Leaf shifts against the previous tree: shift[i] = i − j when leaf i of the new tree is
 * byte-identical to leaf j of the previous one (same record, salt and nextKey), else NO_REUSE.
 * Both record lists are in sortRecords order, so one merge pass finds every match.
 */
function leafShifts(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  prev: TreeState,
): Int32Array {
  const n = records.length;
  const pn = prev.records.length;
  const shift = new Int32Array(n + 1).fill(NO_REUSE);
  const keyOf = (rs: readonly TreeRecord[], i: number): bigint =>
    i < rs.length ? rs[i]!.key : KEY_HIGH_SENTINEL;
  if (keyOf(records, 0) === keyOf(prev.records, 0)) shift[0] = 0; // the low sentinels
  let q = 0;
  for (let p = 0; p < n; p++) {
    const r = records[p]!;
    let c = -1;
    for (; q < pn; q++) {
      // the previous version's own record objects (an append in memory) match without the
      // bigint comparisons, ~2.5 s of an append onto 10^6 records
      const pr = prev.records[q]!;
      c =
        pr === r && prev.salts[q] === salts[p]
          ? 0
          : compareRecords(pr, prev.salts[q]!, r, salts[p]!);
      if (c >= 0) break;
    }
    if (q < pn && c === 0 && keyOf(records, p + 1) === keyOf(prev.records, q + 1)) {
      shift[p + 1] = p - q;
    }
  }
  return shift;
}

/**
 * Builds the commitment over `records` (any order; sorted here with {@link sortRecords}) with
 * one secret salt per record, for a tree of 2^depth leaves (needs n + 2 <= 2^depth: one low
 * sentinel and at least one padding leaf).
 *
 * With `options.previous` (a tree built by this function, same depth and minMaxField), every
 * subtree whose leaves are byte-identical to an aligned subtree of the previous tree is copied
 * instead of hashed: leaves whose record and next key did not change, and the nodes above runs
 * of such leaves that moved by a multiple of the node's width (records are sorted by key, so
 * records added in the middle shift everything after them).
 */
export async function buildTree(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  depth: number,
  options: BuildOptions = {},
): Promise<MerkleSumTree> {
  const started = performance.now();
  const m = options.minMaxField ?? DEFAULT_MINMAX_FIELD;
  if (!Number.isInteger(m) || m < 0 || m >= FIELD_COUNT) {
    throw new RangeError(`minMaxField must be 0..${FIELD_COUNT - 1}`);
  }
  if (!Number.isInteger(depth) || depth < 1 || depth > 30) {
    throw new RangeError(`depth must be an integer in 1..30, got ${depth}`);
  }
  const n = records.length;
  if (n + 2 > 2 ** depth) {
    throw new RangeError(`a depth-${depth} tree holds at most ${2 ** depth - 2} records, got ${n}`);
  }
  if (salts.length !== n) throw new RangeError(`got ${n} records but ${salts.length} salts`);
  records.forEach(checkRecord);
  for (const s of salts) {
    if (typeof s !== "bigint" || s < 0n || s >= FR) {
      throw new RangeError("salts must be field elements");
    }
  }
  const packed = packRecords(records, salts);
  const sorted = options.keepOrder
    ? { records: [...records], salts: [...salts], order: null }
    : sortPacked(records, salts, packed);
  const engine = pickEngine(options.engine);
  const threads = Math.max(
    engine.name === "js" && n + 1 < PARALLEL_THRESHOLD ? 0 : 1,
    options.workers ?? Math.min(availableParallelism(), 4),
  );
  const stats: BuildStats = {
    engine: engine.name,
    hashed: { leaves: 0, nodes: 0 },
    reused: { leaves: 0, nodes: 0 },
    ms: { prepare: performance.now() - started, hash: 0 },
  };

  const prevTree = options.previous ? states.get(options.previous) : undefined;
  const prev =
    prevTree &&
    prevTree.sorted &&
    !options.keepOrder &&
    prevTree.depth === depth &&
    prevTree.minMaxField === m
      ? prevTree
      : undefined;

  // padding node per level: leaf (2^128 - 1, 2^128 - 1, 0, ...), then Poseidon16 of two pads
  const pads: Uint8Array[] = [];
  if (prev) {
    pads.push(...prev.pads);
  } else {
    const padLeaf = new Uint8Array(NODE_BYTES);
    // leaf 1 of a one-record tree of key 2^128 - 1 has the padding leaf's preimage
    // (key = nextKey = 2^128 - 1, values and salt 0); its tuple is then set to the empty set's
    const padRecord = new Uint8Array(RECORD_BYTES).fill(0xff, 0, 16);
    const scratch = new Uint8Array(2 * NODE_BYTES);
    await engine.hashLeaves(padRecord, 1, m, scratch, null, 1);
    padLeaf.set(scratch.subarray(NODE_BYTES, 2 * NODE_BYTES));
    new DataView(padLeaf.buffer).setBigUint64(32, 0n, true); // count 0
    padLeaf.fill(0, 40, 104); // sums 0
    new DataView(padLeaf.buffer).setBigUint64(104, MASK64, true); // min of the empty set
    new DataView(padLeaf.buffer).setBigUint64(112, 0n, true); // max of the empty set
    pads.push(padLeaf);
    for (let l = 1; l <= depth; l++) {
      const p = new Uint8Array(NODE_BYTES);
      await engine.hashNodes(pads[l - 1]!, 0, pads[l - 1]!, p, 1, null, 1);
      pads.push(p);
    }
  }

  const used = n + 1; // sentinel + records; leaves from index `used` on are padding
  // every level in one buffer: one large allocation rather than depth + 1 (V8 may run a full
  // garbage collection, ~0.7 s on a 10^6-record heap, after each large external allocation)
  const sizes = levelSizes(n, depth);
  const nodes = new Uint8Array(sizes.reduce((a, b) => a + b, 0) * NODE_BYTES);
  const levels: Uint8Array[] = [];
  for (let l = 0, off = 0; l <= depth; off += sizes[l]! * NODE_BYTES, l++) {
    levels.push(nodes.subarray(off, off + sizes[l]! * NODE_BYTES));
  }
  if (!prev) {
    stats.hashed.leaves = used;
    stats.hashed.nodes = sizes.reduce((a, b) => a + b, 0) - used;
    const padBytes = new Uint8Array((depth + 1) * NODE_BYTES);
    pads.forEach((p, l) => padBytes.set(p, l * NODE_BYTES));
    await engine.hashTree(packed, n, m, sorted.order, nodes, depth, padBytes, threads);
  } else {
    let shift = leafShifts(sorted.records, sorted.salts, prev);
    const todo = copyReused(levels[0]!, prev.levels[0]!, shift, 0, used);
    stats.reused.leaves = used - todo.length;
    stats.hashed.leaves = todo.length;
    if (todo.length > 0) {
      await engine.hashLeaves(packed, n, m, levels[0]!, todo, threads, sorted.order);
    }
    for (let l = 1; l <= depth; l++) {
      const sizeBelow = sizes[l - 1]!;
      const size = sizes[l]!;
      const cur = levels[l]!;
      // a node is reusable when both children are, with the same shift, and that shift is a
      // multiple of its width; a padding child must be padding in the previous tree too
      const prevBelow = prev.levels[l - 1]!.length / NODE_BYTES;
      const width = 2 ** l;
      const next = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const s = shift[2 * i]!;
        let ok = s !== NO_REUSE && s % width === 0;
        if (ok) {
          const c = 2 * i + 1;
          if (c < sizeBelow) ok = shift[c] === s;
          else ok = c - s / (width / 2) >= prevBelow;
        }
        next[i] = ok ? s : NO_REUSE;
      }
      shift = next;
      const todo = copyReused(cur, prev.levels[l]!, shift, l, size);
      stats.reused.nodes += size - todo.length;
      stats.hashed.nodes += todo.length;
      if (todo.length > 0) {
        await engine.hashNodes(levels[l - 1]!, sizeBelow, pads[l - 1]!, cur, size, todo, threads);
      }
    }
  }
  stats.ms.hash = performance.now() - started - stats.ms.prepare;
  lastStats = stats;
  return makeTree({
    depth,
    minMaxField: m,
    records: sorted.records,
    salts: sorted.salts,
    sorted: !options.keepOrder,
    levels,
    pads,
  });
}

/** Trees with at least this many leaves are hashed on worker threads by the JS engine. */
const PARALLEL_THRESHOLD = 1 << 14;

/**
 * The siblings of leaf `index` from level 0 up (each node as `node(level, i)` gives it): the
 * path a Merkle-sum proof of that leaf carries.
 */
export function siblingPath(
  depth: number,
  node: (level: number, index: number) => bigint[],
  index: number,
): bigint[][] {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** depth) {
    throw new RangeError(`no leaf ${index}`);
  }
  const out: bigint[][] = [];
  for (let l = 0; l < depth; l++) out.push(node(l, (index >> l) ^ 1));
  return out;
}

/**
 * Copies every node of `out` (level `level`, `size` nodes) whose shift is not NO_REUSE from
 * `prevLevel` (node i ← previous node i − shift / 2^level), in runs; returns the others.
 */
function copyReused(
  out: Uint8Array,
  prevLevel: Uint8Array,
  shift: Int32Array,
  level: number,
  size: number,
): Int32Array {
  const todo: number[] = [];
  const width = 2 ** level;
  let i = 0;
  while (i < size) {
    const s = shift[i]!;
    if (s === NO_REUSE) {
      todo.push(i++);
      continue;
    }
    let j = i + 1;
    while (j < size && shift[j] === s) j++;
    const from = i - s / width;
    out.set(prevLevel.subarray(from * NODE_BYTES, (from + j - i) * NODE_BYTES), i * NODE_BYTES);
    i = j;
  }
  return Int32Array.from(todo);
}

function makeTree(st: TreeState): MerkleSumTree {
  const { depth, records, salts, levels, pads } = st;
  const n = records.length;
  const keyAt = (i: number): bigint =>
    i === 0 ? KEY_LOW_SENTINEL : i <= n ? records[i - 1]!.key : KEY_HIGH_SENTINEL;
  const leafAt = (i: number): Leaf => {
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** depth) throw new RangeError(`no leaf ${i}`);
    const real = i >= 1 && i <= n;
    return {
      key: keyAt(i),
      nextKey: i + 1 < 2 ** depth ? keyAt(i + 1) : KEY_HIGH_SENTINEL,
      values: real ? [...records[i - 1]!.values] : [0n, 0n, 0n, 0n],
      salt: real ? salts[i - 1]! : 0n,
    };
  };
  const node = (level: number, index: number): bigint[] => {
    if (!Number.isInteger(level) || level < 0 || level > depth) {
      throw new RangeError(`no level ${level}`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** (depth - level)) {
      throw new RangeError(`no node ${index} at level ${level}`);
    }
    const lv = levels[level]!;
    return index < lv.length / NODE_BYTES ? readNode(lv, index) : readNode(pads[level]!, 0);
  };
  const tree: MerkleSumTree = {
    depth,
    minMaxField: st.minMaxField,
    root: node(depth, 0)[0]!,
    leafCount: n,
    node,
    leaf: leafAt,
    keyAt: (i) => (i >= 0 && i < 2 ** depth ? keyAt(i) : KEY_HIGH_SENTINEL),
    path: (index: number) => siblingPath(depth, node, index),
  };
  states.set(tree, st);
  return tree;
}

/**
 * Index of the last leaf whose key is < `key` (0 = the low sentinel if none): binary search
 * over the sorted leaves.
 */
export function lastLeafBelow(tree: MerkleSumTree, key: bigint): number {
  let lo = 0; // keyAt(0) = 0 < key for every key >= 1
  let hi = tree.leafCount + 1; // keyAt(n+1) = 2^128-1 >= key
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (tree.keyAt(mid) < key) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Index of the last leaf whose key is <= `key`. */
export function lastLeafAtMost(tree: MerkleSumTree, key: bigint): number {
  return lastLeafBelow(tree, key + 1n);
}

/**
 * The node bytes of a tree built by {@link buildTree} (what a store keeps of it): levels[l] =
 * the non-padding nodes of level l, NODE_BYTES each; pads[l] = the padding node of level l.
 * Undefined for a tree this module did not build.
 */
export function treeNodeBytes(
  tree: MerkleSumTree,
): { levels: readonly Uint8Array[]; pads: readonly Uint8Array[] } | undefined {
  const st = states.get(tree);
  return st ? { levels: st.levels, pads: st.pads } : undefined;
}

/** Node `index` of a buffer of NODE_BYTES nodes as its tuple [hash, count, sum0..3, min, max]. */
export function nodeTupleAt(buf: Uint8Array, index: number): bigint[] {
  return readNode(buf, index);
}
