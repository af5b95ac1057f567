import { expect } from "chai";
import { FIELD_MODULUS } from "../../circuits/lib/signals.js";
import { buildTree, type Leaf, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { auditWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  prepareRelaxed,
  r1csInfo,
  relaxedWitness,
  signalNames,
} from "../../circuits/lib/testing.js";
import { forgedTree, type NodeOverride } from "./forged-tree.js";
import { assertionAt, refusal, sampleRecords, sampleSalts } from "./helpers.js";

const NAME = "audit_d4";
const DEPTH = 4;
const M = 3;
const FILE = "audit_path.circom";
const RANGE_FILE = "node_in_range.circom";
const HIGH = (1n << 128n) - 1n;

/**
 * The lines of AuditPath and of NodeInRange whose relaxed copies (the circuit without that one
 * line) the malformed-tree tests below use; each test checks that its line is listed here.
 */
const AUDIT_LINES = [
  "sorted === 1;",
  "nextKey[0] === key[1];",
  "isPad[s] * values[s][j] === 0;",
  "isPad[s] * (nextKey[s] - (2 ** 128 - 1)) === 0;",
  "first * key[0] === 0;",
  "path[s].root === root;",
  "recordCount === rootCount;",
];
const RANGE_LINES = [
  "sacc === sums[j];",
  "acc === count;",
  "countBits[level] * (count - 2 ** level) === 0;",
];

// compiled in the background from load on, two at a time, while the tests before them run
prepareRelaxed(NAME, [
  ...AUDIT_LINES.map((remove) => [{ file: FILE, remove }]),
  ...RANGE_LINES.map((remove) => [{ file: RANGE_FILE, remove }]),
]);

/** "Template:line" of an assertion of AuditPath, found by its text. */
const at = (text: string): string => assertionAt(FILE, "AuditPath", text);

describe("AuditPath (audit_d4)", function () {
  this.timeout(900_000);
  const records = sampleRecords();
  let tree: MerkleSumTree;
  /** The honest tree's 16 leaves: 0 sentinel, 1..10 records (keys 5 .. 41), 11..15 padding. */
  let leaves: Leaf[];

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
    leaves = Array.from({ length: 2 ** DEPTH }, (_, i) => tree.leaf(i));
  });

  /** The honest leaves with `edit` applied to leaf `i`, committed as they are. */
  function editedLeaves(i: number, edit: Partial<Leaf>): Leaf[] {
    return leaves.map((lf, j) => (j === i ? { ...lf, ...edit } : lf));
  }

  /**
   * Checks that the audit of `index` in `bad` is refused at exactly the assertion `text` (the
   * generator stops there) and that a witness satisfying every other constraint (computed by a
   * copy of the circuit without that line) fails the R1CS check of the real circuit.
   */
  async function caughtOnlyBy(
    bad: MerkleSumTree,
    index: number,
    text: string,
    recordCount?: bigint,
  ): Promise<void> {
    expect(AUDIT_LINES).to.include(text);
    const w = auditWitness(bad, index, 7n, recordCount);
    expect(await refusal(calculateWitness(NAME, w.input))).to.equal(at(text));
    const forged = await relaxedWitness(NAME, [{ file: FILE, remove: text }], w.input);
    expect(forged.slice(1, 5)).to.deep.equal(w.publicSignals);
    expect(await checkWitness(NAME, forged)).to.equal(false);
  }

  describe("compiled circuit", function () {
    it("has the public inputs root, index, challenge, recordCount in order", async function () {
      const info = await r1csInfo(NAME);
      expect(info.nPubInputs).to.equal(4);
      expect(info.nOutputs).to.equal(0);
      const names = signalNames(NAME);
      expect([1, 2, 3, 4].map((i) => names.get(i))).to.deep.equal([
        "main.root",
        "main.index",
        "main.challenge",
        "main.recordCount",
      ]);
    });

    it("keeps its pinned constraint count", async function () {
      expect((await r1csInfo(NAME)).nConstraints).to.equal(10940);
    });
  });

  describe("well-formed tree", function () {
    // the sentinel, a duplicate-key pair, the last record → first padding, padding → padding
    for (const index of [0, 2, 10, 11, 14]) {
      it(`accepts the audit of leaf ${index}`, async function () {
        const w = auditWitness(tree, index, 4242n, BigInt(records.length));
        const witness = await calculateWitness(NAME, w.input);
        expect(witness.slice(1, 5)).to.deep.equal(w.publicSignals);
        expect(await checkWitness(NAME, witness)).to.equal(true);
      });
    }

    it("builds the same root as circuits/lib from the same leaves (control for the forged trees)", async function () {
      expect((await forgedTree(leaves, DEPTH, M)).root).to.equal(tree.root);
    });

    it("rejects the last leaf as index (it has no successor)", function () {
      expect(() => auditWitness(tree, 15, 1n)).to.throw(RangeError);
    });
  });

  describe("malformed trees: each caught by the one constraint named", function () {
    it("an unsorted pair (keys 12 before 9) fails only `sorted === 1`", async function () {
      const shuffled = [...records];
      [shuffled[3], shuffled[4]] = [shuffled[4]!, shuffled[3]!];
      const bad = await buildTree(shuffled, sampleSalts(records.length), DEPTH, {
        keepOrder: true,
      });
      // leaf 4 holds key 12 and links to leaf 5 (key 9): the link holds, the order does not
      expect([bad.leaf(4).key, bad.leaf(4).nextKey, bad.leaf(5).key]).to.deep.equal([12n, 9n, 9n]);
      await caughtOnlyBy(bad, 4, "sorted === 1;");
      expect(await refusal(calculateWitness(NAME, auditWitness(bad, 6, 1n).input))).to.equal(null);
    });

    it("a leaf whose committed nextKey skips its successor fails only the link `nextKey[0] === key[1]`", async function () {
      // leaf 3 (key 7) says the next key is 10, leaf 4 holds 9: the leaf hash commits the
      // forged nextKey, so the tree is consistent and only the link is wrong
      const bad = await forgedTree(editedLeaves(3, { nextKey: 10n }), DEPTH, M);
      await caughtOnlyBy(bad, 3, "nextKey[0] === key[1];");
    });

    it("a padding leaf holding a value fails only `isPad[s] * values[s][j] === 0`", async function () {
      // leaf 11 (key 2^128 - 1) carries 5 in field 3: it counts as no record, so range
      // answers would silently drop the value
      const bad = await forgedTree(editedLeaves(11, { values: [0n, 0n, 0n, 5n] }), DEPTH, M);
      await caughtOnlyBy(bad, 10, "isPad[s] * values[s][j] === 0;");
    });

    it("a padding leaf linking below 2^128 - 1 fails only `isPad[s] * (nextKey[s] - (2 ** 128 - 1)) === 0`", async function () {
      const bad = await forgedTree(editedLeaves(11, { nextKey: 50n }), DEPTH, M);
      await caughtOnlyBy(bad, 10, "isPad[s] * (nextKey[s] - (2 ** 128 - 1)) === 0;");
    });

    it("a leaf 0 that is no sentinel (key 3) fails only `first * key[0] === 0`", async function () {
      // key 3 < 5 keeps leaf 0 sorted and linked to leaf 1; it is counted as a record
      const bad = await forgedTree(editedLeaves(0, { key: 3n }), DEPTH, M);
      await caughtOnlyBy(bad, 0, "first * key[0] === 0;");
    });

    it("a node with an inflated count fails the root binding of the paths below it", async function () {
      // node (2, 2) covers leaves 8..11 (3 records) and is committed with count 4; its
      // ancestors are summed and hashed from that. A path through it recomputes count 3 from
      // the children, so it cannot reach the committed root: `path[s].root === root` catches it.
      const inflate: NodeOverride = (t) => [t[0]!, t[1]! + 1n, ...t.slice(2)];
      const bad = await forgedTree(leaves, DEPTH, M, new Map([["2:2", inflate]]));
      expect(bad.node(2, 2)[1]).to.equal(4n);
      // published with the true 10 records (the path's recomputed count agrees with that)
      await caughtOnlyBy(bad, 8, "path[s].root === root;", 10n);
      // where the node is only a sibling (leaf 4's path) and within its capacity of 4 leaves,
      // the root's count (11) betrays it if the version says 10 records; published as 11, one
      // audit cannot see it: that is what the sampling bound of circuits/README.md covers
      const beside = (n: bigint) => calculateWitness(NAME, auditWitness(bad, 4, 1n, n).input);
      expect(await refusal(beside(10n))).to.equal(at("recordCount === rootCount;"));
      expect(await refusal(beside(11n))).to.equal(null);
    });

    it("a root whose count differs from the published recordCount fails only `recordCount === rootCount`", async function () {
      // the honest tree holds 10 records; a version published as 9 or 11 records is refused
      // at every index, the padding included
      for (const claimed of [9n, 11n]) {
        await caughtOnlyBy(tree, 3, "recordCount === rootCount;", claimed);
        const w = auditWitness(tree, 14, 1n, claimed);
        expect(await refusal(calculateWitness(NAME, w.input))).to.equal(
          at("recordCount === rootCount;"),
        );
      }
    });

    it("a fake sibling with count 0 hiding a subtree: caught by the count anywhere, by the path through it", async function () {
      // node (1, 2) covers leaves 4, 5 (keys 9, 12) and is committed with count 0 (its hash is
      // the honest one): every range over keys 9..12 would miss two records
      const hide: NodeOverride = (t) => [t[0]!, 0n, ...t.slice(2)];
      const bad = await forgedTree(leaves, DEPTH, M, new Map([["1:2", hide]]));
      expect(bad.node(DEPTH, 0)[1]).to.equal(8n);
      // published with the true number of records (10): any audit fails at the count
      for (const index of [0, 8, 10]) {
        const w = auditWitness(bad, index, 1n, 10n);
        expect(await refusal(calculateWitness(NAME, w.input))).to.equal(
          at("recordCount === rootCount;"),
        );
      }
      // published as 8 to match the root: an audit through the hidden subtree recomputes its
      // count from the leaves and misses the root; one beside it cannot see it (sampling)
      for (const index of [3, 4, 5]) {
        const w = auditWitness(bad, index, 1n, 8n);
        expect(await refusal(calculateWitness(NAME, w.input)), `index ${index}`).to.equal(
          at("path[s].root === root;"),
        );
      }
      const beside = auditWitness(bad, 8, 1n, 8n);
      expect(await refusal(calculateWitness(NAME, beside.input))).to.equal(null);
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

  describe("siblings out of range (issue 15)", function () {
    /** The honest tree with node `level:index` committed with `edit` applied to its tuple. */
    async function withNode(key: string, edit: NodeOverride): Promise<MerkleSumTree> {
      return forgedTree(leaves, DEPTH, M, new Map([[key, edit]]));
    }

    /**
     * Like caughtOnlyBy, for a range check of NodeInRange: leaf 2's audit (whose paths see
     * nodes (1, 0) and (2, 1) as siblings) is refused at `text` and nothing else.
     */
    async function siblingCaughtBy(bad: MerkleSumTree, text: string): Promise<void> {
      expect(RANGE_LINES).to.include(text);
      const input = auditWitness(bad, 2, 7n).input;
      expect(await refusal(calculateWitness(NAME, input))).to.equal(
        assertionAt(RANGE_FILE, "NodeInRange", text),
      );
      const forged = await relaxedWitness(NAME, [{ file: RANGE_FILE, remove: text }], input);
      expect(forged[1]).to.equal(bad.root);
      expect(await checkWitness(NAME, forged)).to.equal(false);
    }

    it("rejects a sibling whose sum is p - 5 (a 'negative' sum): `sacc === sums[j]`", async function () {
      // node (2, 1) covers leaves 4..7; committed with sum0 = p - 5 it lowers every total
      // above it by 5 + its true sum. Before the range checks this audit passed (the forged
      // witness satisfied every constraint).
      const bad = await withNode("2:1", (t) => [t[0]!, t[1]!, FIELD_MODULUS - 5n, ...t.slice(3)]);
      await siblingCaughtBy(bad, "sacc === sums[j];");
    });

    it("rejects a sibling whose count wraps (p - 1): `acc === count`", async function () {
      // node (1, 0) (the sentinel and key 5) committed with count p - 1: its parent's count
      // wraps from p + 1 to 1, hiding a record; this audit passed before the range checks
      const bad = await withNode("1:0", (t) => [t[0]!, FIELD_MODULUS - 1n, ...t.slice(2)]);
      expect(bad.node(2, 0)[1]).to.equal(1n);
      await siblingCaughtBy(bad, "acc === count;");
    });

    it("rejects a sibling with more records than leaves (count 3 at level 1): `countBits[level] * (count - 2 ** level) === 0`", async function () {
      const bad = await withNode("1:0", (t) => [t[0]!, 3n, ...t.slice(2)]);
      await siblingCaughtBy(bad, "countBits[level] * (count - 2 ** level) === 0;");
    });

    it("accepts a sibling at its bounds: a full subtree with the largest sums it can hold", async function () {
      // records at keys 1..6 fill leaves 1..6; keys 2 and 3 (leaves 2, 3 = node (1, 1)) hold
      // 2^64 - 1 in field 2, so node (1, 1) has count 2 = 2^1 and sum2 = 2·(2^64 - 1), the
      // most a level-1 node can hold; it is a sibling on leaf 0's path
      const big = (1n << 64n) - 1n;
      const recs = [1n, 2n, 3n, 4n, 5n, 6n].map((key) => ({
        key,
        values: [1n, 1n, key === 2n || key === 3n ? big : 0n, 1n],
      }));
      const full = await buildTree(recs, sampleSalts(recs.length), DEPTH);
      expect(full.node(1, 1).slice(1, 5)).to.deep.equal([2n, 2n, 2n, 2n * big]);
      const w = await calculateWitness(NAME, auditWitness(full, 0, 1n).input);
      expect(await checkWitness(NAME, w)).to.equal(true);
    });
  });
});
