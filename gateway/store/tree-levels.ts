/**
 * A version's commitment tree as the store keeps it, and the part of it a witness needs.
 *
 * The store keeps the nodes of levels {@link TREE_LEVELS_FROM} and above (the build computes
 * them; at 10^6 records that is ~n/8 nodes, ~15 MB, against 240 MB for every level), in chunks
 * of {@link NODES_PER_CHUNK} nodes per level, and the padding node of every level. A node
 * below that level is rebuilt from the version's rows: the aligned block of 2^from leaves that
 * holds it (2^from + 1 rows, one chunk of rows or two, and 2^(from+1) − 1 hashes).
 *
 * A query, the cohort check or an audit asks for some leaves (the range's boundary leaves, a
 * scan window, the audited leaves); {@link loadTreeSlice} loads exactly what their paths touch
 * (O(depth) nodes) and {@link sliceTree} serves it through the `MerkleSumTree` interface the
 * witness builders read, so the witness is the one a tree rebuilt from every row would give.
 */
import {
  KEY_HIGH_SENTINEL,
  KEY_LOW_SENTINEL,
  nodeTupleAt,
  type Leaf,
  siblingPath,
  type MerkleSumTree,
} from "../../circuits/lib/tree.js";
import {
  NODE_BYTES,
  RECORD_BYTES,
  jsEngine,
  loadNativeEngine,
} from "../../circuits/lib/tree-engine.js";
import { ROW_BYTES, readRow, rowCount } from "./rows.js";

/** The lowest level whose nodes are stored (the levels below are rebuilt from rows). */
export const TREE_LEVELS_FROM = 4;
/** Nodes per stored chunk of a level (7.5 KiB). */
export const NODES_PER_CHUNK = 64;

/** What a version build hands the store of its tree: levels `from` .. depth, and the pads. */
export interface TreeLevels {
  /** The lowest level given. */
  from: number;
  /** levels[k] = the non-padding nodes of level from + k (NODE_BYTES each). */
  levels: Uint8Array[];
  /** The padding node of every level 0 .. depth, NODE_BYTES each, concatenated. */
  pads: Uint8Array;
}

/** The levels a store keeps of a built tree's node bytes (`treeNodeBytes`). */
export function levelsToStore(
  bytes: { levels: readonly Uint8Array[]; pads: readonly Uint8Array[] },
  from = TREE_LEVELS_FROM,
): TreeLevels {
  const depth = bytes.levels.length - 1;
  const f = Math.min(from, depth);
  const pads = new Uint8Array(bytes.pads.length * NODE_BYTES);
  bytes.pads.forEach((p, l) => pads.set(p.subarray(0, NODE_BYTES), l * NODE_BYTES));
  return { from: f, levels: bytes.levels.slice(f).map((l) => l.slice()), pads };
}

/** The stored chunks of `t`: [level, chunk index, bytes]. */
export function* levelChunks(t: TreeLevels): Generator<[number, number, Uint8Array]> {
  const size = NODES_PER_CHUNK * NODE_BYTES;
  for (const [k, lv] of t.levels.entries()) {
    for (let c = 0; c * size < lv.length; c++) {
      yield [t.from + k, c, lv.subarray(c * size, Math.min((c + 1) * size, lv.length))];
    }
  }
}

/**
 * The part of a version's tree that some leaves' witnesses read: their rows, the nodes of
 * their paths, the padding nodes. Plain data (it crosses to the prover process).
 */
export interface TreeSlice {
  depth: number;
  minMaxField: number;
  /** Records in the tree (leaves 1..leafCount). */
  leafCount: number;
  /** Nodes by `level * 2^32 + index`, NODE_BYTES each. */
  nodes: Map<number, Uint8Array>;
  /** Rows (`rows.ts`, first 80 bytes used) by record index (leaf index − 1). */
  rows: Map<number, Uint8Array>;
  /** The padding node of every level, concatenated. */
  pads: Uint8Array;
}

const nodeKey = (level: number, index: number): number => level * 2 ** 32 + index;

/** A `MerkleSumTree` over a slice; asking for a node or a leaf it does not hold throws. */
export function sliceTree(s: TreeSlice): MerkleSumTree {
  const { depth, leafCount: n } = s;
  const used = n + 1;
  // the loaded record indexes in order: a key not loaded is read as the nearest loaded one
  // below it, which leaves a binary search's answer unchanged when the rows on both sides of
  // the answer are loaded (they are: a slice holds every row of the blocks it rebuilt)
  const loaded = [...s.rows.keys()].sort((x, y) => x - y);
  const keyOfRecord = (r: number): bigint => readRow(s.rows.get(r)!, 0).key;
  const keyAt = (i: number): bigint => {
    if (i <= 0) return KEY_LOW_SENTINEL;
    if (i > n) return KEY_HIGH_SENTINEL;
    const r = i - 1;
    if (s.rows.has(r)) return keyOfRecord(r);
    let lo = 0;
    let hi = loaded.length; // first loaded > r
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (loaded[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo === 0 ? KEY_LOW_SENTINEL : keyOfRecord(loaded[lo - 1]!);
  };
  const node = (level: number, index: number): bigint[] => {
    if (!Number.isInteger(level) || level < 0 || level > depth) {
      throw new RangeError(`no level ${level}`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** (depth - level)) {
      throw new RangeError(`no node ${index} at level ${level}`);
    }
    if (index >= Math.ceil(used / 2 ** level)) return nodeTupleAt(s.pads, level);
    const b = s.nodes.get(nodeKey(level, index));
    if (!b) throw new Error(`node ${index} of level ${level} is not in the loaded slice`);
    return nodeTupleAt(b, 0);
  };
  const leaf = (i: number): Leaf => {
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** depth) throw new RangeError(`no leaf ${i}`);
    const nextKey = i + 1 < 2 ** depth ? keyAt(i + 1) : KEY_HIGH_SENTINEL;
    if (i === 0 || i > n) {
      return { key: keyAt(i), nextKey, values: [0n, 0n, 0n, 0n], salt: 0n };
    }
    const row = s.rows.get(i - 1);
    if (!row) throw new Error(`leaf ${i} is not in the loaded slice`);
    const r = readRow(row, 0);
    return { key: r.key, nextKey, values: [...r.values], salt: r.salt };
  };
  return {
    depth,
    minMaxField: s.minMaxField,
    root: node(depth, 0)[0]!,
    leafCount: n,
    node,
    leaf,
    keyAt: (i) => (i >= 0 && i < 2 ** depth ? keyAt(i) : KEY_HIGH_SENTINEL),
    path: (index: number) => siblingPath(depth, node, index),
  };
}

/** What {@link loadTreeSlice} reads a version's tree from (`GatewayStore`). */
export interface TreeSource {
  /** Rows from .. to − 1 of the version. */
  rows(from: number, to: number): Promise<Uint8Array>;
  /** The stored chunks (level, chunk index) asked for, by `level * 2^32 + chunk`. */
  levelChunks(wanted: [number, number][]): Promise<Map<number, Uint8Array>>;
  /** The padding nodes of levels 0 .. depth, concatenated. */
  pads(): Promise<Uint8Array>;
}

/** The shape of a version whose tree is stored. */
export interface StoredTreeShape {
  depth: number;
  recordCount: number;
  /** The lowest stored level. */
  treeLevelsFrom: number;
}

/**
 * Loads the slice of a version's tree that the witnesses of `leaves` read: each leaf, the
 * next leaf's key, the leaf's path (siblings at every level) and the root.
 */
export async function loadTreeSlice(
  v: StoredTreeShape,
  minMaxField: number,
  leaves: Iterable<number>,
  src: TreeSource,
): Promise<TreeSlice> {
  const { depth, recordCount: n } = v;
  const from = Math.min(v.treeLevelsFrom, depth);
  const used = n + 1;
  const real = (level: number, index: number) => index < Math.ceil(used / 2 ** level);
  const blocks = new Set<number>();
  const stored = new Set<number>();
  const want = (level: number, index: number) => {
    if (!real(level, index)) return;
    if (level < from) blocks.add((index * 2 ** level) >> from);
    else stored.add(nodeKey(level, index));
  };
  for (const i of leaves) {
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** depth) throw new RangeError(`no leaf ${i}`);
    blocks.add(i >> from); // its row and the next one, even when its level is stored
    want(0, i);
    for (let l = 0; l < depth; l++) want(l, (i >> l) ^ 1);
  }
  want(depth, 0);
  const pads = await src.pads();
  const nodes = new Map<number, Uint8Array>();
  const rows = new Map<number, Uint8Array>();
  // each rebuilt block's node at level `from` must be the stored one: rows that do not hash to
  // the stored levels (a changed or lost record) are named here, not left to fail in a witness
  const tops = new Map<number, Uint8Array>();
  for (const b of [...blocks].sort((x, y) => x - y)) {
    const top = await rebuildBlock(b, from, n, minMaxField, pads, src, nodes, rows);
    if (top && from > 0) {
      tops.set(b, top);
      stored.add(nodeKey(from, b));
    }
  }
  const chunkOf = new Map<number, [number, number]>();
  for (const k of stored) {
    const level = Math.floor(k / 2 ** 32);
    const c = Math.floor((k % 2 ** 32) / NODES_PER_CHUNK);
    chunkOf.set(nodeKey(level, c), [level, c]);
  }
  const chunks = await src.levelChunks([...chunkOf.values()]);
  for (const k of stored) {
    const level = Math.floor(k / 2 ** 32);
    const index = k % 2 ** 32;
    const chunk = chunks.get(nodeKey(level, Math.floor(index / NODES_PER_CHUNK)));
    const at = (index % NODES_PER_CHUNK) * NODE_BYTES;
    if (!chunk || chunk.length < at + NODE_BYTES) {
      throw new Error(`node ${index} of level ${level} is not stored`);
    }
    nodes.set(k, chunk.slice(at, at + NODE_BYTES));
  }
  for (const [b, top] of tops) {
    if (!equalBytes(top, nodes.get(nodeKey(from, b))!)) {
      const last = Math.min((b + 1) * 2 ** from, n + 1) - 1;
      throw new Error(
        `the records do not rebuild the root: leaves ${b * 2 ** from}..${last} hash to another node than the one stored at level ${from}`,
      );
    }
  }
  return { depth, minMaxField, leafCount: n, nodes, rows, pads };
}

/**
 * Rebuilds the nodes of levels 0 .. from − 1 of block `b` (leaves b·2^from ..) from its rows
 * and the row after it (the last leaf's next key), hashing as the tree build does.
 */
async function rebuildBlock(
  b: number,
  from: number,
  n: number,
  m: number,
  pads: Uint8Array,
  src: TreeSource,
  nodes: Map<number, Uint8Array>,
  rows: Map<number, Uint8Array>,
): Promise<Uint8Array | null> {
  const width = 2 ** from;
  const s = b * width; // first leaf
  // leaf i is record i − 1: records s − 1 .. s + width − 1 (the last one gives the next key)
  const r0 = Math.max(s - 1, 0);
  const r1 = Math.min(s + width, n);
  const got = r1 > r0 ? await src.rows(r0, r1) : new Uint8Array(0);
  const k = rowCount(got);
  const packed = new Uint8Array(k * RECORD_BYTES);
  for (let r = 0; r < k; r++) {
    packed.set(got.subarray(r * ROW_BYTES, r * ROW_BYTES + RECORD_BYTES), r * RECORD_BYTES);
    rows.set(r0 + r, got.slice(r * ROW_BYTES, (r + 1) * ROW_BYTES));
  }
  // in the packed records, leaf j is record r0 + j − 1, i.e. the tree's leaf r0 + j (s = 0:
  // leaf 0 is the low sentinel in both); the block's leaves are j = s − r0 .. s − r0 + width − 1
  const realLeaves = Math.max(0, Math.min(n + 1 - s, width));
  const offset = s - r0;
  const engine = loadNativeEngine() ?? jsEngine;
  let below = new Uint8Array(width * NODE_BYTES);
  if (realLeaves > 0) {
    const mini = new Uint8Array((k + 1) * NODE_BYTES);
    const idx = Int32Array.from({ length: realLeaves }, (_, t) => offset + t);
    await engine.hashLeaves(packed, k, m, mini, idx, 1);
    below.set(mini.subarray(offset * NODE_BYTES, (offset + realLeaves) * NODE_BYTES));
  }
  let real = realLeaves;
  for (let t = 0; t < real; t++) {
    nodes.set(nodeKey(0, s + t), below.slice(t * NODE_BYTES, (t + 1) * NODE_BYTES));
  }
  for (let l = 1; l < from; l++) {
    const size = width >> l;
    const cur = new Uint8Array(size * NODE_BYTES);
    const pad = pads.subarray((l - 1) * NODE_BYTES, l * NODE_BYTES);
    await engine.hashNodes(below, real, pad, cur, size, null, 1);
    real = Math.ceil(real / 2);
    const first = s >> l;
    for (let t = 0; t < real; t++) {
      nodes.set(nodeKey(l, first + t), cur.slice(t * NODE_BYTES, (t + 1) * NODE_BYTES));
    }
    below = cur;
  }
  if (realLeaves === 0 || from === 0) return null;
  // the block's own node at level `from`, as the tree build hashed it from the same rows
  const top = new Uint8Array(NODE_BYTES);
  const pad = pads.subarray((from - 1) * NODE_BYTES, from * NODE_BYTES);
  await engine.hashNodes(below, real, pad, top, 1, null, 1);
  return top;
}

/** Leaves hashed per window by {@link levelsFromRows} (~6 MiB of rows, ~8 MiB of nodes). */
const WINDOW_LEAVES = 2 ** 16;

/**
 * A previous tree whose first leaves a new tree shares: its stored levels (the same depth,
 * MIN/MAX field and lowest level) and how many of its first leaves are the new tree's too.
 */
export interface SharedPrefix {
  /** The previous tree's stored levels and pads. */
  tree: TreeLevels;
  /**
   * Leaves 0 .. leaves − 1 are equal in both trees: the same rows and the same next key (rows
   * 0 .. leaves − 1 of both are equal; leaf `leaves` may differ by its next key).
   */
  leaves: number;
}

/**
 * The levels `from` .. depth of the tree of `n` rows (tree order, read a window at a time
 * through `rows`) and `pads` (the padding node of every level, concatenated), hashed as the
 * tree build hashes them: memory stays bounded by a window and the stored levels (~n/8 nodes),
 * where a build from every record holds all of them as numbers (~1 GB at 10^6 records).
 * `windowLeaves` (rounded up to whole blocks of 2^from leaves) is the leaves hashed at a time;
 * `threads` the engine's threads per hashing call (the tree build's choice; 1: this thread).
 * With `shared`, every stored node whose leaves all lie in the shared prefix is copied from
 * the previous tree and only the rest is hashed (an append at the end rehashes its tail).
 */
export async function levelsFromRows(
  shape: { depth: number; recordCount: number },
  minMaxField: number,
  pads: Uint8Array,
  rows: (from: number, to: number) => Promise<Uint8Array>,
  from = TREE_LEVELS_FROM,
  windowLeaves = WINDOW_LEAVES,
  threads = 1,
  shared?: SharedPrefix,
): Promise<TreeLevels> {
  const { depth, recordCount: n } = shape;
  const f = Math.min(from, depth);
  const used = n + 1; // the low sentinel and the records; padding beyond
  const engine = loadNativeEngine() ?? jsEngine;
  const pad = (l: number) => pads.subarray(l * NODE_BYTES, (l + 1) * NODE_BYTES);
  const previous = shared && shared.tree.from === f ? shared.tree.levels : undefined;
  // the nodes of level l copied from the previous tree: those whose 2^l leaves are all shared
  // (at most what the previous tree stored and what the new level holds)
  const keptAt = (l: number, size: number): number =>
    previous
      ? Math.max(
          0,
          Math.min(
            Math.floor(Math.min(shared!.leaves, used) / 2 ** l),
            (previous[l - f]?.length ?? 0) / NODE_BYTES,
            size,
          ),
        )
      : 0;
  const sizeF = Math.ceil(used / 2 ** f);
  const levelF = new Uint8Array(sizeF * NODE_BYTES);
  const keptF = keptAt(f, sizeF);
  if (keptF > 0) levelF.set(previous![0]!.subarray(0, keptF * NODE_BYTES));
  // whole blocks of 2^f leaves per window
  const width = Math.max(Math.ceil(windowLeaves / 2 ** f), 1) * 2 ** f;
  for (let s = keptF * 2 ** f; s < used; s += width) {
    // leaf i is record i − 1; the record after the window gives its last leaf's next key
    const r0 = Math.max(s - 1, 0);
    const r1 = Math.min(s + width, n);
    const got = r1 > r0 ? await rows(r0, r1) : new Uint8Array(0);
    const k = rowCount(got);
    const packed = new Uint8Array(k * RECORD_BYTES);
    for (let r = 0; r < k; r++) {
      packed.set(got.subarray(r * ROW_BYTES, r * ROW_BYTES + RECORD_BYTES), r * RECORD_BYTES);
    }
    // in the packed records leaf j is the tree's leaf r0 + j (as in rebuildBlock)
    const real = Math.min(used - s, width);
    const offset = s - r0;
    const mini = new Uint8Array((k + 1) * NODE_BYTES);
    await engine.hashLeaves(packed, k, minMaxField, mini, null, threads);
    let below = mini.subarray(offset * NODE_BYTES, (offset + real) * NODE_BYTES);
    let count = real;
    for (let l = 1; l <= f; l++) {
      const size = Math.ceil(count / 2);
      const cur = new Uint8Array(size * NODE_BYTES);
      await engine.hashNodes(below, count, pad(l - 1), cur, size, null, threads);
      below = cur;
      count = size;
    }
    levelF.set(below.subarray(0, count * NODE_BYTES), (s >> f) * NODE_BYTES);
  }
  const levels = [levelF];
  let count = sizeF;
  for (let l = f + 1; l <= depth; l++) {
    const size = Math.ceil(count / 2);
    const cur = new Uint8Array(size * NODE_BYTES);
    const kept = keptAt(l, size);
    if (kept > 0) cur.set(previous![l - f]!.subarray(0, kept * NODE_BYTES));
    // node i of this level is hashed from nodes 2i and 2i + 1 below: from node `kept` on
    await engine.hashNodes(
      levels.at(-1)!.subarray(2 * kept * NODE_BYTES),
      count - 2 * kept,
      pad(l - 1),
      cur.subarray(kept * NODE_BYTES),
      size - kept,
      null,
      threads,
    );
    levels.push(cur);
    count = size;
  }
  return { from: f, levels, pads };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
