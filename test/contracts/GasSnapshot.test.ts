import { expect } from "chai";
import { network } from "hardhat";
import { bindingOf, circuitId } from "../../circuits/lib/signals.js";
import { partProofDomain, PUBLISH_VERSION_TYPES } from "../../protocol/typed-data.js";
import { checkGas, COVERAGE } from "./gas.js";
import {
  consentFor,
  deployPartProof,
  ENDPOINT,
  META,
  PARAMS,
  POLICY_HASH,
  policyTuple,
  ROOT,
  SCHEMA,
} from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const CIRCUIT = circuitId("range_d4");
const PROOF = {
  a: [1n, 2n] as [bigint, bigint],
  b: [
    [3n, 4n],
    [5n, 6n],
  ] as [[bigint, bigint], [bigint, bigint]],
  c: [7n, 8n] as [bigint, bigint],
};

async function fixture() {
  const [admin, owner, consumer, relayer] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  const verifier = await ethers.deployContract("TestVerifier");
  await pp.connect(admin).registerCircuit(CIRCUIT, await verifier.getAddress());
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).publishVersion(1n, ROOT, 16n, 4, PARAMS);
  const now = BigInt(await networkHelpers.time.latest());
  await pp.connect(owner).grantAccess(1n, consumer!.address, policyTuple(), now, now + 86400n, 10);
  return { pp, owner: owner!, consumer: consumer!, relayer: relayer!, now };
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) {
  return (await (await tx).wait())!.gasUsed;
}

describe("Gas snapshot", function () {
  before(function () {
    if (COVERAGE) this.skip(); // instrumented bytecode: gas differs
  });

  describe("publishVersion", function () {
    it("stays within 2% of the snapshot", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      checkGas(
        "publishVersion",
        await gasOf(pp.connect(owner).publishVersion(1n, ROOT, 16n, 4, PARAMS)),
      );
    });
  });

  describe("publishVersionBySig", function () {
    it("stays within 2% of the snapshot", async function () {
      const { pp, owner, relayer } = await networkHelpers.loadFixture(fixture);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const deadline = BigInt(await networkHelpers.time.latest()) + 600n;
      const message = {
        assetId: 1n,
        root: ROOT,
        recordCount: 16n,
        treeDepth: 4n,
        paramsHash: PARAMS,
        nonce: 0n,
        deadline,
      };
      const sig = await owner.signTypedData(
        partProofDomain(chainId, await pp.getAddress()),
        PUBLISH_VERSION_TYPES,
        message,
      );
      checkGas(
        "publishVersionBySig",
        await gasOf(
          pp.connect(relayer).publishVersionBySig(1n, ROOT, 16n, 4, PARAMS, deadline, sig),
        ),
      );
    });
  });

  describe("grantAccess", function () {
    it("stays within 2% of the snapshot", async function () {
      const { pp, owner, consumer, now } = await networkHelpers.loadFixture(fixture);
      checkGas(
        "grantAccess",
        await gasOf(
          pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), now, now + 999n, 5),
        ),
      );
    });
  });

  describe("revokeGrant", function () {
    it("stays within 2% of the snapshot", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      checkGas("revokeGrant", await gasOf(pp.connect(owner).revokeGrant(1n)));
    });
  });

  describe("anchorAuditSeed", function () {
    it("stays within 2% of the snapshot", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      await networkHelpers.mine(5);
      checkGas("anchorAuditSeed", await gasOf(pp.anchorAuditSeed(await pp.versionIdOf(1n, 1))));
    });
  });

  describe("attestAudit", function () {
    it("stays within 2% of the snapshot (first attester, seed anchored on the way)", async function () {
      const { pp, relayer } = await networkHelpers.loadFixture(fixture);
      await networkHelpers.mine(5);
      const versionId = await pp.versionIdOf(1n, 1);
      const [, seed] = await pp.auditSeedOf(versionId);
      checkGas(
        "attestAudit",
        await gasOf(pp.connect(relayer).attestAudit(versionId, seed, 300, ethers.id("proofs"))),
      );
    });
  });

  describe("recordAnswer", function () {
    it("stays within 2% of the snapshot (TestVerifier: checks and storage only)", async function () {
      const { pp, consumer, relayer } = await networkHelpers.loadFixture(fixture);
      const requestId = ethers.id("gas-1");
      const signals: [bigint, bigint, bigint, bigint, bigint] = [
        ROOT,
        POLICY_HASH,
        111n,
        222n,
        bindingOf(
          (await ethers.provider.getNetwork()).chainId,
          await pp.getAddress(),
          1n,
          consumer.address,
          requestId,
        ),
      ];
      const versionId = await pp.versionIdOf(1n, 1);
      const domain = {
        chainId: (await ethers.provider.getNetwork()).chainId,
        partProof: await pp.getAddress(),
      };
      const consent = await consentFor(consumer, domain, {
        grantId: 1n,
        requestId,
        versionId,
        queryHash: 111n,
      });
      const gas = await gasOf(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, CIRCUIT, requestId, PROOF, signals, consent),
      );
      checkGas("recordAnswer.withoutGroth16", gas);
      // With Groth16 (~217k with 5 public signals) a logged answer stays under 310k.
      expect(gas).to.be.lessThan(310_000n - 217_000n);
    });
  });
});
