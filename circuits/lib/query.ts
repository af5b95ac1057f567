/**
 * Queries as the answer circuits see them: the query hash (public signal `queryHash`) and a
 * plain TypeScript evaluation that gives the answer the circuit must prove.
 */
import { poseidon10 } from "poseidon-lite";
import { AggregateKind } from "./signals.js";
import { FIELD_COUNT, VALUE_MAX } from "./limits.js";
import type { TreeRecord } from "./tree.js";

/** Comparison of a scan predicate: `values[field] op value`; None = unused slot. */
export enum PredicateOp {
  None = 0,
  Eq = 1,
  Le = 2,
  Ge = 3,
}

/** Maximum number of AND-ed predicates of a query. */
export const MAX_PREDICATES = 3;

/** One scan filter: `record.values[field] op value` (value unsigned 64-bit). */
export interface Predicate {
  field: number;
  op: PredicateOp;
  value: bigint;
}

/** A query: an aggregate over the records with lo <= key <= hi that match all predicates. */
export interface Query {
  kind: AggregateKind;
  /** Aggregated field (ignored by COUNT; must be the tree's min/max field for MIN/MAX). */
  fieldA: number;
  /** Denominator field of RATIO_PPM / THRESHOLD_PPM (else any valid field, e.g. 0). */
  fieldB: number;
  /** Lowest index key of the range (>= 1). */
  lo: bigint;
  /** Highest index key of the range (<= 2^128 - 2). */
  hi: bigint;
  /** THRESHOLD_PPM: the answer is 1 iff ratio <= threshold (unsigned 64-bit; else 0). */
  threshold: bigint;
  /** Consumer-chosen nonce, makes each query hash unique. Any field element. */
  nonce: bigint;
  /** Up to 3 AND-ed filters (scan proofs only); missing slots are PredicateOp.None. */
  predicates?: readonly Predicate[];
}

/** The plain answer of a query: the two committed result values and the aggregates. */
export interface Answer {
  resultValue: bigint;
  resultAux: bigint;
  count: bigint;
  sums: bigint[];
  min: bigint;
  max: bigint;
}

/** The three predicate slots of a query, padded with PredicateOp.None. */
export function predicateSlots(query: Query): Predicate[] {
  const preds = [...(query.predicates ?? [])];
  if (preds.length > MAX_PREDICATES) {
    throw new RangeError(`at most ${MAX_PREDICATES} predicates, got ${preds.length}`);
  }
  for (const p of preds) {
    if (!Number.isInteger(p.field) || p.field < 0 || p.field >= FIELD_COUNT) {
      throw new RangeError(`predicate field must be 0..${FIELD_COUNT - 1}, got ${p.field}`);
    }
    if (![0, 1, 2, 3].includes(p.op)) throw new RangeError(`unknown predicate op ${p.op}`);
    if (p.value < 0n || p.value > VALUE_MAX) {
      throw new RangeError(`predicate value must be unsigned 64-bit, got ${p.value}`);
    }
  }
  while (preds.length < MAX_PREDICATES) preds.push({ field: 0, op: PredicateOp.None, value: 0n });
  return preds;
}

/** Packs one predicate as the circuit does: field + 4·op + 16·value. */
export function packPredicate(p: Predicate): bigint {
  return BigInt(p.field) + 4n * BigInt(p.op) + 16n * p.value;
}

/**
 * queryHash = Poseidon10(kind, fieldA, fieldB, lo, hi, threshold, nonce, pred0, pred1, pred2)
 * with pred_i = field + 4·op + 16·value ({@link packPredicate}; an unused slot packs to 0).
 */
export function queryHash(query: Query): bigint {
  const preds = predicateSlots(query).map(packPredicate);
  return poseidon10([
    BigInt(query.kind),
    BigInt(query.fieldA),
    BigInt(query.fieldB),
    query.lo,
    query.hi,
    query.threshold,
    query.nonce,
    ...preds,
  ]);
}

/** True when `values` satisfy every predicate of the query. */
export function matchesPredicates(query: Query, values: readonly bigint[]): boolean {
  return predicateSlots(query).every((p) => {
    const v = values[p.field]!;
    switch (p.op) {
      case PredicateOp.None:
        return true;
      case PredicateOp.Eq:
        return v === p.value;
      case PredicateOp.Le:
        return v <= p.value;
      case PredicateOp.Ge:
        return v >= p.value;
    }
    return false;
  });
}

/**
 * Computes the answer of `query` over `records` in plain TypeScript (the reference the
 * circuits are tested against). Throws for a ratio whose denominator sum is 0.
 */
export function evaluate(query: Query, records: readonly TreeRecord[]): Answer {
  const selected = records.filter(
    (r) => r.key >= query.lo && r.key <= query.hi && matchesPredicates(query, r.values),
  );
  const count = BigInt(selected.length);
  const sums = Array.from({ length: FIELD_COUNT }, (_, f) =>
    selected.reduce((s, r) => s + r.values[f]!, 0n),
  );
  let min = VALUE_MAX;
  let max = 0n;
  for (const r of selected) {
    const v = r.values[query.fieldA]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return answerFromAggregates(query, count, sums, min, max);
}

/**
 * The result table of circuits/PROOF_FORMAT.md: turns the aggregates over the selected records
 * (count, the four sums, min/max of fieldA) into (resultValue, resultAux). Throws for a ratio
 * whose denominator sum is 0 (the circuit refuses it too).
 */
export function answerFromAggregates(
  query: Query,
  count: bigint,
  sums: readonly bigint[],
  min: bigint,
  max: bigint,
): Answer {
  const sumA = sums[query.fieldA]!;
  const sumB = sums[query.fieldB]!;
  const ratio = (): bigint => {
    if (sumB === 0n) throw new RangeError("ratio over a zero denominator sum");
    return (1_000_000n * sumA) / sumB;
  };
  let resultValue: bigint;
  let resultAux = count;
  switch (query.kind) {
    case AggregateKind.Count:
      resultValue = count;
      resultAux = 0n;
      break;
    case AggregateKind.Sum:
    case AggregateKind.Avg:
      resultValue = sumA;
      break;
    case AggregateKind.Min:
      resultValue = min;
      break;
    case AggregateKind.Max:
      resultValue = max;
      break;
    case AggregateKind.RatioPpm:
      resultValue = ratio();
      resultAux = 0n;
      break;
    case AggregateKind.ThresholdPpm:
      resultValue = ratio() <= query.threshold ? 1n : 0n;
      resultAux = 0n;
      break;
    default:
      throw new RangeError(`unknown aggregate kind ${String(query.kind)}`);
  }
  return { resultValue, resultAux, count, sums: [...sums], min, max };
}
