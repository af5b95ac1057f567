import { expect } from "chai";
import { sortRecords, type TreeRecord } from "../../circuits/lib/tree.js";
import { rng } from "./helpers.js";

/** The order sortRecords must give, by plain bigint comparisons: key, values, salt. */
function bigintOrder(records: readonly TreeRecord[], salts: readonly bigint[]): number[] {
  const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  return records
    .map((_, i) => i)
    .sort((i, j) => {
      const a = records[i]!;
      const b = records[j]!;
      let d = cmp(a.key, b.key);
      for (let f = 0; d === 0 && f < 4; f++) d = cmp(a.values[f]!, b.values[f]!);
      return d !== 0 ? d : cmp(salts[i]!, salts[j]!);
    });
}

function expectSortedLikeBigints(records: TreeRecord[], salts: bigint[]): void {
  const got = sortRecords(records, salts);
  const want = bigintOrder(records, salts);
  expect(got.records.map((r) => r.key)).to.deep.equal(want.map((i) => records[i]!.key));
  expect(got.records.map((r) => r.values)).to.deep.equal(want.map((i) => records[i]!.values));
  expect(got.salts).to.deep.equal(want.map((i) => salts[i]!));
}

describe("sortRecords", function () {
  // 3,000 records: above the size from which the keys are radix sorted (1,024)
  const N = 3000;
  const keySets: [string, (r: (bits: number) => bigint, i: number) => bigint][] = [
    ["keys over all 128 bits", (r) => 1n + r(127)],
    [
      "keys that differ in one 16-bit digit only (ties within every digit)",
      (r) => (r(4) << 48n) + 7n,
    ],
    ["few distinct keys (long runs of equal keys, ordered by values then salt)", (r) => 1n + r(3)],
    [
      "keys in part/plant/day layout with equal keys and equal values",
      (r) => ((1n + r(10)) << 80n) + ((1n + r(3)) << 32n) + 20_000n + r(5),
    ],
    ["keys already in order but the last", (_, i) => (i === N - 1 ? 1n : BigInt(i + 2))],
  ];
  for (const [title, key] of keySets) {
    it(`orders like bigint comparisons on ${title}`, function () {
      const r = rng(BigInt(title.length));
      const records = Array.from({ length: N }, (_, i) => ({
        key: key(r, i),
        values: [r(2), r(64), r(1), r(64)],
      }));
      // exact duplicates but for the salt, and records that equal others but for one value
      for (let i = 0; i < 50; i++)
        records[N - 1 - i] = { ...records[i]!, values: [...records[i]!.values] };
      const salts = records.map((_, i) => (i % 7 === 0 ? r(2) : r(248)));
      expectSortedLikeBigints(records, salts);
    });
  }

  it("orders a prefix already in order followed by new records (an append) like a full sort", function () {
    const r = rng(99n);
    const old = Array.from({ length: 2000 }, () => ({
      key: 1n + r(20),
      values: [r(8), 0n, 0n, r(8)],
    }));
    const oldSalts = old.map(() => r(248));
    const sorted = sortRecords(old, oldSalts);
    const more = Array.from({ length: 1500 }, () => ({
      key: 1n + r(20),
      values: [r(8), 0n, 0n, r(8)],
    }));
    expectSortedLikeBigints(
      [...sorted.records, ...more],
      [...sorted.salts, ...more.map(() => r(248))],
    );
  });
});
