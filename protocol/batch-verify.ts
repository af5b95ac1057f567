/**
 * Batched Groth16 verification (BN254) of many proofs against one verification key, for the
 * auditor's re-verification of a whole log.
 *
 * One proof (A, B, C) with public inputs x verifies when
 *   e(A, B) = e(α, β) · e(L, γ) · e(C, δ),   L = IC₀ + Σⱼ xⱼ·ICⱼ.
 * For n proofs and random non-zero 128-bit rᵢ, the batch checks the random linear combination
 *   Πᵢ e(−rᵢ·Aᵢ, Bᵢ) · e((Σᵢ rᵢ)·α, β) · e(Σᵢ rᵢ·Lᵢ, γ) · e(Σᵢ rᵢ·Cᵢ, δ) = 1,
 * where Σᵢ rᵢ·Lᵢ = (Σᵢ rᵢ)·IC₀ + Σⱼ (Σᵢ rᵢ·xᵢⱼ)·ICⱼ is one multi-exponentiation of nPublic + 1
 * points with scalars summed in the field. That is n + 3 pairings: ffjavascript's `pairingEq`
 * runs their Miller loops on its thread pool, multiplies them and does one final
 * exponentiation (a single proof costs 4 Miller loops and a final exponentiation).
 *
 * Soundness: with every A, C in G1 and every B in the order-r subgroup G2 (checked here; the
 * EVM's pairing precompile checks it too, snarkjs' verify only checks that B is on the curve),
 * each proof's left-hand side over its right-hand side is an element Xᵢ of the order-r group
 * of F_p¹², and the batch computes Πᵢ Xᵢ^{rᵢ}. If some Xᵢ ≠ 1 the product is 1 for at most one
 * value of that rᵢ given the others, so a batch with a bad proof passes with probability at
 * most 2⁻¹²⁸. A batch of one proof is an exact check (r ≠ 0 mod the group order).
 */
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
import { FIELD_MODULUS as BN254_R } from "../circuits/lib/signals.js";

/** A Groth16 proof in snarkjs' JSON form (decimal strings, projective coordinates). */
export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}

/** A Groth16 verification key in snarkjs' JSON form. */
export interface Groth16VerificationKey {
  protocol?: string;
  curve?: string;
  nPublic?: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
}

/** One proof and its public signals (decimal strings). */
export interface ProofItem {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** Options of {@link verifyBatch} and {@link findInvalid}. */
export interface BatchOptions {
  /**
   * Source of the random coefficients: returns a non-zero scalar below 2^128. Default: the
   * system's CSPRNG. A caller that lets the prover choose them loses soundness: tests only.
   */
  random?: () => bigint;
}

/** ffjavascript's point and pairing operations this module uses (buffers in its layout). */
interface Group {
  fromObject(o: bigint[] | bigint[][]): Uint8Array;
  isValid(p: Uint8Array): boolean;
  isZero(p: Uint8Array): boolean;
  timesScalar(p: Uint8Array, s: bigint): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  neg(p: Uint8Array): Uint8Array;
  multiExpAffine(points: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  F: { n8: number };
}
interface Curve {
  G1: Group;
  G2: Group;
  pairingEq(...pairs: Uint8Array[]): Promise<boolean>;
}

/** BN254 on ffjavascript's thread pool (the one snarkjs uses: ffjavascript keeps one curve). */
function bn128(): Promise<Curve> {
  return buildBn128() as Promise<Curve>;
}

function defaultRandom(): bigint {
  const bytes = new Uint8Array(16);
  for (;;) {
    globalThis.crypto.getRandomValues(bytes);
    const r = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
    if (r !== 0n) return r;
  }
}

/** Little-endian 32-byte encodings of scalars, as ffjavascript's multi-exponentiation reads them. */
function scalarBuffer(scalars: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(32 * scalars.length);
  scalars.forEach((s, i) => {
    let x = s;
    for (let b = 0; b < 32; b++) {
      out[32 * i + b] = Number(x & 0xffn);
      x >>= 8n;
    }
  });
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const big = (xs: string[]) => xs.map((x) => BigInt(x));

/** The parsed points of a proof, or undefined when it is malformed or off the curves/groups. */
function parseProof(
  c: Curve,
  item: ProofItem,
  nPublic: number,
): { a: Uint8Array; b: Uint8Array; cc: Uint8Array; x: bigint[] } | undefined {
  try {
    const { proof, publicSignals } = item;
    if (publicSignals.length !== nPublic) return undefined;
    const x = publicSignals.map((s) => BigInt(s));
    if (x.some((v) => v < 0n || v >= BN254_R)) return undefined;
    const a = c.G1.fromObject(big(proof.pi_a));
    const b = c.G2.fromObject(proof.pi_b.map(big));
    const cc = c.G1.fromObject(big(proof.pi_c));
    if (!c.G1.isValid(a) || !c.G2.isValid(b) || !c.G1.isValid(cc)) return undefined;
    // G1 has cofactor 1 (on the curve = in the group); G2's points must have order r
    if (!c.G2.isZero(c.G2.timesScalar(b, BN254_R))) return undefined;
    return { a, b, cc, x };
  } catch {
    return undefined; // not numbers, wrong shapes
  }
}

/**
 * True when every proof verifies against `vkey` (one randomised multi-pairing); false when
 * any does not, or is malformed. An empty batch is true.
 */
export async function verifyBatch(
  vkey: Groth16VerificationKey,
  items: readonly ProofItem[],
  opts: BatchOptions = {},
): Promise<boolean> {
  if (items.length === 0) return true;
  const c = await bn128();
  const { G1, G2 } = c;
  const nPublic = vkey.IC.length - 1;
  const random = opts.random ?? defaultRandom;
  const negRA: Uint8Array[] = [];
  const bs: Uint8Array[] = [];
  const cs: Uint8Array[] = [];
  const rs: bigint[] = [];
  const icScalars = new Array<bigint>(nPublic + 1).fill(0n);
  for (const item of items) {
    const p = parseProof(c, item, nPublic);
    if (!p) return false;
    const r = random();
    if (r <= 0n || r >= 1n << 128n)
      throw new RangeError("random coefficients must be in 1..2^128-1");
    rs.push(r);
    negRA.push(G1.neg(G1.timesScalar(p.a, r)));
    bs.push(p.b);
    cs.push(G1.toAffine(p.cc));
    icScalars[0] = (icScalars[0]! + r) % BN254_R;
    p.x.forEach((x, j) => (icScalars[j + 1] = (icScalars[j + 1]! + r * x) % BN254_R));
  }
  const sumC = await G1.multiExpAffine(concat(cs), scalarBuffer(rs));
  const ic = concat(vkey.IC.map((p) => G1.toAffine(G1.fromObject(big(p)))));
  const sumL = await G1.multiExpAffine(ic, scalarBuffer(icScalars));
  const alpha = G1.timesScalar(G1.fromObject(big(vkey.vk_alpha_1)), icScalars[0]!);
  const pairs: Uint8Array[] = [];
  negRA.forEach((a, i) => pairs.push(a, bs[i]!));
  pairs.push(
    alpha,
    G2.fromObject(vkey.vk_beta_2.map(big)),
    sumL,
    G2.fromObject(vkey.vk_gamma_2.map(big)),
    sumC,
    G2.fromObject(vkey.vk_delta_2.map(big)),
  );
  return c.pairingEq(...pairs);
}

/**
 * Indices of the proofs that do not verify (ascending; empty when all do): the whole list in
 * one batch and, when that fails, each half again, down to single proofs (each an exact check).
 * A list with one bad proof among n costs about 2·log₂(n) batches of shrinking size.
 */
export async function findInvalid(
  vkey: Groth16VerificationKey,
  items: readonly ProofItem[],
  opts: BatchOptions = {},
): Promise<number[]> {
  const bad: number[] = [];
  const visit = async (from: number, to: number): Promise<void> => {
    if (to <= from) return;
    if (await verifyBatch(vkey, items.slice(from, to), opts)) return;
    if (to - from === 1) {
      bad.push(from);
      return;
    }
    const mid = (from + to) >> 1;
    await visit(from, mid);
    await visit(mid, to);
  };
  await visit(0, items.length);
  return bad;
}
