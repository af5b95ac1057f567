import { expect } from "chai";
import {
  KEY_HIGH_SENTINEL,
  VALUE_MAX,
  buildTree,
  lastLeafAtMost,
  lastLeafBelow,
  type TreeRecord,
} from "../../circuits/lib/tree.js";
import { sampleRecords, sampleSalts } from "./helpers.js";

describe("buildTree", function () {
  this.timeout(120_000);
  const records = sampleRecords();
  const salts = sampleSalts(records.length);

  describe("root node", function () {
    it("carries the record count, the sums and the min/max of field 3", async function () {
      const tree = await buildTree(records, salts, 4);
      const top = tree.node(4, 0);
      expect(top[0]).to.equal(tree.root);
      expect(top[1]).to.equal(BigInt(records.length));
      for (let f = 0; f < 4; f++) {
        expect(top[2 + f]).to.equal(records.reduce((s, r) => s + r.values[f]!, 0n));
      }
      const v3 = records.map((r) => r.values[3]!);
      expect(top[6]).to.equal(v3.reduce((a, b) => (a < b ? a : b)));
      expect(top[7]).to.equal(VALUE_MAX);
    });

    it("does not depend on the input order (ties ordered by values, then salt)", async function () {
      const a = await buildTree(records, salts, 4);
      const order = records.map((_, i) => records.length - 1 - i);
      const b = await buildTree(
        order.map((i) => records[i]!),
        order.map((i) => salts[i]!),
        4,
      );
      expect(b.root).to.equal(a.root);
    });

    it("is the same when hashed on worker threads", async function () {
      const many = Array.from({ length: 300 }, (_, i) => ({
        key: BigInt(1 + (i % 97)),
        values: [BigInt(i), BigInt(i * i), 7n, BigInt(1000 - i)],
      }));
      const manySalts = sampleSalts(many.length);
      const here = await buildTree(many, manySalts, 9, { workers: 0 });
      const pooled = await buildTree(many, manySalts, 9, { workers: 2 });
      expect(pooled.root).to.equal(here.root);
      expect(pooled.node(3, 5)).to.deep.equal(here.node(3, 5));
    });

    it("changes when one salt changes (salts hide the records)", async function () {
      const a = await buildTree(records, salts, 4);
      const b = await buildTree(records, [salts[0]! + 1n, ...salts.slice(1)], 4);
      expect(b.root).to.not.equal(a.root);
    });
  });

  describe("leaves", function () {
    it("puts the sentinel first, links every leaf to the next key and pads with 2^128 - 1", async function () {
      const tree = await buildTree(records, salts, 4);
      expect(tree.leaf(0).key).to.equal(0n);
      for (let i = 0; i < 15; i++) expect(tree.leaf(i).nextKey).to.equal(tree.leaf(i + 1).key);
      const keys = Array.from({ length: 16 }, (_, i) => tree.leaf(i).key);
      expect(keys).to.deep.equal([...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      expect(tree.leaf(11)).to.deep.equal({
        key: KEY_HIGH_SENTINEL,
        nextKey: KEY_HIGH_SENTINEL,
        values: [0n, 0n, 0n, 0n],
        salt: 0n,
      });
    });

    it("finds the neighbours of a key range", async function () {
      const tree = await buildTree(records, salts, 4);
      // keys by leaf: 0, 5, 7, 7, 9, 12, 15, 20, 21, 30, 41
      expect(lastLeafBelow(tree, 7n)).to.equal(1);
      expect(lastLeafAtMost(tree, 7n)).to.equal(3);
      expect(lastLeafBelow(tree, 1n)).to.equal(0);
      expect(lastLeafAtMost(tree, 1000n)).to.equal(10);
    });
  });

  describe("input checks", function () {
    const bad: [string, TreeRecord][] = [
      ["key 0", { key: 0n, values: [0n, 0n, 0n, 0n] }],
      ["key 2^128 - 1", { key: KEY_HIGH_SENTINEL, values: [0n, 0n, 0n, 0n] }],
      ["value 2^64", { key: 1n, values: [VALUE_MAX + 1n, 0n, 0n, 0n] }],
      ["a negative value", { key: 1n, values: [-1n, 0n, 0n, 0n] }],
      ["three values", { key: 1n, values: [0n, 0n, 0n] }],
    ];
    for (const [title, rec] of bad) {
      it(`rejects a record with ${title}`, async function () {
        let err: unknown;
        await buildTree([rec], [1n], 2).catch((e: unknown) => (err = e));
        expect(err).to.be.instanceOf(RangeError);
      });
    }

    it("rejects more than 2^depth - 2 records", async function () {
      const three = records.slice(0, 3);
      let err: unknown;
      await buildTree(three, salts.slice(0, 3), 2).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(RangeError);
      expect((await buildTree(records.slice(0, 2), salts.slice(0, 2), 2)).leafCount).to.equal(2);
    });
  });
});
