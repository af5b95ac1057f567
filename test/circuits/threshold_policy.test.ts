/**
 * THRESHOLD answers against the grant's allowed thresholds (issue 11, "Thresholds from the
 * policy"). Each THRESHOLD answer reveals one bit (ratio <= threshold), but when the consumer
 * picks the threshold, about 20 answers binary-search the exact ratio. The circuit therefore
 * takes the allowed thresholds from the policy preimage that policyHash commits to.
 */
import { expect } from "chai";
import {
  AggregateKind,
  FIELD_MODULUS,
  packCohortAndThresholds,
  policyHash,
  PUBLIC_SIGNALS,
  thresholdAllowed,
  thresholdSlots,
} from "../../circuits/lib/signals.js";
import type { Query } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  prepareRelaxed,
  relaxedWitness,
} from "../../circuits/lib/testing.js";
import { assertionAt, openPolicy, refusal, sampleRecords, sampleSalts } from "./helpers.js";
import { referenceAnswer } from "./reference.js";

const NAME = "range_d4";
const DEPTH = 4;
const CORE = "answer_core.circom";
/** The new constraint: THRESHOLD only at a threshold of the policy. */
const MEMBERSHIP = "isKind[6] * thresholdMiss === 0;";
const inCore = (text: string): string => assertionAt(CORE, "AnswerCore", text);
const SLOT_MAX = (1n << 48n) - 1n;
/** The true ratio of {@link thresholdQuery}'s fields over keys 7..30, in PPM. */
const RATIO = 23_437n;

/** THRESHOLD_PPM of field 0 over field 1 on keys 7..30, at `threshold`. */
function thresholdQuery(threshold: bigint, nonce = 1n): Query {
  return {
    kind: AggregateKind.ThresholdPpm,
    fieldA: 0,
    fieldB: 1,
    lo: 7n,
    hi: 30n,
    threshold,
    nonce,
  };
}

// the relaxed copy the forged-witness test uses, compiled in the background from load on
prepareRelaxed(NAME, [[{ file: CORE, remove: MEMBERSHIP }]]);

describe("THRESHOLD thresholds from the policy (range_d4)", function () {
  this.timeout(600_000);
  const records = sampleRecords();
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  describe("attack: binary search on the threshold", function () {
    it("refuses the ~20-probe binary search that recovers the exact ratio", async function () {
      // the true ratio, which the consumer must not learn beyond one bit per allowed threshold
      const ratio = referenceAnswer(
        { ...thresholdQuery(0n), kind: AggregateKind.RatioPpm },
        records,
      ).resultValue;
      expect(ratio).to.equal(RATIO);
      // the grant allows THRESHOLD at one threshold only
      const policy = openPolicy({ thresholds: [100_000n] });
      // invariant: the ratio lies in [low, high]; each answered probe halves the interval
      let low = 0n;
      let high = (1n << 20n) - 1n;
      let answered = 0;
      let refusedAt: string | null = null;
      while (low < high) {
        const mid = (low + high) / 2n;
        const w = rangeWitness(tree, thresholdQuery(mid, BigInt(answered + 1)), policy, 7n, 8n);
        refusedAt = await refusal(calculateWitness(NAME, w.input));
        if (refusedAt !== null) break;
        answered++;
        if (w.answer.resultValue === 1n) high = mid;
        else low = mid + 1n;
      }
      expect(
        { answered, refused: refusedAt !== null },
        `${answered} answered probes narrowed the ratio to [${low}, ${high}] (true ${ratio})`,
      ).to.deep.equal({ answered: 0, refused: true });
      expect(refusedAt).to.equal(inCore(MEMBERSHIP));
      // what the grant does allow still answers: one bit, at the supplier's threshold
      const w = rangeWitness(tree, thresholdQuery(100_000n), policy, 7n, 8n);
      expect(await refusal(calculateWitness(NAME, w.input))).to.equal(null);
      expect(w.answer.resultValue).to.equal(1n);
    });
  });

  describe("allowed thresholds", function () {
    it("answers THRESHOLD at every used slot, first to last, with the reference's bit", async function () {
      const slots = [RATIO - 1n, RATIO, RATIO + 1n, SLOT_MAX];
      const policy = openPolicy({ thresholds: slots });
      for (const t of slots) {
        const q = thresholdQuery(t);
        const w = rangeWitness(tree, q, policy, 7n, 8n);
        expect(w.answer.resultValue).to.equal(referenceAnswer(q, records).resultValue);
        expect(w.answer.resultValue).to.equal(t >= RATIO ? 1n : 0n);
        const witness = await calculateWitness(NAME, w.input);
        expect(witness[2]).to.equal(policyHash(policy));
        expect(await checkWitness(NAME, witness)).to.equal(true);
      }
    });

    it("answers at a slot after an unused one (slot positions are hashed as given)", async function () {
      const policy = openPolicy({ thresholds: [0n, 0n, 0n, RATIO] });
      const w = rangeWitness(tree, thresholdQuery(RATIO), policy, 7n, 8n);
      expect(await checkWitness(NAME, await calculateWitness(NAME, w.input))).to.equal(true);
      expect(policyHash(policy)).to.not.equal(policyHash(openPolicy({ thresholds: [RATIO] })));
    });

    it("refuses every THRESHOLD when the policy allows none, threshold 0 included", async function () {
      for (const t of [0n, 1n, RATIO, (1n << 64n) - 1n]) {
        const w = rangeWitness(tree, thresholdQuery(t), openPolicy({ thresholds: [] }), 7n, 8n);
        expect(await refusal(calculateWitness(NAME, w.input)), `threshold ${t}`).to.equal(
          inCore(MEMBERSHIP),
        );
      }
    });

    it("refuses a threshold one off an allowed one on either side", async function () {
      const policy = openPolicy({ thresholds: [RATIO] });
      for (const t of [RATIO - 1n, RATIO + 1n]) {
        const w = rangeWitness(tree, thresholdQuery(t), policy, 7n, 8n);
        expect(await refusal(calculateWitness(NAME, w.input))).to.equal(inCore(MEMBERSHIP));
      }
    });

    it("does not restrict the other kinds (RATIO and COUNT under a policy without thresholds)", async function () {
      for (const kind of [AggregateKind.RatioPpm, AggregateKind.Count]) {
        const q = { ...thresholdQuery(0n), kind };
        const w = rangeWitness(tree, q, openPolicy({ thresholds: [] }), 7n, 8n);
        expect(await checkWitness(NAME, await calculateWitness(NAME, w.input))).to.equal(true);
      }
    });
  });

  describe("forged witnesses", function () {
    it("a THRESHOLD outside the policy with its true answer fails only the membership constraint", async function () {
      // consistent everywhere (policy hash, query hash, true bit committed) but the threshold
      // is not one of the policy's
      const policy = openPolicy({ thresholds: [100_000n, 200_000n] });
      const w = rangeWitness(tree, thresholdQuery(RATIO), policy, 7n, 8n);
      expect(await refusal(calculateWitness(NAME, w.input))).to.equal(inCore(MEMBERSHIP));
      const forged = await relaxedWitness(NAME, [{ file: CORE, remove: MEMBERSHIP }], w.input);
      expect(forged.slice(1, 6)).to.deep.equal(PUBLIC_SIGNALS.map((s) => w.input[s]));
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("refuses thresholds that do not hash to the policy hash (another slot value or order)", async function () {
      const w = rangeWitness(
        tree,
        thresholdQuery(RATIO),
        openPolicy({ thresholds: [RATIO] }),
        7n,
        8n,
      );
      for (const thresholds of [
        [RATIO, 1n, 0n, 0n],
        [0n, RATIO, 0n, 0n],
      ]) {
        const forged = { ...w.input, thresholds };
        expect(await refusal(calculateWitness(NAME, forged))).to.equal(
          inCore("policyHash === policyHashCalc;"),
        );
      }
    });

    it("refuses a slot of 2^48 that would alias thresholds[1] = 1, and p - 1, at the slot's range check", async function () {
      // 2^48 in slot 0 packs to the same word as 1 in slot 1: without the 48-bit check, a
      // policy allowing threshold 1 would also allow 2^48
      const allowsOne = openPolicy({ thresholds: [0n, 1n] });
      const aliased = { ...allowsOne, thresholds: [1n << 48n] };
      expect(BigInt(allowsOne.minCohort) + (1n << 80n)).to.equal(
        BigInt(aliased.minCohort) + ((1n << 48n) << 32n),
      );
      const w = rangeWitness(tree, thresholdQuery(1n << 48n), allowsOne, 7n, 8n);
      const rangeCheck = assertionAt("circomlib/circuits/bitify.circom", "Num2Bits", "lc1 === in;");
      for (const slot of [1n << 48n, FIELD_MODULUS - 1n]) {
        const forged = { ...w.input, thresholds: [slot, 0n, 0n, 0n] };
        expect(await refusal(calculateWitness(NAME, forged)), `slot ${slot}`).to.equal(rangeCheck);
      }
    });
  });

  describe("packing (circuits/lib/signals.ts)", function () {
    it("puts minCohort and the four 48-bit slots in disjoint bit ranges below 2^224", function () {
      const p = openPolicy({ minCohort: 2 ** 32 - 1, thresholds: [SLOT_MAX, 1n, SLOT_MAX, 2n] });
      const word = packCohortAndThresholds(p);
      expect(word & 0xffffffffn).to.equal(2n ** 32n - 1n);
      expect([0, 1, 2, 3].map((i) => (word >> BigInt(32 + 48 * i)) & SLOT_MAX)).to.deep.equal(
        thresholdSlots(p),
      );
      expect(word < 1n << 224n).to.equal(true);
    });

    it("rejects a fifth slot, a slot of 2^48 and a negative slot", function () {
      expect(() => policyHash(openPolicy({ thresholds: [1n, 2n, 3n, 4n, 5n] }))).to.throw(
        RangeError,
        /at most 4/,
      );
      for (const t of [1n << 48n, -1n]) {
        expect(() => policyHash(openPolicy({ thresholds: [t] }))).to.throw(RangeError, /48-bit/);
      }
    });

    it("allows a threshold only where a used slot holds it (0 is never allowed)", function () {
      const p = openPolicy({ thresholds: [0n, 15_000n] });
      expect(thresholdAllowed(p, 15_000n)).to.equal(true);
      expect(thresholdAllowed(p, 0n)).to.equal(false);
      expect(thresholdAllowed(p, 14_999n)).to.equal(false);
      expect(thresholdAllowed(openPolicy({ thresholds: undefined }), 0n)).to.equal(false);
    });
  });
});
