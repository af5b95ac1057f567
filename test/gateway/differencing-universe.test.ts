/**
 * The differencing guard's record universe (gateway/usecases/differencing.ts) built three ways
 * must count the same: from record lists in memory (`RecordUniverse.build`), merged from batches
 * (`RecordUniverse.stream`, what the gateway uses), and from a real store's chunks of rows
 * (`storedUniverse`). Compared with a brute-force count of every (key interval, version set)
 * and with each other's `checkDifferencing` answers, on random versions with duplicates,
 * changed and removed records, 128-bit keys and 64-bit values.
 */
import { rmSync } from "node:fs";
import { expect } from "chai";
import { PredicateOp, type Predicate } from "../../circuits/lib/query.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import { GatewayStore, type StoredVersion } from "../../gateway/store/index.js";
import { packRows } from "../../gateway/store/rows.js";
import {
  checkDifferencing,
  RecordUniverse,
  type RecordSet,
} from "../../gateway/usecases/differencing.js";
import { storedUniverse } from "../../gateway/usecases/differencing-store.js";
import { tempDir } from "./helpers.js";

const TOP64 = (1n << 64n) - 1n;

function random(seed: number) {
  return (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n; // the high bits: the low ones of this generator cycle
  };
}

/** Keys around the 64-bit boundary and near the top of 128 bits (the two key words differ). */
function keyOf(rand: (n: number) => number, keys: number): bigint {
  const k = BigInt(rand(keys));
  return rand(2) === 0 ? TOP64 - 3n + k : (1n << 127n) + k;
}

/** Versions, each the previous one with records removed, changed, copied and added. */
function versionsOf(rand: (n: number) => number, size: number, keys: number, n: number) {
  const record = (): MappedRecord => ({
    key: keyOf(rand, keys),
    values: [1n, 0n, rand(4) === 0 ? TOP64 : 0n, BigInt(rand(2))],
  });
  const versions = new Map<string, MappedRecord[]>();
  let base = Array.from({ length: size }, record);
  for (let v = 0; v < n; v++) {
    const sorted = [...base].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    versions.set(`v${v}`, sorted);
    base = base
      .filter(() => rand(8) !== 0)
      .map((r) => (rand(8) === 0 ? { key: r.key, values: [1n, 0n, 0n, BigInt(rand(3))] } : r));
    base.push(...base.filter(() => rand(3) === 0)); // duplicates of present records
    base.push(...Array.from({ length: rand(1 + size / 4) }, record));
  }
  return versions;
}

/** The version records in batches of random sizes (empty ones too), cutting through a key's records. */
async function* batches(records: readonly MappedRecord[], rand: (n: number) => number) {
  for (let i = 0; i < records.length;) {
    const n = rand(4);
    yield records.slice(i, i + n);
    i += n;
  }
}

/** Brute force: copies (content, copy number) with lo <= key <= hi per set of version ids. */
function bruteCounts(versions: Map<string, MappedRecord[]>, lo: bigint, hi: bigint) {
  const copies = new Map<string, Map<string, number>>();
  for (const [v, rs] of versions) {
    for (const r of rs) {
      if (r.key < lo || r.key > hi) continue;
      const c = `${r.key}|${r.values.join(",")}`;
      const per = copies.get(c) ?? new Map<string, number>();
      per.set(v, (per.get(v) ?? 0) + 1);
      copies.set(c, per);
    }
  }
  const counts = new Map<string, number>();
  for (const per of copies.values()) {
    for (let j = 1; j <= Math.max(...per.values()); j++) {
      const set = [...per].filter(([, n]) => n >= j).map(([v]) => v);
      const key = set.sort().join(",");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The universe's copies with lo <= key <= hi per set of version ids. */
function universeCounts(u: RecordUniverse, lo: bigint, hi: bigint) {
  const a = u.lowerBound(lo);
  const b = u.lowerBound(hi + 1n);
  const counts = new Map<string, number>();
  u.versionSets.forEach((s, m) => {
    const n = u.countIn(m, a, b);
    if (n === 0) return;
    const key = s
      .map((v) => u.versionIds[v]!)
      .sort()
      .join(",");
    counts.set(key, (counts.get(key) ?? 0) + n);
  });
  return counts;
}

function randomSet(rand: (n: number) => number, nVersions: number, keys: number): RecordSet {
  const a = keyOf(rand, keys);
  const b = rand(3) === 0 ? keyOf(rand, keys) : a + BigInt(rand(keys));
  const predicates: Predicate[] =
    rand(3) === 0
      ? [{ field: 3, op: [PredicateOp.Eq, PredicateOp.Le][rand(2)]!, value: BigInt(rand(3)) }]
      : [];
  return {
    versionId: `v${rand(nVersions)}`,
    lo: a < b ? a : b,
    hi: a < b ? b : a,
    predicates,
  };
}

describe("Differencing record universe", function () {
  it("counts every key interval and version set exactly, built or streamed", async function () {
    const rand = random(4242);
    for (let round = 0; round < 60; round++) {
      const keys = 2 + rand(12);
      const versions = versionsOf(rand, 5 + rand(40), keys, 1 + rand(4));
      const built = RecordUniverse.build(versions);
      const streamed = await RecordUniverse.stream(
        new Map([...versions].map(([id, rs]) => [id, batches(rs, rand)])),
      );
      const total = [...versions.values()].reduce((s, rs) => s + rs.length, 0);
      expect(streamed.size, `round ${round}`).to.equal(built.size).and.be.at.most(total);
      for (let q = 0; q < 10; q++) {
        const { lo, hi } = randomSet(rand, 1, keys);
        const want = bruteCounts(versions, lo, hi);
        expect(universeCounts(built, lo, hi), `round ${round}`).to.deep.equal(want);
        expect(universeCounts(streamed, lo, hi), `round ${round}`).to.deep.equal(want);
      }
      for (let q = 0; q < 10; q++) {
        const answered = Array.from({ length: rand(6) }, () =>
          randomSet(rand, versions.size, keys),
        );
        const next = randomSet(rand, versions.size, keys);
        const k = 2 + rand(3);
        expect(checkDifferencing(streamed, answered, next, k), `round ${round}`).to.deep.equal(
          checkDifferencing(built, answered, next, k),
        );
      }
    }
  });

  it("builds the same universe from a store's chunks of rows as from the records", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      const rand = random(99);
      const keys = 400; // ~25 records a key: a key's records cross chunks and read batches
      const versions = versionsOf(rand, 9000, keys, 3);
      const stored: [string, StoredVersion][] = [];
      for (const [id, records] of versions) {
        const v = await store.putVersion({
          assetId: "1",
          schemaId: "urn:test",
          batchHash: `0x${id}`,
          root: String(stored.length + 1),
          depth: 14,
          recordCount: records.length,
          createdAt: 0,
          rows: packRows(
            records,
            records.map(() => BigInt(rand(1 << 30))),
          ),
        });
        stored.push([id, v]);
      }
      const fromStore = await storedUniverse(store, stored);
      const built = RecordUniverse.build(versions);
      expect(fromStore.size).to.equal(built.size);
      for (let q = 0; q < 40; q++) {
        const { lo, hi } = randomSet(rand, 1, keys);
        expect(universeCounts(fromStore, lo, hi)).to.deep.equal(bruteCounts(versions, lo, hi));
        const answered = Array.from({ length: 1 + rand(20) }, () => randomSet(rand, 3, keys));
        const next = randomSet(rand, 3, keys);
        expect(checkDifferencing(fromStore, answered, next, 5)).to.deep.equal(
          checkDifferencing(built, answered, next, 5),
        );
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses batches out of key order and records it cannot hold", async function () {
    const r = (key: bigint, v = 0n): MappedRecord => ({ key, values: [1n, 0n, 0n, v] });
    async function* twoBatches() {
      yield [r(5n)];
      yield [r(4n)];
    }
    const failure = await RecordUniverse.stream(new Map([["v1", twoBatches()]])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure)
      .to.be.instanceOf(RangeError)
      .with.property("message")
      .match(/not sorted/);
    expect(() => RecordUniverse.build(new Map([["v1", [r(1n << 128n)]]]))).to.throw(/128 bits/);
    expect(() => RecordUniverse.build(new Map([["v1", [r(1n, 1n << 64n)]]]))).to.throw(/64-bit/);
    // in memory, records in any order are merged (sorted first)
    expect(RecordUniverse.build(new Map([["v1", [r(5n), r(4n), r(5n)]]])).size).to.equal(3);
  });
});
