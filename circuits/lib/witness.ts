/**
 * Circuit inputs for the answer and audit circuits, built from a committed tree. The gateway
 * passes these objects to {@link prove} (circuits/lib/prove.ts).
 */
import {
  policyHash as hashPolicy,
  resultCommitment,
  type AnswerSignals,
  type Policy,
} from "./signals.js";
import {
  answerFromAggregates,
  predicateSlots,
  queryHash,
  type Answer,
  type Query,
} from "./query.js";
import {
  FIELD_COUNT,
  VALUE_MAX,
  lastLeafAtMost,
  lastLeafBelow,
  type MerkleSumTree,
} from "./tree.js";

/** A circuit input object (signal name → value or nested arrays of values). */
export type CircuitInput = Record<string, bigint | bigint[] | bigint[][]>;

/** Input, expected public signals and the plain answer of one answer proof. */
export interface AnswerWitness {
  /** The circuit input (snarkjs `fullProve` / `wtns.calculate`). */
  input: CircuitInput;
  /** The five public signals the proof will carry. */
  signals: AnswerSignals;
  /** The answer (resultValue, resultAux and the aggregates behind it). */
  answer: Answer;
}

function policyInput(policy: Policy): CircuitInput {
  return {
    aggregateMask: BigInt(policy.aggregateMask),
    fieldMask: BigInt(policy.fieldMask),
    filterMask: BigInt(policy.filterMask),
    keyLo: policy.keyLo,
    keyHi: policy.keyHi,
    minCohort: BigInt(policy.minCohort),
  };
}

function queryInput(query: Query): CircuitInput {
  return {
    kind: BigInt(query.kind),
    fieldA: BigInt(query.fieldA),
    fieldB: BigInt(query.fieldB),
    lo: query.lo,
    hi: query.hi,
    threshold: query.threshold,
    nonce: query.nonce,
  };
}

function leafInput(tree: MerkleSumTree, prefix: string, index: number): CircuitInput {
  const leaf = tree.leaf(index);
  return {
    [`${prefix}Index`]: BigInt(index),
    [`${prefix}Key`]: leaf.key,
    [`${prefix}NextKey`]: leaf.nextKey,
    [`${prefix}Values`]: leaf.values,
    [`${prefix}Salt`]: leaf.salt,
    [`${prefix}Siblings`]: tree.path(index),
  };
}

/**
 * Count, sums and min/max of the tree's min/max field over leaves a+1 .. l, computed from
 * O(depth) nodes exactly as RangeAggregate does.
 */
export function rangeAggregates(
  tree: MerkleSumTree,
  a: number,
  l: number,
): { count: bigint; sums: bigint[]; min: bigint; max: bigint } {
  if (!(a < l)) throw new RangeError(`empty range: leaf ${a} is not before leaf ${l}`);
  const prefix = (i: number): bigint[] => {
    const acc = [0n, 0n, 0n, 0n, 0n];
    const p = tree.path(i);
    for (let lv = 0; lv < tree.depth; lv++) {
      if ((i >> lv) & 1) for (let k = 0; k < 5; k++) acc[k]! += p[lv]![1 + k]!;
    }
    return acc;
  };
  const pa = prefix(a);
  const pl = prefix(l);
  const na = tree.node(0, a);
  const nl = tree.node(0, l);
  const totals = pa.map((_, k) => pl[k]! + nl[1 + k]! - pa[k]! - na[1 + k]!);
  let min = nl[6]!;
  let max = nl[7]!;
  const sa = tree.path(a);
  const sl = tree.path(l);
  for (let lv = 0; lv < tree.depth; lv++) {
    const apart = a >> (lv + 1) !== l >> (lv + 1);
    if (!apart) continue;
    if (((a >> lv) & 1) === 0) {
      min = sa[lv]![6]! < min ? sa[lv]![6]! : min;
      max = sa[lv]![7]! > max ? sa[lv]![7]! : max;
    }
    if (((l >> lv) & 1) === 1) {
      min = sl[lv]![6]! < min ? sl[lv]![6]! : min;
      max = sl[lv]![7]! > max ? sl[lv]![7]! : max;
    }
  }
  return { count: totals[0]!, sums: totals.slice(1), min, max };
}

function checkQueryFields(query: Query, tree: MerkleSumTree): void {
  for (const f of [query.fieldA, query.fieldB]) {
    if (!Number.isInteger(f) || f < 0 || f >= FIELD_COUNT) {
      throw new RangeError(`query fields must be 0..${FIELD_COUNT - 1}`);
    }
  }
  if ((query.kind === 3 || query.kind === 4) && query.fieldA !== tree.minMaxField) {
    throw new RangeError(`MIN/MAX only on field ${tree.minMaxField}`);
  }
  if (query.threshold < 0n || query.threshold > VALUE_MAX) {
    throw new RangeError("threshold must be an unsigned 64-bit integer");
  }
  if (query.lo < 1n || query.hi < query.lo || query.hi >= (1n << 128n) - 1n) {
    throw new RangeError("need 1 <= lo <= hi <= 2^128 - 2");
  }
}

/**
 * Builds the RangeAggregate input for `query` (its predicates must be empty) over `tree`
 * under `policy`, with the consumer's `blind` and the request's `binding`. Throws when the
 * range holds no record (there is no proof of an empty range) or a ratio's denominator is 0;
 * the policy itself is NOT pre-checked here (the circuit refuses a query outside it).
 */
export function rangeWitness(
  tree: MerkleSumTree,
  query: Query,
  policy: Policy,
  blind: bigint,
  binding: bigint,
): AnswerWitness {
  if (predicateSlots(query).some((p) => p.op !== 0)) {
    throw new RangeError("a range proof takes no predicates: use a scan proof");
  }
  checkQueryFields(query, tree);
  const a = lastLeafBelow(tree, query.lo);
  const l = lastLeafAtMost(tree, query.hi);
  const agg = rangeAggregates(tree, a, l);
  const answer = answerFromAggregates(query, agg.count, agg.sums, agg.min, agg.max);
  const signals: AnswerSignals = {
    root: tree.root,
    policyHash: hashPolicy(policy),
    queryHash: queryHash(query),
    resultCommitment: resultCommitment(answer.resultValue, answer.resultAux, blind),
    binding,
  };
  const input: CircuitInput = {
    ...signals,
    ...policyInput(policy),
    ...queryInput(query),
    blind,
    ...leafInput(tree, "a", a),
    ...leafInput(tree, "l", l),
  };
  return { input, signals, answer };
}
