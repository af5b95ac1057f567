import { expect } from "chai";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { auditWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  r1csInfo,
  signalNames,
} from "../../circuits/lib/testing.js";
import { rejects, sampleRecords, sampleSalts } from "./helpers.js";

const NAME = "audit_d4";
const DEPTH = 4;

describe("AuditPath (audit_d4)", function () {
  this.timeout(600_000);
  const records = sampleRecords();
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  describe("compiled circuit", function () {
    it("has the public inputs root, index, challenge in order", async function () {
      const info = await r1csInfo(NAME);
      expect(info.nPubInputs).to.equal(3);
      expect(info.nOutputs).to.equal(0);
      const names = signalNames(NAME);
      expect([1, 2, 3].map((i) => names.get(i))).to.deep.equal([
        "main.root",
        "main.index",
        "main.challenge",
      ]);
    });

    it("keeps its pinned constraint count", async function () {
      expect((await r1csInfo(NAME)).nConstraints).to.equal(8752);
    });
  });

  describe("well-formed tree", function () {
    // the sentinel, a duplicate-key pair, the last record → first padding, padding → padding
    for (const index of [0, 2, 10, 11, 14]) {
      it(`accepts the audit of leaf ${index}`, async function () {
        const w = auditWitness(tree, index, 4242n);
        const witness = await calculateWitness(NAME, w.input);
        expect(witness.slice(1, 4)).to.deep.equal(w.publicSignals);
        expect(await checkWitness(NAME, witness)).to.equal(true);
      });
    }

    it("rejects the last leaf as index (it has no successor)", function () {
      expect(() => auditWitness(tree, 15, 1n)).to.throw(RangeError);
    });
  });

  describe("malformed or forged", function () {
    it("refuses an unsorted pair of a tree committed out of order, and accepts its sorted pairs", async function () {
      const shuffled = [...records];
      [shuffled[3], shuffled[4]] = [shuffled[4]!, shuffled[3]!]; // keys 12 before 9
      const bad = await buildTree(shuffled, sampleSalts(records.length), DEPTH, {
        keepOrder: true,
      });
      // leaf 4 holds key 12, leaf 5 holds key 9
      expect(await rejects(calculateWitness(NAME, auditWitness(bad, 4, 1n).input))).to.equal(true);
      expect(await rejects(calculateWitness(NAME, auditWitness(bad, 6, 1n).input))).to.equal(false);
    });

    it("refuses a leaf whose nextKey is not its successor's key", async function () {
      const w = auditWitness(tree, 3, 1n);
      const next = w.input.nextKey as bigint[];
      const forged = { ...w.input, nextKey: [next[0]! + 1n, next[1]!] };
      expect(await rejects(calculateWitness(NAME, forged))).to.equal(true);
    });

    it("refuses leaves of another tree", async function () {
      const other = await buildTree(records, sampleSalts(records.length, 3n), DEPTH);
      const w = auditWitness(other, 3, 1n);
      expect(await rejects(calculateWitness(NAME, { ...w.input, root: tree.root }))).to.equal(true);
    });

    it("fails the constraint check when the public index or challenge is edited", async function () {
      const witness = await calculateWitness(NAME, auditWitness(tree, 3, 1n).input);
      const forged = [...witness];
      forged[2] = 4n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
      const rechallenged = [...witness];
      rechallenged[3] = 2n;
      expect(await checkWitness(NAME, rechallenged)).to.equal(false);
    });
  });
});
