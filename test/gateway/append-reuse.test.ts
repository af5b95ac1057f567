/**
 * Issue 13 "appending reuses work" on the gateway's path for versions hashed from their rows
 * (above 2^18 records in production; here above a test-sized bound, the same code): an upload
 * that adds to a version copies the base's stored tree nodes whose leaves all lie before the
 * first changed row and hashes only the rest. Every stored level and the root must be the ones
 * a full rebuild gives, for an append at the end, an insert in the middle, a replacement by
 * identity and a removal (`recordStatus` deleted); carried-over records keep their salts.
 */
import { expect } from "chai";
import pino from "pino";
import { buildTree, randomSalt, sortRecords, treeNodeBytes } from "../../circuits/lib/tree.js";
import { IngestPool } from "../../gateway/prover/ingest-pool.js";
import { versionTree } from "../../gateway/prover/ingest-worker.js";
import { GatewayStore, type StoredVersion } from "../../gateway/store/index.js";
import { ROW_BYTES, writeRow, type PackedBatch } from "../../gateway/store/rows.js";
import { levelsFromRows, levelsToStore } from "../../gateway/store/tree-levels.js";
import { commitContext, commitUpload, type CommitContext } from "../../gateway/usecases/ingest.js";
import { qualitySchema } from "../../protocol/records/index.js";
import { tempDir } from "./helpers.js";

const DEPTH = 12;
/** The test-sized bound from which versions are hashed from their rows (2^18 + 1 in production). */
const STREAM_FROM = 64;
const OWNER = "0x" + "11".repeat(20);

type Rec = { key: bigint; values: bigint[]; id?: string };

const idOf = (k: number) => "0x" + k.toString(16).padStart(32, "0");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** A batch of records (salts are drawn by the gateway); `removed` lists identities to delete. */
function batch(recs: readonly Rec[], removed: string[] = []): PackedBatch {
  const rows = new Uint8Array(recs.length * ROW_BYTES);
  recs.forEach((r, i) => writeRow(rows, i, r, 0n));
  return { rows, keep: new Uint8Array(recs.length), removed };
}

/** Record `i` of the base: keys 1000, 1010, … (room between them), identity i + 1. */
const baseRec = (i: number): Rec => ({
  key: 1000n + 10n * BigInt(i),
  values: [1n, BigInt(i % 2), 0n, BigInt(i % 7)],
  id: idOf(i + 1),
});

describe("Appends onto a version hashed from its rows", function () {
  this.timeout(120_000);
  let store: GatewayStore;
  let pool: IngestPool;
  let ctx: CommitContext;
  let seq = 0;

  before(async function () {
    store = await GatewayStore.open(tempDir());
    pool = new IngestPool(1, 60_000, undefined, { streamFrom: STREAM_FROM });
    ctx = commitContext(store, pool, { depth: DEPTH, log: pino({ level: "silent" }) });
  });

  after(async function () {
    await pool?.close();
    await store?.close();
  });

  async function commit(batches: PackedBatch[], replace = false) {
    const r = await commitUpload(ctx, {
      assetId: 1n,
      owner: OWNER,
      schema: qualitySchema,
      replace,
      batches,
      batchHash: "0x" + (++seq).toString(16).padStart(64, "0"),
    });
    expect(r.created).to.equal(true);
    const v = (await store.getVersion("1", r.version.localId))!;
    return v;
  }

  /** The root and levels a full rebuild gives from the version's stored rows. */
  async function rebuilt(v: StoredVersion) {
    const rows = await store.versionRows(v);
    // buildTree over record objects: no stored level and no previous tree involved
    return versionTree(rows, DEPTH, 3, undefined, Infinity);
  }

  /** Commits `batches` onto a fresh 600-record base; checks the version against a rebuild. */
  async function onFreshBase(batches: PackedBatch[]) {
    const base = await commit([batch(Array.from({ length: 600 }, (_, i) => baseRec(i)))], true);
    const logged: number[] = [];
    const apply = pool.apply.bind(pool);
    pool.apply = async (req) => {
      const r = await apply(req);
      if (!("tooMany" in r)) logged.push(r.sharedLeaves);
      return r;
    };
    let v: StoredVersion;
    try {
      v = await commit(batches);
    } finally {
      pool.apply = apply;
    }
    const want = await rebuilt(v);
    const got = (await store.versionTreeLevels(v))!;
    expect(v.root).to.equal(want.root);
    expect(got.from).to.equal(want.tree.from);
    expect(hex(got.pads)).to.equal(hex(want.tree.pads));
    expect(got.levels.map(hex)).to.deep.equal(want.tree.levels.map(hex));
    const baseRows = await store.versionRows(base);
    const rows = await store.versionRows(v);
    return { shared: logged[0]!, baseRows, rows, v };
  }

  /** Row i of `rows` (96 bytes, salt and identity included) as hex. */
  const row = (rows: Uint8Array, i: number) =>
    hex(rows.subarray(i * ROW_BYTES, (i + 1) * ROW_BYTES));

  it("copies every node before an append at the end and hashes the tail, giving the rebuilt tree", async function () {
    const added = Array.from({ length: 40 }, (_, i) => ({
      key: 100_000n + BigInt(i),
      values: [1n, 0n, 0n, 3n],
      id: idOf(5000 + i),
    }));
    const { shared, baseRows, rows, v } = await onFreshBase([batch(added)]);
    expect(v.recordCount).to.equal(640);
    // all 600 base rows are shared: same bytes, salts and identities included
    expect(shared).to.equal(600);
    for (const i of [0, 299, 599]) expect(row(rows, i)).to.equal(row(baseRows, i));
  });

  it("shares the rows before an insert in the middle", async function () {
    // between base records 250 (key 3500) and 251 (3510)
    const { shared, baseRows, rows } = await onFreshBase([
      batch([{ key: 3505n, values: [1n, 1n, 0n, 2n], id: idOf(9001) }]),
    ]);
    expect(shared).to.equal(251);
    expect(row(rows, 250)).to.equal(row(baseRows, 250));
    expect(row(rows, 252)).to.equal(row(baseRows, 251));
  });

  it("shares the rows before a record replaced by identity (fresh salt)", async function () {
    const r = baseRec(400);
    const { shared, baseRows, rows, v } = await onFreshBase([
      batch([{ ...r, values: [1n, 1n, 0n, 6n] }]),
    ]);
    expect(v.recordCount).to.equal(600);
    expect(v.changes).to.deep.equal({ added: 0, replaced: 1, removed: 0 });
    expect(shared).to.equal(400);
    expect(row(rows, 400)).to.not.equal(row(baseRows, 400));
    expect(row(rows, 401)).to.equal(row(baseRows, 401));
  });

  it("shares the rows before a record removed by recordStatus deleted", async function () {
    const { shared, baseRows, rows, v } = await onFreshBase([batch([], [idOf(100)])]); // record 99
    expect(v.recordCount).to.equal(599);
    expect(v.changes).to.deep.equal({ added: 0, replaced: 0, removed: 1 });
    expect(shared).to.equal(99);
    expect(row(rows, 99)).to.equal(row(baseRows, 100));
  });

  it("rebuilds every node of a version below the bound from its kept tree as before", async function () {
    const base = await commit([batch([baseRec(0), baseRec(1)])], true);
    const v = await commit([batch([baseRec(2)])]);
    expect(v.recordCount).to.equal(3);
    expect(v.root).to.equal((await rebuilt(v)).root);
    expect(base.root).to.not.equal(v.root);
  });
});

describe("Appends after a restart onto a version below the bound", function () {
  this.timeout(120_000);

  it("copies the stored nodes before the first change instead of rehashing every leaf when the worker kept no tree (a restarted gateway), giving the rebuilt tree", async function () {
    const store = await GatewayStore.open(tempDir());
    const log = pino({ level: "silent" });
    // production bounds: 600 records are built by buildTree and kept by the worker
    let pool = new IngestPool(1, 60_000);
    try {
      const commit = async (p: IngestPool, batches: PackedBatch[], replace = false) => {
        const shared: number[] = [];
        const apply = p.apply.bind(p);
        p.apply = async (req) => {
          const r = await apply(req);
          if (!("tooMany" in r)) shared.push(r.sharedLeaves);
          return r;
        };
        const r = await commitUpload(commitContext(store, p, { depth: DEPTH, log }), {
          assetId: 1n,
          owner: OWNER,
          schema: qualitySchema,
          replace,
          batches,
          batchHash: "0x" + (replace ? "aa" : "bb").repeat(32),
        });
        p.apply = apply;
        return { v: (await store.getVersion("1", r.version.localId))!, shared: shared[0] };
      };
      const base = await commit(
        pool,
        [batch(Array.from({ length: 600 }, (_, i) => baseRec(i)))],
        true,
      );
      expect(base.shared).to.equal(0);
      await pool.close();
      pool = new IngestPool(1, 60_000); // the restart: a worker that kept nothing
      const added = Array.from({ length: 40 }, (_, i) => ({
        key: 100_000n + BigInt(i),
        values: [1n, 0n, 0n, 3n],
        id: idOf(5000 + i),
      }));
      const { v, shared } = await commit(pool, [batch(added)]);
      expect(v.recordCount).to.equal(640);
      expect(shared, "leaves whose stored nodes were copied").to.equal(600);
      const want = await versionTree(await store.versionRows(v), DEPTH, 3, undefined, Infinity);
      const got = (await store.versionTreeLevels(v))!;
      expect(v.root).to.equal(want.root);
      expect(got.levels.map(hex)).to.deep.equal(want.tree.levels.map(hex));
    } finally {
      await pool.close();
      await store.close();
    }
  });
});

describe("levelsFromRows with a shared prefix", function () {
  it("copies the shared nodes and hashes the rest into the levels of a full rebuild, for any first changed leaf and window", async function () {
    const depth = 9;
    const n0 = 300;
    const recs = Array.from({ length: n0 }, (_, i) => ({
      key: BigInt(10 + 10 * i),
      values: [1n, BigInt(i % 2), 0n, BigInt((i * 13) % 97)],
    }));
    const salts = recs.map(() => randomSalt());
    const rowsOf = (rs: Rec[], ss: bigint[]) => {
      const sorted = sortRecords(rs, ss);
      const out = new Uint8Array(rs.length * ROW_BYTES);
      sorted.records.forEach((r, i) => writeRow(out, i, r, sorted.salts[i]!));
      return out;
    };
    const before = levelsToStore(treeNodeBytes(await buildTree(recs, salts, depth))!);
    // the new data sets: insert before record d (d = 0 .. n0), or keep only records 0 .. d − 1
    // (removals at the end: the last kept leaf's next key changes), so rows 0 .. d − 1 are shared
    const cases = [0, 1, 15, 16, 17, 31, 32, 100, 255, 256, 299, 300].flatMap((d) => [
      { d, cut: false },
      ...(d > 0 && d < n0 ? [{ d, cut: true }] : []),
    ]);
    for (const { d, cut } of cases) {
      const extra = { key: BigInt(10 + 10 * d - 5), values: [1n, 1n, 0n, 5n] };
      const rs = cut ? recs.slice(0, d) : [...recs, extra];
      const ss = cut ? salts.slice(0, d) : [...salts, randomSalt()];
      const want = levelsToStore(treeNodeBytes(await buildTree(rs, ss, depth))!);
      const rows = rowsOf(rs, ss);
      for (const window of [16, 48, 1000]) {
        const hashed: number[] = [];
        const got = await levelsFromRows(
          { depth, recordCount: rs.length },
          3,
          want.pads,
          async (a, b) => {
            hashed.push(a);
            return rows.slice(a * ROW_BYTES, b * ROW_BYTES);
          },
          4,
          window,
          1,
          { tree: before, leaves: d },
        );
        const what = `${cut ? "cut at" : "insert at"} row ${d}, window ${window}`;
        expect(got.levels.map(hex), what).to.deep.equal(want.levels.map(hex));
        // nothing below the last whole block of 16 shared leaves was read or hashed
        expect(Math.min(...hashed), what).to.equal(Math.max(Math.floor(d / 16) * 16 - 1, 0));
      }
    }
  });
});
