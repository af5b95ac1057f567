/**
 * The range-aggregate query the `prove` benchmark proves: the defect rate in PPM of one part
 * over all its plants and days (RATIO_PPM of defects / quantity) on the synthetic record set,
 * and the cache of its circuit input (building a 10^6-record tree takes minutes; the proving
 * time does not depend on which salts the tree was built with).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { AggregateKind, type Policy } from "../../../circuits/lib/signals.js";
import type { Query } from "../../../circuits/lib/query.js";
import type { MerkleSumTree } from "../../../circuits/lib/tree.js";
import { rangeWitness, type CircuitInput } from "../../../circuits/lib/witness.js";
import { randomSalt } from "../../../circuits/lib/tree.js";
import { synthKey } from "./common.js";

/** The part whose defect PPM is asked (about n / 1000 of n synthetic records). */
export const BENCH_PART = 417;
/** Below this record count the benchmark query covers every record instead of one part. */
export const WHOLE_RANGE_BELOW = 20_000;

/**
 * RATIO_PPM(defects, quantity) over every record of part {@link BENCH_PART}, or over all
 * records for a tree of fewer than {@link WHOLE_RANGE_BELOW} records (so tiny --quick trees
 * still hold enough records in the range).
 */
export function benchQuery(records: number): Query {
  const whole = records < WHOLE_RANGE_BELOW;
  return {
    kind: AggregateKind.RatioPpm,
    fieldA: 1,
    fieldB: 0,
    lo: whole ? 1n : synthKey(BENCH_PART, 0, 0),
    hi: whole ? (1n << 128n) - 2n : synthKey(BENCH_PART + 1, 0, 0) - 1n,
    threshold: 0n,
    nonce: 7n,
  };
}

/** A policy allowing every aggregate on every field over all keys, k = min(10, records). */
export function benchPolicy(records: number): Policy {
  return {
    aggregateMask: 0x7f,
    fieldMask: 0xf,
    filterMask: 0xf,
    keyLo: 1n,
    keyHi: (1n << 128n) - 2n,
    minCohort: Math.min(10, records),
  };
}

/** A stand-in binding value (a 248-bit number, as a real keccak binding is). */
export const BENCH_BINDING = BigInt(keccak256(toUtf8Bytes("partproof-bench"))) >> 8n;

/** What the cached input file holds. */
export interface ProveInputFile {
  /** Records in the tree. */
  records: number;
  /** Tree depth. */
  depth: number;
  /** Records in the proven range (the answer's count). */
  rangeCount: string;
  /** The plain answer (resultValue). */
  resultValue: string;
  /** The five public signals expected, decimal. */
  publicSignals: string[];
  /** The circuit input, decimal strings. */
  input: unknown;
  /** ISO date made. */
  createdAt: string;
}

/** Cache folder of benchmark inputs (PARTPROOF_BENCH_CACHE or ~/.cache/partproof/bench). */
export function benchCacheDir(): string {
  return process.env.PARTPROOF_BENCH_CACHE ?? path.join(homedir(), ".cache", "partproof", "bench");
}

/** Path of the cached input for a tree of `records` records at `depth`. */
export function proveInputPath(records: number, depth: number): string {
  return path.join(benchCacheDir(), `range-input-n${records}-d${depth}.json`);
}

function toJson(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

/** Builds the benchmark query's witness input over `tree` and writes it to `file`. */
export function writeProveInput(tree: MerkleSumTree, file: string): ProveInputFile {
  const w = rangeWitness(
    tree,
    benchQuery(tree.leafCount),
    benchPolicy(tree.leafCount),
    randomSalt(),
    BENCH_BINDING,
  );
  const out: ProveInputFile = {
    records: tree.leafCount,
    depth: tree.depth,
    rangeCount: w.answer.count.toString(),
    resultValue: w.answer.resultValue.toString(),
    publicSignals: [
      w.signals.root,
      w.signals.policyHash,
      w.signals.queryHash,
      w.signals.resultCommitment,
      w.signals.binding,
    ].map(String),
    input: toJson(w.input as CircuitInput),
    createdAt: new Date().toISOString(),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file + ".tmp", JSON.stringify(out));
  renameSync(file + ".tmp", file);
  return out;
}

/** Reads a cached input, or undefined when there is none. */
export function readProveInput(file: string): ProveInputFile | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ProveInputFile;
}
