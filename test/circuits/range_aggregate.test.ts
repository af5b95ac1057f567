import { expect } from "chai";
import {
  AggregateKind,
  PUBLIC_SIGNALS,
  policyHash,
  resultCommitment,
} from "../../circuits/lib/signals.js";
import { queryHash, type Query } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { rangeWitness, type CircuitInput } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  prepareRelaxed,
  relaxedWitness,
  signalIndex,
  type SourceEdit,
} from "../../circuits/lib/testing.js";
import {
  assertionAt,
  openPolicy,
  rangeQuery as query,
  refusal,
  sampleRecords,
  sampleSalts,
} from "./helpers.js";
import { referenceAnswer, type RefAnswer } from "./reference.js";

const NAME = "range_d4";
const DEPTH = 4;
const RANGE = "range_aggregate.circom";
const CORE = "answer_core.circom";

/** "Template:line" of an assertion of RangeAggregate / AnswerCore, found by its text. */
const inRange = (text: string): string => assertionAt(RANGE, "RangeAggregate", text);
const inCore = (text: string): string => assertionAt(CORE, "AnswerCore", text);

/**
 * The neighbour forgeries of "forged witnesses": what, A or L, the leaf opened there, the one
 * line that catches it, and the leaves the forged answer really spans.
 */
const NEIGHBOURS: [string, "a" | "l", number, string, [number, number]][] = [
  // leaf 2 (key 7 = lo) as A: the answer over leaves 3..9 would drop a key-7 record
  ["a left neighbour inside the range", "a", 2, "aKeyBelowLo === 1;", [3, 9]],
  // leaf 0 (the sentinel, nextKey 5 < lo) as A: leaves 1..9 would add key 5 below lo
  ["a left neighbour further out", "a", 0, "aNextKeyReachesLo === 1;", [1, 9]],
  // leaf 10 (key 41 > hi) as L: leaves 2..10 would add key 41 above hi
  ["a last leaf beyond hi", "l", 10, "lKeyWithinHi === 1;", [2, 10]],
  // leaf 8 (key 21, nextKey 30 <= hi) as L: leaves 2..8 would drop key 30
  ["a last leaf short of the range's end", "l", 8, "lNextKeyAboveHi === 1;", [2, 8]],
];

/** The line that pins MIN and MAX to the tree's min/max field. */
const MIN_FIELD_LINE = "(isKind[3] + isKind[4]) * (fieldA - m) === 0;";

/**
 * A copy of AnswerCore whose division hints are total (q = 0, r = 10^6·ΣA when den = 0) and
 * which lacks the r < den check.
 */
const TOTAL_DIVISION: SourceEdit[] = [
  { file: CORE, remove: "q <-- num \\ den;", insert: "q <-- den == 0 ? 0 : num \\ den;" },
  { file: CORE, remove: "r <-- num % den;", insert: "r <-- den == 0 ? num : num % den;" },
  { file: CORE, remove: "remainderBelowDen === 1;" },
];

// the relaxed copies the forged-witness tests use, compiled in the background from load on
prepareRelaxed(NAME, [
  ...NEIGHBOURS.map(([, , , line]) => [{ file: RANGE, remove: line }]),
  [{ file: CORE, remove: MIN_FIELD_LINE }],
  TOTAL_DIVISION,
]);

/**
 * (Its public inputs, constraint count and correct witnesses are in range_aggregate-witnesses.test.ts,
 * a file of the quick tier: this one compiles relaxed copies of the circuit, a slow file.)
 */
describe("RangeAggregate (range_d4)", function () {
  this.timeout(600_000);
  const records = sampleRecords();
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  describe("forged witnesses", function () {
    const BLIND = 777n;
    let honest: CircuitInput;
    let witness: bigint[];

    before(async function () {
      honest = rangeWitness(tree, query(AggregateKind.RatioPpm), openPolicy(), BLIND, 123n).input;
      witness = await calculateWitness(NAME, honest);
    });

    /** The records of leaves first..last (inclusive), as the reference evaluator takes them. */
    function leafRecords(first: number, last: number): { key: bigint; values: bigint[] }[] {
      return Array.from({ length: last - first + 1 }, (_, i) => tree.leaf(first + i));
    }

    /** `input` with leaf `index` opened as A or L (leaf, path and index all honest). */
    function withLeaf(input: CircuitInput, prefix: "a" | "l", index: number): CircuitInput {
      const leaf = tree.leaf(index);
      return {
        ...input,
        [`${prefix}Index`]: BigInt(index),
        [`${prefix}Key`]: leaf.key,
        [`${prefix}NextKey`]: leaf.nextKey,
        [`${prefix}Values`]: leaf.values,
        [`${prefix}Salt`]: leaf.salt,
        [`${prefix}Siblings`]: tree.path(index),
      };
    }

    /** Commits `answer` with the test's blind: what a prover claiming it puts in the proof. */
    function claim(input: CircuitInput, answer: RefAnswer): CircuitInput {
      return {
        ...input,
        resultCommitment: resultCommitment(answer.resultValue, answer.resultAux, BLIND),
      };
    }

    /**
     * Asserts that `input` is refused at exactly `assertion` (the generator stops there) and
     * that a witness satisfying every other constraint (calculated by a copy of the circuit
     * with `edits` applied) fails the R1CS check of the real circuit.
     */
    async function caughtOnlyBy(
      input: CircuitInput,
      assertion: string,
      edits: SourceEdit[],
    ): Promise<void> {
      expect(await refusal(calculateWitness(NAME, input))).to.equal(assertion);
      const forged = await relaxedWitness(NAME, edits, input);
      expect(forged.slice(1, 6)).to.deep.equal(PUBLIC_SIGNALS.map((s) => input[s]));
      expect(await checkWitness(NAME, forged)).to.equal(false);
    }

    it("fails the constraint check when the quotient of a ratio is edited", async function () {
      const forged = [...witness];
      const q = signalIndex(NAME, "main.answer.q");
      forged[q] = forged[q]! + 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when the public result commitment is edited", async function () {
      const forged = [...witness];
      forged[4] = resultCommitment(1n, 0n, BLIND);
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when the public binding is edited", async function () {
      const forged = [...witness];
      forged[5] = forged[5]! + 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when a committed min hint on the path is edited", async function () {
      const forged = [...witness];
      const i = signalIndex(NAME, "main.aPath.cur[1][6]");
      forged[i] = forged[i]! - 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("refuses a claimed result that differs from the true one at the commitment", async function () {
      const wrong = claim(honest, { resultValue: 121212n, resultAux: 0n });
      expect(await refusal(calculateWitness(NAME, wrong))).to.equal(
        inCore("resultCommitment === commitmentCalc;"),
      );
    });

    it("refuses a leaf taken from another tree at A's root binding", async function () {
      const other = await buildTree(records, sampleSalts(records.length, 5n), DEPTH);
      const foreign = rangeWitness(other, query(AggregateKind.RatioPpm), openPolicy(), BLIND, 123n);
      const mixed = { ...foreign.input, root: tree.root };
      expect(await refusal(calculateWitness(NAME, mixed))).to.equal(
        inRange("aPath.root === root;"),
      );
    });

    it("accepts the honest neighbours re-opened (control for the cases below)", async function () {
      const a = Number(honest.aIndex as bigint);
      const l = Number(honest.lIndex as bigint);
      expect([a, l]).to.deep.equal([1, 9]); // keys 5 | 7 .. 30 | 41
      const same = withLeaf(withLeaf(honest, "a", a), "l", l);
      expect(await checkWitness(NAME, await calculateWitness(NAME, same))).to.equal(true);
    });

    // Each neighbour forgery opens honest leaves with honest paths and claims the true answer
    // over the leaves it really spans (the reference evaluator), so the commitment, hashes and
    // totals all hold; only the one boundary constraint named is violated.
    for (const [what, prefix, index, line, [first, last]] of NEIGHBOURS) {
      it(`${what} with its true answer fails only \`${line}\``, async function () {
        const q = query(AggregateKind.RatioPpm);
        // every record the forged leaves span counts, inside [lo, hi] or not
        const spanned = { ...q, lo: 0n, hi: (1n << 128n) - 1n };
        const forgedAnswer = referenceAnswer(spanned, leafRecords(first, last));
        expect(forgedAnswer.resultValue).to.not.equal(referenceAnswer(q, records).resultValue);
        const input = claim(withLeaf(honest, prefix, index), forgedAnswer);
        await caughtOnlyBy(input, inRange(line), [{ file: RANGE, remove: line }]);
      });
    }
  });

  describe("policy", function () {
    /** The assertion at which the circuit refuses `q` under a policy that forbids it. */
    async function refusedAt(
      policyOver: Parameters<typeof openPolicy>[0],
      q: Query,
    ): Promise<string | null> {
      // the witness is built for a policy the query violates; the circuit must refuse it
      const w = rangeWitness(tree, q, openPolicy(policyOver), 1n, 2n);
      return refusal(calculateWitness(NAME, w.input));
    }

    it("refuses a range with fewer records than minCohort and accepts exactly minCohort", async function () {
      const q = query(AggregateKind.Count, { lo: 7n, hi: 9n }); // 3 records
      expect(await refusedAt({ minCohort: 4 }, q)).to.equal(inCore("cohortReached === 1;"));
      expect(await refusedAt({ minCohort: 3 }, q)).to.equal(null);
    });

    it("refuses a range that starts below the policy's keyLo", async function () {
      expect(await refusedAt({ keyLo: 8n }, query(AggregateKind.Count))).to.equal(
        inCore("loInPolicy === 1;"),
      );
    });

    it("refuses a range that ends above the policy's keyHi", async function () {
      expect(await refusedAt({ keyHi: 29n }, query(AggregateKind.Count))).to.equal(
        inCore("hiInPolicy === 1;"),
      );
    });

    it("refuses an aggregate kind outside aggregateMask", async function () {
      expect(
        await refusedAt(
          { aggregateMask: 0x7f & ~(1 << AggregateKind.Sum) },
          query(AggregateKind.Sum),
        ),
      ).to.equal(inCore("kindAllowed === 1;"));
    });

    it("refuses a field outside fieldMask, also as a ratio's denominator", async function () {
      expect(await refusedAt({ fieldMask: 0xf & ~(1 << 1) }, query(AggregateKind.Sum))).to.equal(
        inCore("(1 - isKind[0]) * (1 - aAllowed) === 0;"),
      );
      expect(await refusedAt({ fieldMask: 0xf & ~1 }, query(AggregateKind.RatioPpm))).to.equal(
        inCore("usesB * (1 - bAllowed) === 0;"),
      );
    });

    it("MIN on a field other than the tree's min/max field fails only `(isKind[3] + isKind[4]) * (fieldA - m) === 0`", async function () {
      // the circuit's MIN is over field m = 3 whatever fieldA says: a prover asking MIN of
      // field 2 and committing the true MIN of field 3 (29, over 8 records) is consistent
      // everywhere but the field check
      const line = MIN_FIELD_LINE;
      const asked = query(AggregateKind.Min, { fieldA: 2 });
      const base = rangeWitness(tree, query(AggregateKind.Min), openPolicy(), 1n, 2n);
      const minOfM = referenceAnswer(query(AggregateKind.Min), records);
      expect(minOfM).to.deep.equal({ resultValue: 29n, resultAux: 8n });
      expect(referenceAnswer(asked, records).resultValue).to.equal(0n); // the true MIN of field 2
      const input = {
        ...base.input,
        fieldA: 2n,
        queryHash: queryHash(asked),
        resultCommitment: resultCommitment(minOfM.resultValue, minOfM.resultAux, 1n),
      };
      expect(await refusal(calculateWitness(NAME, input))).to.equal(inCore(line));
      const forged = await relaxedWitness(NAME, [{ file: CORE, remove: line }], input);
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("refuses a policy preimage that does not hash to policyHash", async function () {
      const w = rangeWitness(tree, query(AggregateKind.Count), openPolicy(), 1n, 2n);
      const forged = { ...w.input, policyHash: policyHash(openPolicy({ minCohort: 1 })) };
      expect(await refusal(calculateWitness(NAME, forged))).to.equal(
        inCore("policyHash === policyHashCalc;"),
      );
    });

    it("a ratio over a zero denominator sum fails only `remainderBelowDen === 1`, not in a hint", async function () {
      // field 2 is 0 in every record: 10^6·ΣA / 0 has no answer. The real generator traps in
      // the division hint, so the forged witness comes from a copy whose hints are total
      // (q = 0, r = 10^6·ΣA when den = 0) and which lacks the r < den check; then
      // q·den + r = 10^6·ΣA holds, q = 0 is committed, and only r < den = 0 fails.
      const line = TOTAL_DIVISION[2]!.remove;
      const q = query(AggregateKind.RatioPpm, { fieldB: 2 });
      expect(() => referenceAnswer(q, records)).to.throw(RangeError);
      const base = rangeWitness(tree, query(AggregateKind.RatioPpm), openPolicy(), 1n, 2n);
      const input = {
        ...base.input,
        fieldB: 2n,
        queryHash: queryHash(q),
        resultCommitment: resultCommitment(0n, 0n, 1n),
      };
      await expectTrap(calculateWitness(NAME, input));
      const forged = await relaxedWitness(NAME, TOTAL_DIVISION, input);
      expect(forged[signalIndex(NAME, "main.answer.r")]).to.equal(
        1_000_000n * referenceAnswer(query(AggregateKind.Sum), records).resultValue,
      );
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });
  });
});

/** Asserts that the witness generator traps (a division by zero in a hint), not that it refuses. */
async function expectTrap(p: Promise<unknown>): Promise<void> {
  const error = await p.then(
    () => null,
    (e: unknown) => String(e),
  );
  expect(error).to.match(/divide by zero/);
}
