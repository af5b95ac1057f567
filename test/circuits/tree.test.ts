import { expect } from "chai";
import {
  KEY_HIGH_SENTINEL,
  VALUE_MAX,
  buildTree,
  lastLeafAtMost,
  lastLeafBelow,
  randomSalts,
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

    it("is the same when the input is an ordered prefix and an unordered tail (the append path), also with ties across them", async function () {
      const many = Array.from({ length: 200 }, (_, i) => ({
        key: BigInt(1 + ((i * 37) % 61)),
        values: [BigInt(i % 5), 1n, 0n, BigInt(i % 7)],
      }));
      const manySalts = sampleSalts(many.length).map((s, i) => (i % 9 === 0 ? 5n : s));
      const shuffled = many.map((_, i) => (i * 53) % many.length); // 53 is prime to 200
      const ref = await buildTree(
        shuffled.map((i) => many[i]!),
        shuffled.map((i) => manySalts[i]!),
        9,
      );
      const sorted = ref.leaf; // leaves 1..200 are the records in the tree's order
      const inOrder = Array.from({ length: many.length }, (_, i) => sorted(i + 1));
      const prefix = inOrder.slice(0, 150);
      // the tail: the last 50 in reverse, and copies of three prefix records (byte-identical ties)
      const tail = [...inOrder.slice(150).reverse(), inOrder[3]!, inOrder[77]!, inOrder[149]!];
      const rec = (l: (typeof inOrder)[number]) => ({ key: l.key, values: [...l.values] });
      const mixed = await buildTree(
        [...prefix, ...tail].map(rec),
        [...prefix, ...tail].map((l) => l.salt),
        9,
      );
      const all = [...prefix, ...tail].reverse(); // the same records, no long ordered prefix
      const reordered = await buildTree(
        all.map(rec),
        all.map((l) => l.salt),
        9,
      );
      expect(mixed.root).to.equal(reordered.root);
      // wholly in order already (nothing to sort): the same tree as from the shuffled input
      const ordered = await buildTree(
        inOrder.map(rec),
        inOrder.map((l) => l.salt),
        9,
      );
      expect(ordered.root).to.equal(ref.root);
      for (let i = 0; i <= 203; i++) expect(mixed.leaf(i)).to.deep.equal(reordered.leaf(i));
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

  describe("randomSalts", function () {
    it("draws the number of salts asked for, each below 2^248, all distinct, across chunk ends", function () {
      const n = (1 << 15) + 3; // one full chunk of randomBytes and a partial one
      const salts = randomSalts(n);
      expect(salts).to.have.length(n);
      for (const s of salts) expect(s >= 0n && s < 1n << 248n).to.equal(true);
      expect(new Set(salts).size).to.equal(n);
      // the top byte (bits 240..247) is drawn too: a salt cut one byte short would leave it 0
      expect(salts.some((s) => s >> 240n !== 0n)).to.equal(true);
      expect(randomSalts(0)).to.deep.equal([]);
    });

    it("refuses a negative or fractional count", function () {
      expect(() => randomSalts(-1)).to.throw(RangeError, /bad count/);
      expect(() => randomSalts(1.5)).to.throw(RangeError, /bad count/);
    });
  });
});
