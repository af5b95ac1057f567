/**
 * Audits by public randomness (issue 15, protocol/audit.ts): the indices drawn from a seed,
 * and the rate at which they catch a malformed tree, measured against the real AuditPath
 * circuit and compared with the bound 1 - (1 - f)^t.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { buildTree, type Leaf } from "../../circuits/lib/tree.js";
import { auditWitness } from "../../circuits/lib/witness.js";
import { calculateWitness, ensureCompiled } from "../../circuits/lib/testing.js";
import {
  auditChallenge,
  auditIndices,
  auditSeedBlock,
  escapeProbability,
} from "../../protocol/audit.js";
import { forgedTree, type NodeOverride } from "./forged-tree.js";
import { refusal, sampleRecords, sampleSalts } from "./helpers.js";

const NAME = "audit_d4";
const DEPTH = 4;
const M = 3;
const seedOf = (trial: number): string => keccak256(toUtf8Bytes(`audit-trial-${trial}`));

describe("Audit sampling (protocol/audit.ts)", function () {
  this.timeout(900_000);

  describe("auditIndices", function () {
    it("is deterministic in (version, seed) and changes with either", function () {
      const a = auditIndices(1n, seedOf(1), 10n, DEPTH, 50);
      expect(auditIndices(1n, seedOf(1), 10n, DEPTH, 50)).to.deep.equal(a);
      expect(auditIndices(2n, seedOf(1), 10n, DEPTH, 50)).to.not.deep.equal(a);
      expect(auditIndices(1n, seedOf(2), 10n, DEPTH, 50)).to.not.deep.equal(a);
    });

    it("draws links 0..recordCount (sentinel to first padding), capped at 2^depth - 2", function () {
      const few = auditIndices(1n, seedOf(3), 10n, DEPTH, 2000);
      expect(Math.min(...few)).to.equal(0);
      expect(Math.max(...few)).to.equal(10);
      const full = auditIndices(1n, seedOf(3), 14n, DEPTH, 2000);
      expect(Math.max(...full)).to.equal(14); // 2^4 - 2: the last leaf has no successor
      expect(Math.max(...auditIndices(1n, seedOf(3), 99n, DEPTH, 2000))).to.equal(14);
    });

    it("refuses a malformed seed, t < 1 and a negative count", function () {
      expect(() => auditIndices(1n, "0x12", 10n, DEPTH, 5)).to.throw(RangeError, /bytes32/);
      expect(() => auditIndices(1n, seedOf(1), 10n, DEPTH, 0)).to.throw(RangeError, /positive/);
      expect(() => auditIndices(1n, seedOf(1), -1n, DEPTH, 5)).to.throw(RangeError, /negative/);
    });
  });

  describe("seed block, challenge and bound", function () {
    it("seeds with the block N after publication (default 5) and refuses N < 1", function () {
      expect(auditSeedBlock(100)).to.equal(105);
      expect(auditSeedBlock(100, 12)).to.equal(112);
      expect(() => auditSeedBlock(100, 0)).to.throw(RangeError);
    });

    it("derives a field-sized challenge bound to version and seed", function () {
      const c = auditChallenge(7n, seedOf(1));
      expect(c < 1n << 248n).to.equal(true);
      expect(auditChallenge(8n, seedOf(1))).to.not.equal(c);
      expect(auditChallenge(7n, seedOf(2))).to.not.equal(c);
    });

    it("gives (1 - f)^t: 300 audits let 10% escape with < 1e-13 and 0.1% with 0.74", function () {
      expect(escapeProbability(0.1, 300)).to.be.lessThan(1e-13);
      // plain arithmetic, not closeTo: hardhat's chai matchers make closeTo take integers only
      expect(Math.abs(escapeProbability(0.01, 300) - 0.049)).to.be.lessThan(0.001);
      expect(Math.abs(escapeProbability(0.001, 300) - 0.741)).to.be.lessThan(0.001);
      expect(() => escapeProbability(1.5, 3)).to.throw(RangeError);
    });
  });

  describe("against a malformed tree (audit_d4)", function () {
    it("catches a hidden subtree at the rate 1 - (1 - f)^t over 2,000 seeded trials", async function () {
      ensureCompiled(NAME);
      const records = sampleRecords();
      const tree = await buildTree(records, sampleSalts(records.length), DEPTH);
      const leaves: Leaf[] = Array.from({ length: 2 ** DEPTH }, (_, i) => tree.leaf(i));
      // node (1, 2) (leaves 4, 5) committed with count 0 and published as 8 records to match
      const hide: NodeOverride = (t) => [t[0]!, 0n, ...t.slice(2)];
      const bad = await forgedTree(leaves, DEPTH, M, new Map([["1:2", hide]]));
      const recordCount = 8n;
      // ground truth from the circuit: which of the links 0..8 fail their audit
      const caught = new Set<number>();
      for (let i = 0; i <= Number(recordCount); i++) {
        const w = auditWitness(bad, i, 1n, recordCount);
        if ((await refusal(calculateWitness(NAME, w.input))) !== null) caught.add(i);
      }
      expect([...caught]).to.deep.equal([3, 4, 5]); // the links into, inside and out of it
      const f = caught.size / (Number(recordCount) + 1);
      // t = 3 audits per trial: detection expected 1 - (6/9)^3 = 0.7037; the tolerance is
      // 4 standard deviations of a binomial over 2,000 trials (±0.041; a false failure has
      // probability < 1e-4, and these seeds are fixed, so the outcome is reproducible)
      const t = 3;
      const trials = 2000;
      let detected = 0;
      for (let k = 0; k < trials; k++) {
        if (auditIndices(1n, seedOf(k), recordCount, DEPTH, t).some((i) => caught.has(i))) {
          detected++;
        }
      }
      const expected = 1 - escapeProbability(f, t);
      const tolerance = 4 * Math.sqrt((expected * (1 - expected)) / trials);
      expect(
        Math.abs(detected / trials - expected),
        `rate ${detected / trials} vs ${expected}`,
      ).to.be.lessThan(tolerance);
    });
  });
});
