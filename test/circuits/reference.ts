/**
 * A reference evaluator for the circuit tests, written from the result table of
 * circuits/PROOF_FORMAT.md alone. It shares no code with circuits/lib (no answerFromAggregates,
 * no evaluate, not even the AggregateKind enum), so a mistake there cannot hide in both the
 * expected and the proved answer. Its own values are pinned by hand-worked numbers in
 * reference.test.ts.
 */

/** Aggregate kind ids of PROOF_FORMAT.md. */
export const KIND = {
  COUNT: 0,
  SUM: 1,
  AVG: 2,
  MIN: 3,
  MAX: 4,
  RATIO_PPM: 5,
  THRESHOLD_PPM: 6,
} as const;

/** Predicate ops of circuits/README.md: 0 none, 1 ==, 2 <=, 3 >=. */
export const OP = { NONE: 0, EQ: 1, LE: 2, GE: 3 } as const;

/** A record: a key and four unsigned values. */
export interface RefRecord {
  key: bigint;
  values: readonly bigint[];
}

/** The parts of a query the answer depends on. */
export interface RefQuery {
  kind: number;
  fieldA: number;
  fieldB: number;
  lo: bigint;
  hi: bigint;
  threshold: bigint;
  predicates?: readonly { field: number; op: number; value: bigint }[];
}

/** The two result numbers a proof commits to. */
export interface RefAnswer {
  resultValue: bigint;
  resultAux: bigint;
}

function keep(q: RefQuery, r: RefRecord): boolean {
  if (r.key < q.lo || r.key > q.hi) return false;
  for (const p of q.predicates ?? []) {
    const v = r.values[p.field]!;
    if (p.op === OP.EQ && v !== p.value) return false;
    if (p.op === OP.LE && v > p.value) return false;
    if (p.op === OP.GE && v < p.value) return false;
  }
  return true;
}

/**
 * The answer to `q` over `records` per PROOF_FORMAT.md's table. Throws for a ratio whose
 * denominator sum is 0 and for MIN/MAX of no record (neither has an answer).
 */
export function referenceAnswer(q: RefQuery, records: readonly RefRecord[]): RefAnswer {
  const rows = records.filter((r) => keep(q, r));
  const count = BigInt(rows.length);
  const column = (f: number): bigint[] => rows.map((r) => r.values[f]!);
  const total = (f: number): bigint => column(f).reduce((a, b) => a + b, 0n);
  const ppm = (): bigint => {
    const den = total(q.fieldB);
    if (den === 0n) throw new RangeError("no ratio over a zero denominator");
    return (total(q.fieldA) * 1_000_000n) / den;
  };
  switch (q.kind) {
    case KIND.COUNT:
      return { resultValue: count, resultAux: 0n };
    case KIND.SUM:
    case KIND.AVG:
      return { resultValue: total(q.fieldA), resultAux: count };
    case KIND.MIN:
    case KIND.MAX: {
      if (rows.length === 0) throw new RangeError("no MIN/MAX of an empty set");
      const sorted = column(q.fieldA).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return {
        resultValue: q.kind === KIND.MIN ? sorted[0]! : sorted[sorted.length - 1]!,
        resultAux: count,
      };
    }
    case KIND.RATIO_PPM:
      return { resultValue: ppm(), resultAux: 0n };
    case KIND.THRESHOLD_PPM:
      return { resultValue: ppm() <= q.threshold ? 1n : 0n, resultAux: 0n };
    default:
      throw new RangeError(`unknown kind ${q.kind}`);
  }
}
