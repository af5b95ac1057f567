/**
 * The ingest worker thread: hashes an upload's data for its signature check (keccak over up to
 * the body limit), reads it (validation and mapping of every row, CSV and number parsing
 * included) into packed rows, and applies an upload's batches to the data set it adds to and
 * builds the new version's Merkle-sum tree, off the HTTP loop. Its pool (ingest-pool.ts) gives
 * every task a time budget and stops a worker that overruns it.
 *
 * The worker keeps the tree it built last (up to {@link REUSE_MAX_RECORDS} records) and hands it
 * to the tree builder as `previous` when the next version adds to it, so that an append hashes
 * only the subtrees it changed. A larger version's tree is hashed from its rows a window at a
 * time ({@link versionTree}): the same root and levels in bounded memory, copying the nodes of
 * the base's stored levels (`ApplyRequest.baseTree`) that lie before the first row it changed.
 */
import { availableParallelism } from "node:os";
import { parentPort } from "node:worker_threads";
import {
  buildTree,
  nodeTupleAt,
  randomSalt,
  treeNodeBytes,
  type MerkleSumTree,
  type TreeRecord,
} from "../../circuits/lib/tree.js";
import {
  batchHash,
  findSchema,
  parseBatch,
  type RowError,
  type UploadData,
} from "../../protocol/records/index.js";
import { uploadDataHash } from "../../protocol/typed-data.js";
import { ROW_BYTES, readRow, rowCount, writeRow, type PackedBatch } from "../store/rows.js";
import type { VersionChanges } from "../store/index.js";
import {
  TREE_LEVELS_FROM,
  levelsFromRows,
  levelsToStore,
  type SharedPrefix,
  type TreeLevels,
} from "../store/tree-levels.js";

/** Trees up to this many records are kept for the next build (~150 MB at the bound). */
export const REUSE_MAX_RECORDS = 1 << 18;

/** What a version is made of: the rows it adds to, and the upload's batches in order. */
export interface ApplyRequest {
  /** The base version's rows (`rows.ts`, tree order), empty for a new data set. */
  base: Uint8Array;
  /** The base version's root ("" for none): the worker's kept tree is reused when it matches. */
  baseRoot: string;
  /** The upload's batches, in upload order (a later record of an identity wins). */
  batches: PackedBatch[];
  /** Salts for the upload's records in order (tests inject them); drawn here when absent. */
  salts?: bigint[];
  depth: number;
  minMaxField: number;
  /**
   * The base version's stored tree levels (`GatewayStore.versionTreeLevels`): a version hashed
   * from its rows (at or above `streamFrom` records) copies every node whose leaves are all
   * before the first row that differs from the base's, and hashes only the rest.
   */
  baseTree?: TreeLevels;
  /** Records from which the tree is hashed from rows (default {@link STREAM_MIN_RECORDS}). */
  streamFrom?: number;
}

/** A request to the ingest worker. */
export type IngestRequest =
  | { id: number; kind: "hash"; data: unknown }
  | { id: number; kind: "parse"; schemaId: string; data: UploadData }
  | ({ id: number; kind: "apply" } & ApplyRequest);

/** The ingest worker's answer. */
export type IngestResponse =
  | { id: number; ok: true; kind: "hashed"; dataHash: string }
  | {
      id: number;
      ok: true;
      kind: "parsed";
      batch: PackedBatch;
      batchHash: string;
      records: number;
    }
  | { id: number; ok: true; kind: "invalid"; errors: RowError[] }
  | {
      id: number;
      ok: true;
      kind: "applied";
      rows: Uint8Array;
      root: string;
      changes: VersionChanges;
      /** The levels of the tree the store keeps (`tree-levels.ts`). */
      tree: TreeLevels;
      /** Whether the previous tree (kept, or the base's stored levels) was reused. */
      reused: boolean;
      /** Leaves shared with the base's stored tree, whose nodes were copied (hashed: none). */
      sharedLeaves: number;
    }
  | { id: number; ok: true; kind: "tooMany"; records: number }
  | { id: number; ok: false; error: string };

let kept: { root: string; tree: MerkleSumTree } | undefined;

const ROW_WORDS = ROW_BYTES / 4;
/** Word offsets of a row's identity digest (bytes 80..95). */
const ID_WORD = 20;

/** 32-bit words of rows (copied to an aligned buffer when `rows` is not 4-byte aligned). */
function wordsOf(rows: Uint8Array): Uint32Array {
  const aligned = rows.byteOffset % 4 === 0 ? rows : rows.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
}

/** -1, 0 or 1 as identity `a` (words at `ao` of `aw`) sorts before, with or after `b`. */
function compareIds(aw: Uint32Array, ao: number, bw: Uint32Array, bo: number): number {
  for (let k = 0; k < 4; k++) {
    const d = aw[ao + k]! - bw[bo + k]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * The last state of every identity the upload names, in typed arrays (no object or string per
 * record): `ids` holds the distinct identities sorted (4 words each); `win[u]` is the global
 * batch row (over the batches in order) of identity u's last record, or −1 when its last
 * mention removes it; `keep[u]` is 1 when that record is `recordStatus` "same".
 */
function lastStates(batches: readonly PackedBatch[]) {
  let rowsTotal = 0;
  let mentions = 0;
  for (const b of batches) {
    const w = wordsOf(b.rows);
    for (let i = 0; i < rowCount(b.rows); i++) {
      const o = i * ROW_WORDS + ID_WORD;
      if (w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) mentions += 1;
    }
    mentions += b.removed.length;
    rowsTotal += rowCount(b.rows);
  }
  // every mention: its identity, and its place in upload order (a row's global index, or a
  // removal after its batch's rows)
  const idw = new Uint32Array(mentions * 4);
  const ref = new Int32Array(mentions);
  const seq = new Uint32Array(mentions);
  const keepOf = new Uint8Array(mentions);
  let m = 0;
  let g = 0;
  let order = 0;
  for (const b of batches) {
    const w = wordsOf(b.rows);
    for (let i = 0; i < rowCount(b.rows); i++, g++) {
      const o = i * ROW_WORDS + ID_WORD;
      if (!(w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!)) continue;
      idw.set(w.subarray(o, o + 4), m * 4);
      ref[m] = g;
      keepOf[m] = b.keep[i]!;
      seq[m++] = order++;
    }
    for (const id of b.removed) {
      const bytes = Buffer.from(id.slice(2), "hex");
      idw.set(new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 16)), m * 4);
      ref[m] = -1;
      seq[m++] = order++;
    }
  }
  const idx = new Uint32Array(mentions);
  for (let k = 0; k < mentions; k++) idx[k] = k;
  idx.sort((a, b) => compareIds(idw, a * 4, idw, b * 4) || seq[a]! - seq[b]!);
  // the last mention of each identity wins
  const winners: number[] = [];
  for (let k = 0; k < mentions; k++) {
    const next = k + 1 < mentions ? idx[k + 1]! : -1;
    if (next === -1 || compareIds(idw, idx[k]! * 4, idw, next * 4) !== 0) winners.push(idx[k]!);
  }
  const ids = new Uint32Array(winners.length * 4);
  const win = new Int32Array(winners.length);
  const keep = new Uint8Array(winners.length);
  winners.forEach((x, u) => {
    ids.set(idw.subarray(x * 4, x * 4 + 4), u * 4);
    win[u] = ref[x]!;
    keep[u] = keepOf[x]!;
  });
  return { ids, win, keep, rowsTotal };
}

/** The index of identity (words at `o` of `w`) in sorted `ids`, or −1. */
function findId(ids: Uint32Array, w: Uint32Array, o: number): number {
  let lo = 0;
  let hi = ids.length / 4 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareIds(ids, mid * 4, w, o);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The rows of the new version (not yet in tree order): the base's rows that the upload does not
 * replace or remove (with their salts, so their leaves are unchanged), then the upload's rows
 * that are the last of their identity (with fresh salts); `recordStatus` "same" keeps a base
 * record. Works on the rows' bytes: at 10^6 records the objects of a record each would not fit
 * the gateway's memory bound.
 */
export function applyBatches(req: ApplyRequest): { rows: Uint8Array; changes: VersionChanges } {
  const { ids, win, keep, rowsTotal } = lastStates(req.batches);
  const u = ids.length / 4;
  const inBase = new Uint8Array(u);
  const keptBase = new Uint8Array(u);
  const changes: VersionChanges = { added: 0, replaced: 0, removed: 0 };
  const baseN = rowCount(req.base);
  const bw = wordsOf(req.base);
  const takeBase = new Uint8Array(baseN);
  for (let i = 0; i < baseN; i++) {
    const o = i * ROW_WORDS + ID_WORD;
    const x = bw[o]! | bw[o + 1]! | bw[o + 2]! | bw[o + 3]! ? findId(ids, bw, o) : -1;
    if (x === -1) {
      takeBase[i] = 1;
      continue;
    }
    inBase[x] = 1;
    if (win[x] === -1) changes.removed += 1;
    else if (keep[x]) {
      takeBase[i] = 1;
      keptBase[x] = 1;
    } else changes.replaced += 1;
  }
  const takeBatch = new Uint8Array(rowsTotal);
  let g = 0;
  for (const b of req.batches) {
    const w = wordsOf(b.rows);
    for (let i = 0; i < rowCount(b.rows); i++, g++) {
      const o = i * ROW_WORDS + ID_WORD;
      if (w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) {
        const x = findId(ids, w, o);
        if (win[x] !== g || keptBase[x]) continue;
        if (!inBase[x]) changes.added += 1;
      } else changes.added += 1;
      takeBatch[g] = 1;
    }
  }
  let n = 0;
  for (const t of takeBase) n += t;
  for (const t of takeBatch) n += t;
  // a buffer of the version's own: the base's rows stay as they were (an append's build compares
  // them with the version's); compacting the version into the request's buffer instead saved no
  // measurable peak RSS at 10^6 records (scripts/lib/bench/uploads-rss.ts, README)
  const rows = new Uint8Array(n * ROW_BYTES);
  const move = (src: Uint8Array, i: number, at: number) =>
    rows.set(src.subarray(i * ROW_BYTES, (i + 1) * ROW_BYTES), at * ROW_BYTES);
  let out = 0;
  for (let i = 0; i < baseN; i++) {
    if (!takeBase[i]) continue;
    move(req.base, i, out);
    out += 1;
  }
  const view = new DataView(rows.buffer, rows.byteOffset, rows.length);
  g = 0;
  let s = 0;
  for (const b of req.batches) {
    for (let i = 0; i < rowCount(b.rows); i++, g++) {
      const salt = req.salts?.[s++] ?? randomSalt();
      if (!takeBatch[g]) continue;
      const o = out * ROW_BYTES;
      move(b.rows, i, out);
      view.setBigUint64(o + 48, salt & MASK64, true);
      view.setBigUint64(o + 56, (salt >> 64n) & MASK64, true);
      view.setBigUint64(o + 64, (salt >> 128n) & MASK64, true);
      view.setBigUint64(o + 72, salt >> 192n, true);
      out += 1;
    }
  }
  return { rows, changes };
}

const MASK64 = (1n << 64n) - 1n;
/** Distinct value tuples shared between records (beyond it, records keep their own). */
const TUPLES_MAX = 1 << 16;
/** Word order of significance of a row in tree order: key, v0..v3, salt (`sortRecords`). */
const SORT_WORDS = [3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 19, 18, 17, 16, 15, 14, 13, 12];

/** `rows` in the order the tree commits them (`sortRecords`: key, values, salt), a copy. */
export function sortRows(rows: Uint8Array): Uint8Array {
  return sortRowsInPlace(rows.slice());
}

/**
 * Puts `rows` in the order the tree commits them (`sortRecords`: key, values, salt) in place,
 * following the permutation's cycles (a second copy of 10^6 rows would be 96 MB more); returns
 * `rows`.
 */
export function sortRowsInPlace(rows: Uint8Array): Uint8Array {
  const n = rowCount(rows);
  const w = wordsOf(rows);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((i, j) => {
    const a = i * ROW_WORDS;
    const b = j * ROW_WORDS;
    for (const k of SORT_WORDS) {
      const d = w[a + k]! - w[b + k]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  // position k takes row idx[k]; along a cycle each source is read before it is overwritten,
  // except the cycle's first row, which waits in `tmp`
  const tmp = new Uint8Array(ROW_BYTES);
  const done = new Uint8Array(n);
  for (let start = 0; start < n; start++) {
    if (done[start]) continue;
    done[start] = 1;
    if (idx[start] === start) continue;
    tmp.set(rows.subarray(start * ROW_BYTES, (start + 1) * ROW_BYTES));
    let k = start;
    for (;;) {
      const src = idx[k]!;
      if (src === start) {
        rows.set(tmp, k * ROW_BYTES);
        break;
      }
      rows.copyWithin(k * ROW_BYTES, src * ROW_BYTES, (src + 1) * ROW_BYTES);
      done[src] = 1;
      k = src;
    }
  }
  return rows;
}

/**
 * Versions of more than this many records are hashed from their sorted rows a window at a time
 * (`levelsFromRows`) instead of by `buildTree` over one object and bigints per record: the same
 * root and levels, without the ~0.7 GB the objects, the tree's every level and its copies of the
 * records took at 10^6 records. Their trees are not kept for reuse anyway.
 */
export const STREAM_MIN_RECORDS = REUSE_MAX_RECORDS + 1;

/** The padding nodes of every level, per depth and MIN/MAX field (an empty tree's). */
const padsOf = new Map<string, Uint8Array>();

async function pads(depth: number, minMaxField: number): Promise<Uint8Array> {
  const k = `${depth}:${minMaxField}`;
  let p = padsOf.get(k);
  if (!p) {
    const empty = await buildTree([], [], depth, { minMaxField });
    padsOf.set(k, (p = levelsToStore(treeNodeBytes(empty)!).pads));
  }
  return p;
}

const KEY_WORD_MAX = 0xffffffff;

/**
 * The tree of a version's `rows` (tree order, as `sortRows` gives them): its root, the levels
 * the store keeps, and the tree itself when it is small enough to keep for the next build
 * (`previous`, when at hand, has its unchanged subtrees copied). At or above `streamFrom`
 * records (default {@link STREAM_MIN_RECORDS}) the levels are hashed from the rows a window at a
 * time, as the store's migration does; below, `buildTree` builds a tree that can be kept.
 */
export async function versionTree(
  rows: Uint8Array,
  depth: number,
  minMaxField: number,
  previous?: MerkleSumTree,
  streamFrom = STREAM_MIN_RECORDS,
  shared?: SharedPrefix,
): Promise<{ root: string; tree: TreeLevels; keep?: MerkleSumTree; sharedLeaves: number }> {
  const n = rowCount(rows);
  if (n + 2 > 2 ** depth) {
    throw new RangeError(`a depth-${depth} tree holds at most ${2 ** depth - 2} records, got ${n}`);
  }
  if (n >= streamFrom) {
    // buildTree's record checks, on the bytes: values are u64 by their width, salts are drawn
    // below the field; a key must not be a sentinel (0 or 2^128 − 1)
    const w = wordsOf(rows);
    for (let i = 0; i < n; i++) {
      const o = i * ROW_WORDS;
      const or = w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!;
      const and = w[o]! & w[o + 1]! & w[o + 2]! & w[o + 3]!;
      if (or === 0 || and >>> 0 === KEY_WORD_MAX) {
        throw new RangeError(`record ${i}: key must be in [1, 2^128 - 2]`);
      }
    }
    const threads = Math.min(availableParallelism(), 4);
    const p = await pads(depth, minMaxField);
    // the previous tree's nodes are this tree's only with the same depth and MIN/MAX field,
    // which its padding nodes show (they hash both)
    const usable =
      shared &&
      shared.tree.from === Math.min(TREE_LEVELS_FROM, depth) &&
      shared.tree.levels.length === depth - shared.tree.from + 1 &&
      Buffer.compare(shared.tree.pads, p) === 0
        ? shared
        : undefined;
    const tree = await levelsFromRows(
      { depth, recordCount: n },
      minMaxField,
      p,
      async (a, b) => rows.subarray(a * ROW_BYTES, b * ROW_BYTES),
      TREE_LEVELS_FROM,
      undefined,
      threads,
      usable,
    );
    return {
      root: nodeTupleAt(tree.levels.at(-1)!, 0)[0]!.toString(),
      tree,
      sharedLeaves: usable ? Math.min(usable.leaves, n + 1) : 0,
    };
  }
  // The tree builder takes records and salts (already sorted: leaf i is row i − 1). Equal value
  // tuples share one array.
  const records: TreeRecord[] = new Array(n);
  const salts: bigint[] = new Array(n);
  const tuples = new Map<string, bigint[]>();
  for (let i = 0; i < n; i++) {
    const r = readRow(rows, i);
    const t = r.values.join(",");
    let values = tuples.get(t);
    if (!values) {
      values = r.values;
      if (tuples.size < TUPLES_MAX) tuples.set(t, values);
    }
    records[i] = { key: r.key, values };
    salts[i] = r.salt;
  }
  tuples.clear();
  const tree = await buildTree(records, salts, depth, {
    minMaxField,
    ...(previous ? { previous } : {}),
  });
  const root = tree.root.toString();
  const levels = levelsToStore(treeNodeBytes(tree)!);
  return {
    root,
    tree: levels,
    ...(n <= REUSE_MAX_RECORDS ? { keep: tree } : {}),
    sharedLeaves: 0,
  };
}

/**
 * The number of leading rows that `a` and `b` (both in tree order) have in common, compared
 * on what a leaf hashes of them (key, values, salt: the first 80 bytes). With `k` of them,
 * leaves 0 .. k − 1 of their trees are equal (leaf k holds row k − 1 and the next row's key).
 */
export function sharedRows(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(rowCount(a), rowCount(b));
  const wa = wordsOf(a);
  const wb = wordsOf(b);
  const words = RECORD_WORDS;
  for (let i = 0; i < n; i++) {
    const o = i * ROW_WORDS;
    for (let k = 0; k < words; k++) if (wa[o + k] !== wb[o + k]) return i;
  }
  return n;
}

/** 32-bit words of a row that its leaf hashes (key, values, salt). */
const RECORD_WORDS = 20;

async function apply(req: ApplyRequest, id: number): Promise<IngestResponse> {
  const merged = applyBatches(req);
  // the base's rows are read once more below when its stored tree is at hand
  const base = req.baseTree ? req.base : undefined;
  // the request's buffers are no longer needed (shared with the HTTP thread, which drops them)
  req.base = new Uint8Array(0);
  req.batches = [];
  const n = rowCount(merged.rows);
  if (n + 2 > 2 ** req.depth) {
    return { id, ok: true, kind: "tooMany", records: n };
  }
  // sorted in place: the merged rows are the version's (their buffer is the worker's own)
  const rows = sortRowsInPlace(merged.rows);
  const previous = kept && kept.root === req.baseRoot ? kept.tree : undefined;
  kept = undefined; // let the old tree go before the new one is built
  // the base's stored levels count only when they are the base's tree: its root on top
  const baseTree =
    base && req.baseTree && rootOf(req.baseTree) === req.baseRoot ? req.baseTree : undefined;
  const shared = baseTree && base ? { tree: baseTree, leaves: sharedRows(base, rows) } : undefined;
  // Below `streamFrom` the tree is built to be kept, reusing the one kept from the last build.
  // Without it (a restarted gateway, another worker) but with the base's stored levels and rows
  // in common, it is hashed from the rows like a large version, copying the shared nodes: a
  // rebuild of every leaf took ~17 s at 2^18 records.
  const fromRows = !previous && shared !== undefined && shared.leaves > 0;
  const built = await versionTree(
    rows,
    req.depth,
    req.minMaxField,
    previous,
    fromRows ? 0 : req.streamFrom,
    shared,
  );
  if (built.keep) kept = { root: built.root, tree: built.keep };
  return {
    id,
    ok: true,
    kind: "applied",
    rows,
    root: built.root,
    changes: merged.changes,
    tree: built.tree,
    reused: previous !== undefined || built.sharedLeaves > 0,
    sharedLeaves: built.sharedLeaves,
  };
}

/** The root (decimal) of stored levels: the hash of the top level's one node. */
function rootOf(t: TreeLevels): string | undefined {
  const top = t.levels.at(-1);
  return top && top.length > 0 ? nodeTupleAt(top, 0)[0]!.toString() : undefined;
}

async function handle(msg: IngestRequest): Promise<IngestResponse> {
  if (msg.kind === "hash") {
    return { id: msg.id, ok: true, kind: "hashed", dataHash: uploadDataHash(msg.data) };
  }
  if (msg.kind === "parse") {
    const schema = findSchema(msg.schemaId);
    if (!schema) throw new Error("unknown schema");
    const parsed = parseBatch(schema, msg.data);
    if (!parsed.ok) return { id: msg.id, ok: true, kind: "invalid", errors: parsed.errors };
    const n = parsed.records.length;
    const rows = new Uint8Array(n * ROW_BYTES);
    const keep = new Uint8Array(n);
    parsed.records.forEach((r, i) => {
      writeRow(rows, i, r, 0n);
      if (r.keep) keep[i] = 1;
    });
    return {
      id: msg.id,
      ok: true,
      kind: "parsed",
      batch: { rows, keep, removed: parsed.removed },
      batchHash: batchHash(schema.id, parsed.records, parsed.removed),
      records: n,
    };
  }
  return apply(msg, msg.id);
}

parentPort?.on("message", async (msg: IngestRequest | { kind: "close" }) => {
  if (msg.kind === "close") process.exit(0);
  try {
    const reply = await handle(msg);
    // hand a version's rows over without a copy (their buffer is the worker's own)
    const out =
      reply.ok && reply.kind === "applied"
        ? [reply.rows.buffer, ...reply.tree.levels.map((l) => l.buffer)].filter(
            (b): b is ArrayBuffer => b instanceof ArrayBuffer,
          )
        : [];
    parentPort!.postMessage(reply, out);
  } catch (e) {
    // the error's name only: messages of lower layers may quote values
    const error = (e as Error)?.name ?? "Error";
    parentPort!.postMessage({ id: msg.id, ok: false, error } satisfies IngestResponse);
  }
});
