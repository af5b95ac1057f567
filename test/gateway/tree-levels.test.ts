/**
 * The stored levels of a version's tree (store layout 4, `gateway/store/tree-levels.ts`): the
 * witnesses built from the nodes a query or an audit loads equal those built from the tree
 * rebuilt from every row, on random data sets (duplicate keys, an appended version, several
 * stored-from levels); deleting a version sweeps its nodes; a layout-3 store gets its levels
 * at open.
 */
import { expect } from "chai";
import { Level } from "level";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import type { Query } from "../../circuits/lib/query.js";
import {
  buildTree,
  randomSalt,
  sortRecords,
  treeNodeBytes,
  type MerkleSumTree,
  type TreeRecord,
} from "../../circuits/lib/tree.js";
import { auditWitness, rangeWitness, scanWitness } from "../../circuits/lib/witness.js";
import {
  GatewayStore,
  STORE_SCHEMA_VERSION,
  type StoredVersion,
} from "../../gateway/store/index.js";
import { readRow, ROW_BYTES, writeRow } from "../../gateway/store/rows.js";
import {
  levelsToStore,
  loadTreeSlice,
  sliceTree,
  type TreeSlice,
} from "../../gateway/store/tree-levels.js";
import { prng as rng } from "../../scripts/lib/bench/common.js";
import { tempDir } from "./helpers.js";

const DEPTH = 6;
const M = 3;
const POLICY: Policy = {
  aggregateMask: 0x7f,
  fieldMask: 0xf,
  filterMask: 0xf,
  keyLo: 1n,
  keyHi: (1n << 128n) - 2n,
  minCohort: 1,
};

/** `n` records with keys in 1..3n (duplicates likely) and small values. */
function randomRecords(r: () => number, n: number): TreeRecord[] {
  const int = (k: number) => Math.floor(r() * k);
  return Array.from({ length: n }, () => ({
    key: BigInt(1 + int(3 * n)),
    values: [1n, BigInt(int(2)), BigInt(int(5)), BigInt(int(1000))],
  }));
}

/** The rows of a built tree's records in tree order. */
function rowsOf(records: readonly TreeRecord[], salts: readonly bigint[]): Uint8Array {
  const sorted = sortRecords(records, salts);
  const rows = new Uint8Array(records.length * ROW_BYTES);
  sorted.records.forEach((rec, i) => writeRow(rows, i, rec, sorted.salts[i]!));
  return rows;
}

async function putVersion(
  store: GatewayStore,
  tree: MerkleSumTree,
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  from: number | undefined,
): Promise<StoredVersion> {
  return store.putVersion({
    assetId: "7",
    schemaId: "s",
    batchHash: `0x${randomSalt().toString(16)}`,
    root: tree.root.toString(),
    depth: DEPTH,
    recordCount: records.length,
    rows: rowsOf(records, salts),
    createdAt: 1,
    ...(from === undefined ? {} : { tree: levelsToStore(treeNodeBytes(tree)!, from) }),
  });
}

function query(lo: bigint, hi: bigint, kind = AggregateKind.Sum): Query {
  return {
    kind,
    fieldA: kind === AggregateKind.Max ? 3 : 1,
    fieldB: 0,
    lo,
    hi,
    threshold: 0n,
    nonce: 5n,
  };
}

/** The witness `build` gives over `full`, or its error's message. */
function outcome(build: (t: MerkleSumTree) => unknown, t: MerkleSumTree): unknown {
  try {
    return build(t);
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
}

/** Loads the slice of `leaves` from the store. */
async function slice(store: GatewayStore, v: StoredVersion, leaves: number[]): Promise<TreeSlice> {
  return loadTreeSlice({ ...v, treeLevelsFrom: v.treeLevelsFrom! }, M, leaves, store.treeSource(v));
}

/**
 * Checks range, scan (h = 1) and audit witnesses built from stored nodes against those of the
 * full tree, for `tries` random queries and leaves.
 */
async function compareWitnesses(
  store: GatewayStore,
  v: StoredVersion,
  full: MerkleSumTree,
  r: () => number,
  tries: number,
): Promise<number> {
  const maxKey = BigInt(3 * v.recordCount + 2);
  let nonEmpty = 0;
  for (let t = 0; t < tries; t++) {
    let lo = 1n + BigInt(Math.floor(r() * Number(maxKey)));
    let hi = 1n + BigInt(Math.floor(r() * Number(maxKey)));
    if (hi < lo) [lo, hi] = [hi, lo];
    const kind = t % 2 === 0 ? AggregateKind.Sum : AggregateKind.Max;
    const q = query(lo, hi, kind);
    const a = await store.leafBelow(v, lo);
    const l = await store.leafBelow(v, hi + 1n);
    expect([a, l], `boundary leaves of [${lo}, ${hi}]`).to.deep.equal([
      full.leafCount === 0 ? 0 : leafBelowIn(full, lo),
      leafBelowIn(full, hi + 1n),
    ]);
    const range = (tr: MerkleSumTree) => rangeWitness(tr, q, POLICY, 11n, 12n).input;
    const want = outcome(range, full);
    if (typeof want !== "string") nonEmpty += 1;
    const got = outcome(range, sliceTree(await slice(store, v, [a, l])));
    expect(got, `range [${lo}, ${hi}]`).to.deep.equal(want);
    // a scan window of 4 leaves (h = 1) holding the range, when it fits
    const scan = (tr: MerkleSumTree) => scanWitness(tr, 1, q, POLICY, 11n, 12n).input;
    const scanWant = outcome(scan, full);
    const first = Math.max(0, Math.min(Math.floor(a / 2), 2 ** (DEPTH - 1) - 2)) * 2;
    const scanGot = outcome(
      scan,
      sliceTree(await slice(store, v, [a, l, first, first + 1, first + 2, first + 3])),
    );
    expect(scanGot, `scan [${lo}, ${hi}]`).to.deep.equal(scanWant);
    // an audit of a random leaf (records, sentinel or padding)
    const i = Math.floor(r() * (2 ** DEPTH - 1));
    const audit = (tr: MerkleSumTree) => auditWitness(tr, i, 99n).input;
    expect(audit(sliceTree(await slice(store, v, [i, i + 1]))), `audit leaf ${i}`).to.deep.equal(
      audit(full),
    );
  }
  return nonEmpty;
}

/** The last leaf of `tree` whose key is below `key`, the plain way. */
function leafBelowIn(tree: MerkleSumTree, key: bigint): number {
  let i = 0;
  while (i + 1 <= tree.leafCount && tree.keyAt(i + 1) < key) i++;
  return i;
}

describe("Stored tree levels", function () {
  this.timeout(120_000);

  it("gives the witnesses of the rebuilt tree from the nodes a query loads, on random data sets and an appended version", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      let nonEmpty = 0;
      for (const [seed, from] of [
        [1, 4],
        [2, 1],
        [3, 0],
        [4, 6],
      ] as const) {
        const r = rng(seed);
        const n = 1 + Math.floor(r() * 40);
        const records = randomRecords(r, n);
        const salts = records.map(() => randomSalt());
        const full = await buildTree(records, salts, DEPTH, { minMaxField: M });
        const v = await putVersion(store, full, records, salts, from);
        expect(v.treeLevelsFrom).to.equal(Math.min(from, DEPTH));
        nonEmpty += await compareWitnesses(store, v, full, r, 6);
        // an appended version: the records carried over keep their salts
        const more = randomRecords(r, 1 + Math.floor(r() * 20));
        const records2 = [...records, ...more];
        const salts2 = [...salts, ...more.map(() => randomSalt())];
        const full2 = await buildTree(records2, salts2, DEPTH, { minMaxField: M, previous: full });
        const v2 = await putVersion(store, full2, records2, salts2, from);
        nonEmpty += await compareWitnesses(store, v2, full2, r, 6);
      }
      expect(nonEmpty, "some ranges hold records").to.be.greaterThan(10);
    } finally {
      await store.close();
    }
  });

  it("refuses to serve a node the slice did not load", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      const r = rng(9);
      const records = randomRecords(r, 40);
      const salts = records.map(() => randomSalt());
      const full = await buildTree(records, salts, DEPTH, { minMaxField: M });
      const v = await putVersion(store, full, records, salts, 2);
      const t = sliceTree(await slice(store, v, [1]));
      expect(t.root).to.equal(full.root);
      expect(() => t.node(0, 40)).to.throw(/not in the loaded slice/);
      expect(() => t.leaf(40)).to.throw(/not in the loaded slice/);
    } finally {
      await store.close();
    }
  });

  it("names the leaves whose rows do not hash to the stored level above them (a changed record)", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      const r = rng(11);
      const records = randomRecords(r, 20);
      const salts = records.map(() => randomSalt());
      const full = await buildTree(records, salts, DEPTH, { minMaxField: M });
      const v = await putVersion(store, full, records, salts, 2);
      // the rows as a lying store would give them: record 5 (leaf 6) with another first value
      const honest = store.treeSource(v);
      const lying = {
        ...honest,
        rows: async (from: number, to: number) => {
          const rows = await honest.rows(from, to);
          if (from <= 5 && 5 < to) {
            const rec = readRow(rows, 5 - from);
            const changed = { ...rec, values: [rec.values[0]! + 1n, ...rec.values.slice(1)] };
            writeRow(rows, 5 - from, changed, rec.salt);
          }
          return rows;
        },
      };
      const shape = { ...v, treeLevelsFrom: v.treeLevelsFrom! };
      let err: Error | undefined;
      await loadTreeSlice(shape, M, [6], lying).catch((e: Error) => (err = e));
      expect(err?.message).to.equal(
        "the records do not rebuild the root: leaves 4..7 hash to another node than the one stored at level 2",
      );
      // a leaf of another block reads other rows and loads
      expect(sliceTree(await loadTreeSlice(shape, M, [13], lying)).root).to.equal(full.root);
    } finally {
      await store.close();
    }
  });

  it("sweeps a deleted version's nodes and keeps the other version's", async function () {
    const dir = tempDir();
    const store = await GatewayStore.open(dir);
    try {
      const r = rng(21);
      const records = randomRecords(r, 60);
      const salts = records.map(() => randomSalt());
      const full = await buildTree(records, salts, DEPTH, { minMaxField: M });
      const v1 = await putVersion(store, full, records, salts, 1);
      const one = (await store.counts()).treeNodes!;
      expect(one).to.be.greaterThan(1);
      const more = randomRecords(r, 2);
      const salts2 = [...salts, randomSalt(), randomSalt()];
      const tree2 = await buildTree([...records, ...more], salts2, DEPTH, { minMaxField: M });
      const v3 = await putVersion(store, tree2, [...records, ...more], salts2, 1);
      expect((await store.counts()).treeNodes).to.be.greaterThan(one);
      expect(await store.deleteVersion("7", v1.localId)).to.equal(true);
      expect((await store.counts()).treeNodes, "only the remaining version's nodes").to.equal(one);
      const t = sliceTree(await slice(store, v3, [3, 4]));
      expect(t.path(3)).to.deep.equal(tree2.path(3));
      expect(await store.deleteVersion("7", v3.localId)).to.equal(true);
      expect((await store.counts()).treeNodes).to.equal(0);
    } finally {
      await store.close();
    }
  });

  it("stores the levels of a layout-3 store's versions at open, and again after a stop half-way", async function () {
    const dir = tempDir();
    let store = await GatewayStore.open(dir);
    const r = rng(33);
    const trees: { full: MerkleSumTree; localId: number }[] = [];
    // version 1 as a migration stopped after it left it, version 2 as layout 3 stored it
    for (let k = 0; k < 2; k++) {
      const records = randomRecords(r, 30 + k);
      const salts = records.map(() => randomSalt());
      const full = await buildTree(records, salts, DEPTH, { minMaxField: M });
      const v = await putVersion(store, full, records, salts, k === 0 ? 4 : undefined);
      trees.push({ full, localId: v.localId });
    }
    const before = (await store.counts()).treeNodes!;
    expect(before).to.be.greaterThan(0);
    await store.close();
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
    await db
      .sublevel<string, unknown>("settings", { valueEncoding: "json" })
      .put("schemaVersion", "3");
    await db.close();
    store = await GatewayStore.open(dir);
    try {
      expect(await store.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
      expect(STORE_SCHEMA_VERSION).to.be.at.least(4);
      expect((await store.counts()).treeNodes).to.equal(2 * before);
      for (const { full, localId } of trees) {
        const v = (await store.getVersion("7", localId))!;
        expect(v.treeLevelsFrom).to.equal(4);
        const t = sliceTree(await slice(store, v, [5, 6]));
        expect(t.root).to.equal(full.root);
        expect(t.path(5)).to.deep.equal(full.path(5));
        expect(t.leaf(6)).to.deep.equal(full.leaf(6));
      }
    } finally {
      await store.close();
    }
  });
});
