import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { bindingOf, circuitId } from "../../circuits/lib/signals.js";
import {
  consentFor,
  deployPartProof,
  ENDPOINT,
  META,
  PARAMS,
  POLICY,
  POLICY_HASH,
  policyTuple,
  ROOT,
  SCHEMA,
} from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const CIRCUIT = circuitId("range_d4");
type Pair = [bigint, bigint];
type Signals = [bigint, bigint, bigint, bigint, bigint];
const PROOF: { a: Pair; b: [Pair, Pair]; c: Pair } = {
  a: [1n, 2n],
  b: [
    [3n, 4n],
    [5n, 6n],
  ],
  c: [7n, 8n],
};
const QUERY_HASH = 111n;
const RESULT = 222n;
const Status = { Active: 2n, Requested: 1n, Revoked: 4n };

async function fixture() {
  const [admin, owner, consumer, relayer, other] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  const verifier = await ethers.deployContract("TestVerifier");
  await pp.connect(admin).registerCircuit(CIRCUIT, await verifier.getAddress());
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).publishVersion(1n, ROOT, 16n, 4, PARAMS);
  await pp.connect(owner).publishVersion(2n, ROOT, 16n, 4, PARAMS);
  const now = BigInt(await networkHelpers.time.latest());
  await pp.connect(owner).grantAccess(1n, consumer!.address, policyTuple(), now, now + 86400n, 2);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const address = await pp.getAddress();
  const v1 = await pp.versionIdOf(1n, 1);
  /** Public signals a proof for `grantId`/`requestId` carries, with overrides. */
  const signals = (requestId: string, grantId = 1n, who = consumer!.address): Signals => [
    ROOT,
    POLICY_HASH,
    QUERY_HASH,
    RESULT,
    bindingOf(chainId, address, grantId, who, requestId),
  ];
  const domain = { chainId, partProof: address };
  /** The consumer's (or `signer`'s) AnswerConsent for a request, as recordAnswer takes it. */
  const consent = (
    requestId: string,
    grantId = 1n,
    versionId = v1,
    queryHash = QUERY_HASH,
    signer: Signer = consumer!,
  ) => consentFor(signer, domain, { grantId, requestId, versionId, queryHash });
  return {
    pp,
    verifier,
    admin: admin!,
    owner: owner!,
    consumer: consumer!,
    relayer: relayer!,
    other: other!,
    now,
    v1,
    chainId,
    signals,
    consent,
    domain,
  };
}

const REQ = ethers.id("request-1");
const REQ2 = ethers.id("request-2");

describe("AccessLog", function () {
  describe("recordAnswer", function () {
    it("logs an answer relayed by anyone, increments usage and emits the audit event", async function () {
      const { pp, consumer, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const tx = await pp
        .connect(relayer)
        .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1));
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt!.blockNumber);
      await expect(tx)
        .to.emit(pp, "AnswerRecorded")
        .withArgs(
          1n,
          consumer.address,
          REQ,
          v1,
          CIRCUIT,
          1n,
          relayer.address,
          block!.timestamp,
          signals(REQ),
          [PROOF.a, PROOF.b, PROOF.c],
        );
      expect(await pp.isRequestLogged(1n, REQ)).to.equal(true);
      expect(await pp.isRequestLogged(1n, REQ2)).to.equal(false);
      expect(await pp.isRequestLogged(2n, REQ)).to.equal(false);
      expect(await pp.answerBlockOf(1n, REQ)).to.equal(BigInt(receipt!.blockNumber));
      expect(await pp.answerBlockOf(1n, REQ2)).to.equal(0n);
      expect(await pp.answerBlockOf(2n, REQ)).to.equal(0n);
      expect((await pp.getGrant(1n)).used).to.equal(1n);
    });

    it("reverts when the request id was logged before", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      await pp
        .connect(relayer)
        .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1));
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "RequestAlreadyLogged")
        .withArgs(1n, REQ);
    });

    it("reverts when the quota is used up", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      await pp
        .connect(relayer)
        .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1));
      await pp
        .connect(relayer)
        .recordAnswer(1n, v1, CIRCUIT, REQ2, PROOF, signals(REQ2), await consent(REQ2, 1n, v1));
      const req3 = ethers.id("request-3");
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, req3, PROOF, signals(req3), await consent(req3, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "GrantQuotaExhausted")
        .withArgs(1n, 2n);
      expect((await pp.getGrant(1n)).used).to.equal(2n);
    });

    it("reverts when the circuit is unknown", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      const unknown = circuitId("nope");
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, unknown, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "UnknownCircuit")
        .withArgs(unknown);
    });

    it("reverts when the circuit is retired", async function () {
      const { pp, admin, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).retireCircuit(CIRCUIT);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "CircuitIsRetired")
        .withArgs(CIRCUIT);
    });

    it("reverts when the grant does not exist", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(7n, v1, CIRCUIT, REQ, PROOF, signals(REQ, 7n), await consent(REQ, 7n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "GrantNotFound")
        .withArgs(7n);
    });

    it("reverts in the same block in which the grant is revoked", async function () {
      const { pp, owner, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await networkHelpers.mine(); // flush
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const revoke = await pp.connect(owner).revokeGrant(1n, { gasLimit: 200_000 });
        const answer = await pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1), {
            gasLimit: 1_000_000,
          });
        await networkHelpers.mine();
        const r1 = await ethers.provider.getTransactionReceipt(revoke.hash);
        const r2 = await ethers.provider.getTransactionReceipt(answer.hash);
        expect(r1!.blockNumber).to.equal(r2!.blockNumber);
        expect(r1!.status).to.equal(1);
        expect(r2!.status).to.equal(0);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect(await pp.isRequestLogged(1n, REQ)).to.equal(false);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(1n, Status.Revoked, Status.Active);
    });

    it("reverts when the grant is only requested", async function () {
      const { pp, consumer, relayer, now, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(consumer).requestGrant(1n, policyTuple(), now, now + 1000n, 5);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(2n, v1, CIRCUIT, REQ, PROOF, signals(REQ, 2n), await consent(REQ, 2n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(2n, Status.Requested, Status.Active);
    });

    it("reverts before the grant's window opens", async function () {
      const { pp, owner, consumer, relayer, now, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp
        .connect(owner)
        .grantAccess(1n, consumer.address, policyTuple(), now + 500n, now + 1000n, 5);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(2n, v1, CIRCUIT, REQ, PROOF, signals(REQ, 2n), await consent(REQ, 2n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "GrantNotYetValid")
        .withArgs(2n, now + 500n);
    });

    it("reverts after the grant expired", async function () {
      const { pp, relayer, now, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      await networkHelpers.time.increaseTo(now + 86401n);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "GrantExpired")
        .withArgs(1n, now + 86400n);
    });

    it("reverts when the version belongs to another asset", async function () {
      const { pp, relayer, signals, consent } = await networkHelpers.loadFixture(fixture);
      const other = await pp.versionIdOf(2n, 1);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(
            1n,
            other,
            CIRCUIT,
            REQ,
            PROOF,
            signals(REQ),
            await consent(REQ, 1n, other),
          ),
      )
        .to.be.revertedWithCustomError(pp, "VersionNotOfAsset")
        .withArgs(other, 1n);
    });

    it("reverts when the version does not exist", async function () {
      const { pp, relayer, signals, consent } = await networkHelpers.loadFixture(fixture);
      const missing = await pp.versionIdOf(1n, 2);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(
            1n,
            missing,
            CIRCUIT,
            REQ,
            PROOF,
            signals(REQ),
            await consent(REQ, 1n, missing),
          ),
      )
        .to.be.revertedWithCustomError(pp, "VersionNotFound")
        .withArgs(missing);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });

    it("reverts when the root is not the version's", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      const s = signals(REQ);
      s[0] = ROOT + 1n;
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "RootMismatch")
        .withArgs(v1, ROOT, ROOT + 1n);
    });

    it("reverts when the policy hash is not the grant's", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      const s = signals(REQ);
      s[1] = POLICY_HASH + 1n;
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "PolicyHashMismatch")
        .withArgs(1n, POLICY_HASH, POLICY_HASH + 1n);
    });

    it("reverts when the proof is bound to another consumer", async function () {
      const { pp, other, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const s = signals(REQ, 1n, other.address);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "BindingMismatch")
        .withArgs(await pp.bindingFor(1n, REQ), s[4]);
    });

    it("reverts when the proof is bound to another request id", async function () {
      const { pp, relayer, v1, signals, consent } = await networkHelpers.loadFixture(fixture);
      const s = signals(REQ2);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "BindingMismatch")
        .withArgs(await pp.bindingFor(1n, REQ), s[4]);
    });

    it("reverts when the proof is bound to another grant of the same consumer", async function () {
      const { pp, owner, consumer, relayer, now, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp
        .connect(owner)
        .grantAccess(1n, consumer.address, policyTuple(POLICY), now, now + 1000n, 5);
      const s = signals(REQ, 1n);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(2n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 2n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "BindingMismatch")
        .withArgs(await pp.bindingFor(2n, REQ), s[4]);
    });

    it("reverts when the verifier rejects the proof", async function () {
      const { pp, verifier, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await verifier.setAccept(false);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      )
        .to.be.revertedWithCustomError(pp, "InvalidProof")
        .withArgs(CIRCUIT);
      expect((await pp.getGrant(1n)).used).to.equal(0n);
    });

    it("reverts when paused", async function () {
      const { pp, admin, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).pause();
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1)),
      ).to.be.revertedWithCustomError(pp, "EnforcedPause");
      await pp.connect(admin).unpause();
      await pp
        .connect(relayer)
        .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ, 1n, v1));
      expect(await pp.isRequestLogged(1n, REQ)).to.equal(true);
    });
  });

  describe("recordAnswer: request ids are scoped by grant", function () {
    it("logs a consumer's request id although another account logged the same id under its own grant", async function () {
      const { pp, consumer, relayer, other, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      // The squatter registers its own asset, grants itself access and logs REQ first.
      await pp.connect(other).registerAsset(SCHEMA, META, ENDPOINT);
      await pp.connect(other).publishVersion(3n, ROOT, 16n, 4, PARAMS);
      const now = BigInt(await networkHelpers.time.latest());
      await pp.connect(other).grantAccess(3n, other.address, policyTuple(), now, now + 999n, 5);
      const own = await pp.versionIdOf(3n, 1);
      await pp
        .connect(other)
        .recordAnswer(
          2n,
          own,
          CIRCUIT,
          REQ,
          PROOF,
          signals(REQ, 2n, other.address),
          await consent(REQ, 2n, own, QUERY_HASH, other),
        );
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), await consent(REQ)),
      )
        .to.emit(pp, "AnswerRecorded")
        .withArgs(
          1n,
          consumer.address,
          REQ,
          v1,
          CIRCUIT,
          1n,
          relayer.address,
          anyValue,
          anyValue,
          anyValue,
        );
      expect(await pp.isRequestLogged(2n, REQ)).to.equal(true);
      expect(await pp.isRequestLogged(1n, REQ)).to.equal(true);
    });
  });

  describe("recordAnswer: the consumer's consent", function () {
    it("reverts when the consent is signed by the relayer instead of the consumer", async function () {
      const { pp, consumer, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const forged = await consent(REQ, 1n, v1, QUERY_HASH, relayer);
      await expect(
        pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), forged),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, REQ, consumer.address);
      expect((await pp.getGrant(1n)).used).to.equal(0n);
    });

    it("reverts when the consent signature is empty or malformed", async function () {
      const { pp, consumer, relayer, v1, signals } = await networkHelpers.loadFixture(fixture);
      for (const signature of ["0x", "0x" + "11".repeat(65), "0x" + "22".repeat(64)]) {
        await expect(
          pp
            .connect(relayer)
            .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), { versionId: v1, signature }),
        )
          .to.be.revertedWithCustomError(pp, "InvalidConsent")
          .withArgs(1n, REQ, consumer.address);
      }
    });

    it("reverts when the consent is for another query hash", async function () {
      const { pp, consumer, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const other = await consent(REQ, 1n, v1, QUERY_HASH + 1n);
      await expect(
        pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), other),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, REQ, consumer.address);
    });

    it("reverts when the consent is for another grant of the same consumer", async function () {
      const { pp, owner, consumer, relayer, now, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), now, now + 999n, 5);
      const forGrant2 = await consent(REQ, 2n, v1);
      await expect(
        pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), forGrant2),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, REQ, consumer.address);
    });

    it("reverts when the consent is for another request id", async function () {
      const { pp, consumer, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const forReq2 = await consent(REQ2, 1n, v1);
      await expect(
        pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), forReq2),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, REQ, consumer.address);
    });

    it("reverts when the consent names another version", async function () {
      const { pp, owner, consumer, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).publishVersion(1n, ROOT + 1n, 16n, 4, PARAMS);
      const v2 = await pp.versionIdOf(1n, 2);
      // signed for v2, relayed as v2: the answer is over v1
      const forV2 = await consent(REQ, 1n, v2);
      await expect(
        pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), forV2),
      )
        .to.be.revertedWithCustomError(pp, "ConsentVersionMismatch")
        .withArgs(v2, v1);
      // signed for v2, relayed as if signed for v1: the signature does not match
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), { ...forV2, versionId: v1 }),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, REQ, consumer.address);
    });

    it("accepts versionId 0 only for the asset's latest version", async function () {
      const { pp, owner, relayer, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const latest = await consent(REQ, 1n, 0n);
      await pp.connect(relayer).recordAnswer(1n, v1, CIRCUIT, REQ, PROOF, signals(REQ), latest);
      expect(await pp.isRequestLogged(1n, REQ)).to.equal(true);
      await pp.connect(owner).publishVersion(1n, ROOT + 1n, 16n, 4, PARAMS);
      const v2 = await pp.versionIdOf(1n, 2);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, REQ2, PROOF, signals(REQ2), await consent(REQ2, 1n, 0n)),
      )
        .to.be.revertedWithCustomError(pp, "VersionNotLatest")
        .withArgs(v1, v2);
    });

    it("accepts the consent of an ERC-1271 wallet consumer, signed by its owner key", async function () {
      const { pp, owner, consumer, relayer, other, now, v1, signals, consent } =
        await networkHelpers.loadFixture(fixture);
      const wallet = await ethers.deployContract("TestERC1271Wallet", [consumer.address]);
      const walletAddr = await wallet.getAddress();
      await pp.connect(owner).grantAccess(1n, walletAddr, policyTuple(), now, now + 999n, 5);
      const s = signals(REQ, 2n, walletAddr);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(
            2n,
            v1,
            CIRCUIT,
            REQ,
            PROOF,
            s,
            await consent(REQ, 2n, v1, QUERY_HASH, other),
          ),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(2n, REQ, walletAddr);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(2n, v1, CIRCUIT, REQ, PROOF, s, await consent(REQ, 2n, v1)),
      )
        .to.emit(pp, "AnswerRecorded")
        .withArgs(2n, walletAddr, REQ, v1, CIRCUIT, 1n, relayer.address, anyValue, s, anyValue);
    });

    it("exposes the consent's EIP-712 type hash", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      expect(await pp.ANSWER_CONSENT_TYPEHASH()).to.equal(
        ethers.id(
          "AnswerConsent(uint256 grantId,bytes32 requestId,uint256 versionId,uint256 queryHash)",
        ),
      );
    });
  });

  describe("updateQuota against the grant's use", function () {
    /** The fixture's grant 1 (quota 2) with both answers used. */
    async function usedUp() {
      const f = await networkHelpers.loadFixture(fixture);
      for (const r of [REQ, REQ2]) {
        await f.pp
          .connect(f.relayer)
          .recordAnswer(1n, f.v1, CIRCUIT, r, PROOF, f.signals(r), await f.consent(r, 1n, f.v1));
      }
      return f;
    }

    it("reverts when the new quota is below the answers already used (used stays <= quota)", async function () {
      const { pp, owner } = await usedUp();
      await expect(pp.connect(owner).updateQuota(1n, 1))
        .to.be.revertedWithCustomError(pp, "QuotaBelowUsed")
        .withArgs(1n, 2n);
      const g = await pp.getGrant(1n);
      expect([g.quota, g.used]).to.deep.equal([2n, 2n]);
    });

    it("accepts a quota equal to the use (the grant stays exhausted) and a higher one (one more answer)", async function () {
      const { pp, owner, relayer, v1, signals, consent } = await usedUp();
      await expect(pp.connect(owner).updateQuota(1n, 2))
        .to.emit(pp, "GrantQuotaUpdated")
        .withArgs(1n, 2n, 2n);
      const req3 = ethers.id("request-3");
      const record = async () =>
        pp
          .connect(relayer)
          .recordAnswer(1n, v1, CIRCUIT, req3, PROOF, signals(req3), await consent(req3, 1n, v1));
      await expect(record()).to.be.revertedWithCustomError(pp, "GrantQuotaExhausted");
      await expect(pp.connect(owner).updateQuota(1n, 3)).to.emit(pp, "GrantQuotaUpdated");
      await expect(record()).to.emit(pp, "AnswerRecorded");
      expect((await pp.getGrant(1n)).used).to.equal(3n);
    });
  });

  describe("bindingFor", function () {
    it("equals bindingOf of circuits/lib/signals.ts with the grant's consumer", async function () {
      const { pp, consumer, chainId } = await networkHelpers.loadFixture(fixture);
      expect(await pp.bindingFor(1n, REQ)).to.equal(
        bindingOf(chainId, await pp.getAddress(), 1n, consumer.address, REQ),
      );
    });

    it("reverts when the grant does not exist", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      await expect(pp.bindingFor(3n, REQ))
        .to.be.revertedWithCustomError(pp, "GrantNotFound")
        .withArgs(3n);
    });
  });
});

describe("VerifierRegistry", function () {
  describe("registerCircuit", function () {
    it("binds a circuit id to a verifier and emits the event", async function () {
      const { pp, admin, verifier } = await networkHelpers.loadFixture(fixture);
      const id = circuitId("scan_8");
      const addr = await verifier.getAddress();
      await expect(pp.connect(admin).registerCircuit(id, addr))
        .to.emit(pp, "CircuitRegistered")
        .withArgs(id, addr);
      const c = await pp.getCircuit(id);
      expect(c.verifier).to.equal(addr);
      expect(c.retired).to.equal(false);
    });

    it("reverts when the circuit id is already registered", async function () {
      const { pp, admin, verifier } = await networkHelpers.loadFixture(fixture);
      const addr = await verifier.getAddress();
      await expect(pp.connect(admin).registerCircuit(CIRCUIT, addr))
        .to.be.revertedWithCustomError(pp, "CircuitAlreadyRegistered")
        .withArgs(CIRCUIT, addr);
    });

    it("reverts when the verifier is not a contract", async function () {
      const { pp, admin, other } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(admin).registerCircuit(circuitId("x"), other.address))
        .to.be.revertedWithCustomError(pp, "InvalidVerifier")
        .withArgs(other.address);
    });
  });

  describe("retireCircuit", function () {
    it("retires the circuit and emits the event", async function () {
      const { pp, admin, verifier } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(admin).retireCircuit(CIRCUIT))
        .to.emit(pp, "CircuitRetired")
        .withArgs(CIRCUIT, await verifier.getAddress());
      expect((await pp.getCircuit(CIRCUIT)).retired).to.equal(true);
    });

    it("reverts when the circuit is unknown", async function () {
      const { pp, admin } = await networkHelpers.loadFixture(fixture);
      const id = circuitId("unknown");
      await expect(pp.connect(admin).retireCircuit(id))
        .to.be.revertedWithCustomError(pp, "UnknownCircuit")
        .withArgs(id);
    });

    it("reverts when the circuit is already retired", async function () {
      const { pp, admin } = await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).retireCircuit(CIRCUIT);
      await expect(pp.connect(admin).retireCircuit(CIRCUIT))
        .to.be.revertedWithCustomError(pp, "CircuitIsRetired")
        .withArgs(CIRCUIT);
    });
  });

  describe("getCircuit", function () {
    it("returns the zero entry for an unknown circuit", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      const c = await pp.getCircuit(circuitId("none"));
      expect(c.verifier).to.equal(ethers.ZeroAddress);
      expect(c.retired).to.equal(false);
    });
  });
});
