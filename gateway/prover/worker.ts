/**
 * A proving worker: builds a version's Merkle-sum tree (from records and salts, cached by root
 * inside the worker), computes the range or scan witness (snarkjs), and proves it with Groth16,
 * all off the HTTP loop. The prover pool runs it as a child process; it also runs as a worker
 * thread (the former mode, for the benchmark).
 *
 * The proof is made by the native prover (circuits/native/groth16.c, on every core) when its
 * addon is built, unless the pool says `prover: "snarkjs"` or PARTPROOF_PROVER=snarkjs is set;
 * otherwise by snarkjs (in a child process its own thread pool proves on every core). Each
 * native proof is checked against the zkey's verification key before it leaves the worker; one
 * that does not verify is made again by snarkjs (and the worker says so on stderr).
 */
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { loadNativeProver, proveNative } from "../../circuits/native/groth16.js";
import { auditWitness, rangeWitness, scanWitness } from "../../circuits/lib/witness.js";
import { onMessage, send, workerData } from "./channel.js";
import {
  circuitPolicy,
  circuitQuery,
  type StoredPolicy,
  type StoredQuery,
} from "../store/job-codec.js";
import { readRow, rowCount } from "../store/rows.js";
import { sliceTree, type TreeSlice } from "../store/tree-levels.js";

/**
 * A version's records and salts: as stored rows (`store/rows.ts`, ~96 bytes a record, what the
 * gateway sends), or as decimal strings.
 */
export interface VersionPayload {
  /**
   * The part of the version's tree the task's witnesses read, loaded from its stored levels
   * (`store/tree-levels.ts`); when given, no tree is built.
   */
  slice?: TreeSlice;
  /** The version's rows in tree order. */
  rows?: Uint8Array;
  /** Records: [key, v0, v1, v2, v3] (when no rows are given). */
  records?: string[][];
  /** Salts, same order. */
  salts?: string[];
  /** Tree depth. */
  depth: number;
  /** MIN/MAX field. */
  minMaxField: number;
}

/** A request to a worker. */
export type WorkerRequest = {
  id: number;
  kind: "prove";
  /** Expected root (the tree built must have it). */
  root: string;
  /** The job's stored query (store/job-codec.ts). */
  query: StoredQuery;
  /** The job's stored policy. */
  policy: StoredPolicy;
  /** Result blind. */
  blind: string;
  /** Binding signal. */
  binding: string;
  /** Prove with the scan circuit (windows of 2·2^h leaves) instead of the range circuit. */
  scan?: { h: number };
} & VersionPayload;

/**
 * A request for AuditPath proofs (random path audits, issue 15) of leaves `indices` of the
 * version's tree, each answering `challenge` for the published `recordCount`.
 */
export type AuditRequest = {
  id: number;
  kind: "audit";
  /** Expected root (the tree built must have it). */
  root: string;
  /** Distinct leaf indices, each < 2^depth - 1. */
  indices: number[];
  /** The audit challenge (protocol/audit.ts auditChallenge), decimal. */
  challenge: string;
  /** The record count the proofs claim (the circuit ties it to the root's count), decimal. */
  recordCount: string;
} & VersionPayload;

/** A worker's audit proofs. */
export type AuditResponse =
  | {
      id: number;
      ok: true;
      proofs: { index: number; proof: unknown; publicSignals: string[] }[];
      ms: number;
    }
  | { id: number; ok: false; error: string };

/** A worker's answer. */
export type WorkerResponse =
  | {
      id: number;
      ok: true;
      proof: unknown;
      publicSignals: string[];
      answer: { resultValue: string; resultAux: string };
      ms: number;
      /** Where `ms` went: tree (0 when cached), circuit witness, Groth16 proof. */
      steps: ProofSteps;
    }
  | { id: number; ok: false; error: string };

/** Wall time of a proof's steps, ms. */
export interface ProofSteps {
  treeMs: number;
  witnessMs: number;
  proveMs: number;
  /**
   * CPU time (user + system) of this worker's process during the proof, ms: all of snarkjs'
   * threads when the worker is a process (proveCpuMs / proveMs = cores used); in a worker
   * thread it counts the whole gateway's process instead.
   */
  proveCpuMs: number;
  /** Which prover made the proof. */
  prover: ProverEngine;
}

/** The Groth16 prover of a proof: the native addon, or snarkjs. */
export type ProverEngine = "native" | "snarkjs";

const artifacts = workerData as {
  range: { wasm: string; zkey: string };
  scan?: { wasm: string; zkey: string };
  audit?: { wasm: string; zkey: string };
  /** "snarkjs" forces snarkjs; otherwise the native prover when it is built. */
  prover?: "auto" | "snarkjs";
};
// ffjavascript's own thread pool (the `web-worker` package) does not work inside a worker
// thread, so there the curve runs single-threaded; in a child process (the prover pool's mode)
// snarkjs starts its pool of one thread per core.
const PROVER_OPTIONS = { singleThread: isThread() };

function isThread(): boolean {
  return !process.send;
}

// Not in a worker thread (the benchmark's former mode): each native proof is checked with
// snarkjs' verify, whose curve starts ffjavascript's thread pool, which cannot start there
// ("Worker is not a constructor"); that mode proves with snarkjs single-threaded, as it did.
const useNative = !isThread() && artifacts.prover !== "snarkjs" && loadNativeProver() !== null;
const vkeys = new Map<string, Promise<unknown>>();

/** A Groth16 proof of a computed witness (`wtns`: snarkjs' in-memory .wtns) with the zkey. */
async function groth16(
  zkey: string,
  wtns: { type: "mem"; data?: Uint8Array },
): Promise<{ proof: unknown; publicSignals: string[]; prover: ProverEngine }> {
  if (useNative && wtns.data) {
    const p = await proveNative(zkey, wtns.data);
    if (!vkeys.has(zkey)) vkeys.set(zkey, snarkjs.zKey.exportVerificationKey(zkey));
    if (await snarkjs.groth16.verify(await vkeys.get(zkey), p.publicSignals, p.proof)) {
      return { ...p, prover: "native" };
    }
    console.warn("native prover: a proof did not verify; proving with snarkjs instead");
  }
  const r = await snarkjs.groth16.prove(zkey, wtns, undefined, PROVER_OPTIONS);
  return { ...(r as { proof: unknown; publicSignals: string[] }), prover: "snarkjs" };
}

const trees = new Map<string, MerkleSumTree>();
async function treeOf(v: VersionPayload, root: string): Promise<MerkleSumTree> {
  if (v.slice) return sliceTree(v.slice); // one task's nodes: not kept for another
  const hit = trees.get(root);
  if (hit) return hit;
  const records: { key: bigint; values: bigint[] }[] = [];
  const salts: bigint[] = [];
  if (v.rows) {
    for (let i = 0; i < rowCount(v.rows); i++) {
      const r = readRow(v.rows, i);
      records.push({ key: r.key, values: r.values });
      salts.push(r.salt);
    }
  } else {
    for (const r of v.records ?? [])
      records.push({ key: BigInt(r[0]!), values: r.slice(1).map(BigInt) });
    for (const x of v.salts ?? []) salts.push(BigInt(x));
  }
  const tree = await buildTree(records, salts, v.depth, { minMaxField: v.minMaxField });
  trees.set(tree.root.toString(), tree);
  while (trees.size > 2) trees.delete(trees.keys().next().value!);
  return tree;
}

function toStrings(input: Record<string, unknown>): Record<string, unknown> {
  const conv = (v: unknown): unknown =>
    typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(conv) : v;
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, conv(v)]));
}

async function handle(msg: WorkerRequest): Promise<WorkerResponse> {
  const t0 = performance.now();
  const tree = await treeOf(msg, msg.root);
  const t1 = performance.now();
  if (tree.root.toString() !== msg.root) throw new Error("the records do not rebuild the root");
  const query = circuitQuery(msg.query);
  const policy = circuitPolicy(msg.policy);
  const circuit = msg.scan ? artifacts.scan : artifacts.range;
  if (!circuit) throw new Error("no scan circuit configured");
  const witness = msg.scan
    ? scanWitness(tree, msg.scan.h, query, policy, BigInt(msg.blind), BigInt(msg.binding))
    : rangeWitness(tree, query, policy, BigInt(msg.blind), BigInt(msg.binding));
  // what groth16.fullProve does, in two timed steps
  const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  await snarkjs.wtns.calculate(toStrings(witness.input), circuit.wasm, wtns);
  const t2 = performance.now();
  const cpu0 = process.cpuUsage();
  const { proof, publicSignals, prover } = await groth16(circuit.zkey, wtns);
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  return {
    id: msg.id,
    ok: true,
    proof,
    publicSignals,
    answer: {
      resultValue: witness.answer.resultValue.toString(),
      resultAux: witness.answer.resultAux.toString(),
    },
    ms: t3 - t0,
    steps: {
      treeMs: t1 - t0,
      witnessMs: t2 - t1,
      proveMs: t3 - t2,
      proveCpuMs: (cpu.user + cpu.system) / 1000,
      prover,
    },
  };
}

/** AuditPath proofs of the requested leaves, over the tree rebuilt from the version's rows. */
async function handleAudit(msg: AuditRequest): Promise<AuditResponse> {
  const t0 = performance.now();
  const circuit = artifacts.audit;
  if (!circuit) throw new Error("no audit circuit configured");
  const tree = await treeOf(msg, msg.root);
  if (tree.root.toString() !== msg.root) throw new Error("the records do not rebuild the root");
  const proofs: { index: number; proof: unknown; publicSignals: string[] }[] = [];
  for (const index of msg.indices) {
    const w = auditWitness(tree, index, BigInt(msg.challenge), BigInt(msg.recordCount));
    const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
    await snarkjs.wtns.calculate(toStrings(w.input), circuit.wasm, wtns);
    const { proof, publicSignals } = await groth16(circuit.zkey, wtns);
    proofs.push({ index, proof, publicSignals });
  }
  return { id: msg.id, ok: true, proofs, ms: performance.now() - t0 };
}

onMessage(async (m) => {
  const msg = m as WorkerRequest | AuditRequest | { kind: "close" };
  if (msg.kind === "close") {
    // leave between tasks, at a safe point (terminate() could land inside wasm or a loader)
    process.exit(0);
  }
  try {
    send(msg.kind === "audit" ? await handleAudit(msg) : await handle(msg));
  } catch (e) {
    // first line only: witness and range errors name constraints or bounds, not record data
    const text = String((e as Error)?.message ?? e)
      .split("\n")[0]!
      .slice(0, 120)
      .replace(/\d{6,}/g, "…");
    send({ id: msg.id, ok: false, error: text } satisfies WorkerResponse);
  }
});
