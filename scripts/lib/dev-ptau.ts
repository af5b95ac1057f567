/**
 * A fast generator of *development* powers-of-tau files for BN254 (snarkjs' `.ptau` format,
 * already prepared for phase 2).
 *
 * snarkjs' ceremony path (`powersoftau new → contribute → prepare phase2`) spends nearly all of
 * its time in `prepare phase2`, which runs inverse FFTs over curve points. A development setup's
 * toxic waste is known to whoever makes it anyway, so this module picks the secrets τ, α, β
 * itself (derived by hashing a seed), computes every scalar the file needs directly in Fr, and
 * multiplies the fixed generators by them with windowed fixed-base tables: in the native Groth16
 * addon's C code when it is built (circuits/native/groth16.c `fixedBaseMul`, all cores), else in
 * ffjavascript's WebAssembly in worker threads ({@link startGeneratorMultiplier}); both write the
 * same bytes.
 *
 * What the file holds (section ids as snarkjs numbers them, points in snarkjs' internal affine
 * Montgomery little-endian form, "LEM"):
 *
 * | id | content |
 * |----|---------|
 * | 1  | header: n8q, q, power P, ceremonyPower P |
 * | 2  | τ^i·G1, i < 2·2^P − 1 |
 * | 3  | τ^i·G2, i < 2^P |
 * | 4  | α·τ^i·G1, i < 2^P |
 * | 5  | β·τ^i·G1, i < 2^P |
 * | 6  | β·G2 |
 * | 7  | contributions: none (u32 0) |
 * | 12 | for p = 0..P+1: ifft_p(τ^0..τ^(2^p−1))·G1 (for p = P+1 the last input is the zero point) |
 * | 13 | for p = 0..P: ifft_p(τ^i)·G2 |
 * | 14 | for p = 0..P: α·ifft_p(τ^i)·G1 |
 * | 15 | for p = 0..P: β·ifft_p(τ^i)·G1 |
 *
 * ifft_p is snarkjs' `G.lagrangeEvaluations` = ffjavascript's inverse FFT of size n = 2^p with
 * ω = Fr.w[p] (p ≤ 28, so never the extended-domain branch for BN254): entry j is
 * (1/n)·Σ_i τ^i·ω^(−ij) = L_j(τ) = ω^j·(τ^n − 1) / (n·(τ − ω^j)), the j-th Lagrange basis
 * polynomial of the size-n domain evaluated at τ.
 *
 * NOTE: the result is a development setup only. Anyone who knows the seed knows τ, α, β and can
 * forge proofs for every circuit set up with the file. Production must use a ceremony file.
 */
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { Worker } from "node:worker_threads";
// @ts-expect-error ffjavascript ships no type declarations
import { F1Field, buildBn128 } from "ffjavascript";
import { loadFixedBaseMul, type FixedBaseMul } from "../../circuits/native/groth16.js";

/** The label every development ptau carries (CLI output, logs, documentation). */
export const DEV_PTAU_WARNING =
  "development setup — NOT secure: the secret is known to whoever generated it";

/** Prefix of the default seed; the power is appended (`partproof-dev-ptau/v1/2^P`). */
export const DEFAULT_DEV_PTAU_SEED_PREFIX = "partproof-dev-ptau/v1/2^";

/** The largest power this generator writes (BN254's Fr has 2^28-th roots of unity). */
export const MAX_DEV_PTAU_POWER = 27;

/** BN254 base field modulus q. */
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** BN254 scalar field modulus r. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Bytes of one field element (Fq or Fr). */
export const N8 = 32;
/** Bytes of an affine G1 / G2 point in snarkjs' LEM form. */
export const G1_BYTES = 2 * N8;
export const G2_BYTES = 4 * N8;

/** Minimal view of ffjavascript's pure-bigint prime field (F1Field). */
export interface BigField {
  readonly one: bigint;
  readonly zero: bigint;
  readonly s: number;
  readonly w: bigint[];
  e(a: bigint | number | string): bigint;
  add(a: bigint, b: bigint): bigint;
  sub(a: bigint, b: bigint): bigint;
  mul(a: bigint, b: bigint): bigint;
  square(a: bigint): bigint;
  inv(a: bigint): bigint;
  exp(a: bigint, e: bigint | number): bigint;
  isZero(a: bigint): boolean;
  eq(a: bigint, b: bigint): boolean;
}

/** BN254's scalar field Fr over plain bigints. */
export const Fr = new F1Field(R) as BigField;

/** Options of {@link writeDevPtau}. */
export interface DevPtauOptions {
  /** Seed string the secrets are derived from; default `DEFAULT_DEV_PTAU_SEED_PREFIX + power`. */
  seed?: string;
  /** Receives human-readable progress lines (section done, elapsed time). */
  onProgress?: (msg: string) => void;
  /** Worker threads for the point multiplications; default: available parallelism. */
  threads?: number;
  /** Which code multiplies the points (default "auto", see {@link startGeneratorMultiplier}). */
  engine?: FixedBaseEngine;
}

/** The toxic waste of a development setup. */
export interface DevPtauSecrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

/** The seed {@link writeDevPtau} uses for `power` when none is given. */
export function defaultDevPtauSeed(power: number): string {
  return `${DEFAULT_DEV_PTAU_SEED_PREFIX}${power}`;
}

/** A fresh random seed (hex), for a file whose secret is not reproducible from a known string. */
export function randomDevPtauSeed(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Derives τ, α, β ∈ Fr* from a seed: `SHA-512("partproof-dev-ptau/v1|<name>|<seed>") mod r`.
 * Deterministic, so the same seed always gives the same file.
 */
export function deriveDevPtauSecrets(seed: string): DevPtauSecrets {
  const derive = (name: string) => secretFromSeed(`partproof-dev-ptau/v1|${name}|${seed}`, name);
  return { tau: derive("tau"), alpha: derive("alpha"), beta: derive("beta") };
}

/** `SHA-512(text) mod r`, refusing zero (`name` says which secret, for the error). */
export function secretFromSeed(text: string, name: string): bigint {
  const h = createHash("sha512").update(text).digest();
  const v = BigInt(`0x${h.toString("hex")}`) % R;
  if (v === 0n) throw new Error(`the seed gives a zero ${name}; pick another seed`);
  return v;
}

/**
 * Lagrange-basis evaluations ifft_n(τ^0, …, τ^(n−1)) = (L_0(τ), …, L_(n−1)(τ)) over the domain of
 * the n-th roots of unity ω = Fr.w[log2 n], in ffjavascript's order. With `dropLast` the input
 * τ^(n−1) is replaced by 0 (snarkjs' extra power P+1 of section 12), which subtracts
 * τ^(n−1)·ω^j / n from entry j. With `oddOnly` only the entries j = 1, 3, 5, … are computed and
 * returned (n/2 of them: a zkey's H points), for half the work.
 */
export function lagrangeEvaluations(
  tau: bigint,
  bits: number,
  dropLast = false,
  oddOnly = false,
): bigint[] {
  const n = 2 ** bits;
  const omega = Fr.w[bits];
  if (omega === undefined) throw new Error(`no 2^${bits}-th root of unity in Fr`);
  if (oddOnly && bits < 1) throw new Error("a domain of one point has no odd entries");
  const nInv = Fr.inv(Fr.e(n));
  const tauN = Fr.exp(tau, BigInt(n));
  if (Fr.eq(tauN, Fr.one)) throw new Error("τ is a root of unity of the domain; pick another seed");
  // the entries computed: j = t (all) or j = 2t + 1 (oddOnly), for t < m
  const stride = oddOnly ? Fr.square(omega) : omega;
  const m = oddOnly ? n / 2 : n;
  // ω^j and the denominators τ − ω^j, inverted in one batch (Montgomery's trick).
  const wj: bigint[] = new Array<bigint>(m);
  const prefix: bigint[] = new Array<bigint>(m);
  let w = oddOnly ? omega : Fr.one;
  let acc = Fr.one;
  for (let t = 0; t < m; t++) {
    wj[t] = w;
    acc = Fr.mul(acc, Fr.sub(tau, w));
    prefix[t] = acc;
    w = Fr.mul(w, stride);
  }
  let inv = Fr.inv(acc);
  const c = Fr.mul(Fr.sub(tauN, Fr.one), nInv); // (τ^n − 1)/n
  const cLast = dropLast ? Fr.mul(Fr.exp(tau, BigInt(n - 1)), nInv) : Fr.zero; // τ^(n−1)/n
  const out: bigint[] = new Array<bigint>(m);
  for (let t = m - 1; t >= 0; t--) {
    const d = Fr.sub(tau, wj[t]!);
    const dInv = t > 0 ? Fr.mul(inv, prefix[t - 1]!) : inv;
    inv = Fr.mul(inv, d);
    let l = Fr.mul(Fr.mul(c, wj[t]!), dInv);
    if (dropLast) l = Fr.sub(l, Fr.mul(cLast, wj[t]!));
    out[t] = l;
  }
  return out;
}

/** τ^0·k, τ^1·k, …, τ^(n−1)·k. */
function geometric(k: bigint, tau: bigint, n: number): bigint[] {
  const out: bigint[] = new Array<bigint>(n);
  let v = k;
  for (let i = 0; i < n; i++) {
    out[i] = v;
    v = Fr.mul(v, tau);
  }
  return out;
}

/** Scalars as consecutive 32-byte little-endian integers (canonical form, < r). */
export function scalarsToBytes(scalars: readonly bigint[]): Uint8Array {
  const buf = new Uint8Array(scalars.length * N8);
  const dv = new DataView(buf.buffer);
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < scalars.length; i++) {
    let s = scalars[i]!;
    for (let k = 0; k < 4; k++) {
      dv.setBigUint64(i * N8 + 8 * k, s & mask, true);
      s >>= 64n;
    }
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Fixed-base multiplication in worker threads (ffjavascript's BN254 WebAssembly, single-threaded
// per worker, called directly so a multiplication costs a few dozen mixed additions).

/**
 * Window width c in bits of the fixed-base tables: a multiplication is ceil(254/c) mixed
 * additions, a table holds ceil(254/c)·(2^c − 1) affine points (c = 12: 22 additions, 5.8 MB
 * for G1, 11.5 MB for G2 per worker). The worker reads a digit from 4 bytes, so c ≤ 25.
 */
const WINDOW_BITS = 12;

/**
 * Worker source (CommonJS, evaluated). It builds a table T[w][d] = d·2^(c·w)·G once per group,
 * then answers {id, group, scalars} with the affine LEM points scalar_i·G.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const C = workerData.window;
const NW = Math.ceil(254 / C);
const ND = (1 << C) - 1;
const MASK = (1 << C) - 1;
(async () => {
  const mem = new WebAssembly.Memory({ initial: 32 });
  const { instance } = await WebAssembly.instantiate(workerData.code, { env: { memory: mem } });
  const ex = instance.exports;
  let u8 = new Uint8Array(mem.buffer);
  let u32 = new Uint32Array(mem.buffer);
  let top = (u32[0] + 63) & ~63;
  // wasm functions take their scratch memory from the free pointer at address 0.
  function ensure(end) {
    const need = end - mem.buffer.byteLength;
    if (need > 0) mem.grow(Math.ceil(need / 65536));
    u8 = new Uint8Array(mem.buffer);
    u32 = new Uint32Array(mem.buffer);
  }
  function alloc(n) {
    const p = top;
    top = (top + n + 63) & ~63;
    ensure(top + (1 << 20));
    u32[0] = top;
    return p;
  }
  function scratch(n) {
    ensure(top + n + (1 << 20));
  }
  const groups = {
    1: { pre: "g1m", sA: 64, sJ: 96, gen: workerData.g1 },
    2: { pre: "g2m", sA: 128, sJ: 192, gen: workerData.g2 },
  };
  function table(g) {
    if (g.table !== undefined) return g.table;
    const add = ex[g.pre + "_add"];
    const count = NW * ND;
    const pTable = alloc(count * g.sA);
    const mark = top;
    const pJac = alloc(count * g.sJ);
    const pBase = alloc(g.sJ);
    const pNext = alloc(g.sJ);
    const pGenA = alloc(g.sA);
    u8.set(g.gen, pGenA);
    ex[g.pre + "_toJacobian"](pGenA, pBase);
    for (let w = 0; w < NW; w++) {
      const row = pJac + w * ND * g.sJ;
      ex[g.pre + "_copy"](pBase, row);
      for (let d = 1; d < ND; d++) add(row + (d - 1) * g.sJ, pBase, row + d * g.sJ);
      add(row + (ND - 1) * g.sJ, pBase, pNext); // 2^C · base
      ex[g.pre + "_copy"](pNext, pBase);
    }
    scratch(count * g.sJ * 2);
    ex[g.pre + "_batchToAffine"](pJac, count, pTable);
    top = mark;
    u32[0] = top;
    g.table = pTable;
    return pTable;
  }
  function run(g, scalars) {
    const pT = table(g);
    const addMixed = ex[g.pre + "_addMixed"];
    const n = scalars.length / 32;
    const mark = top;
    const pJ = alloc(n * g.sJ);
    const pA = alloc(n * g.sA);
    const pTmp = alloc(g.sJ);
    // One scalar at a time, zero-padded so the last window does not read the next scalar.
    const padded = new Uint8Array(36);
    for (let i = 0; i < n; i++) {
      padded.set(scalars.subarray(i * 32, i * 32 + 32));
      let acc = pJ + i * g.sJ;
      let other = pTmp;
      ex[g.pre + "_zero"](acc);
      for (let w = 0; w < NW; w++) {
        const bit = w * C;
        const b = bit >> 3;
        const word = padded[b] | (padded[b + 1] << 8) | (padded[b + 2] << 16) | (padded[b + 3] << 24);
        const d = (word >>> (bit & 7)) & MASK;
        if (d === 0) continue;
        addMixed(acc, pT + (w * ND + d - 1) * g.sA, other);
        const t = acc; acc = other; other = t;
      }
      if (acc !== pJ + i * g.sJ) ex[g.pre + "_copy"](acc, pJ + i * g.sJ);
    }
    scratch(n * g.sJ * 2);
    ex[g.pre + "_batchToAffine"](pJ, n, pA);
    const out = u8.slice(pA, pA + n * g.sA);
    top = mark;
    u32[0] = top;
    return out;
  }
  parentPort.on("message", (msg) => {
    try {
      const out = run(groups[msg.group], msg.scalars);
      parentPort.postMessage({ id: msg.id, out }, [out.buffer]);
    } catch (e) {
      parentPort.postMessage({ id: msg.id, error: String((e && e.stack) || e) });
    }
  });
  parentPort.postMessage({ ready: true });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

type Reply = { id: number; out?: Uint8Array; error?: string };

/** What the pool takes from an ffjavascript BN254 curve (`buildBn128`): its code, generators. */
export interface WasmBn128Code {
  tm: { code: Uint8Array };
  G1: { oneAffine: Uint8Array };
  G2: { oneAffine: Uint8Array };
}

/** A small pool of fixed-base multiplication workers (scalar·generator of G1 or G2). */
export class FixedBasePool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private readonly pending = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;

  private constructor() {}

  /**
   * Starts `threads` workers and waits until each has loaded the curve (`bn128`'s code when
   * given, else a curve built here).
   */
  static async start(threads: number, bn128?: WasmBn128Code): Promise<FixedBasePool> {
    const pool = new FixedBasePool();
    // ffjavascript's BN254 WebAssembly (the code snarkjs runs), compiled once and shared.
    const curve = bn128 ?? ((await buildBn128(true)) as WasmBn128Code);
    const data = {
      code: curve.tm.code,
      window: WINDOW_BITS,
      g1: curve.G1.oneAffine,
      g2: curve.G2.oneAffine,
    };
    const ready: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
      pool.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.on("error", (e) => {
            reject(e);
            for (const p of pool.pending.values()) p.reject(e);
            pool.pending.clear();
          });
          w.on("message", (m: Reply & { ready?: boolean; fatal?: string }) => {
            if (m.ready) {
              resolve();
              pool.release(w);
              return;
            }
            if (m.fatal !== undefined) {
              reject(new Error(m.fatal));
              return;
            }
            const p = pool.pending.get(m.id);
            if (!p) return;
            pool.pending.delete(m.id);
            pool.release(w);
            if (m.error !== undefined || !m.out) p.reject(new Error(m.error ?? "no result"));
            else p.resolve(m.out);
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.stop();
      throw e;
    }
    return pool;
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async job(group: 1 | 2, scalars: Uint8Array): Promise<Uint8Array> {
    const w = await this.acquire();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, group, scalars }, [scalars.buffer as ArrayBuffer]);
    });
  }

  /** scalar_i·G for the generator G of G1 (group 1) or G2 (group 2), affine LEM, in order. */
  async mulGenerator(group: 1 | 2, scalars: readonly bigint[]): Promise<Uint8Array> {
    const size = group === 1 ? G1_BYTES : G2_BYTES;
    const chunk = group === 1 ? 4096 : 2048;
    const out = new Uint8Array(scalars.length * size);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < scalars.length; start += chunk) {
      const part = scalars.slice(start, start + chunk);
      jobs.push(
        this.job(group, scalarsToBytes(part)).then((pts) => {
          out.set(pts, start * size);
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  /** Ends all workers. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------
// Which code multiplies the generators.

/** scalar_i·G of a generator G, in order, as affine LEM points: native or WebAssembly. */
export interface GeneratorMultiplier {
  /** "native" or "WebAssembly". */
  readonly engine: "native" | "WebAssembly";
  /** What ran, for progress lines: the engine, its threads, and why not native when not. */
  readonly description: string;
  /** scalar_i·G for the generator G of G1 (group 1) or G2 (group 2), affine LEM, in order. */
  mulGenerator(group: 1 | 2, scalars: readonly bigint[]): Promise<Uint8Array>;
  stop(): Promise<void>;
}

/**
 * "native": the native addon's fixedBaseMul, or an error saying why it is not available;
 * "wasm": ffjavascript's WebAssembly ({@link FixedBasePool}); "auto": native when the addon is
 * built and has the call, else WebAssembly. Both give the same bytes (test/scripts/fixed-base.test.ts).
 */
export type FixedBaseEngine = "auto" | "native" | "wasm";

/**
 * The engine `PARTPROOF_FIXED_BASE` asks for (`auto`, `native` or `wasm`; unset: `auto`), e.g. to
 * run the setup's tests on the WebAssembly path on a machine where the addon is built.
 */
export function fixedBaseEngineFromEnv(): FixedBaseEngine {
  const v = process.env.PARTPROOF_FIXED_BASE;
  if (v === undefined || v === "") return "auto";
  if (v === "auto" || v === "native" || v === "wasm") return v;
  throw new Error(`PARTPROOF_FIXED_BASE must be auto, native or wasm, got "${v}"`);
}

/** Montgomery form of a base-field element, 32 bytes little-endian (snarkjs' LEM). */
function lem(x: bigint): Uint8Array {
  return scalarsToBytes([(x << 256n) % Q]);
}

/** The generators of G1 and G2 (ffjavascript's / wasmcurves' bn128), affine LEM. */
export const GENERATOR_LEM: Readonly<Record<1 | 2, Uint8Array>> = {
  1: Buffer.concat([lem(1n), lem(2n)]),
  2: Buffer.concat(
    [
      10857046999023057135944570762232829481370756359578518086990519993285655852781n,
      11559732032986387107991004021392285783925812861821192530917403151452391805634n,
      8495653923123431417604973247489272438418190587263600148770280649306958101930n,
      4082367875863433681332203403145435568316851327593401208105741076214120093531n,
    ].map(lem),
  ),
};

/**
 * The native addon's fixed-base multiplication. Calls made in the same tick for one group are
 * merged into one native call (the window table is then built once for all of them, as the
 * WebAssembly workers keep theirs), and native calls run one at a time, each on every thread.
 */
class NativeGeneratorMultiplier implements GeneratorMultiplier {
  readonly engine = "native";
  readonly description: string;
  private readonly waiting: Record<
    1 | 2,
    | Array<{
        scalars: readonly bigint[];
        resolve: (b: Uint8Array) => void;
        reject: (e: Error) => void;
      }>
    | undefined
  > = { 1: undefined, 2: undefined };
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly mul: FixedBaseMul,
    private readonly threads: number,
  ) {
    this.description = `native code (${threads} thread${threads === 1 ? "" : "s"})`;
  }

  mulGenerator(group: 1 | 2, scalars: readonly bigint[]): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let batch = this.waiting[group];
      if (batch === undefined) {
        batch = this.waiting[group] = [];
        queueMicrotask(() => this.flush(group));
      }
      batch.push({ scalars, resolve, reject });
    });
  }

  private flush(group: 1 | 2): void {
    const batch = this.waiting[group]!;
    this.waiting[group] = undefined;
    const size = group === 1 ? G1_BYTES : G2_BYTES;
    const done = this.running.then(async () => {
      const all = batch.length === 1 ? batch[0]!.scalars : batch.flatMap((b) => b.scalars);
      const out = await this.mul(group, GENERATOR_LEM[group], scalarsToBytes(all), this.threads);
      let at = 0;
      for (const b of batch) {
        b.resolve(out.subarray(at * size, (at + b.scalars.length) * size));
        at += b.scalars.length;
      }
    });
    this.running = done.catch((e: Error) => {
      for (const b of batch) b.reject(e);
    });
  }

  async stop(): Promise<void> {
    await this.running;
  }
}

/**
 * Starts what multiplies the generators (see {@link FixedBaseEngine}); with "auto" the
 * description says why WebAssembly ran when it did. `bn128` is a WebAssembly curve the caller
 * already built, for the WebAssembly path.
 */
export async function startGeneratorMultiplier(
  threads: number,
  opts: { engine?: FixedBaseEngine; bn128?: WasmBn128Code } = {},
): Promise<GeneratorMultiplier> {
  const engine = opts.engine ?? fixedBaseEngineFromEnv();
  let why = engine === "wasm" && opts.engine === undefined ? "; PARTPROOF_FIXED_BASE=wasm" : "";
  if (engine !== "wasm") {
    const native = loadFixedBaseMul();
    if ("fixedBaseMul" in native)
      return new NativeGeneratorMultiplier(native.fixedBaseMul, threads);
    if (engine === "native") throw new Error(`native fixed-base multiplication: ${native.reason}`);
    why = `; native code not used: ${native.reason}`;
  }
  const pool = await FixedBasePool.start(threads, opts.bn128);
  return Object.assign(pool, {
    engine: "WebAssembly" as const,
    description: `WebAssembly (${threads} worker${threads === 1 ? "" : "s"}${why})`,
  });
}

// ---------------------------------------------------------------------------------------------
// File writing (snarkjs' binfile layout: "ptau", version 1, nSections, then per section
// u32 id, u64 byte length, body).

/** Sequential writer of a snarkjs binary file whose section sizes are known in advance. */
export class BinWriter {
  private pos = 0;
  private constructor(private readonly fh: Awaited<ReturnType<typeof open>>) {}

  static async create(
    file: string,
    type: string,
    version: number,
    nSections: number,
  ): Promise<BinWriter> {
    const w = new BinWriter(await open(file, "w"));
    const head = Buffer.alloc(12);
    head.write(type, 0, 4, "ascii");
    head.writeUInt32LE(version, 4);
    head.writeUInt32LE(nSections, 8);
    await w.write(head);
    return w;
  }

  /**
   * Creates `file`, lets `fill` write its sections, and closes it; if `fill` fails the file is
   * removed, so that no half-written file looks like a finished one.
   */
  static async writeFile(
    file: string,
    type: string,
    version: number,
    nSections: number,
    fill: (w: BinWriter) => Promise<void>,
  ): Promise<void> {
    const w = await BinWriter.create(file, type, version, nSections);
    try {
      await fill(w);
    } catch (e) {
      await w.close();
      await rm(file, { force: true });
      throw e;
    }
    await w.close();
  }

  async write(buf: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buf.byteLength) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.byteLength - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
  }

  async section(id: number, parts: readonly Uint8Array[]): Promise<void> {
    const size = parts.reduce((s, p) => s + p.byteLength, 0);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(id, 0);
    head.writeBigUInt64LE(BigInt(size), 4);
    await this.write(head);
    for (const p of parts) await this.write(p);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Section 1: n8q, q (LE), power, ceremonyPower — as snarkjs' writePTauHeader writes it. */
function headerSection(power: number): Uint8Array {
  const b = Buffer.alloc(4 + N8 + 4 + 4);
  b.writeUInt32LE(N8, 0);
  let q = Q;
  for (let i = 0; i < N8; i++) {
    b[4 + i] = Number(q & 0xffn);
    q >>= 8n;
  }
  b.writeUInt32LE(power, 4 + N8);
  b.writeUInt32LE(power, 8 + N8);
  return b;
}

/**
 * A progress reporter: each call logs what was done with the time since the previous call and
 * since the start.
 */
export function stepTimer(log: (msg: string) => void): (what: string) => void {
  const t0 = performance.now();
  let tPrev = t0;
  return (what) => {
    const now = performance.now();
    log(
      `${what}: ${((now - tPrev) / 1000).toFixed(2)} s (total ${((now - t0) / 1000).toFixed(2)} s)`,
    );
    tPrev = now;
  };
}

/**
 * Writes a prepared (phase-2-ready) powers-of-tau file of size 2^power to `outFile`, byte-for-byte
 * what snarkjs' `prepare phase2` would write for the same secrets, with zero contributions
 * recorded. The secrets come from `opts.seed` (default {@link defaultDevPtauSeed}).
 * {@link DEV_PTAU_WARNING}: development only.
 */
export async function writeDevPtau(
  power: number,
  outFile: string,
  opts: DevPtauOptions = {},
): Promise<void> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_DEV_PTAU_POWER) {
    throw new Error(`power must be an integer in 1..${MAX_DEV_PTAU_POWER}, got ${power}`);
  }
  const log = opts.onProgress ?? (() => {});
  const seed = opts.seed ?? defaultDevPtauSeed(power);
  const { tau, alpha, beta } = deriveDevPtauSecrets(seed);
  const n = 2 ** power;
  const threads = Math.max(1, opts.threads ?? os.availableParallelism());
  const t0 = performance.now();
  const step = stepTimer(log);

  log(`2^${power} powers of tau, ${DEV_PTAU_WARNING}`);
  const pool = await startGeneratorMultiplier(threads, { engine: opts.engine });
  try {
    await BinWriter.writeFile(outFile, "ptau", 1, 11, async (out) => {
      step(`points by ${pool.description}`);
      await out.section(1, [headerSection(power)]);

      const tauPowers = geometric(Fr.one, tau, 2 * n - 1);
      await out.section(2, [await pool.mulGenerator(1, tauPowers)]);
      step(`section 2 tauG1 (${2 * n - 1} points)`);
      const tauPowersN = tauPowers.slice(0, n);
      await out.section(3, [await pool.mulGenerator(2, tauPowersN)]);
      step(`section 3 tauG2 (${n} points)`);
      await out.section(4, [
        await pool.mulGenerator(
          1,
          tauPowersN.map((t) => Fr.mul(alpha, t)),
        ),
      ]);
      step(`section 4 alphaTauG1 (${n} points)`);
      await out.section(5, [
        await pool.mulGenerator(
          1,
          tauPowersN.map((t) => Fr.mul(beta, t)),
        ),
      ]);
      step(`section 5 betaTauG1 (${n} points)`);
      await out.section(6, [await pool.mulGenerator(2, [beta])]);
      await out.section(7, [new Uint8Array(4)]); // zero contributions
      step("sections 6-7 betaG2, contributions");

      const lagrange: bigint[] = [];
      for (let p = 0; p <= power; p++)
        for (const l of lagrangeEvaluations(tau, p)) lagrange.push(l);
      const lagrangeExt = lagrangeEvaluations(tau, power + 1, true);
      step(`Lagrange scalars (${lagrange.length + lagrangeExt.length})`);
      await out.section(12, [
        await pool.mulGenerator(1, lagrange),
        await pool.mulGenerator(1, lagrangeExt),
      ]);
      step(`section 12 tauG1 Lagrange (${lagrange.length + lagrangeExt.length} points)`);
      await out.section(13, [await pool.mulGenerator(2, lagrange)]);
      step(`section 13 tauG2 Lagrange (${lagrange.length} points)`);
      await out.section(14, [
        await pool.mulGenerator(
          1,
          lagrange.map((l) => Fr.mul(alpha, l)),
        ),
      ]);
      step(`section 14 alphaTauG1 Lagrange (${lagrange.length} points)`);
      await out.section(15, [
        await pool.mulGenerator(
          1,
          lagrange.map((l) => Fr.mul(beta, l)),
        ),
      ]);
      step(`section 15 betaTauG1 Lagrange (${lagrange.length} points)`);
    });
  } finally {
    await pool.stop();
  }
  log(
    `wrote ${outFile} in ${((performance.now() - t0) / 1000).toFixed(2)} s (${DEV_PTAU_WARNING})`,
  );
}

// ---------------------------------------------------------------------------------------------
// The kept secret of a development file. A development setup's secret is known by definition;
// keeping it next to the file lets the build compute each circuit's zkey directly from it
// (scripts/lib/dev-zkey.ts) instead of running snarkjs' groth16 setup.

/** What a `.secret.json` file next to a development ptau holds. */
export interface DevPtauSecretRecord {
  /** Always {@link DEV_PTAU_WARNING}. */
  warning: string;
  power: number;
  /** The seed τ, α, β are derived from ({@link deriveDevPtauSecrets}). */
  seed: string;
}

/** Where the secret of the development ptau `ptauFile` is kept: `<name>.secret.json` beside it. */
export function devPtauSecretFile(ptauFile: string): string {
  return `${ptauFile.replace(/\.ptau$/, "")}.secret.json`;
}

/**
 * Writes the secret record of a development ptau (atomically, readable by its owner only).
 * Write it before the ptau itself appears, so a ptau in the cache always has its secret.
 */
export async function writeDevPtauSecret(
  ptauFile: string,
  power: number,
  seed: string,
): Promise<void> {
  const file = devPtauSecretFile(ptauFile);
  const record: DevPtauSecretRecord = { warning: DEV_PTAU_WARNING, power, seed };
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, file);
}

/** The seed kept next to a development ptau, or undefined when there is none. */
export async function readDevPtauSecret(ptauFile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(devPtauSecretFile(ptauFile), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const record = JSON.parse(text) as Partial<DevPtauSecretRecord>;
  if (typeof record.seed !== "string" || record.seed.length === 0) {
    throw new Error(`${devPtauSecretFile(ptauFile)}: no "seed" string`);
  }
  return record.seed;
}
