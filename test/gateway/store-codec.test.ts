/**
 * Stored values carry the schema version of their type (`gateway/store/codec.ts`, store layout
 * 5): an older value is read upgraded by its type's migration hooks, a newer one is refused
 * naming its key and version, and a data folder of layout 4 (values without versions) opens,
 * has every value rewritten at its current version, and reads back as it was written; the
 * migration from layout 3 hashes a version's stored levels from its rows a window at a time.
 */
import { expect } from "chai";
import { Level } from "level";
import { buildTree, randomSalt, sortRecords, treeNodeBytes } from "../../circuits/lib/tree.js";
import { answeredStore } from "../../gateway/store/answered.js";
import { CODECS, StoredValueError, jsonCodec, type CodecName } from "../../gateway/store/codec.js";
import {
  GatewayStore,
  STORE_SCHEMA_VERSION,
  type Job,
  type UploadSession,
} from "../../gateway/store/index.js";
import { ROW_BYTES, encodeBatch, packRows, writeRow } from "../../gateway/store/rows.js";
import {
  levelsFromRows,
  levelsToStore,
  loadTreeSlice,
  sliceTree,
} from "../../gateway/store/tree-levels.js";
import { tempDir } from "./helpers.js";
import { toLayout4, unversionedValues } from "./legacy-layout.js";

const DEPTH = 6;

function job(id: string): Job {
  return {
    id,
    status: "queued",
    requestId: "0x" + id.padStart(64, "0"),
    consumer: "0x00000000000000000000000000000000000000aa",
    grantId: "1",
    assetId: "7",
    versionId: "18446744073709551617",
    root: "123",
    circuit: "range_d4",
    query: { kind: 0, lo: "1", hi: "9" },
    policy: { aggregateMask: 1, minCohort: 2, thresholds: "5" },
    binding: "1",
    blind: "2",
    createdAt: 1000,
    updatedAt: 1000,
  };
}

function session(sessionId: string): UploadSession {
  return {
    assetId: "7",
    sessionId,
    owner: "0x00000000000000000000000000000000000000bb",
    replace: false,
    chunkCount: 2,
    records: 0,
    bytes: 0,
    createdAt: 2000,
    updatedAt: 2500,
  };
}

/** Stores a version of one record (asset 7); returns it and its rows. */
async function oneRecordVersion(store: GatewayStore) {
  const rows = packRows([{ key: 5n, values: [1n, 0n, 0n, 3n] }], [11n]);
  const v = await store.putVersion({
    assetId: "7",
    schemaId: "s",
    batchHash: "0x01",
    root: "77",
    depth: DEPTH,
    recordCount: 1,
    rows,
    createdAt: 1,
  });
  return { v, rows };
}

/** Writes raw values (already in their stored form) into sublevels of a closed store folder. */
async function putRaw(
  dir: string,
  entries: { sublevel: string; key: string; value: string | Uint8Array }[],
): Promise<void> {
  const db = new Level<string, string>(dir);
  await db.open();
  try {
    for (const e of entries) {
      const binary = typeof e.value !== "string";
      await db
        .sublevel<string, string | Uint8Array>(e.sublevel, {
          valueEncoding: binary ? "view" : "utf8",
        })
        .put(e.key, e.value);
    }
  } finally {
    await db.close();
  }
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "expected a rejection").to.be.instanceOf(Error);
  return e as Error;
}

describe("GatewayStore value codecs", function () {
  describe("a value of an older schema version", function () {
    it("is read upgraded through every hook from its version to the current one", function () {
      // a type at version 3: each hook adds its step, so the path a value took is visible
      const codec = jsonCodec<{ steps: number[] }>("test value", 3, {
        0: (o) => ({ steps: [...(o as { steps: number[] }).steps, 1] }),
        1: (o) => ({ steps: [...(o as { steps: number[] }).steps, 2] }),
        2: (o) => ({ steps: [...(o as { steps: number[] }).steps, 3] }),
      });
      expect(codec.decode("t/a", JSON.stringify({ steps: [] }))).to.deep.equal({
        steps: [1, 2, 3],
      });
      expect(codec.decode("t/b", JSON.stringify({ v: 2, d: { steps: [] } }))).to.deep.equal({
        steps: [3],
      });
      expect(codec.decode("t/c", codec.encode({ steps: [9] }))).to.deep.equal({ steps: [9] });
      expect(JSON.parse(codec.encode({ steps: [] }))).to.deep.equal({ v: 3, d: { steps: [] } });
      expect(() => jsonCodec("broken", 2, { 0: (o) => o })).to.throw(
        "broken: no migration hook from version 1",
      );
    });

    it("is read upgraded from the store: a job without thresholds, a session without updatedAt, a chunk without its version byte", async function () {
      const dir = tempDir();
      let store = await GatewayStore.open(dir);
      const { v, rows } = await oneRecordVersion(store);
      await store.close();
      const { thresholds: _t, ...oldPolicy } = job("j").policy;
      const { updatedAt: _u, ...oldSession } = session("0xab");
      await putRaw(dir, [
        // as gateways before versions wrote them (version 0: plain JSON, bare rows)
        { sublevel: "jobs", key: "j", value: JSON.stringify({ ...job("j"), policy: oldPolicy }) },
        { sublevel: "sessions", key: "7!0xab", value: JSON.stringify(oldSession) },
        { sublevel: "chunks", key: `7!${v.chunkIds![0]}`, value: rows },
      ]);
      store = await GatewayStore.open(dir);
      try {
        expect(await store.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
        expect((await store.getJob("j"))!.policy).to.deep.equal({ ...oldPolicy, thresholds: "" });
        expect(await store.getSession("7", "0xAB")).to.deep.equal({
          ...oldSession,
          updatedAt: oldSession.createdAt,
        });
        expect(await store.versionRows(v)).to.deep.equal(rows);
      } finally {
        await store.close();
      }
    });
  });

  describe("a value of a newer schema version", function () {
    it("is refused on read with an error naming its sublevel, key and version", async function () {
      const dir = tempDir();
      let store = await GatewayStore.open(dir);
      await store.acceptQuery(job("j"), 1n);
      const { v, rows } = await oneRecordVersion(store);
      await store.close();
      const future = new Uint8Array(rows.length + 1);
      future[0] = 9;
      future.set(rows, 1);
      await putRaw(dir, [
        { sublevel: "jobs", key: "j", value: JSON.stringify({ v: 2, d: job("j") }) },
        { sublevel: "chunks", key: `7!${v.chunkIds![0]}`, value: future },
        // not a row chunk at all: 95 bytes
        { sublevel: "chunks", key: "7!torn", value: rows.subarray(1) },
      ]);
      store = await GatewayStore.open(dir);
      try {
        const e = await rejection(store.getJob("j"));
        expect(e).to.be.instanceOf(StoredValueError);
        expect(e.message).to.equal(
          `stored value jobs/j (job) is of schema version 2, newer than this gateway's ${CODECS.jobs.version}: run a gateway that knows it, or restore a backup this gateway wrote`,
        );
        const c = await rejection(store.versionRows(v));
        expect(c.message).to.include(
          `stored value chunks/7!${v.chunkIds![0]} (row chunk) is of schema version 9, newer than this gateway's 1`,
        );
        expect((await rejection(store.allJobs())).message).to.include("jobs/j");
        expect(
          CODECS.chunks.decode.bind(CODECS.chunks, "chunks/7!torn", rows.subarray(1)),
        ).to.throw(
          StoredValueError,
          "stored value chunks/7!torn is not a row chunk: its 95 bytes are not whole 96-byte rows",
        );
      } finally {
        await store.close();
      }
    });

    it("stops the migration of a layout-4 folder at open, naming the value", async function () {
      const dir = tempDir();
      const store = await GatewayStore.open(dir);
      await store.acceptQuery(job("j"), 1n);
      await store.close();
      await toLayout4(dir);
      await putRaw(dir, [{ sublevel: "outbox", key: "1!0x01", value: '{"v":7,"d":{}}' }]);
      const e = await rejection(GatewayStore.open(dir));
      expect(e).to.be.instanceOf(StoredValueError);
      expect(e.message).to.include(
        "stored value outbox/1!0x01 (outbox entry) is of schema version 7",
      );
    });
  });

  describe("a data folder of layout 4", function () {
    it("opens, gets every value rewritten at its type's version (resuming a stopped migration), and reads back as written", async function () {
      const dir = tempDir();
      let store = await GatewayStore.open(dir);
      const records = Array.from({ length: 40 }, (_, i) => ({
        key: BigInt(1 + 3 * i),
        values: [1n, BigInt(i % 2), 0n, BigInt(i)] as [bigint, bigint, bigint, bigint],
      }));
      const salts = records.map(() => randomSalt());
      const tree = await buildTree(records, salts, DEPTH, { minMaxField: 3 });
      const sorted = sortRecords(records, salts);
      const rows = new Uint8Array(records.length * ROW_BYTES);
      sorted.records.forEach((r, i) => writeRow(rows, i, r, sorted.salts[i]!));
      const v = await store.putVersion(
        {
          assetId: "7",
          schemaId: "s",
          batchHash: "0x01",
          root: tree.root.toString(),
          depth: DEPTH,
          recordCount: records.length,
          rows,
          createdAt: 1,
          tree: levelsToStore(treeNodeBytes(tree)!, 2),
        },
        "0xowner",
      );
      await store.acceptQuery(job("j"), 42n);
      const proved = await store.storeProved(
        "j",
        { answer: { resultValue: "40", resultAux: "0" } },
        {
          grantId: "1",
          requestId: job("j").requestId,
          jobId: "j",
          attempts: 0,
          nextAttemptAt: 0,
          createdAt: 3,
        },
      );
      const s = session("0xcd");
      await store.putSession(s);
      const chunk = new Uint8Array([
        ...new Uint8Array(32).fill(7),
        ...encodeBatch({
          rows: rows.subarray(0, 2 * ROW_BYTES),
          keep: new Uint8Array(2),
          removed: [],
        }),
      ]);
      const afterChunk = await store.putSessionChunk(s, 0, chunk, 2, 100);
      await answeredStore(store).add("7", job("j").consumer, "j", {
        versionId: "1",
        root: tree.root.toString(),
        lo: "1",
        hi: "9",
        predicates: [],
      });
      await store.recordRefusal(
        {
          requestId: "0x02",
          grantId: "1",
          consumer: job("j").consumer,
          assetId: "7",
          versionId: "1",
          query: { kind: 0 },
          code: "COHORT_BELOW_K",
          at: 4,
        },
        43n,
      );
      await store.markPublished(tree.root.toString(), "18446744073709551617");
      await store.close();
      const written = await unversionedValues(dir);
      expect(written.off).to.deep.equal([]);

      // layout 4, except the jobs a stopped migration had rewritten already
      const keep: CodecName[] = ["jobs"];
      const rewritten = await toLayout4(dir, keep);
      expect(rewritten).to.be.greaterThan(10);
      const before = await unversionedValues(dir);
      expect(before.off).to.have.length(rewritten);
      expect(before.off.filter((x) => x.startsWith("jobs/"))).to.deep.equal([]);

      store = await GatewayStore.open(dir);
      try {
        expect(await store.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
        const got = (await store.getVersion("7", v.localId))!;
        expect(got).to.deep.equal(v);
        expect(await store.versionRows(got)).to.deep.equal(rows);
        const t = sliceTree(
          await loadTreeSlice(
            { ...got, treeLevelsFrom: got.treeLevelsFrom! },
            3,
            [5, 6],
            store.treeSource(got),
          ),
        );
        expect(t.root).to.equal(tree.root);
        expect(t.path(5)).to.deep.equal(tree.path(5));
        expect(await store.getJob("j")).to.deep.equal(proved);
        expect((await store.listOutbox()).map((e) => e.jobId)).to.deep.equal(["j"]);
        expect(await store.isNonceUsed(job("j").consumer, 42n)).to.equal(true);
        expect(await store.jobOfRequest("1", job("j").requestId)).to.equal("j");
        expect(await store.getSession("7", "0xcd")).to.deep.equal(afterChunk);
        const chunks = [];
        for await (const c of store.sessionChunkValues("7", "0xcd")) chunks.push(c);
        expect(chunks).to.deep.equal([chunk]);
        expect(await answeredStore(store).of("7", job("j").consumer)).to.have.length(1);
        expect((await store.allRefusals()).map((r) => r.code)).to.deep.equal(["COHORT_BELOW_K"]);
        expect(await store.refusalCount("1")).to.equal(1);
        expect(await store.isPublished(tree.root.toString())).to.equal(true);
        expect(await store.versionsOfOwner("0xowner")).to.equal(1);
        expect((await store.getVersionByRoot(tree.root))!.localId).to.equal(v.localId);
      } finally {
        await store.close();
      }
      const after = await unversionedValues(dir);
      expect(after.off).to.deep.equal([]);
      expect(after.checked).to.equal(before.checked);
    });
  });
});

describe("levelsFromRows", function () {
  it("hashes, a window of rows at a time, the same levels and pads as the tree build", async function () {
    for (const [n, depth, from, window] of [
      [0, 4, 2, 4],
      [1, 4, 4, 4],
      [37, 7, 2, 8],
      [300, 9, 4, 16],
      [300, 9, 3, 50],
      [254, 8, 4, 1000],
    ] as const) {
      const records = Array.from({ length: n }, (_, i) => ({
        key: BigInt(1 + ((i * 7) % (2 * n + 1))),
        values: [1n, BigInt(i % 2), BigInt(i % 5), BigInt((i * 13) % 97)] as [
          bigint,
          bigint,
          bigint,
          bigint,
        ],
      }));
      const salts = records.map(() => randomSalt());
      const tree = await buildTree(records, salts, depth, { minMaxField: 3 });
      const sorted = sortRecords(records, salts);
      const rows = new Uint8Array(n * ROW_BYTES);
      sorted.records.forEach((r, i) => writeRow(rows, i, r, sorted.salts[i]!));
      const want = levelsToStore(treeNodeBytes(tree)!, from);
      const reads: [number, number][] = [];
      const got = await levelsFromRows(
        { depth, recordCount: n },
        3,
        want.pads,
        async (a, b) => {
          reads.push([a, b]);
          return rows.slice(a * ROW_BYTES, b * ROW_BYTES);
        },
        from,
        window,
      );
      const what = `${n} records, depth ${depth}, from ${from}, window ${window}`;
      expect(got.from, what).to.equal(want.from);
      expect(got.levels, what).to.deep.equal(want.levels);
      // each read is one window (and the record after it), never every row at once
      const width = Math.ceil(window / 2 ** from) * 2 ** from;
      for (const [a, b] of reads) expect(b - a, what).to.be.at.most(width + 1);
    }
  });
});
