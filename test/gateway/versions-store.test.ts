/**
 * The store's version layout: rows in chunks keyed by version (metadata apart), reads of a part
 * of a version, range statistics over only the chunks of a range, and the migration of a store
 * written with one JSON value per version (layout 1).
 */
import { expect } from "chai";
import { Level } from "level";
import { GatewayStore, STORE_SCHEMA_VERSION } from "../../gateway/store/index.js";
import {
  CHUNK_MAX_ROWS,
  CHUNK_MIN_ROWS,
  CHUNK_ROWS,
  ROW_BYTES,
  packRows,
  readRow,
  rowCount,
} from "../../gateway/store/rows.js";
import { randomSalt } from "../../circuits/lib/tree.js";
import type { MappedRecord } from "../../protocol/records/index.js";
import { tempDir } from "./helpers.js";

/** `n` records with increasing keys (key i + 1, values [1, i % 2, 0, i]). */
function records(n: number): MappedRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: BigInt(i + 1),
    values: [1n, BigInt(i % 2), 0n, BigInt(i)] as [bigint, bigint, bigint, bigint],
    ...(i % 3 === 0 ? { id: "0x" + (i + 1).toString(16).padStart(32, "0") } : {}),
  }));
}

describe("GatewayStore versions", function () {
  it("stores a version's rows in chunks and reads back any part of them", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      const n = 8 * CHUNK_ROWS + 17;
      const recs = records(n);
      const salts = recs.map(() => randomSalt());
      const v = await store.putVersion({
        assetId: "3",
        schemaId: "s",
        batchHash: "0x01",
        root: "42",
        depth: 20,
        recordCount: n,
        rows: packRows(recs, salts),
        createdAt: 1,
        base: 0,
        changes: { added: n, replaced: 0, removed: 0 },
      });
      const starts = v.chunkStarts!;
      expect(starts.length).to.be.greaterThan(2);
      expect((await store.counts()).chunks).to.equal(starts.length);
      expect(v.chunkIds).to.have.length(starts.length);
      expect(v.chunkFirstKeys).to.deep.equal(starts.map((a) => String(a + 1)));
      for (const [c, a] of starts.entries()) {
        const size = (starts[c + 1] ?? n) - a;
        if (c < starts.length - 1) expect(size).to.be.at.least(CHUNK_MIN_ROWS);
        expect(size).to.be.at.most(CHUNK_MAX_ROWS);
      }
      const b = starts[1]!;
      const part = await store.versionRows(v, b - 2, b + 3);
      expect(rowCount(part)).to.equal(5);
      const r = readRow(part, 2);
      expect([r.key, r.values, r.salt, r.id]).to.deep.equal([
        BigInt(b + 1),
        recs[b]!.values,
        salts[b],
        recs[b]!.id,
      ]);
      expect(await store.versionRows(v)).to.deep.equal(packRows(recs, salts));
      // a range inside the second chunk, and one across the chunk boundary
      for (const [lo, hi] of [
        [BigInt(b + 5), BigInt(b + 60)],
        [BigInt(b - 10), BigInt(b + 10)],
        [0n, BigInt(n + 5)],
      ] as const) {
        const st = await store.rangeStats(v, lo, hi, (values) => values[1] === 1n);
        const inRange = recs.filter((x) => x.key >= lo && x.key <= hi);
        const matching = inRange.filter((x) => x.values[1] === 1n);
        expect(st.count, `${lo}..${hi}`).to.equal(matching.length);
        expect(st.sums[3]).to.equal(matching.reduce((s, x) => s + x.values[3], 0n));
        expect(st.a).to.equal(recs.filter((x) => x.key < lo).length);
        expect(st.l).to.equal(recs.filter((x) => x.key <= hi).length);
      }
      expect((await store.latestVersion("3"))!.localId).to.equal(1);
      expect(await store.latestVersion("4")).to.equal(undefined);
    } finally {
      await store.close();
    }
  });

  it("migrates a store of layout 1 (records and salts as one JSON value per version) at open", async function () {
    const dir = tempDir();
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
    const old = {
      assetId: "1",
      localId: 1,
      schemaId: "s",
      batchHash: "0x02",
      root: "77",
      depth: 4,
      recordCount: 2,
      records: [
        ["5", "1", "0", "0", "3"],
        ["9", "1", "1", "0", "4"],
      ],
      salts: ["11", "12"],
      createdAt: 5,
    };
    await db
      .sublevel<string, unknown>("versions", { valueEncoding: "json" })
      .put("1!0000000001", old);
    await db
      .sublevel<string, unknown>("byRoot", { valueEncoding: "json" })
      .put("77", "1!0000000001");
    await db.close();

    const store = await GatewayStore.open(dir);
    try {
      expect(await store.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
      const v = (await store.getVersionByRoot("77"))!;
      expect(v).to.not.have.property("records");
      expect(v).to.not.have.property("salts");
      expect(await store.versionData(v)).to.deep.equal({ records: old.records, salts: old.salts });
      expect((await store.rangeStats(v, 6n, 100n)).sums[3]).to.equal(4n);
    } finally {
      await store.close();
    }
  });

  it("shares the chunks an appended version did not change, and deletes only chunks no version lists", async function () {
    const store = await GatewayStore.open(tempDir());
    try {
      // keys 1000, 2000, …; the append inserts 40 records at 4 places between them
      const n = 20_000;
      const base = records(n).map((r, i) => ({ ...r, key: BigInt(i + 1) * 1000n }));
      const baseSalts = base.map(() => randomSalt());
      const added = [1_000, 7_000, 7_001, 15_000].flatMap((at) =>
        Array.from({ length: 10 }, (_, j) => ({
          key: BigInt(at) * 1000n + BigInt(j + 1),
          values: [1n, 0n, 0n, 9n] as [bigint, bigint, bigint, bigint],
        })),
      );
      const merged = [
        ...base.map((r, i) => ({ r, s: baseSalts[i]! })),
        ...added.map((r) => ({ r, s: randomSalt() })),
      ].sort((x, y) => (x.r.key < y.r.key ? -1 : 1));
      const put = (localRows: Uint8Array, root: string, count: number) =>
        store.putVersion(
          {
            assetId: "7",
            schemaId: "s",
            batchHash: `0x${root}`,
            root,
            depth: 20,
            recordCount: count,
            rows: localRows,
            createdAt: 1,
          },
          "0xabc",
        );
      const rows1 = packRows(base, baseSalts);
      const rows2 = packRows(
        merged.map((m) => m.r),
        merged.map((m) => m.s),
      );
      const v1 = await put(rows1, "101", n);
      const v2 = await put(rows2, "102", merged.length);
      const ids1 = new Set(v1.chunkIds);
      const shared = v2.chunkIds!.filter((id) => ids1.has(id)).length;
      // each insertion point changes its chunk (and at most the next one)
      expect(shared).to.be.at.least(v1.chunkIds!.length - 8);
      const distinct = new Set([...v1.chunkIds!, ...v2.chunkIds!]).size;
      expect((await store.counts()).chunks).to.equal(distinct);
      expect(distinct).to.be.lessThan(v1.chunkIds!.length + v2.chunkIds!.length - 10);
      expect(await store.versionRows(v1)).to.deep.equal(rows1);
      expect(await store.versionRows(v2)).to.deep.equal(rows2);
      expect(await store.versionsOfOwner("0xabc")).to.equal(2);

      // deleting the first version keeps every chunk of the second
      expect(await store.deleteVersion("7", v1.localId, "0xabc")).to.equal(true);
      expect(await store.getVersion("7", v1.localId)).to.equal(undefined);
      expect(await store.getVersionByRoot("101")).to.equal(undefined);
      expect(await store.findVersionByBatch("7", "0x101")).to.equal(undefined);
      expect(await store.versionsOfOwner("0xabc")).to.equal(1);
      expect((await store.counts()).chunks).to.equal(new Set(v2.chunkIds).size);
      expect(await store.versionRows((await store.getVersionByRoot("102"))!)).to.deep.equal(rows2);
      // a version with the first's rows again reuses the second's chunks and stores the rest
      const v3 = await put(rows1, "103", n);
      expect(await store.versionRows(v3)).to.deep.equal(rows1);
      expect((await store.counts()).chunks).to.equal(distinct);
      expect(await store.deleteVersion("7", v2.localId)).to.equal(true);
      expect(await store.deleteVersion("7", v3.localId)).to.equal(true);
      expect(await store.deleteVersion("7", v3.localId)).to.equal(false);
      expect((await store.counts()).chunks).to.equal(0);
    } finally {
      await store.close();
    }
  });

  it("migrates a store of layout 2 (fixed chunks of rows per version) at open, sharing the chunks versions have in common", async function () {
    const dir = tempDir();
    const n = 9_000;
    const recs = records(n);
    const salts = recs.map(() => randomSalt());
    const rows1 = packRows(recs, salts);
    const more = records(n + 300).slice(n);
    const rows2 = packRows([...recs, ...more], [...salts, ...more.map(() => randomSalt())]);
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
    const versions = db.sublevel<string, unknown>("versions", { valueEncoding: "json" });
    const oldRows = db.sublevel<string, Uint8Array>("rows", { valueEncoding: "view" });
    const fixed = 4096;
    for (const [k, rows] of [rows1, rows2].entries()) {
      const ref = `1!${String(k + 1).padStart(10, "0")}`;
      const count = rowCount(rows);
      const firsts: string[] = [];
      for (let c = 0; c * fixed < count; c++) {
        firsts.push(String(c * fixed + 1));
        const part = rows.subarray(c * fixed * ROW_BYTES, (c + 1) * fixed * ROW_BYTES);
        await oldRows.put(`${ref}!${String(c).padStart(8, "0")}`, part);
      }
      await versions.put(ref, {
        assetId: "1",
        localId: k + 1,
        schemaId: "s",
        batchHash: `0x0${k}`,
        root: String(80 + k),
        depth: 20,
        recordCount: count,
        createdAt: 5,
        chunkFirstKeys: firsts,
      });
      await db
        .sublevel<string, unknown>("byRoot", { valueEncoding: "json" })
        .put(String(80 + k), ref);
    }
    await db
      .sublevel<string, unknown>("settings", { valueEncoding: "json" })
      .put("schemaVersion", "2");
    await db.close();

    const store = await GatewayStore.open(dir);
    try {
      expect(await store.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
      const counts = await store.counts();
      expect(counts.rows, "the layout-2 rows are deleted").to.equal(0);
      const v1 = (await store.getVersionByRoot("80"))!;
      const v2 = (await store.getVersionByRoot("81"))!;
      expect(await store.versionRows(v1)).to.deep.equal(rows1);
      expect(await store.versionRows(v2)).to.deep.equal(rows2);
      const distinct = new Set([...v1.chunkIds!, ...v2.chunkIds!]).size;
      expect(counts.chunks).to.equal(distinct);
      expect(distinct).to.be.lessThan(v1.chunkIds!.length + v2.chunkIds!.length - 2);
      expect((await store.rangeStats(v2, BigInt(n + 1), BigInt(n + 300))).count).to.equal(300);
    } finally {
      await store.close();
    }
  });
});
