/**
 * The hashing engines of circuits/lib/tree.ts: both compute the same leaf and node tuples of
 * the commitment tree over the same byte layout, one in native code (circuits/native/, built
 * by `npm run build`), one in JavaScript (circomlibjs' WASM Poseidon on worker threads), which
 * is the fallback when the native addon is not built or does not load.
 *
 * Byte layout (little-endian):
 * - record, {@link RECORD_BYTES} = 80: key (2 × u64), v0..v3 (u64 each), salt (4 × u64);
 * - node, {@link NODE_BYTES} = 120: hash (4 × u64, standard form), count (u64), sum0..sum3
 *   (u128 each, low word first), min (u64), max (u64).
 *
 * Leaf i of a tree over n sorted records (hashLeaves writes leaves 0..n): 0 = low sentinel,
 * i = record i − 1, nextKey = key of leaf i + 1 (2^128 − 1 after the last record). Node i of a
 * level (hashNodes) = Poseidon16 over the tuples of nodes 2i and 2i + 1 of the level below,
 * where nodes at or beyond `sizeBelow` are the padding node `padBelow`.
 */
import { buildPoseidon } from "./circomlib-poseidon.mjs";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** Bytes of one packed record. */
export const RECORD_BYTES = 80;
/** Bytes of one packed node tuple. */
export const NODE_BYTES = 120;

/** Computes leaf and node tuples in the layout above. Both return when `out` is written. */
export interface TreeEngine {
  /** "native" (C addon) or "js" (circomlibjs WASM Poseidon). */
  readonly name: "native" | "js";
  /**
   * Writes leaves `indices` (all of 0..n when null) of `n` packed records into `out`; with
   * `order`, the records in tree order are packed rows order[0], order[1], … (else as packed).
   */
  hashLeaves(
    records: Uint8Array,
    n: number,
    minMaxField: number,
    out: Uint8Array,
    indices: Int32Array | null,
    threads: number,
    order?: Uint32Array | null,
  ): Promise<void>;
  /** Writes nodes `indices` (all of 0..size − 1 when null) of the level above `below`. */
  hashNodes(
    below: Uint8Array,
    sizeBelow: number,
    padBelow: Uint8Array,
    out: Uint8Array,
    size: number,
    indices: Int32Array | null,
    threads: number,
  ): Promise<void>;
  /**
   * Writes every leaf and node of the tree over `n` records (in `order` as in hashLeaves):
   * level l (0 = leaves) has {@link levelSizes}(n, depth)[l] nodes, stored one level after
   * the other from byte 0 of `nodes`; pads[l · NODE_BYTES ..] is the padding node of level l.
   */
  hashTree(
    records: Uint8Array,
    n: number,
    minMaxField: number,
    order: Uint32Array | null,
    nodes: Uint8Array,
    depth: number,
    pads: Uint8Array,
    threads: number,
  ): Promise<void>;
}

/** Nodes of each level 0..depth of a tree over n records: ceil((n + 1) / 2^l). */
export function levelSizes(n: number, depth: number): number[] {
  return Array.from({ length: depth + 1 }, (_, l) => Math.ceil((n + 1) / 2 ** l));
}

/**
 * hashTree as hashLeaves, then hashNodes level by level (the JavaScript engine's; the native
 * engine hashes the whole tree in one call).
 */
async function hashTreeByLevels(
  engine: Omit<TreeEngine, "hashTree">,
  ...[records, n, m, order, nodes, depth, pads, threads]: Parameters<TreeEngine["hashTree"]>
): Promise<void> {
  const sizes = levelSizes(n, depth);
  const levels: Uint8Array[] = [];
  let off = 0;
  for (const size of sizes) {
    levels.push(nodes.subarray(off, off + size * NODE_BYTES));
    off += size * NODE_BYTES;
  }
  await engine.hashLeaves(records, n, m, levels[0]!, null, threads, order);
  for (let l = 1; l <= depth; l++) {
    const pad = pads.subarray((l - 1) * NODE_BYTES, l * NODE_BYTES);
    await engine.hashNodes(
      levels[l - 1]!,
      sizes[l - 1]!,
      pad,
      levels[l]!,
      sizes[l]!,
      null,
      threads,
    );
  }
}

type Poseidon = ((inputs: unknown[] | Uint8Array) => Uint8Array) & {
  F: {
    e(v: bigint | Uint8Array): Uint8Array;
    toObject(v: Uint8Array): bigint;
    toMontgomery(v: Uint8Array): Uint8Array;
    fromMontgomery(v: Uint8Array): Uint8Array;
  };
};
let poseidonPromise: Promise<Poseidon> | undefined;

/** The WASM Poseidon of circomlibjs (same constants as circomlib's circuits), built once. */
export function getPoseidon(): Promise<Poseidon> {
  poseidonPromise ??= buildPoseidon() as Promise<Poseidon>;
  return poseidonPromise;
}

// ------------------------------------------------------------------------------------------
// native engine

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../build/native/poseidon.node",
);

let nativeEngine: TreeEngine | null | undefined;
let nativeError: string | undefined;
/** The addon's kernel switch (circuits/native/addon.c), set when the addon loads. */
let nativeKernels:
  { kernel(): NativeKernel; setKernel(name: NativeKernel | ""): NativeKernel } | undefined;

/**
 * The native engine, or null (with the reason in {@link nativeUnavailableReason}) when the
 * addon is not built (`npm run build` builds it) or does not load on this machine.
 */
export function loadNativeEngine(): TreeEngine | null {
  if (nativeEngine !== undefined) return nativeEngine;
  nativeEngine = null;
  if (process.env.PARTPROOF_NATIVE_POSEIDON === "0") {
    nativeError = "disabled by PARTPROOF_NATIVE_POSEIDON=0";
  } else {
    const loaded = nativeEngineFrom(ADDON);
    if (loaded.addon) {
      nativeKernels = loaded.addon;
      nativeEngine = loaded.engine;
    } else {
      nativeError = loaded.reason;
    }
  }
  return nativeEngine;
}

/** The addon calls this code makes, and its kernel switch. */
type NativeAddon = Omit<TreeEngine, "name"> & NonNullable<typeof nativeKernels>;

/**
 * Loads the addon at `file` (circuits/build/native/poseidon.node for {@link loadNativeEngine})
 * and returns the engine over it, or why it cannot be used: not built, does not load, or built
 * from other sources (see {@link addonProblem}).
 */
export function nativeEngineFrom(
  file: string,
):
  { engine: TreeEngine; addon: NativeAddon } | { engine: null; addon?: undefined; reason: string } {
  const name = path.relative(process.cwd(), file);
  if (!fs.existsSync(file)) {
    return { engine: null, reason: `${name} is not built (run \`npm run build\`)` };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    return { engine: null, reason: `${file} does not load: ${(err as Error).message}` };
  }
  const problem = addonProblem(addon);
  if (problem !== undefined) {
    return { engine: null, reason: `${name} is out of date: ${problem} (run \`npm run build\`)` };
  }
  const engine: TreeEngine = {
    name: "native",
    hashLeaves: (...a) => addon.hashLeaves(...a),
    hashNodes: (...a) => addon.hashNodes(...a),
    hashTree: (...a) => addon.hashTree(...a),
  };
  return { engine, addon };
}

/** The calls this code makes on the addon (circuits/native/addon.c). */
const ADDON_CALLS = ["hashLeaves", "hashNodes", "hashTree", "kernel", "setKernel"] as const;

/**
 * The version of the addon's calls, their arguments and results: circuits/native/addon.c
 * exports it as `abi` (PARTPROOF_ADDON_ABI there). Raise both together whenever a call changes
 * meaning, so that an addon built from older sources with the same calls is refused rather
 * than used wrongly.
 */
export const NATIVE_ADDON_ABI = 1;

/**
 * The calls an addon lacks: a poseidon.node built from older sources (a checkout updated
 * without `npm run build`) loads, but may lack a call or take fewer arguments (the leaf order
 * of hashLeaves came with hashTree), so it is not used at all and the tree hashes in
 * JavaScript, saying why.
 */
export function missingAddonCalls(addon: unknown): string[] {
  const a = (addon ?? {}) as Record<string, unknown>;
  return ADDON_CALLS.filter((name) => typeof a[name] !== "function");
}

/**
 * Why this code cannot use an addon (undefined when it can): a call it lacks, or an ABI number
 * other than {@link NATIVE_ADDON_ABI} (built from sources whose calls take or return other
 * things, though named the same; an addon older than the number has none).
 */
export function addonProblem(addon: unknown): string | undefined {
  const missing = missingAddonCalls(addon);
  if (missing.length > 0) return `it has no ${missing.join(", ")}`;
  const abi = (addon as { abi?: unknown }).abi;
  if (abi === NATIVE_ADDON_ABI) return undefined;
  return typeof abi === "number"
    ? `it was built for ABI ${abi}, this code needs ${NATIVE_ADDON_ABI}`
    : `it has no ABI number (this code needs ${NATIVE_ADDON_ABI})`;
}

/**
 * The field-arithmetic kernels of the native engine: "adx" (x86-64 assembly with MULX, ADCX and
 * ADOX, chosen when the CPU has BMI2 and ADX) or "c" (portable C, the fallback). Both give the
 * same hashes bit for bit.
 */
export type NativeKernel = "adx" | "c";

/** The kernels the native engine hashes with now (undefined when it is not loaded). */
export function nativeKernel(): NativeKernel | undefined {
  return loadNativeEngine() ? nativeKernels!.kernel() : undefined;
}

/**
 * Forces the native engine's kernels for every job started afterwards, in every thread ("" =
 * the best this CPU runs; at load, the environment variable PARTPROOF_POSEIDON_KERNEL=adx|c
 * does the same). For tests and benchmarks. Throws when the engine is not loaded or "adx" is
 * asked for on a CPU without BMI2/ADX.
 */
export function setNativeKernel(name: NativeKernel | ""): NativeKernel {
  if (!loadNativeEngine()) {
    throw new Error(`the native Poseidon engine is not available: ${nativeError}`);
  }
  return nativeKernels!.setKernel(name);
}

/** Why the native engine is not available (undefined when it is, or was not tried yet). */
export function nativeUnavailableReason(): string | undefined {
  return nativeError;
}

// ------------------------------------------------------------------------------------------
// JavaScript engine

/** Inputs per batch sent to the hashers (bounds memory: 65,536 × 16 × 32 B = 32 MiB). */
const SEGMENT = 1 << 16;

/**
 * Hashes batches of Poseidon inputs (32-byte little-endian standard-form slots) in this
 * thread or on a pool of worker threads (circuits/lib/poseidon-worker.mjs); returns
 * Montgomery-form outputs.
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
    try {
      for (let i = 0; i < workers; i++) {
        // ffjavascript loads the `web-worker` polyfill, which on a non-main thread expects the
        // workerData of its own workers ({ mod, type }): give it an empty module to import.
        const w = new Worker(new URL("./poseidon-worker.mjs", import.meta.url), {
          workerData: { mod: "data:text/javascript,export{}", name: "poseidon", type: "module" },
        });
        pool.push(w);
        await new Promise<void>((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", reject);
        });
      }
    } catch (err) {
      await Promise.all(pool.map((w) => w.terminate()));
      throw err;
    }
    return new Hasher(P, pool);
  }

  async hash(arity: number, buf: Uint8Array, n: number): Promise<Uint8Array> {
    if (this.pool.length === 0 || n < 64) return this.hashHere(arity, buf, n);
    const per = Math.ceil(n / this.pool.length);
    const parts = this.pool.map((w, k) => {
      const from = k * per;
      const cnt = Math.max(0, Math.min(per, n - from));
      if (cnt === 0) return Promise.resolve(new Uint8Array(0));
      const slice = buf.slice(from * arity * 32, (from + cnt) * arity * 32);
      const id = this.nextId++;
      return new Promise<Uint8Array>((resolve) => {
        this.pending.set(id, resolve);
        w.postMessage({ id, n: cnt, arity, montMask: 0, buf: slice }, [slice.buffer]);
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

  private hashHere(arity: number, buf: Uint8Array, n: number): Uint8Array {
    const out = new Uint8Array(n * 32);
    const input = new Uint8Array(arity * 32);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < arity; j++) {
        const slot = buf.subarray((i * arity + j) * 32, (i * arity + j + 1) * 32);
        input.set(this.P.F.toMontgomery(slot), j * 32);
      }
      out.set(this.P(input), i * 32);
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.terminate()));
  }
}

const U64 = (1n << 64n) - 1n;

/** Runs `fill(k, i)` for every index to compute in segments, hashing each segment's inputs. */
async function hashInSegments(
  P: Poseidon,
  arity: number,
  out: Uint8Array,
  indices: Int32Array | null,
  count: number,
  threads: number,
  fill: (input: Uint8Array, slot: number, i: number) => void,
): Promise<void> {
  const hasher = await Hasher.start(P, count >= 1 << 12 ? threads : 0);
  try {
    for (let s0 = 0; s0 < count; s0 += SEGMENT) {
      const cnt = Math.min(SEGMENT, count - s0);
      const buf = new Uint8Array(cnt * arity * 32);
      for (let k = 0; k < cnt; k++) fill(buf, k * arity * 32, indices ? indices[s0 + k]! : s0 + k);
      const hashes = await hasher.hash(arity, buf, cnt);
      for (let k = 0; k < cnt; k++) {
        const i = indices ? indices[s0 + k]! : s0 + k;
        out.set(P.F.fromMontgomery(hashes.subarray(k * 32, k * 32 + 32)), i * NODE_BYTES);
      }
    }
  } finally {
    await hasher.stop();
  }
}

/** The JavaScript engine: circomlibjs' WASM Poseidon, on `threads` worker threads. */
export const jsEngine: TreeEngine = {
  name: "js",
  hashTree(...a) {
    return hashTreeByLevels(jsEngine, ...a);
  },
  async hashLeaves(records, n, m, out, indices, threads, order) {
    const P = await getPoseidon();
    const row = (k: number): number => (order ? order[k]! : k) * RECORD_BYTES;
    const rv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const count = indices ? indices.length : n + 1;
    await hashInSegments(P, 7, out, indices, count, threads, (input, at, i) => {
      const iv = new DataView(input.buffer, input.byteOffset + at, 7 * 32);
      const o = i * NODE_BYTES;
      new Uint8Array(out.buffer, out.byteOffset + o + 32, NODE_BYTES - 32).fill(0);
      if (i === 0) {
        ov.setBigUint64(o + 104, U64, true);
      } else {
        const r = row(i - 1);
        iv.setBigUint64(0, rv.getBigUint64(r, true), true);
        iv.setBigUint64(8, rv.getBigUint64(r + 8, true), true);
        for (let f = 0; f < 4; f++) {
          const v = rv.getBigUint64(r + 16 + 8 * f, true);
          iv.setBigUint64((2 + f) * 32, v, true);
          ov.setBigUint64(o + 40 + 16 * f, v, true);
        }
        for (let w = 0; w < 4; w++)
          iv.setBigUint64(6 * 32 + 8 * w, rv.getBigUint64(r + 48 + 8 * w, true), true);
        ov.setBigUint64(o + 32, 1n, true);
        const mm = rv.getBigUint64(r + 16 + 8 * m, true);
        ov.setBigUint64(o + 104, mm, true);
        ov.setBigUint64(o + 112, mm, true);
      }
      if (i < n) {
        iv.setBigUint64(32, rv.getBigUint64(row(i), true), true);
        iv.setBigUint64(40, rv.getBigUint64(row(i) + 8, true), true);
      } else {
        iv.setBigUint64(32, U64, true);
        iv.setBigUint64(40, U64, true);
      }
    });
  },
  async hashNodes(below, sizeBelow, padBelow, out, size, indices, threads) {
    const P = await getPoseidon();
    const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const count = indices ? indices.length : size;
    const child = (c: number): DataView =>
      c < sizeBelow
        ? new DataView(below.buffer, below.byteOffset + c * NODE_BYTES, NODE_BYTES)
        : new DataView(padBelow.buffer, padBelow.byteOffset, NODE_BYTES);
    await hashInSegments(P, 16, out, indices, count, threads, (input, at, i) => {
      const iv = new DataView(input.buffer, input.byteOffset + at, 16 * 32);
      const cs = [child(2 * i), child(2 * i + 1)];
      cs.forEach((c, s) => {
        const base = s * 8 * 32;
        for (let w = 0; w < 4; w++)
          iv.setBigUint64(base + 8 * w, c.getBigUint64(8 * w, true), true);
        iv.setBigUint64(base + 32, c.getBigUint64(32, true), true);
        for (let f = 0; f < 4; f++) {
          iv.setBigUint64(base + (2 + f) * 32, c.getBigUint64(40 + 16 * f, true), true);
          iv.setBigUint64(base + (2 + f) * 32 + 8, c.getBigUint64(48 + 16 * f, true), true);
        }
        iv.setBigUint64(base + 6 * 32, c.getBigUint64(104, true), true);
        iv.setBigUint64(base + 7 * 32, c.getBigUint64(112, true), true);
      });
      const [l, r] = cs as [DataView, DataView];
      const o = i * NODE_BYTES;
      ov.setBigUint64(o + 32, l.getBigUint64(32, true) + r.getBigUint64(32, true), true);
      for (let f = 0; f < 4; f++) {
        const sum =
          l.getBigUint64(40 + 16 * f, true) +
          (l.getBigUint64(48 + 16 * f, true) << 64n) +
          r.getBigUint64(40 + 16 * f, true) +
          (r.getBigUint64(48 + 16 * f, true) << 64n);
        ov.setBigUint64(o + 40 + 16 * f, sum & U64, true);
        ov.setBigUint64(o + 48 + 16 * f, sum >> 64n, true);
      }
      const [mnL, mnR] = [l.getBigUint64(104, true), r.getBigUint64(104, true)];
      const [mxL, mxR] = [l.getBigUint64(112, true), r.getBigUint64(112, true)];
      ov.setBigUint64(o + 104, mnL < mnR ? mnL : mnR, true);
      ov.setBigUint64(o + 112, mxL > mxR ? mxL : mxR, true);
    });
  },
};
