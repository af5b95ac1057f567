/**
 * The ingest worker's version builder on bytes (`applyBatches`, `sortRows`): the records of a
 * new version from a base and an upload's batches, against a plain TypeScript model of the
 * rules (a later record of an identity replaces an earlier one, a removal removes it,
 * `recordStatus` "same" keeps the base's record and salt), and the tree order of the rows
 * against `sortRecords`, on random data sets with repeated identities, records without one,
 * and equal keys.
 */
import { expect } from "chai";
import { buildTree, randomSalt, sortRecords } from "../../circuits/lib/tree.js";
import { IngestPool } from "../../gateway/prover/ingest-pool.js";
import {
  applyBatches,
  sortRows,
  sortRowsInPlace,
  versionTree,
} from "../../gateway/prover/ingest-worker.js";
import {
  ROW_BYTES,
  readRow,
  rowCount,
  writeRow,
  type PackedBatch,
} from "../../gateway/store/rows.js";

type Rec = { key: bigint; values: bigint[]; id?: string };

/** A small deterministic generator (tests must be reproducible). */
function rng(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
}

const idOf = (k: number) => "0x" + k.toString(16).padStart(32, "0");

function rowsOf(recs: readonly Rec[], salts: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(recs.length * ROW_BYTES);
  recs.forEach((r, i) => writeRow(out, i, r, salts[i]!));
  return out;
}

const hexRows = (rows: Uint8Array) =>
  Array.from({ length: rowCount(rows) }, (_, i) =>
    Buffer.from(rows.subarray(i * ROW_BYTES, (i + 1) * ROW_BYTES)).toString("hex"),
  );

describe("Ingest worker: applyBatches and sortRows", function () {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`builds the version the rules give and orders it as the tree does (data set ${seed})`, function () {
      const r = rng(seed);
      const rec = (id?: number): Rec => ({
        key: BigInt(1 + r(40)),
        values: [BigInt(r(3)), BigInt(r(2)), 0n, BigInt(r(1000))],
        ...(id === undefined ? {} : { id: idOf(id) }),
      });
      const baseRecs = Array.from({ length: 60 + r(60) }, (_, i) =>
        r(5) === 0 ? rec() : rec(i + 1),
      );
      const baseSalts = baseRecs.map(() => randomSalt());
      // identities 1..200: some in the base, some new; repeated across and within batches
      const batches: { recs: Rec[]; keep: boolean[]; removed: string[] }[] = [];
      for (let b = 0; b < 1 + r(4); b++) {
        const recs: Rec[] = [];
        const keep: boolean[] = [];
        for (let i = 0; i < r(50); i++) {
          const none = r(6) === 0;
          recs.push(none ? rec() : rec(1 + r(200)));
          keep.push(!none && r(5) === 0);
        }
        const removed = Array.from({ length: r(6) }, () => idOf(1 + r(220)));
        batches.push({ recs, keep, removed: [...new Set(removed)] });
      }
      const incoming = batches.reduce((s, b) => s + b.recs.length, 0);
      const salts = Array.from({ length: incoming }, () => randomSalt());

      // the model: last state per identity, then base records, then the upload's last records
      type St = { removed: true } | { removed: false; b: number; i: number; keep: boolean };
      const last = new Map<string, St>();
      batches.forEach((b, k) => {
        b.recs.forEach((x, i) => {
          if (x.id) last.set(x.id, { removed: false, b: k, i, keep: b.keep[i]! });
        });
        for (const id of b.removed) last.set(id, { removed: true });
      });
      const want: { rec: Rec; salt: bigint }[] = [];
      const changes = { added: 0, replaced: 0, removed: 0 };
      const inBase = new Set<string>();
      const keptBase = new Set<string>();
      baseRecs.forEach((x, i) => {
        const st = x.id ? last.get(x.id) : undefined;
        if (!st) return void want.push({ rec: x, salt: baseSalts[i]! });
        inBase.add(x.id!);
        if (st.removed) changes.removed += 1;
        else if (st.keep) {
          want.push({ rec: x, salt: baseSalts[i]! });
          keptBase.add(x.id!);
        } else changes.replaced += 1;
      });
      let s = 0;
      batches.forEach((b, k) => {
        b.recs.forEach((x, i) => {
          const salt = salts[s++]!;
          if (x.id) {
            const st = last.get(x.id)!;
            if (st.removed || st.b !== k || st.i !== i || keptBase.has(x.id)) return;
            if (!inBase.has(x.id)) changes.added += 1;
          } else changes.added += 1;
          want.push({ rec: x, salt });
        });
      });

      const packed: PackedBatch[] = batches.map((b) => ({
        rows: rowsOf(
          b.recs,
          b.recs.map(() => 0n),
        ),
        keep: Uint8Array.from(b.keep.map(Number)),
        removed: b.removed,
      }));
      const got = applyBatches({
        base: rowsOf(baseRecs, baseSalts),
        baseRoot: "",
        batches: packed,
        salts,
        depth: 12,
        minMaxField: 3,
      });
      expect(got.changes).to.deep.equal(changes);
      const wantRows = rowsOf(
        want.map((w) => w.rec),
        want.map((w) => w.salt),
      );
      expect(hexRows(got.rows)).to.deep.equal(hexRows(wantRows));

      // tree order: the order sortRecords gives the same records and salts
      const sorted = sortRows(got.rows);
      const ref = sortRecords(
        want.map((w) => w.rec),
        want.map((w) => w.salt),
      );
      const order = Array.from({ length: rowCount(sorted) }, (_, i) => {
        const x = readRow(sorted, i);
        return [x.key, ...x.values, x.salt];
      });
      expect(order).to.deep.equal(ref.records.map((x, i) => [x.key, ...x.values, ref.salts[i]]));
      // in place (the worker's way): the same order in the same buffer
      const same = got.rows.slice();
      expect(sortRowsInPlace(same)).to.equal(same);
      expect(hexRows(same)).to.deep.equal(hexRows(sorted));
    });
  }
});

describe("Ingest worker: sortRowsInPlace on many rows", function () {
  it("orders 5,000 rows as sortRecords orders the records: keys over all 128 bits, runs of equal keys with equal and different values", function () {
    const r = rng(11);
    const word = () => BigInt(r(2 ** 30)) * 4n + BigInt(r(4));
    const recs: Rec[] = Array.from({ length: 5_000 }, (_, i) => ({
      // a third: keys spread over all four words; the rest: 40 keys, so long runs of ties
      key:
        i % 3 === 0
          ? 1n +
            (((word() << 96n) | (word() << 64n) | (word() << 32n) | word()) % (2n ** 128n - 2n))
          : BigInt(1 + r(40)) * 2n ** 80n + BigInt(r(2)),
      values: [1n, BigInt(r(2)), 0n, BigInt(r(3))],
    }));
    const salts = recs.map(() => randomSalt());
    const rows = rowsOf(recs, salts);
    expect(sortRowsInPlace(rows)).to.equal(rows);
    const ref = sortRecords(recs, salts);
    const got = Array.from({ length: rowCount(rows) }, (_, i) => {
      const x = readRow(rows, i);
      return [x.key, ...x.values, x.salt];
    });
    expect(got).to.deep.equal(ref.records.map((x, i) => [x.key, ...x.values, ref.salts[i]]));
  });
});

describe("Ingest worker: versionTree", function () {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

  for (const [seed, n] of [
    [7, 300],
    [8, 17],
    [9, 1],
  ] as const) {
    it(`hashes the same root and stored levels from rows as buildTree over the records (${n} records)`, async function () {
      const r = rng(seed);
      // equal keys and equal value tuples, in no order
      const recs: Rec[] = Array.from({ length: n }, () => ({
        key: BigInt(1 + r(50)) * 2n ** 80n + BigInt(r(3)),
        values: [1n, BigInt(r(2)), 0n, BigInt(r(6))],
      }));
      const salts = recs.map(() => randomSalt());
      const rows = sortRows(rowsOf(recs, salts));
      const objects = await versionTree(rows, 10, 3, undefined, Infinity);
      const streamed = await versionTree(rows, 10, 3, undefined, 0);
      // the commitment of the records as buildTree makes it from the unsorted objects
      const direct = await buildTree(recs, salts, 10, { minMaxField: 3 });
      expect(objects.root).to.equal(direct.root.toString());
      expect(streamed.root).to.equal(objects.root);
      expect(streamed.keep).to.equal(undefined);
      expect(objects.keep?.root).to.equal(direct.root);
      expect(streamed.tree.from).to.equal(objects.tree.from);
      expect(hex(streamed.tree.pads)).to.equal(hex(objects.tree.pads));
      expect(streamed.tree.levels.map(hex)).to.deep.equal(objects.tree.levels.map(hex));
    });
  }

  it("refuses a sentinel key on the streamed path as buildTree does", async function () {
    for (const key of [0n, 2n ** 128n - 1n]) {
      const rows = rowsOf([{ key, values: [1n, 0n, 0n, 0n] }], [1n]);
      let err: unknown;
      await versionTree(rows, 6, 3, undefined, 0).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(RangeError);
      expect((err as Error).message).to.match(/key must be in \[1, 2\^128 - 2\]/);
    }
  });
});

describe("IngestPool", function () {
  this.timeout(120_000);

  /** Builds four versions, each adding records to the last: 5, +1, +10, +1. */
  async function appends(pool: IngestPool): Promise<boolean[]> {
    const r = rng(11);
    const batch = (k: number): PackedBatch => {
      const recs: Rec[] = Array.from({ length: k }, () => ({
        key: BigInt(1 + r(1000)),
        values: [1n, BigInt(r(2)), 0n, BigInt(r(9))],
      }));
      return {
        rows: rowsOf(
          recs,
          recs.map(() => 0n),
        ),
        keep: new Uint8Array(k),
        removed: [],
      };
    };
    const reused: boolean[] = [];
    let base: Uint8Array = new Uint8Array(0);
    let baseRoot = "";
    for (const k of [5, 1, 10, 1]) {
      const v = await pool.apply({ base, baseRoot, batches: [batch(k)], depth: 8, minMaxField: 3 });
      if ("tooMany" in v) throw new Error("too many");
      reused.push(v.reusedPrevious);
      base = v.rows;
      baseRoot = v.root.toString();
    }
    return reused;
  }

  it("stops a worker that built a version above its bound, so the next build starts afresh (no kept tree)", async function () {
    const pool = new IngestPool(1, 60_000, 10);
    try {
      // the 16-record version retires its worker: the append after it has no tree to reuse
      expect(await appends(pool)).to.deep.equal([false, true, true, false]);
    } finally {
      await pool.close();
    }
    const kept = new IngestPool(1, 60_000);
    try {
      expect(await appends(kept)).to.deep.equal([false, true, true, true]);
    } finally {
      await kept.close();
    }
  });
});
