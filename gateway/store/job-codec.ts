/**
 * How a job stores its query and its grant's policy (decimal strings and small numbers, JSON
 * in LevelDB and in worker messages) and reads them back as the circuit's Query and Policy.
 * The use-case writes with it and the proving worker reads with it, so the two cannot drift.
 */
import type { PredicateOp, Predicate, Query } from "../../circuits/lib/query.js";
import type { Policy } from "../../circuits/lib/signals.js";
import type { QueryBody } from "../../protocol/api.js";

/** A job's query as stored: numbers for kind and fields, decimal strings for the rest. */
export type StoredQuery = Record<string, string | number>;
/**
 * A job's policy as stored: numbers for masks and k, decimal strings for the key range and
 * the threshold slots ("t0,t1,t2,t3").
 */
export type StoredPolicy = Record<string, string | number>;

/** A packed predicate slot (field + 4·op + 16·value) read back; 0 is an unused slot. */
export function unpackPredicate(x: bigint): Predicate {
  return { field: Number(x & 3n), op: Number((x >> 2n) & 3n) as PredicateOp, value: x >> 4n };
}

/** The stored form of a signed query; `predicates` are the three slots, "p0,p1,p2". */
export function storeQuery(q: QueryBody["query"]): StoredQuery {
  return {
    kind: q.kind,
    fieldA: q.fieldA,
    fieldB: q.fieldB,
    lo: q.lo.toString(),
    hi: q.hi.toString(),
    threshold: q.threshold.toString(),
    nonce: q.nonce.toString(),
    deadline: q.deadline.toString(),
    predicates: [0, 1, 2].map((i) => (q.predicates?.[i] ?? 0n).toString()).join(","),
  };
}

/** The stored form of a policy. */
export function storePolicy(p: Policy): StoredPolicy {
  return {
    aggregateMask: p.aggregateMask,
    fieldMask: p.fieldMask,
    filterMask: p.filterMask,
    minCohort: p.minCohort,
    keyLo: p.keyLo.toString(),
    keyHi: p.keyHi.toString(),
    thresholds: (p.thresholds ?? []).join(","),
  };
}

/** The circuit's Query of a stored query (unused predicate slots dropped). */
export function circuitQuery(q: StoredQuery): Query {
  return {
    kind: Number(q.kind),
    fieldA: Number(q.fieldA),
    fieldB: Number(q.fieldB),
    lo: BigInt(q.lo!),
    hi: BigInt(q.hi!),
    threshold: BigInt(q.threshold!),
    nonce: BigInt(q.nonce!),
    predicates: String(q.predicates ?? "0,0,0")
      .split(",")
      .map(BigInt)
      .filter((x) => x !== 0n)
      .map(unpackPredicate),
  };
}

/** The circuit's Policy of a stored policy. */
export function circuitPolicy(p: StoredPolicy): Policy {
  return {
    aggregateMask: Number(p.aggregateMask),
    fieldMask: Number(p.fieldMask),
    filterMask: Number(p.filterMask),
    minCohort: Number(p.minCohort),
    keyLo: BigInt(p.keyLo!),
    keyHi: BigInt(p.keyHi!),
    // the allowed THRESHOLD thresholds, "t0,t1,…" in slot order (absent in older jobs: none)
    thresholds: String(p.thresholds ?? "")
      .split(",")
      .filter((x) => x !== "")
      .map(BigInt),
  };
}
