import { expect } from "chai";
import { network } from "hardhat";
import {
  bindingOf,
  FIELD_MODULUS,
  packCohortAndThresholds,
  packMasks,
  policyHash,
  PUBLIC_SIGNALS,
  SIGNAL_INDEX,
  type Policy,
} from "../../circuits/lib/signals.js";
import { deployPoseidonT5, policyTuple } from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  const poseidon = await deployPoseidonT5(ethers);
  const harness = await ethers.deployContract("ProofSignalsHarness", [], {
    libraries: { PoseidonT5: poseidon },
  });
  return { harness };
}

const U32 = 2 ** 32 - 1;
const U128 = 2n ** 128n - 1n;
const S48 = 2n ** 48n - 1n;
const P_THRESHOLD: Policy = {
  aggregateMask: 0b1100000,
  fieldMask: 0b11,
  filterMask: 0,
  keyLo: 1n,
  keyHi: 2n ** 64n,
  minCohort: 5,
};
const POLICIES: Policy[] = [
  { aggregateMask: 0, fieldMask: 0, filterMask: 0, keyLo: 0n, keyHi: 0n, minCohort: 0 },
  { aggregateMask: 1, fieldMask: 2, filterMask: 4, keyLo: 5n, keyHi: 6n, minCohort: 7 },
  { aggregateMask: 0x7f, fieldMask: 0xff, filterMask: 0x0f, keyLo: 0n, keyHi: U128, minCohort: 10 },
  // every bit a valid fieldMask can hold: fields 0-7, one cohort field named per field (bits
  // 8 + 4j + i, at most one i per j), and the unused bits 24-31
  {
    aggregateMask: U32,
    fieldMask: 0xff8888ff,
    filterMask: U32,
    keyLo: U128,
    keyHi: U128,
    minCohort: U32,
  },
  {
    aggregateMask: 0b1000001,
    fieldMask: 0xde4821ef, // cohort map: field j counted by field 0, 1, 3, 2
    filterMask: 0x12345678,
    keyLo: 2n ** 64n + 3n,
    keyHi: 2n ** 127n + 5n,
    minCohort: 50,
  },
  // allowed THRESHOLD thresholds: one slot, a gap, every slot at its 48-bit maximum
  { ...P_THRESHOLD, thresholds: [15_000n] },
  { ...P_THRESHOLD, thresholds: [0n, 0n, 0n, 15_000n] },
  { ...P_THRESHOLD, minCohort: U32, thresholds: [S48, S48, S48, S48] },
];

describe("ProofSignals", function () {
  describe("signal indices", function () {
    it("match PUBLIC_SIGNALS of circuits/lib/signals.ts", async function () {
      const { harness } = await networkHelpers.loadFixture(fixture);
      const [root, policy, query, result, binding, count] = await harness.indices();
      expect([root, policy, query, result, binding]).to.deep.equal([
        BigInt(SIGNAL_INDEX.root),
        BigInt(SIGNAL_INDEX.policyHash),
        BigInt(SIGNAL_INDEX.queryHash),
        BigInt(SIGNAL_INDEX.resultCommitment),
        BigInt(SIGNAL_INDEX.binding),
      ]);
      expect(count).to.equal(BigInt(PUBLIC_SIGNALS.length));
    });
  });

  describe("packMasks", function () {
    it("equals the TypeScript packing for every sample policy", async function () {
      const { harness } = await networkHelpers.loadFixture(fixture);
      for (const p of POLICIES) {
        expect(await harness.packMasks(policyTuple(p))).to.equal(packMasks(p));
      }
    });
  });

  describe("packCohortAndThresholds", function () {
    it("equals the TypeScript packing of minCohort and the four threshold slots", async function () {
      const { harness } = await networkHelpers.loadFixture(fixture);
      for (const p of POLICIES) {
        const expected = packCohortAndThresholds(p);
        expect(await harness.packCohortAndThresholds(policyTuple(p))).to.equal(expected);
        expect(expected).to.be.lessThan(1n << 224n);
      }
    });
  });

  describe("policyHash", function () {
    it("equals the TypeScript Poseidon4 policy hash for every sample policy", async function () {
      const { harness } = await networkHelpers.loadFixture(fixture);
      const seen = new Set<bigint>();
      for (const p of POLICIES) {
        const expected = policyHash(p);
        expect(await harness.policyHash(policyTuple(p))).to.equal(expected);
        expect(expected).to.be.lessThan(FIELD_MODULUS);
        seen.add(expected);
      }
      expect(seen.size).to.equal(POLICIES.length);
    });
  });

  describe("binding", function () {
    it("equals bindingOf for several inputs and fits the field", async function () {
      const { harness } = await networkHelpers.loadFixture(fixture);
      const cases: [bigint, string, bigint, string, string][] = [
        [31337n, ethers.ZeroAddress, 0n, ethers.ZeroAddress, ethers.ZeroHash],
        [1n, "0x" + "11".repeat(20), 1n, "0x" + "22".repeat(20), "0x" + "33".repeat(32)],
        [
          2n ** 64n,
          ethers.getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3"),
          2n ** 255n,
          ethers.getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
          ethers.id("request-42"),
        ],
      ];
      for (const c of cases) {
        const expected = bindingOf(...c);
        expect(await harness.binding(...c)).to.equal(expected);
        expect(expected).to.be.lessThan(FIELD_MODULUS);
      }
    });
  });
});
