/**
 * `verify` benchmark: the auditor's re-verification throughput, batched (protocol/batch-verify.ts,
 * one randomised multi-pairing per batch) against snarkjs' groth16.verify one proof at a time,
 * in the same run and on the same proofs. The proofs are a few real range_d4 proofs, each
 * re-randomised into many distinct valid proofs (A' = A/t, B' = t·B + t·s·δ, C' = C + s·A for
 * random t, s: verification costs the same for every proof of a circuit with 5 public signals).
 */
import { readFileSync } from "node:fs";
import os from "node:os";
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { FIELD_MODULUS as R } from "../../../circuits/lib/signals.js";
import { buildTree, randomSalt } from "../../../circuits/lib/tree.js";
import { rangeWitness } from "../../../circuits/lib/witness.js";
import {
  findInvalid,
  verifyBatch,
  type Groth16VerificationKey,
  type ProofItem,
} from "../../../protocol/batch-verify.js";
import { circuitPaths } from "../circuit-build.js";
import { round, syntheticRecords, type Log } from "./common.js";
import { BENCH_BINDING, benchPolicy, benchQuery } from "./prove-input.js";

/** Options of {@link benchVerify}. */
export interface VerifyBenchOptions {
  /** Proofs in the batch. */
  batch: number;
  /** Proofs verified one by one with snarkjs (fewer: ~50 ms each). */
  single: number;
}

/** Result of the `verify` benchmark. */
export interface VerifyBenchData {
  circuit: string;
  /** Real proofs made, re-randomised into `batch` distinct proofs. */
  realProofs: number;
  batch: number;
  /** verifyBatch over the whole batch: ms, proofs per second. */
  batched: { ms: number; proofsPerSecond: number };
  /** findInvalid over the batch with one bad proof in it: ms, and the index it named. */
  withOneBad: { ms: number; named: number[]; planted: number };
  /** snarkjs groth16.verify one by one over the first `single` proofs. */
  oneByOne: { proofs: number; ms: number; proofsPerSecond: number };
  /** Every proof verified both ways. */
  allValid: boolean;
  /** The target, proofs per second. */
  targetPerSecond: number;
}

type Curve = {
  G1: Point;
  G2: Point;
};
type Point = {
  fromObject(o: unknown): Uint8Array;
  toObject(p: Uint8Array): unknown;
  toAffine(p: Uint8Array): Uint8Array;
  timesScalar(p: Uint8Array, s: bigint): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
};

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}

const str = (o: unknown): unknown =>
  typeof o === "bigint" ? o.toString() : Array.isArray(o) ? o.map(str) : o;
const big = (o: unknown): unknown =>
  typeof o === "string" ? BigInt(o) : Array.isArray(o) ? o.map(big) : o;

/** Another valid proof of the same statement (Groth16 proofs are re-randomisable). */
function rerandomise(c: Curve, vk: Groth16VerificationKey, item: ProofItem): ProofItem {
  const t = 1n + (randomSalt() % (R - 1n));
  const s = randomSalt();
  const a = c.G1.fromObject(big(item.proof.pi_a));
  const b = c.G2.fromObject(big(item.proof.pi_b));
  const cc = c.G1.fromObject(big(item.proof.pi_c));
  const delta = c.G2.fromObject(big(vk.vk_delta_2));
  const a2 = c.G1.timesScalar(a, modPow(t, R - 2n, R));
  const b2 = c.G2.add(c.G2.timesScalar(b, t), c.G2.timesScalar(delta, (t * s) % R));
  const c2 = c.G1.add(cc, c.G1.timesScalar(a, s));
  const obj = (g: Point, p: Uint8Array) => str(g.toObject(g.toAffine(p)));
  return {
    publicSignals: item.publicSignals,
    proof: {
      pi_a: obj(c.G1, a2) as string[],
      pi_b: obj(c.G2, b2) as string[][],
      pi_c: obj(c.G1, c2) as string[],
    },
  };
}

/** Runs the `verify` benchmark. */
export async function benchVerify(opts: VerifyBenchOptions, log: Log): Promise<VerifyBenchData> {
  const circuit = "range_d4";
  const p = circuitPaths(circuit);
  const vk = JSON.parse(readFileSync(p.vkey, "utf8")) as Groth16VerificationKey;
  const records = syntheticRecords(12);
  const tree = await buildTree(
    records,
    records.map(() => randomSalt()),
    4,
  );
  const real: ProofItem[] = [];
  log(`verify: proving 2 real ${circuit} proofs …`);
  for (let i = 0; i < 2; i++) {
    const w = rangeWitness(tree, benchQuery(12), benchPolicy(12), randomSalt(), BENCH_BINDING);
    const input = Object.fromEntries(Object.entries(w.input).map(([k, v]) => [k, str(v)]));
    real.push(await snarkjs.groth16.fullProve(input, p.wasm, p.zkey));
  }
  const c = (await buildBn128()) as Curve;
  const items = Array.from({ length: opts.batch }, (_, i) =>
    rerandomise(c, vk, real[i % real.length]!),
  );
  log(`verify: ${opts.batch} distinct proofs; batched …`);
  let t = performance.now();
  const batchOk = await verifyBatch(vk, items);
  const batchMs = performance.now() - t;
  const planted = Math.floor(opts.batch / 3);
  const withBad = [...items];
  withBad[planted] = {
    ...items[planted]!,
    publicSignals: items[planted]!.publicSignals.map((x, j) =>
      j === 3 ? ((BigInt(x) + 1n) % R).toString() : x,
    ),
  };
  t = performance.now();
  const named = await findInvalid(vk, withBad);
  const badMs = performance.now() - t;
  const single = Math.min(opts.single, opts.batch);
  log(`verify: ${single} proofs one by one with snarkjs …`);
  let singleOk = true;
  t = performance.now();
  for (const it of items.slice(0, single)) {
    singleOk &&= (await snarkjs.groth16.verify(vk, it.publicSignals, it.proof)) as boolean;
  }
  const singleMs = performance.now() - t;
  const data: VerifyBenchData = {
    circuit,
    realProofs: real.length,
    batch: opts.batch,
    batched: {
      ms: round(batchMs, 1),
      proofsPerSecond: Math.round((opts.batch / batchMs) * 1000),
    },
    withOneBad: { ms: round(badMs, 1), named, planted },
    oneByOne: {
      proofs: single,
      ms: round(singleMs, 1),
      proofsPerSecond: round((single / singleMs) * 1000, 1),
    },
    allValid: batchOk && singleOk,
    targetPerSecond: 100,
  };
  log(
    `verify: batched ${data.batched.proofsPerSecond} proofs/s (${opts.batch} in ${(batchMs / 1000).toFixed(2)} s), ` +
      `one by one ${data.oneByOne.proofsPerSecond} proofs/s; one bad among ${opts.batch} named [${named.join(", ")}] ` +
      `in ${(badMs / 1000).toFixed(2)} s (load ${os.loadavg()[0]!.toFixed(2)})`,
  );
  if (!data.allValid) throw new Error("verify: a re-randomised proof did not verify");
  if (named.length !== 1 || named[0] !== planted) {
    throw new Error(`verify: the planted bad proof ${planted} was not named alone: ${named}`);
  }
  return data;
}
