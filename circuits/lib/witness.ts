/**
 * Circuit inputs for the answer and audit circuits, built from a committed tree. The gateway
 * passes these objects to `prove` (circuits/lib/prove.ts).
 */
import {
  policyHash as hashPolicy,
  thresholdSlots,
  resultCommitment,
  type AnswerSignals,
  type Policy,
} from "./signals.js";
import {
  answerFromAggregates,
  matchesPredicates,
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
export type CircuitInput = Record<string, bigint | bigint[] | bigint[][] | bigint[][][]>;

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
    thresholds: thresholdSlots(policy),
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

/** Input of one AuditPath proof. */
export interface AuditWitness {
  /** The circuit input. */
  input: CircuitInput;
  /** The public signals in order: root, index, challenge, recordCount. */
  publicSignals: [bigint, bigint, bigint, bigint];
}

/**
 * Builds the AuditPath input for leaf `index` (and its successor) of `tree`, answering the
 * auditor's `challenge`, for the version's published `recordCount` (default: the root's
 * count; the circuit refuses any other). index must be < 2^depth - 1.
 */
export function auditWitness(
  tree: MerkleSumTree,
  index: number,
  challenge: bigint,
  recordCount: bigint = tree.node(tree.depth, 0)[1]!,
): AuditWitness {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** tree.depth - 1) {
    throw new RangeError(`audit index must be in [0, 2^${tree.depth} - 2], got ${index}`);
  }
  const leaves = [tree.leaf(index), tree.leaf(index + 1)];
  return {
    input: {
      root: tree.root,
      index: BigInt(index),
      challenge,
      recordCount,
      key: leaves.map((l) => l.key),
      nextKey: leaves.map((l) => l.nextKey),
      values: leaves.map((l) => l.values),
      salt: leaves.map((l) => l.salt),
      siblings: [tree.path(index), tree.path(index + 1)],
    },
    publicSignals: [tree.root, BigInt(index), challenge, recordCount],
  };
}

/**
 * The first block of the scan window for the leaves a .. l (two aligned blocks of 2^h leaves
 * each, `block` and `block + 1`); throws when they do not fit one window.
 */
export function scanWindow(depth: number, h: number, a: number, l: number): number {
  const H = 2 ** h;
  const blocks = 2 ** (depth - h);
  let block = Math.floor(a / H);
  if (block + 1 >= blocks) block -= 1;
  if (block < 0 || l >= (block + 2) * H) {
    throw new RangeError(
      `the range spans leaves ${a + 1}..${l}: more than a scan window of ${2 * H} leaves holds`,
    );
  }
  return block;
}

/**
 * Builds the ScanAggregate input for `query` (with up to 3 predicates) over `tree` with
 * windows of C = 2·2^h leaves, under `policy`, with the consumer's `blind` and the request's
 * `binding`. Throws when the records of [lo, hi] (plus the leaf before them) do not fit one
 * window, or for a ratio whose denominator is 0. The policy is not pre-checked here.
 */
export function scanWitness(
  tree: MerkleSumTree,
  h: number,
  query: Query,
  policy: Policy,
  blind: bigint,
  binding: bigint,
): AnswerWitness {
  checkQueryFields(query, tree);
  const preds = predicateSlots(query);
  const a = lastLeafBelow(tree, query.lo);
  const l = lastLeafAtMost(tree, query.hi);
  const block = scanWindow(tree.depth, h, a, l);
  const C = 2 * 2 ** h;
  const first = block * 2 ** h;
  const leaves = Array.from({ length: C }, (_, i) => tree.leaf(first + i));
  const selected = leaves.filter(
    (lf, i) =>
      lf.key >= query.lo &&
      lf.key <= query.hi &&
      first + i >= 1 &&
      first + i <= tree.leafCount &&
      matchesPredicates(query, lf.values),
  );
  const sums = Array.from({ length: FIELD_COUNT }, (_, f) =>
    selected.reduce((s, lf) => s + lf.values[f]!, 0n),
  );
  let min = VALUE_MAX;
  let max = 0n;
  for (const lf of selected) {
    const v = lf.values[tree.minMaxField]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const answer = answerFromAggregates(query, BigInt(selected.length), sums, min, max);
  const signals: AnswerSignals = {
    root: tree.root,
    policyHash: hashPolicy(policy),
    queryHash: queryHash(query),
    resultCommitment: resultCommitment(answer.resultValue, answer.resultAux, blind),
    binding,
  };
  const sib = (b: number): bigint[][] =>
    Array.from({ length: tree.depth - h }, (_, lv) => tree.node(h + lv, (b >> lv) ^ 1));
  const input: CircuitInput = {
    ...signals,
    ...policyInput(policy),
    ...queryInput(query),
    predField: preds.map((p) => BigInt(p.field)),
    predOp: preds.map((p) => BigInt(p.op)),
    predConst: preds.map((p) => p.value),
    blind,
    block: BigInt(block),
    keys: leaves.map((lf) => lf.key),
    nextKeys: leaves.map((lf) => lf.nextKey),
    values: leaves.map((lf) => lf.values),
    salts: leaves.map((lf) => lf.salt),
    siblings: [sib(block), sib(block + 1)],
  };
  return { input, signals, answer };
}
