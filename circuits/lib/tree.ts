/**
 * The commitment of one asset version: a Poseidon Merkle-sum tree over salted records sorted
 * by their index key. Same hashes as the circuits (circuits/leaf_node.circom,
 * circuits/node_hash.circom); see circuits/README.md for the layout.
 *
 * Leaves: index 0 is the low sentinel (key 0), then the n records sorted by key, then padding
 * leaves (key 2^128 - 1) up to 2^depth. Every leaf stores the next leaf's key (`nextKey`).
 * A node is the tuple [hash, count, sum0..sum3, min_m, max_m].
 */
// @ts-expect-error circomlibjs ships no type declarations
import { buildPoseidon } from "circomlibjs";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Number of value fields of a record. */
export const FIELD_COUNT = 4;
/** Number of field elements in a node tuple: hash, count, 4 sums, min, max. */
export const NODE_WIDTH = 8;
/** Key of the low sentinel leaf (index 0). */
export const KEY_LOW_SENTINEL = 0n;
/** Key of the padding leaves (the high sentinel), 2^128 - 1. */
export const KEY_HIGH_SENTINEL = (1n << 128n) - 1n;
/** Largest record value, 2^64 - 1 (also the MIN of the empty set). */
export const VALUE_MAX = (1n << 64n) - 1n;
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
   * Worker threads for hashing (0 = hash in this thread). Default: up to 4 (the machine's
   * cores) for trees of 2^14 or more used leaves, else 0.
   */
  workers?: number;
}

type Poseidon = ((inputs: unknown[] | Uint8Array) => Uint8Array) & {
  F: {
    e(v: bigint | Uint8Array): Uint8Array;
    toObject(v: Uint8Array): bigint;
    toMontgomery(v: Uint8Array): Uint8Array;
  };
};
let poseidonPromise: Promise<Poseidon> | undefined;

/** The WASM Poseidon of circomlibjs (same constants as circomlib's circuits), built once. */
export function getPoseidon(): Promise<Poseidon> {
  poseidonPromise ??= buildPoseidon() as Promise<Poseidon>;
  return poseidonPromise;
}

/** A fresh secret salt: a uniformly random 248-bit field element. */
export function randomSalt(): bigint {
  return BigInt("0x" + randomBytes(31).toString("hex"));
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
  const order = records.map((_, i) => i);
  const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  order.sort((i, j) => {
    const a = records[i] as TreeRecord;
    const b = records[j] as TreeRecord;
    let c = cmp(a.key, b.key);
    for (let f = 0; c === 0 && f < FIELD_COUNT; f++) c = cmp(a.values[f]!, b.values[f]!);
    return c !== 0 ? c : cmp(salts[i]!, salts[j]!);
  });
  return { records: order.map((i) => records[i]!), salts: order.map((i) => salts[i]!) };
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

/** Storage of one tree level: only the part that is not pure padding. */
interface Level {
  size: number;
  hash: Uint8Array; // Montgomery form, 32 bytes per node
  count: Float64Array;
  sumLo: BigUint64Array[];
  sumHi: Float64Array[];
  min: BigUint64Array;
  max: BigUint64Array;
}

function newLevel(size: number): Level {
  return {
    size,
    hash: new Uint8Array(size * 32),
    count: new Float64Array(size),
    sumLo: Array.from({ length: FIELD_COUNT }, () => new BigUint64Array(size)),
    sumHi: Array.from({ length: FIELD_COUNT }, () => new Float64Array(size)),
    min: new BigUint64Array(size),
    max: new BigUint64Array(size),
  };
}

/** Trees with at least this many leaves are hashed on worker threads by default. */
const PARALLEL_THRESHOLD = 1 << 14;
/** Nodes per batch buffer (bounds memory: 65,536 × 16 × 32 B = 32 MiB). */
const SEGMENT = 1 << 16;

function writeLE(view: DataView, offset: number, v: bigint): void {
  view.setBigUint64(offset, v & MASK64, true);
  view.setBigUint64(offset + 8, (v >> 64n) & MASK64, true);
  view.setBigUint64(offset + 16, (v >> 128n) & MASK64, true);
  view.setBigUint64(offset + 24, v >> 192n, true);
}

/**
 * Hashes batches of Poseidon inputs (32-byte little-endian slots; `montMask` bit j set = slot j
 * already in Montgomery form) in this thread or on a pool of worker threads
 * (circuits/lib/poseidon-worker.mjs).
 */
class Hasher {
  private nextId = 0;
  private readonly pending = new Map<number, (out: Uint8Array) => void>();

  private constructor(
    private readonly P: Poseidon,
    private readonly pool: Worker[],
  ) {
    for (const w of pool) {
      w.on("message", (msg: { id?: number; out?: Uint8Array }) => {
        if (msg.id === undefined) return;
        this.pending.get(msg.id)?.(msg.out!);
        this.pending.delete(msg.id);
      });
    }
  }

  static async start(P: Poseidon, workers: number): Promise<Hasher> {
    const pool: Worker[] = [];
    for (let i = 0; i < workers; i++) {
      // ffjavascript loads the `web-worker` polyfill, which on a non-main thread expects the
      // workerData of its own workers ({ mod, type }): give it an empty module to import.
      const w = new Worker(new URL("./poseidon-worker.mjs", import.meta.url), {
        workerData: { mod: "data:text/javascript,export{}", name: "poseidon", type: "module" },
      });
      await new Promise<void>((resolve, reject) => {
        w.once("message", () => resolve());
        w.once("error", reject);
      });
      pool.push(w);
    }
    return new Hasher(P, pool);
  }

  async hash(arity: number, montMask: number, buf: Uint8Array, n: number): Promise<Uint8Array> {
    if (this.pool.length === 0 || n < 64) return this.hashHere(arity, montMask, buf, n);
    const per = Math.ceil(n / this.pool.length);
    const parts = this.pool.map((w, k) => {
      const from = k * per;
      const cnt = Math.max(0, Math.min(per, n - from));
      if (cnt === 0) return Promise.resolve(new Uint8Array(0));
      const slice = buf.slice(from * arity * 32, (from + cnt) * arity * 32);
      const id = this.nextId++;
      return new Promise<Uint8Array>((resolve) => {
        this.pending.set(id, resolve);
        w.postMessage({ id, n: cnt, arity, montMask, buf: slice }, [slice.buffer]);
      });
    });
    const outs = await Promise.all(parts);
    const out = new Uint8Array(n * 32);
    let o = 0;
    for (const part of outs) {
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  private hashHere(arity: number, montMask: number, buf: Uint8Array, n: number): Uint8Array {
    const out = new Uint8Array(n * 32);
    const input = new Uint8Array(arity * 32);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < arity; j++) {
        const slot = buf.subarray((i * arity + j) * 32, (i * arity + j + 1) * 32);
        input.set((montMask >> j) & 1 ? slot : this.P.F.toMontgomery(slot), j * 32);
      }
      out.set(this.P(input), i * 32);
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.terminate()));
  }
}

/**
 * Builds the commitment over `records` (any order; sorted here with {@link sortRecords}) with
 * one secret salt per record, for a tree of 2^depth leaves (needs n + 2 <= 2^depth: one low
 * sentinel and at least one padding leaf).
 */
export async function buildTree(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  depth: number,
  options: BuildOptions = {},
): Promise<MerkleSumTree> {
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
    if (
      s < 0n ||
      s >= 21888242871839275222246405745257275088548364400416034343698204186575808495617n
    ) {
      throw new RangeError("salts must be field elements");
    }
  }
  const sorted = options.keepOrder
    ? { records: [...records], salts: [...salts] }
    : sortRecords(records, salts);
  const P = await getPoseidon();
  const F = P.F;

  const used = n + 1; // sentinel + records; leaves from index `used` on are padding
  const keyAt = (i: number): bigint =>
    i === 0 ? KEY_LOW_SENTINEL : i <= n ? sorted.records[i - 1]!.key : KEY_HIGH_SENTINEL;
  const leafAt = (i: number): Leaf => {
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** depth) throw new RangeError(`no leaf ${i}`);
    const real = i >= 1 && i <= n;
    return {
      key: keyAt(i),
      nextKey: i + 1 < 2 ** depth ? keyAt(i + 1) : KEY_HIGH_SENTINEL,
      values: real ? [...sorted.records[i - 1]!.values] : [0n, 0n, 0n, 0n],
      salt: real ? sorted.salts[i - 1]! : 0n,
    };
  };

  // padding node per level
  const pad: bigint[][] = [];
  const padHash: Uint8Array[] = [];
  {
    const h = P([KEY_HIGH_SENTINEL, KEY_HIGH_SENTINEL, 0n, 0n, 0n, 0n, 0n]);
    padHash.push(h);
    pad.push([F.toObject(h), 0n, 0n, 0n, 0n, 0n, VALUE_MAX, 0n]);
    for (let l = 1; l <= depth; l++) {
      const below = pad[l - 1]!;
      const hb = padHash[l - 1]!;
      const vals = below.slice(1).map((v) => F.e(v));
      const hh = P([hb, ...vals, hb, ...vals]);
      padHash.push(hh);
      pad.push([F.toObject(hh), 0n, 0n, 0n, 0n, 0n, VALUE_MAX, 0n]);
    }
  }

  const workers =
    options.workers ?? (used >= PARALLEL_THRESHOLD ? Math.min(availableParallelism(), 4) : 0);
  const hasher = await Hasher.start(P, workers);
  const levels: Level[] = [];
  try {
    // level 0: Poseidon7(key, nextKey, v0..v3, salt), in segments
    const l0 = newLevel(used);
    for (let s0 = 0; s0 < used; s0 += SEGMENT) {
      const cnt = Math.min(SEGMENT, used - s0);
      const buf = new Uint8Array(cnt * 7 * 32);
      const view = new DataView(buf.buffer);
      for (let i = 0; i < cnt; i++) {
        const leaf = leafAt(s0 + i);
        const slots = [leaf.key, leaf.nextKey, ...leaf.values, leaf.salt];
        for (let j = 0; j < 7; j++) writeLE(view, (i * 7 + j) * 32, slots[j]!);
      }
      l0.hash.set(await hasher.hash(7, 0, buf, cnt), s0 * 32);
    }
    for (let i = 0; i < used; i++) {
      const real = i >= 1;
      const values = real ? sorted.records[i - 1]!.values : undefined;
      l0.count[i] = real ? 1 : 0;
      for (let f = 0; f < FIELD_COUNT; f++) l0.sumLo[f]![i] = values ? values[f]! : 0n;
      l0.min[i] = values ? values[m]! : VALUE_MAX;
      l0.max[i] = values ? values[m]! : 0n;
    }
    levels.push(l0);

    // internal levels: Poseidon16(left tuple, right tuple); slots 0 and 8 are child hashes
    for (let l = 1; l <= depth; l++) {
      const below = levels[l - 1]!;
      const size = Math.ceil(used / 2 ** l);
      const cur = newLevel(size);
      const padBelow = pad[l - 1]!;
      const tuple = (c: number): bigint[] => {
        if (c >= below.size) return padBelow.slice(1);
        const t = [BigInt(below.count[c]!)];
        for (let f = 0; f < FIELD_COUNT; f++) {
          t.push((BigInt(below.sumHi[f]![c]!) << 64n) + below.sumLo[f]![c]!);
        }
        t.push(below.min[c]!, below.max[c]!);
        return t;
      };
      for (let s0 = 0; s0 < size; s0 += SEGMENT) {
        const cnt = Math.min(SEGMENT, size - s0);
        const buf = new Uint8Array(cnt * 16 * 32);
        const view = new DataView(buf.buffer);
        for (let k = 0; k < cnt; k++) {
          const i = s0 + k;
          const left = tuple(2 * i);
          const right = tuple(2 * i + 1);
          for (let side = 0; side < 2; side++) {
            const c = 2 * i + side;
            const o = (k * 16 + side * 8) * 32;
            buf.set(c < below.size ? below.hash.subarray(c * 32, c * 32 + 32) : padHash[l - 1]!, o);
            const t = side === 0 ? left : right;
            for (let j = 0; j < 7; j++) writeLE(view, o + (j + 1) * 32, t[j]!);
          }
          cur.count[i] = Number(left[0]! + right[0]!);
          for (let f = 0; f < FIELD_COUNT; f++) {
            const sum = left[1 + f]! + right[1 + f]!;
            cur.sumLo[f]![i] = sum & MASK64;
            cur.sumHi[f]![i] = Number(sum >> 64n);
          }
          cur.min[i] = left[5]! < right[5]! ? left[5]! : right[5]!;
          cur.max[i] = left[6]! > right[6]! ? left[6]! : right[6]!;
        }
        cur.hash.set(await hasher.hash(16, 0x101, buf, cnt), s0 * 32);
      }
      levels.push(cur);
    }
  } finally {
    await hasher.stop();
  }

  const node = (level: number, index: number): bigint[] => {
    if (!Number.isInteger(level) || level < 0 || level > depth) {
      throw new RangeError(`no level ${level}`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** (depth - level)) {
      throw new RangeError(`no node ${index} at level ${level}`);
    }
    const lv = levels[level]!;
    if (index >= lv.size) return [...pad[level]!];
    const out = [
      F.toObject(lv.hash.subarray(index * 32, index * 32 + 32)),
      BigInt(lv.count[index]!),
    ];
    for (let f = 0; f < FIELD_COUNT; f++) {
      out.push((BigInt(lv.sumHi[f]![index]!) << 64n) + lv.sumLo[f]![index]!);
    }
    out.push(lv.min[index]!, lv.max[index]!);
    return out;
  };

  const root = node(depth, 0)[0]!;
  return {
    depth,
    minMaxField: m,
    root,
    leafCount: n,
    node,
    leaf: leafAt,
    keyAt: (i) => (i >= 0 && i < 2 ** depth ? keyAt(i) : KEY_HIGH_SENTINEL),
    path(index: number): bigint[][] {
      if (!Number.isInteger(index) || index < 0 || index >= 2 ** depth) {
        throw new RangeError(`no leaf ${index}`);
      }
      const out: bigint[][] = [];
      for (let l = 0; l < depth; l++) out.push(node(l, (index >> l) ^ 1));
      return out;
    },
  };
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
