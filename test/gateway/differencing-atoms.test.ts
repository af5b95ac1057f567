/**
 * The differencing guard's atom logic (gateway/usecases/differencing.ts), directly: the attack
 * shapes of issue 11 on small record lists, and a comparison with a brute-force computation of
 * the atoms (one membership list per record) over random versions, ranges and filters.
 */
import { expect } from "chai";
import { PredicateOp, type Predicate } from "../../circuits/lib/query.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import {
  checkDifferencing,
  RecordUniverse,
  type RecordSet,
} from "../../gateway/usecases/differencing.js";

/** Records from [key, v3] pairs (v0 = 1, v1 = v2 = 0), sorted by key then value. */
function recs(...rows: [number, number][]): MappedRecord[] {
  return rows
    .map(([k, v]): MappedRecord => ({ key: BigInt(k), values: [1n, 0n, 0n, BigInt(v)] }))
    .sort((a, b) =>
      a.key === b.key ? Number(a.values[3]! - b.values[3]!) : a.key < b.key ? -1 : 1,
    );
}

function set(lo: number, hi: number, versionId = "v1", predicates: Predicate[] = []): RecordSet {
  return { versionId, lo: BigInt(lo), hi: BigInt(hi), predicates };
}

/** Days 1..8 with 0, 3, 1, 4, 0, 0, 2, 3 records (the gateway test's data). */
const DAYS = recs(
  [2, 2],
  [2, 3],
  [2, 3],
  [3, 1],
  [4, 1],
  [4, 2],
  [4, 3],
  [4, 4],
  [7, 1],
  [7, 2],
  [8, 1],
  [8, 2],
  [8, 3],
);
const one = RecordUniverse.build(new Map([["v1", DAYS]]));

describe("Differencing atoms", function () {
  it("lets the same record set be asked again (SUM then AVG)", function () {
    expect(checkDifferencing(one, [set(2, 8)], set(2, 8), 3)).to.equal(undefined);
    expect(checkDifferencing(one, [set(2, 8)], set(1, 9), 3)).to.equal(undefined);
  });

  it("finds a nested range that differs by fewer than k records", function () {
    expect(checkDifferencing(one, [set(3, 4)], set(4, 4), 3)).to.deep.equal({ size: 1 });
    expect(checkDifferencing(one, [set(2, 4)], set(3, 4), 3)).to.equal(undefined); // 3 = k
  });

  it("counts a shift over empty days in records, not in keys", function () {
    expect(checkDifferencing(one, [set(3, 4)], set(4, 6), 3)).to.deep.equal({ size: 1 });
    // days 5 and 6 hold nothing: [4, 6] is [4, 4] again
    expect(checkDifferencing(one, [set(4, 4)], set(4, 6), 3)).to.equal(undefined);
  });

  it("finds one record isolated by three ranges although every pairwise difference is >= k", function () {
    expect(checkDifferencing(one, [set(2, 4)], set(2, 3), 3)).to.equal(undefined);
    expect(checkDifferencing(one, [set(2, 4), set(2, 3)], set(3, 4), 3)).to.deep.equal({
      size: 1,
    });
  });

  it("counts records no answer held yet as one new atom", function () {
    // disjoint ranges: each is its own atom; a range over 2 new records is refused at k = 3
    expect(checkDifferencing(one, [set(2, 3)], set(7, 8), 3)).to.equal(undefined);
    // [2, 4] answered, then [2, 7]: July 7's 2 records are new (days 5 and 6 are empty)
    expect(checkDifferencing(one, [set(2, 4)], set(2, 7), 3)).to.deep.equal({ size: 2 });
    // gathering the unanswered records of two separate cells: one atom of 4 + 2
    expect(checkDifferencing(one, [set(2, 3), set(8, 8)], set(1, 9), 3)).to.equal(undefined);
  });

  it("finds shifted predicates over one range", function () {
    const ge = (value: bigint): Predicate[] => [{ field: 3, op: PredicateOp.Ge, value }];
    expect(
      checkDifferencing(one, [set(2, 2, "v1", ge(2n))], set(2, 2, "v1", ge(3n)), 2),
    ).to.deep.equal({ size: 1 });
    // the same matching set under another predicate is no new atom
    const le = [{ field: 3, op: PredicateOp.Le, value: 3n }];
    expect(checkDifferencing(one, [set(2, 2, "v1", ge(2n))], set(2, 2, "v1", le), 2)).to.equal(
      undefined,
    );
    // a predicate set against a plain range: [4, 4] minus (v3 >= 2 on day 4) is one record
    expect(checkDifferencing(one, [set(4, 4)], set(4, 4, "v1", ge(2n)), 2)).to.deep.equal({
      size: 1,
    });
  });

  it("identifies records across versions by content, copies matched by multiplicity", function () {
    const v2 = recs(
      ...DAYS.map((r) => [Number(r.key), Number(r.values[3])] as [number, number]),
      [4, 4],
    );
    const u = RecordUniverse.build(
      new Map([
        ["v1", DAYS],
        ["v2", v2],
      ]),
    );
    expect(u.size).to.equal(14); // 13 records in both, one more copy of (4, v3 = 4) in v2
    // the same range on both versions: only the added copy is new
    expect(checkDifferencing(u, [set(2, 4, "v1")], set(2, 4, "v2"), 3)).to.deep.equal({
      size: 1,
    });
    // a range the new record is not in holds the same records in both versions
    expect(checkDifferencing(u, [set(2, 3, "v1")], set(2, 3, "v2"), 3)).to.equal(undefined);
    expect(() => checkDifferencing(u, [], set(2, 3, "v3"), 3)).to.throw(/not in the universe/);
  });

  it("agrees with a brute-force computation of the atoms on random cases", function () {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let refusals = 0;
    for (let round = 0; round < 300; round++) {
      const nVersions = 1 + rand(3);
      const versions = new Map<string, MappedRecord[]>();
      let base: [number, number][] = Array.from({ length: 6 + rand(10) }, () => [
        1 + rand(10),
        rand(3),
      ]);
      for (let v = 0; v < nVersions; v++) {
        versions.set(`v${v}`, recs(...base));
        base = [
          ...base.filter(() => rand(6) !== 0),
          ...Array.from({ length: rand(3) }, () => [1 + rand(10), rand(3)] as [number, number]),
        ];
      }
      const u = RecordUniverse.build(versions);
      const randomSet = (): RecordSet => {
        const lo = 1 + rand(10);
        const hi = lo + rand(11 - lo);
        const predicates: Predicate[] =
          rand(3) === 0
            ? [
                {
                  field: 3,
                  op: [PredicateOp.Eq, PredicateOp.Le, PredicateOp.Ge][rand(3)]!,
                  value: BigInt(rand(3)),
                },
              ]
            : [];
        return set(lo, hi, `v${rand(nVersions)}`, predicates);
      };
      const answered = Array.from({ length: rand(5) }, randomSet);
      const next = randomSet();
      const k = 2 + rand(3);
      const got = checkDifferencing(u, answered, next, k);
      expect(got, `round ${round}`).to.deep.equal(bruteForce(versions, answered, next, k));
      if (got) refusals += 1;
    }
    expect(refusals).to.be.within(30, 270); // both outcomes were exercised
  });
});

/**
 * The rule by definition: a record is (content, copy number); it is in a set when its version
 * holds that copy, its key is in the range and it matches the filters. Atoms are the groups of
 * records with the same membership list (not the empty one); the answer is the smallest atom of
 * 1 … k−1 records present after `next` but not before.
 */
function bruteForce(
  versions: Map<string, MappedRecord[]>,
  answered: RecordSet[],
  next: RecordSet,
  k: number,
): { size: number } | undefined {
  const copies = new Map<string, Map<string, number>>(); // content → version → copies
  for (const [v, rs] of versions) {
    for (const r of rs) {
      const c = `${r.key}|${r.values.join(",")}`;
      const per = copies.get(c) ?? new Map<string, number>();
      per.set(v, (per.get(v) ?? 0) + 1);
      copies.set(c, per);
    }
  }
  const records: { content: string; key: bigint; values: bigint[]; inVersion: Set<string> }[] = [];
  for (const [content, per] of copies) {
    const [key, vals] = content.split("|");
    const most = Math.max(...per.values());
    for (let j = 1; j <= most; j++) {
      records.push({
        content: `${content}#${j}`,
        key: BigInt(key!),
        values: vals!.split(",").map(BigInt),
        inVersion: new Set([...per].filter(([, n]) => n >= j).map(([v]) => v)),
      });
    }
  }
  const inSet = (r: (typeof records)[number], s: RecordSet) =>
    r.inVersion.has(s.versionId) &&
    r.key >= s.lo &&
    r.key <= s.hi &&
    s.predicates.every((p) =>
      p.op === PredicateOp.Eq
        ? r.values[p.field] === p.value
        : p.op === PredicateOp.Le
          ? r.values[p.field]! <= p.value
          : r.values[p.field]! >= p.value,
    );
  const atoms = (sets: RecordSet[]) => {
    const groups = new Map<string, string[]>();
    for (const r of records) {
      const m = sets.map((s) => (inSet(r, s) ? "1" : "0")).join("");
      if (!m.includes("1")) continue;
      groups.set(m, [...(groups.get(m) ?? []), r.content]);
    }
    return [...groups.values()].map((g) => g.sort().join(" "));
  };
  const before = new Set(atoms(answered));
  const sizes = atoms([...answered, next])
    .filter((a) => !before.has(a))
    .map((a) => a.split(" ").length)
    .filter((n) => n < k);
  return sizes.length === 0 ? undefined : { size: Math.min(...sizes) };
}
