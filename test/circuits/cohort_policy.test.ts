/**
 * k over the records a filter selects (issue 14). An indicator schema makes a filtered question a
 * range sum: Σ(value · indicator) / Σ(indicator). The range's records reaching k says nothing of
 * how many the indicator selects, so a ratio, SUM or AVG of a filtered field over ≥ k records
 * could rest on one selected record. The policy's cohort map (fieldMask bits 8 + 4j + i: field
 * i counts the records field j is defined over) makes the circuit bound the selection too.
 */
import { expect } from "chai";
import { poseidon4 } from "poseidon-lite";
import {
  AggregateKind,
  answerCohort,
  cohortFieldOf,
  cohortMapBits,
  packCohortAndThresholds,
  policyHash,
  PUBLIC_SIGNALS,
} from "../../circuits/lib/signals.js";
import type { Query } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree, type TreeRecord } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  prepareRelaxed,
  relaxedWitness,
} from "../../circuits/lib/testing.js";
import { assertionAt, openPolicy, refusal, sampleSalts } from "./helpers.js";
import { referenceAnswer } from "./reference.js";

const NAME = "range_d4";
const DEPTH = 4;
const CORE = "answer_core.circom";
/** The new constraint: the selected records of fieldA's and fieldB's cohort fields reach k. */
const SELECTED = "selectedReachedA * selectedReachedB === 1;";
const inCore = (text: string): string => assertionAt(CORE, "AnswerCore", text);
const K = 5;

/**
 * Twelve parts in the quality-eol3 layout [quantity = 1, reworked, eolTests3, reworked ·
 * eolTests3] at keys 1..12: parts 1..6 had ≥ 3 tests (selected), 7..12 not; 2, 5, 8, 11 reworked.
 */
function eol3Records(): TreeRecord[] {
  return Array.from({ length: 12 }, (_, i) => {
    const key = BigInt(i + 1);
    const reworked = key % 3n === 2n ? 1n : 0n;
    const selected = key <= 6n ? 1n : 0n;
    return { key, values: [1n, reworked, selected, reworked * selected] };
  });
}

/** The grant as the supplier gives it for quality-eol3: eolTests3 counts fields 2 and 3's records. */
const eol3Policy = () =>
  openPolicy({ minCohort: K, fieldMask: 0xf | cohortMapBits([null, null, 2, 2]) });

function query(kind: AggregateKind, fieldA: number, fieldB: number, lo: bigint, hi = 12n): Query {
  return { kind, fieldA, fieldB, lo, hi, threshold: 0n, nonce: 1n };
}

// the relaxed copy the forged-witness test uses, compiled in the background from load on
prepareRelaxed(NAME, [[{ file: CORE, remove: SELECTED }]]);

describe("k over the records a filter selects (range_d4)", function () {
  this.timeout(600_000);
  const records = eol3Records();
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  const prove = (q: Query, policy = eol3Policy()) => rangeWitness(tree, q, policy, 7n, 8n);

  describe("attack: a filtered question over >= k records of which < k are selected", function () {
    it("refuses rework PPM among parts with >= 3 tests over 8 parts of which 2 are selected", async function () {
      // keys 5..12: 8 parts in range (>= k), only parts 5 and 6 selected; one of them reworked
      const q = query(AggregateKind.RatioPpm, 3, 2, 5n);
      expect(referenceAnswer(q, records)).to.deep.equal({ resultValue: 500_000n, resultAux: 0n });
      const w = prove(q);
      expect(answerCohort(eol3Policy(), q, 8n, [8n, 3n, 2n, 1n])).to.equal(2n);
      expect(await refusal(calculateWitness(NAME, w.input))).to.equal(inCore(SELECTED));
    });

    it("refuses the same learning through SUM and AVG of the filtered fields", async function () {
      for (const [kind, field] of [
        [AggregateKind.Sum, 2],
        [AggregateKind.Sum, 3],
        [AggregateKind.Avg, 3],
      ] as const) {
        const w = prove(query(kind, field, 0, 5n));
        expect(
          await refusal(calculateWitness(NAME, w.input)),
          `kind ${kind} field ${field}`,
        ).to.equal(inCore(SELECTED));
      }
    });
  });

  describe("boundaries", function () {
    it("answers with exactly k selected records and refuses k - 1, the range holding more", async function () {
      // keys 2..12: 11 parts, 5 selected (= k); keys 3..12: 10 parts, 4 selected (k - 1)
      const exact = query(AggregateKind.RatioPpm, 3, 2, 2n);
      const w = prove(exact);
      const witness = await calculateWitness(NAME, w.input);
      expect(await checkWitness(NAME, witness)).to.equal(true);
      expect(w.answer.resultValue).to.equal(referenceAnswer(exact, records).resultValue);
      expect(w.answer.resultValue).to.equal(400_000n);
      const below = prove(query(AggregateKind.RatioPpm, 3, 2, 3n));
      expect(await refusal(calculateWitness(NAME, below.input))).to.equal(inCore(SELECTED));
    });

    it("leaves unfiltered fields and COUNT on the range's records (rework PPM over all parts)", async function () {
      // keys 5..12: 2 selected, but neither quantity nor reworked has a cohort field
      for (const q of [
        query(AggregateKind.RatioPpm, 1, 0, 5n),
        query(AggregateKind.Sum, 1, 0, 5n),
        query(AggregateKind.Count, 2, 0, 5n),
      ]) {
        const w = prove(q);
        // the witness generator checks every assertion (the full R1CS check: boundaries above)
        expect(await refusal(calculateWitness(NAME, w.input))).to.equal(null);
        expect(w.answer.resultValue).to.equal(referenceAnswer(q, records).resultValue);
      }
    });
  });

  describe("forged witnesses", function () {
    it("k - 1 selected records with the true answer fail only the new constraint", async function () {
      const w = prove(query(AggregateKind.RatioPpm, 3, 2, 3n));
      const forged = await relaxedWitness(NAME, [{ file: CORE, remove: SELECTED }], w.input);
      expect(forged.slice(1, 6)).to.deep.equal(PUBLIC_SIGNALS.map((s) => w.input[s]));
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("refuses a witness that drops the cohort map from the policy it claims (policy hash)", async function () {
      const w = prove(query(AggregateKind.RatioPpm, 3, 2, 5n));
      const forged = { ...w.input, fieldMask: 0xfn };
      expect(await refusal(calculateWitness(NAME, forged))).to.equal(
        inCore("policyHash === policyHashCalc;"),
      );
    });

    it("refuses a policy naming two cohort fields for one field", async function () {
      const two = openPolicy({
        minCohort: K,
        fieldMask: 0xf | cohortMapBits([null, null, 2, 2]) | (1 << 23),
      });
      expect(() => policyHash(two)).to.throw(RangeError, /more than one cohort field for field 3/);
      const w = prove(query(AggregateKind.RatioPpm, 3, 2, 2n));
      // the supplier's own (malformed) policy, hashed as the circuit packs it
      const packed = 0x7fn + BigInt(two.fieldMask) * 2n ** 32n + 0xfn * 2n ** 64n;
      const word = packCohortAndThresholds(eol3Policy()); // same k and thresholds
      const hash = poseidon4([packed, two.keyLo, two.keyHi, word]);
      const forged = { ...w.input, fieldMask: BigInt(two.fieldMask), policyHash: hash };
      expect(await refusal(calculateWitness(NAME, forged))).to.equal(
        inCore("named * (named - 1) === 0;"),
      );
    });
  });

  describe("the map in TypeScript (circuits/lib/signals.ts)", function () {
    it("puts field j's cohort field i at fieldMask bit 8 + 4j + i and reads it back", function () {
      const bits = cohortMapBits([null, 1, 1, 2]);
      expect(bits).to.equal((1 << 13) | (1 << 17) | (1 << 22));
      const p = { fieldMask: 0xf | bits };
      expect([0, 1, 2, 3].map((j) => cohortFieldOf(p, j))).to.deep.equal([null, 1, 1, 2]);
      expect(() => cohortMapBits([4])).to.throw(RangeError, /0\.\.3/);
    });
  });
});
