/**
 * Development Groth16 zkeys for BN254, computed directly from the known secrets of a development
 * powers-of-tau file, in snarkjs' `.zkey` format.
 *
 * snarkjs' `groth16 setup` (`zkey new`) builds a circuit's key with one multi-exponentiation per
 * signal over the Lagrange points of the ptau file, and a phase-2 contribution then rescales the
 * δ parts: about 40 s for a 12k-constraint circuit, 150 s for 41k. A development setup's secret
 * is known by definition (scripts/lib/dev-ptau.ts keeps the seed next to the ptau), so this
 * module evaluates every QAP polynomial at τ in Fr and multiplies the generators by the resulting
 * scalars with the fixed-base tables of dev-ptau.ts (native code when the prover addon is built,
 * else WebAssembly; the same bytes): a few seconds.
 *
 * The file is what `zkey new` followed by one contribution with secret δ writes: sections 1 and
 * 3–7 byte for byte, the same circuit hash, L and H divided by δ, and a contribution record with
 * a valid proof of knowledge of δ. So `snarkjs zkey verify` against the development ptau accepts
 * it, and snarkjs' prover, verification-key and Solidity exports use it as any other zkey.
 *
 * Secrets: τ, α, β of the ptau ({@link deriveDevPtauSecrets}); γ = 1, because snarkjs' setup
 * fixes γ·G2 = G2 and `zkey verify` compares it with the key `zkey new` would make; δ and the
 * contribution's key s from {@link deriveDevZkeySecrets} (the ptau seed and the r1cs hash).
 *
 * With n = 2^k the domain (k = bit length of constraints + public signals), L_j the Lagrange basis
 * of the n-th roots of unity, u_s, v_s, w_s the columns of the r1cs matrices A, B, C, plus the
 * rows snarkjs appends to bind the public signals (A[nConstraints + s][s] = 1, s ≤ nPublic), and
 * K_s = β·u_s(τ) + α·v_s(τ) + w_s(τ):
 *
 * | id | section | content |
 * |----|---------|---------|
 * | 1  | header | u32 1 (Groth16) |
 * | 2  | Groth16 header | n8q, q, n8r, r, nVars, nPublic, n; α·G1, β·G1, β·G2, γ·G2, δ·G1, δ·G2 |
 * | 3  | IC | K_s/γ·G1, s ≤ nPublic |
 * | 4  | coefficients | u32 count; per A and B term: u32 matrix, u32 row, u32 signal, coef·R² mod r (R = 2^256) |
 * | 5  | A | u_s(τ)·G1 |
 * | 6  | B1 | v_s(τ)·G1 |
 * | 7  | B2 | v_s(τ)·G2 |
 * | 8  | C ("L") | K_s/δ·G1, s > nPublic |
 * | 9  | H | L'_(2i+1)(τ)/δ·G1, i < n |
 * | 10 | contributions | circuit hash, one contribution (δ) |
 *
 * H: snarkjs' prover evaluates the quotient h on the odd points of the size-2n domain, so its H
 * points are the odd entries of the size-2n Lagrange evaluations L' that `prepare phase2` stores
 * in ptau section 12. When k equals the ptau's power, the last input τ^(2n−1) of that transform is
 * zero in the file (dev-ptau.ts `lagrangeEvaluations(…, dropLast)`), and so here.
 *
 * Circuit hash: BLAKE2b-512 over the points of the key `zkey new` writes (δ = 1), in snarkjs'
 * uncompressed form: α·G1, β·G1, β·G2, γ·G2, G1, G2; then, each list after its length (u32 big
 * endian): IC; τ^(i+n)·G1 − τ^i·G1 for i < n − 1 (computed from τ: no ptau file is read); K_s·G1 for s > nPublic; A;
 * B1; B2.
 *
 * NOTE: a development setup only ({@link DEV_ZKEY_WARNING}): whoever knows the ptau seed knows
 * τ, α, β, δ and can forge proofs for the circuit.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import { readFile } from "node:fs/promises";
// @ts-expect-error binfileutils ships no type declarations
import * as binFileUtils from "@iden3/binfileutils";
// @ts-expect-error ffjavascript ships no type declarations
import { ChaCha, buildBn128 } from "ffjavascript";
import {
  BinWriter,
  DEV_PTAU_WARNING,
  Fr,
  G1_BYTES,
  G2_BYTES,
  MAX_DEV_PTAU_POWER,
  N8,
  Q,
  R,
  deriveDevPtauSecrets,
  lagrangeEvaluations,
  scalarsToBytes,
  secretFromSeed,
  startGeneratorMultiplier,
  stepTimer,
  type FixedBaseEngine,
  type GeneratorMultiplier,
  type WasmBn128Code,
} from "./dev-ptau.js";

/** The label of every development zkey: the same words as the development ptau's. */
export const DEV_ZKEY_WARNING = DEV_PTAU_WARNING;

/** The name of the zkey's contribution record (snarkjs shows it in `zkey verify`). */
export const DEV_ZKEY_CONTRIBUTION_NAME = "development setup — NOT secure";

/** Options of {@link writeDevZkey}. */
export interface DevZkeyOptions {
  /** Receives human-readable progress lines. */
  onProgress?: (msg: string) => void;
  /** Worker threads for the point multiplications; default: available parallelism. */
  threads?: number;
  /** Which code multiplies the points (default "auto": native when built, see dev-ptau.ts). */
  engine?: FixedBaseEngine;
}

/** What {@link writeDevZkey} wrote. */
export interface DevZkeyInfo {
  /** snarkjs' circuit hash (64 bytes), the same `zkey new` computes for this r1cs and ptau. */
  csHash: Uint8Array;
  nConstraints: number;
  nVars: number;
  nPublic: number;
  domainSize: number;
  /** What multiplied the points ({@link GeneratorMultiplier} `description`). */
  points: string;
}

/** δ and the contribution's proof-of-knowledge key s of a development zkey. */
export interface DevZkeySecrets {
  delta: bigint;
  s: bigint;
}

/**
 * Derives δ, s ∈ Fr* from the ptau seed and the r1cs content hash (hex):
 * `SHA-512("partproof-dev-zkey/v1|<name>|<r1csHash>|<seed>") mod r`. Deterministic, so the same
 * ptau and circuit always give the same zkey.
 */
export function deriveDevZkeySecrets(seed: string, r1csHash: string): DevZkeySecrets {
  const derive = (name: string) =>
    secretFromSeed(`partproof-dev-zkey/v1|${name}|${r1csHash}|${seed}`, name);
  return { delta: derive("delta"), s: derive("s") };
}

/** The subset of ffjavascript's WebAssembly BN254 this module calls. */
interface WasmGroup {
  g: Uint8Array;
  batchLEMtoU(buff: Uint8Array): Promise<Uint8Array>;
  fromRng(rng: unknown): Uint8Array;
  timesFr(p: Uint8Array, e: Uint8Array): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  toRprLEM(buff: Uint8Array, offset: number, p: Uint8Array): void;
}
interface WasmCurve extends WasmBn128Code {
  G1: WasmGroup & WasmBn128Code["G1"];
  G2: WasmGroup & WasmBn128Code["G2"];
  Fr: { e(a: bigint): Uint8Array };
  /** ffjavascript's task runner (in-process for a single-threaded curve). */
  tm: WasmBn128Code["tm"] & { queueAction(task: unknown[]): Promise<Uint8Array[]> };
  terminate(): Promise<void>;
}

/** The parts of an r1cs file the key needs. */
interface R1cs {
  nVars: number;
  nPublic: number;
  nConstraints: number;
  /** Section 2 (constraints) as read. */
  constraints: Uint8Array;
}

/** The header counts of an r1cs file (its section 1). */
export interface R1csHeader {
  nVars: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  nConstraints: number;
}

/**
 * Reads only the header of an r1cs file: milliseconds, where snarkjs' `r1cs info` reads the
 * whole file and starts a curve's worker threads (seconds for range_d20's 32 MB).
 */
export async function readR1csHeader(file: string): Promise<R1csHeader> {
  const { fd, sections } = await binFileUtils.readBinFile(file, "r1cs", 1, 1 << 22, 1 << 24);
  try {
    const head: Uint8Array = await binFileUtils.readSection(fd, sections, 1);
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const o = 4 + hv.getUint32(0, true); // n8, then the prime
    return {
      nVars: hv.getUint32(o, true),
      nOutputs: hv.getUint32(o + 4, true),
      nPubInputs: hv.getUint32(o + 8, true),
      nPrvInputs: hv.getUint32(o + 12, true),
      nConstraints: hv.getUint32(o + 24, true), // after the u64 label count
    };
  } finally {
    await fd.close();
  }
}

/**
 * Reads an r1cs file's header and constraints. The file is read with binfileutils; the header
 * fields are decoded here (r1csfile's reader would turn every coefficient into a wasm field
 * element first, which this module does not need).
 */
async function readR1cs(file: string): Promise<R1cs> {
  const { fd, sections } = await binFileUtils.readBinFile(file, "r1cs", 1, 1 << 22, 1 << 24);
  try {
    const head: Uint8Array = await binFileUtils.readSection(fd, sections, 1);
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const n8 = hv.getUint32(0, true);
    if (n8 !== N8 || readLE(head, 4, n8) !== R) {
      throw new Error(`${file}: not a BN254 r1cs (only BN254's scalar field is supported)`);
    }
    const o = 4 + n8;
    const nVars = hv.getUint32(o, true);
    const nOutputs = hv.getUint32(o + 4, true);
    const nPubInputs = hv.getUint32(o + 8, true);
    const nConstraints = hv.getUint32(o + 24, true);
    const constraints: Uint8Array = await binFileUtils.readSection(fd, sections, 2);
    return { nVars, nPublic: nOutputs + nPubInputs, nConstraints, constraints };
  } finally {
    await fd.close();
  }
}

/** Little-endian unsigned integer of `len` bytes at `offset`. */
function readLE(buf: Uint8Array, offset: number, len: number): bigint {
  let v = 0n;
  for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[offset + i]!);
  return v;
}

/** Header facts of a ptau file and its first points, to check that a seed belongs to it. */
async function readPtauHead(file: string): Promise<{
  power: number;
  tauG1: Uint8Array;
  alphaG1: Uint8Array;
  betaG1: Uint8Array;
  betaG2: Uint8Array;
}> {
  const { fd, sections } = await binFileUtils.readBinFile(file, "ptau", 1, 1 << 22, 1 << 24);
  try {
    if (!sections[12]) throw new Error(`${file}: the powers of tau are not prepared for phase 2`);
    const head: Uint8Array = await binFileUtils.readSection(fd, sections, 1);
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const n8 = hv.getUint32(0, true);
    if (n8 !== N8 || readLE(head, 4, n8) !== Q) throw new Error(`${file}: not a BN254 ptau`);
    return {
      power: hv.getUint32(4 + n8, true),
      tauG1: await binFileUtils.readSection(fd, sections, 2, G1_BYTES, G1_BYTES),
      alphaG1: await binFileUtils.readSection(fd, sections, 4, 0, G1_BYTES),
      betaG1: await binFileUtils.readSection(fd, sections, 5, 0, G1_BYTES),
      betaG2: await binFileUtils.readSection(fd, sections, 6, 0, G2_BYTES),
    };
  } finally {
    await fd.close();
  }
}

/**
 * The circuit hash's H list, in snarkjs' uncompressed form: τ^(i+n)·G1 − τ^i·G1 for i < n − 1,
 * which `zkey new` subtracts from ptau section 2; here the same points are computed from τ, as
 * (τ^n − 1)·τ^i·G1, so the key needs no ptau file (ffjavascript's uncompressed form is affine).
 */
async function hashHPoints(
  curve: WasmCurve,
  pool: GeneratorMultiplier,
  tau: bigint,
  n: number,
): Promise<Uint8Array> {
  const scalars = new Array<bigint>(n - 1);
  let v = Fr.sub(Fr.exp(tau, BigInt(n)), Fr.one);
  for (let i = 0; i < n - 1; i++) {
    scalars[i] = v;
    v = Fr.mul(v, tau);
  }
  return curve.G1.batchLEMtoU(await pool.mulGenerator(1, scalars));
}

/** Bit length of n ≥ 1: the power snarkjs' setup gives a circuit of n constraints + publics. */
function bitLength(n: number): number {
  return n.toString(2).length;
}

/** u32 little endian. */
function u32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

/** u32 big endian, as snarkjs hashes list lengths. */
function u32be(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
}

/** A field element as 32 little-endian bytes. */
function le32(v: bigint): Uint8Array {
  return scalarsToBytes([v]);
}

/**
 * The scalars of every section: QAP evaluations at τ per signal, and the coefficients section.
 * Pure Fr arithmetic over bigints.
 */
function qapScalars(r1cs: R1cs, tau: bigint, alpha: bigint, beta: bigint, power: number) {
  const { nVars, nPublic, nConstraints, constraints } = r1cs;
  const k = bitLength(nConstraints + nPublic);
  const n = 2 ** k;
  if (k > power) {
    throw new Error(
      `the circuit needs 2^${k} (${nConstraints} constraints + ${nPublic} public signals), the ptau has 2^${power}`,
    );
  }
  const L = lagrangeEvaluations(tau, k);
  // Sums are reduced once at the end: a product of two canonical values is < r², and bigints
  // grow as needed.
  const u = new Array<bigint>(nVars).fill(0n);
  const v = new Array<bigint>(nVars).fill(0n);
  const w = new Array<bigint>(nVars).fill(0n);
  const Rm = (1n << 256n) % R;
  const R2 = (Rm * Rm) % R;

  // Coefficients section: at most one 44-byte entry per term of the file, plus nPublic + 1.
  const TERM = 4 + N8;
  const ENTRY = 12 + N8;
  const coeffs = Buffer.alloc(
    4 + ENTRY * (Math.floor(constraints.byteLength / TERM) + nPublic + 1),
  );
  let nCoeffs = 0;
  // A circuit has few distinct coefficients (±1, powers of two, …): encode each once.
  const encoded = new Map<bigint, Uint8Array>();
  const addCoeff = (matrix: number, row: number, signal: number, value: bigint) => {
    const at = 4 + nCoeffs * ENTRY;
    coeffs.writeUInt32LE(matrix, at);
    coeffs.writeUInt32LE(row, at + 4);
    coeffs.writeUInt32LE(signal, at + 8);
    let bytes = encoded.get(value);
    if (bytes === undefined) {
      bytes = le32((value * R2) % R);
      encoded.set(value, bytes);
    }
    coeffs.set(bytes, at + 12);
    nCoeffs++;
  };

  const cv = new DataView(constraints.buffer, constraints.byteOffset, constraints.byteLength);
  let pos = 0;
  for (let c = 0; c < nConstraints; c++) {
    const lc = L[c]!;
    for (let matrix = 0; matrix < 3; matrix++) {
      const nTerms = cv.getUint32(pos, true);
      pos += 4;
      for (let t = 0; t < nTerms; t++) {
        const s = cv.getUint32(pos, true);
        // Small coefficients (most but ±1-like ones) take the 32-bit path.
        const coef =
          cv.getUint32(pos + 8, true) === 0 &&
          cv.getBigUint64(pos + 12, true) === 0n &&
          cv.getBigUint64(pos + 20, true) === 0n &&
          cv.getBigUint64(pos + 28, true) === 0n
            ? BigInt(cv.getUint32(pos + 4, true))
            : cv.getBigUint64(pos + 4, true) |
              (cv.getBigUint64(pos + 12, true) << 64n) |
              (cv.getBigUint64(pos + 20, true) << 128n) |
              (cv.getBigUint64(pos + 28, true) << 192n);
        pos += TERM;
        if (s >= nVars) throw new Error(`r1cs constraint ${c} names signal ${s} of ${nVars}`);
        const col = matrix === 0 ? u : matrix === 1 ? v : w;
        col[s] = col[s]! + coef * lc;
        if (matrix < 2) addCoeff(matrix, c, s, coef);
      }
    }
  }
  if (pos !== constraints.byteLength) throw new Error("r1cs constraints section has extra bytes");
  // snarkjs' extra rows: A[nConstraints + s][s] = 1 for the constant and every public signal.
  for (let s = 0; s <= nPublic; s++) {
    u[s] = u[s]! + L[nConstraints + s]!;
    addCoeff(0, nConstraints + s, s, 1n);
  }
  coeffs.writeUInt32LE(nCoeffs, 0);

  for (let s = 0; s < nVars; s++) {
    u[s] = u[s]! % R;
    v[s] = v[s]! % R;
    w[s] = w[s]! % R;
  }
  const K = u.map((us, s) => (beta * us + alpha * v[s]! + w[s]!) % R);

  // H: odd entries of the size-2n Lagrange evaluations (ptau section 12, block k + 1).
  const h = lagrangeEvaluations(tau, k + 1, k === power, true);
  return {
    k,
    n,
    u,
    v,
    K,
    h,
    coeffs: coeffs.subarray(0, 4 + nCoeffs * ENTRY),
  };
}

/** snarkjs' hashToG2: a G2 point from a ChaCha stream seeded with the hash's first 32 bytes. */
function hashToG2(curve: WasmCurve, hash: Uint8Array): Uint8Array {
  const dv = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  const seed: number[] = [];
  for (let i = 0; i < 8; i++) seed.push(dv.getUint32(4 * i, false));
  return curve.G2.fromRng(new ChaCha(seed));
}

/** The contribution-params bytes of snarkjs' zkey: param 1 = name (≤ 64 characters). */
function nameParams(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name.substring(0, 64));
  if (bytes.byteLength > 255) throw new Error("contribution name too long");
  return Buffer.concat([u32(bytes.byteLength + 2), Uint8Array.of(1, bytes.byteLength), bytes]);
}

/**
 * The development ptau a zkey is made for: its file, or only its power when the file has not been
 * written (a development ptau is a function of its seed and power, scripts/lib/dev-ptau.ts, so
 * the key does not need it: the build writes it only when something reads it).
 */
export type DevPtauRef = string | { power: number };

/**
 * Writes the development zkey of the circuit `r1csFile` for the development ptau `ptau` whose
 * secrets come from `seed` (as kept in its `.secret.json`). Given the ptau file, the seed is
 * checked against its τ·G1, α·G1, β·G1 and β·G2 first. {@link DEV_ZKEY_WARNING}: development
 * only.
 */
export async function writeDevZkey(
  r1csFile: string,
  ptau: DevPtauRef,
  seed: string,
  outFile: string,
  opts: DevZkeyOptions = {},
): Promise<DevZkeyInfo> {
  const log = opts.onProgress ?? (() => {});
  const threads = Math.max(1, opts.threads ?? os.availableParallelism());
  const step = stepTimer(log);

  const { tau, alpha, beta } = deriveDevPtauSecrets(seed);
  const r1csHash = createHash("sha256")
    .update(await readFile(r1csFile))
    .digest("hex");
  const { delta, s } = deriveDevZkeySecrets(seed, r1csHash);
  const deltaInv = Fr.inv(delta);
  const ptauFile = typeof ptau === "string" ? ptau : undefined;
  const head = ptauFile === undefined ? undefined : await readPtauHead(ptauFile);
  const power = head?.power ?? (ptau as { power: number }).power;
  if (!Number.isInteger(power) || power < 1 || power > MAX_DEV_PTAU_POWER) {
    throw new Error(`the ptau power must be an integer in 1..${MAX_DEV_PTAU_POWER}, got ${power}`);
  }
  const curve = (await buildBn128(true)) as WasmCurve;
  let pool: GeneratorMultiplier | undefined;
  try {
    // Header points, one by one: G1 α, β, δ, τ, 1, s, s·δ; G2 β, γ = 1, δ.
    const times = (G: WasmGroup, size: number, k: bigint) => {
      const out = new Uint8Array(size);
      G.toRprLEM(out, 0, G.timesFr(G.g, curve.Fr.e(k)));
      return out;
    };
    const head1 = [alpha, beta, delta, tau, 1n, s, Fr.mul(s, delta)].map((k) =>
      times(curve.G1, G1_BYTES, k),
    );
    const head2 = [beta, 1n, delta].map((k) => times(curve.G2, G2_BYTES, k));
    const g1 = (i: number) => head1[i]!;
    const g2 = (i: number) => head2[i]!;
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    if (
      head !== undefined &&
      (!same(g1(3), head.tauG1) ||
        !same(g1(0), head.alphaG1) ||
        !same(g1(1), head.betaG1) ||
        !same(g2(0), head.betaG2))
    ) {
      throw new Error(`${ptauFile}: the seed given is not the secret of this ptau file`);
    }

    const r1cs = await readR1cs(r1csFile);
    const q = qapScalars(r1cs, tau, alpha, beta, power);
    const { nVars, nPublic, nConstraints } = r1cs;
    step(`QAP at τ: ${nConstraints} constraints, ${nVars} signals, domain 2^${q.k}`);
    pool = await startGeneratorMultiplier(threads, { engine: opts.engine, bn128: curve });
    step(`points by ${pool.description}`);

    const privK = q.K.slice(nPublic + 1);
    const [ic, cInit, cFile, a, b1, b2, hFile, hHash] = await Promise.all([
      pool.mulGenerator(1, q.K.slice(0, nPublic + 1)),
      pool.mulGenerator(1, privK),
      pool.mulGenerator(
        1,
        privK.map((x) => Fr.mul(x, deltaInv)),
      ),
      pool.mulGenerator(1, q.u),
      pool.mulGenerator(1, q.v),
      pool.mulGenerator(2, q.v),
      pool.mulGenerator(
        1,
        q.h.map((x) => Fr.mul(x, deltaInv)),
      ),
      hashHPoints(curve, pool, tau, q.n),
    ]);
    step(
      `points (${nPublic + 1} IC, ${nVars} A/B1/B2, ${privK.length} C, ${q.n} H, ${q.n - 1} hashed)`,
    );

    // Circuit hash of the key `zkey new` would write (δ = 1).
    const cs = createHash("blake2b512");
    const hashG1 = async (pts: Uint8Array) => cs.update(await curve.G1.batchLEMtoU(pts));
    const hashG2 = async (pts: Uint8Array) => cs.update(await curve.G2.batchLEMtoU(pts));
    await hashG1(g1(0));
    await hashG1(g1(1));
    await hashG2(g2(0));
    await hashG2(g2(1)); // γ
    await hashG1(g1(4)); // δ = 1
    await hashG2(g2(1));
    const list = async (count: number, pts: Uint8Array, group: 1 | 2) => {
      cs.update(u32be(count));
      await (group === 1 ? hashG1(pts) : hashG2(pts));
    };
    await list(nPublic + 1, ic, 1);
    cs.update(u32be(q.n - 1));
    cs.update(hHash);
    await list(privK.length, cInit, 1);
    await list(nVars, a, 1);
    await list(nVars, b1, 1);
    await list(nVars, b2, 2);
    const csHash = cs.digest();

    // One contribution: δ with its proof of knowledge (s·G1, sδ·G1, δ·hashToG2(transcript)).
    const transcript = createHash("blake2b512")
      .update(csHash)
      .update(await curve.G1.batchLEMtoU(g1(5)))
      .update(await curve.G1.batchLEMtoU(g1(6)))
      .digest();
    const g2spx = new Uint8Array(G2_BYTES);
    curve.G2.toRprLEM(
      g2spx,
      0,
      curve.G2.toAffine(curve.G2.timesFr(hashToG2(curve, transcript), curve.Fr.e(delta))),
    );
    step("circuit hash and contribution");

    await BinWriter.writeFile(outFile, "zkey", 1, 10, async (out) => {
      await out.section(1, [u32(1)]);
      await out.section(2, [
        u32(N8),
        le32(Q),
        u32(N8),
        le32(R),
        u32(nVars),
        u32(nPublic),
        u32(q.n),
        g1(0),
        g1(1),
        g2(0),
        g2(1),
        g1(2),
        g2(2),
      ]);
      await out.section(3, [ic]);
      await out.section(4, [q.coeffs]);
      await out.section(5, [a]);
      await out.section(6, [b1]);
      await out.section(7, [b2]);
      await out.section(8, [cFile]);
      await out.section(9, [hFile]);
      await out.section(10, [
        csHash,
        u32(1),
        g1(2), // δ after the contribution
        g1(5),
        g1(6),
        g2spx,
        transcript,
        u32(0), // a contribution, not a beacon
        nameParams(DEV_ZKEY_CONTRIBUTION_NAME),
      ]);
    });
    step(`wrote ${outFile}`);
    return { csHash, nConstraints, nVars, nPublic, domainSize: q.n, points: pool.description };
  } finally {
    await pool?.stop();
    await curve.terminate();
  }
}
