/**
 * The store's version layout: rows in chunks keyed by version (metadata apart), reads of a part
 * of a version, range statistics over only the chunks of a range, and the migration of a store
 * written with one JSON value per version (layout 1).
 */
import { expect } from "chai";
import { Level } from "level";
import { GatewayStore, STORE_SCHEMA_VERSION } from "../../gateway/store/index.js";
import { CHUNK_ROWS, packRows, readRow, rowCount } from "../../gateway/store/rows.js";
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
      const n = 2 * CHUNK_ROWS + 17;
      const recs = records(n);
      const salts = recs.map((_, i) => BigInt(1000 + i));
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
      expect((await store.counts()).rows).to.equal(3);
      expect(v.chunkFirstKeys).to.deep.equal([
        "1",
        String(CHUNK_ROWS + 1),
        String(2 * CHUNK_ROWS + 1),
      ]);
      const part = await store.versionRows(v, CHUNK_ROWS - 2, CHUNK_ROWS + 3);
      expect(rowCount(part)).to.equal(5);
      const r = readRow(part, 2);
      expect([r.key, r.values, r.salt, r.id]).to.deep.equal([
        BigInt(CHUNK_ROWS + 1),
        recs[CHUNK_ROWS]!.values,
        BigInt(1000 + CHUNK_ROWS),
        recs[CHUNK_ROWS]!.id,
      ]);
      // a range inside the second chunk, and one across the chunk boundary
      for (const [lo, hi] of [
        [5000n, 5100n],
        [BigInt(CHUNK_ROWS - 10), BigInt(CHUNK_ROWS + 10)],
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
});
