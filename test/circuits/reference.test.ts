import { expect } from "chai";
import { KIND, OP, referenceAnswer, type RefQuery } from "./reference.js";
import { sampleRecords } from "./helpers.js";

/**
 * The reference evaluator pinned to numbers worked out by hand on sampleRecords(), so that the
 * circuit tests' expectations rest on arithmetic anyone can redo, not on code.
 *
 * Keys 7..30 hold the records i = 1..8 (values [i mod 3, 10i + 3, 0, 50 - 3i], key 30 has
 * field 3 = 2^64 - 1):
 *   field 0: 1 2 0 1 2 0 1 2            Σ = 9
 *   field 1: 13 23 33 43 53 63 73 83    Σ = 384
 *   field 3: 47 44 41 38 35 32 29 2^64-1
 */
describe("reference evaluator (test/circuits/reference.ts)", function () {
  const records = sampleRecords();
  const q = (kind: number, over: Partial<RefQuery> = {}): RefQuery => ({
    kind,
    fieldA: 1,
    fieldB: 0,
    lo: 7n,
    hi: 30n,
    threshold: 0n,
    ...over,
  });
  const answer = (query: RefQuery): [bigint, bigint] => {
    const a = referenceAnswer(query, records);
    return [a.resultValue, a.resultAux];
  };

  it("COUNT of keys 7..30 is 8, with aux 0", function () {
    expect(answer(q(KIND.COUNT))).to.deep.equal([8n, 0n]);
  });

  it("SUM and AVG of field 1 are 384 over 8 records (AVG = 48 once divided)", function () {
    expect(answer(q(KIND.SUM))).to.deep.equal([384n, 8n]);
    expect(answer(q(KIND.AVG))).to.deep.equal([384n, 8n]);
  });

  it("MIN of field 3 is 29 and MAX is 2^64 - 1, over 8 records", function () {
    expect(answer(q(KIND.MIN, { fieldA: 3 }))).to.deep.equal([29n, 8n]);
    expect(answer(q(KIND.MAX, { fieldA: 3 }))).to.deep.equal([18446744073709551615n, 8n]);
  });

  it("RATIO_PPM rounds down: 10^6·9/384 = 23,437.5 → 23,437 and 10^6·384/9 → 42,666,666", function () {
    expect(answer(q(KIND.RATIO_PPM, { fieldA: 0, fieldB: 1 }))).to.deep.equal([23437n, 0n]);
    expect(answer(q(KIND.RATIO_PPM))).to.deep.equal([42666666n, 0n]);
  });

  it("THRESHOLD_PPM is 1 at ppm = threshold (23,437) and 0 one below", function () {
    const t = (threshold: bigint): [bigint, bigint] =>
      answer(q(KIND.THRESHOLD_PPM, { fieldA: 0, fieldB: 1, threshold }));
    expect(t(23437n)).to.deep.equal([1n, 0n]);
    expect(t(23436n)).to.deep.equal([0n, 0n]);
  });

  it("applies predicates: keys 10..16 with field 1 >= 50 keep only key 15 (53)", function () {
    const scan = q(KIND.SUM, {
      lo: 10n,
      hi: 16n,
      predicates: [{ field: 1, op: OP.GE, value: 50n }],
    });
    expect(answer(scan)).to.deep.equal([53n, 1n]);
    const eqLe = q(KIND.COUNT, {
      predicates: [
        { field: 0, op: OP.EQ, value: 2n },
        { field: 3, op: OP.LE, value: 44n },
      ],
    });
    expect(answer(eqLe)).to.deep.equal([2n, 0n]); // i = 2 (44) and i = 5 (35); i = 8 is 2^64 - 1
  });

  it("has no ratio over a zero denominator and no MIN of nothing", function () {
    expect(() => referenceAnswer(q(KIND.RATIO_PPM, { fieldB: 2 }), records)).to.throw(RangeError);
    expect(() => referenceAnswer(q(KIND.MIN, { lo: 42n, hi: 50n }), records)).to.throw(RangeError);
  });
});
