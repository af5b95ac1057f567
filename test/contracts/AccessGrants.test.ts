import { expect } from "chai";
import { network } from "hardhat";
import { policyHash } from "../../circuits/lib/signals.js";
import {
  deployPartProof,
  ENDPOINT,
  META,
  POLICY,
  POLICY_HASH,
  policyArray,
  policyTuple,
  SCHEMA,
} from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const Status = { None: 0n, Requested: 1n, Active: 2n, Rejected: 3n, Revoked: 4n };

async function fixture() {
  const [admin, owner, consumer, other] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  const now = BigInt(await networkHelpers.time.latest());
  const from = now;
  const until = now + 30n * 86400n;
  return {
    pp,
    admin: admin!,
    owner: owner!,
    consumer: consumer!,
    other: other!,
    from,
    until,
  };
}

/** Fixture with grant 1 active (issued) and grant 2 requested by the consumer. */
async function withGrants() {
  const f = await fixture();
  await f.pp
    .connect(f.owner)
    .grantAccess(1n, f.consumer.address, policyTuple(), f.from, f.until, 10);
  await f.pp.connect(f.consumer).requestGrant(1n, policyTuple(), f.from, f.until, 3);
  return f;
}

describe("AccessGrants", function () {
  describe("grantAccess", function () {
    it("issues an active grant with the policy hash of circuits/lib/signals.ts", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), from, until, 10),
      )
        .to.emit(pp, "GrantIssued")
        .withArgs(1n, 1n, consumer.address, policyArray(), POLICY_HASH, from, until, 10n);
      const g = await pp.getGrant(1n);
      expect(g.assetId).to.equal(1n);
      expect(g.consumer).to.equal(consumer.address);
      expect(g.validFrom).to.equal(from);
      expect(g.validUntil).to.equal(until);
      expect(g.quota).to.equal(10n);
      expect(g.used).to.equal(0n);
      expect(g.status).to.equal(Status.Active);
      expect(g.policyHash).to.equal(POLICY_HASH);
      const p = await pp.getGrantPolicy(1n);
      expect([...p]).to.deep.equal(policyArray());
      expect(await pp.grantCount()).to.equal(1n);
      expect(await pp.isGrantUsable(1n)).to.equal(true);
    });

    it("stores the allowed THRESHOLD thresholds and hashes them into the policy hash", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      const policy = { ...POLICY, thresholds: [15_000n, 0n, 2n ** 48n - 1n] };
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(policy), from, until, 10),
      )
        .to.emit(pp, "GrantIssued")
        .withArgs(
          1n,
          1n,
          consumer.address,
          policyArray(policy),
          policyHash(policy),
          from,
          until,
          10n,
        );
      const g = await pp.getGrant(1n);
      expect(g.policyHash).to.equal(policyHash(policy));
      expect(g.policyHash).to.not.equal(POLICY_HASH);
      const stored = await pp.getGrantPolicy(1n);
      expect([...stored.thresholds]).to.deep.equal([15_000n, 0n, 2n ** 48n - 1n, 0n]);
    });

    it("reverts when the sender is not the asset owner", async function () {
      const { pp, other, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(other).grantAccess(1n, consumer.address, policyTuple(), from, until, 10),
      )
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, other.address);
    });

    it("reverts when the consumer is the zero address", async function () {
      const { pp, owner, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(1n, ethers.ZeroAddress, policyTuple(), from, until, 10),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsumer")
        .withArgs(ethers.ZeroAddress);
    });

    it("reverts when validFrom is after validUntil", async function () {
      const { pp, owner, consumer, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), until + 1n, until, 10),
      )
        .to.be.revertedWithCustomError(pp, "InvalidValidity")
        .withArgs(until + 1n, until);
    });

    it("reverts when the window is already over", async function () {
      const { pp, owner, consumer, from } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), 1n, from - 1n, 10),
      )
        .to.be.revertedWithCustomError(pp, "InvalidValidity")
        .withArgs(1n, from - 1n);
    });

    it("reverts when the quota is zero", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), from, until, 0),
      )
        .to.be.revertedWithCustomError(pp, "InvalidQuota")
        .withArgs(0n);
    });

    it("reverts when the key range is empty", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      const bad = policyTuple({ ...POLICY, keyLo: 9n, keyHi: 8n });
      await expect(pp.connect(owner).grantAccess(1n, consumer.address, bad, from, until, 1))
        .to.be.revertedWithCustomError(pp, "InvalidKeyRange")
        .withArgs(9n, 8n);
    });

    it("reverts when the asset does not exist", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).grantAccess(4n, consumer.address, policyTuple(), from, until, 1),
      )
        .to.be.revertedWithCustomError(pp, "AssetNotFound")
        .withArgs(4n);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(
        pp.connect(owner).grantAccess(1n, consumer.address, policyTuple(), from, until, 1),
      )
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });
  });

  describe("requestGrant", function () {
    it("records a request from the sender in Requested state", async function () {
      const { pp, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(consumer).requestGrant(1n, policyTuple(), from, until, 3))
        .to.emit(pp, "GrantRequested")
        .withArgs(1n, 1n, consumer.address, policyArray(), POLICY_HASH, from, until, 3n);
      const g = await pp.getGrant(1n);
      expect(g.status).to.equal(Status.Requested);
      expect(g.consumer).to.equal(consumer.address);
      expect(await pp.isGrantUsable(1n)).to.equal(false);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(consumer).requestGrant(1n, policyTuple(), from, until, 3))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });

    it("reverts when the quota is zero", async function () {
      const { pp, consumer, from, until } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(consumer).requestGrant(1n, policyTuple(), from, until, 0))
        .to.be.revertedWithCustomError(pp, "InvalidQuota")
        .withArgs(0n);
    });
  });

  describe("approveGrant", function () {
    it("activates a requested grant", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).approveGrant(2n))
        .to.emit(pp, "GrantApproved")
        .withArgs(2n, owner.address);
      expect((await pp.getGrant(2n)).status).to.equal(Status.Active);
      expect(await pp.isGrantUsable(2n)).to.equal(true);
    });

    it("reverts when the sender is not the asset owner", async function () {
      const { pp, consumer } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(consumer).approveGrant(2n))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, consumer.address);
    });

    it("reverts when the grant is not requested", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).approveGrant(1n))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(1n, Status.Active, Status.Requested);
    });

    it("reverts when the grant does not exist", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).approveGrant(3n))
        .to.be.revertedWithCustomError(pp, "GrantNotFound")
        .withArgs(3n);
    });

    it("reverts when the asset was retired meanwhile", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(owner).approveGrant(2n))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });
  });

  describe("rejectGrant", function () {
    it("rejects a requested grant for good", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).rejectGrant(2n))
        .to.emit(pp, "GrantRejected")
        .withArgs(2n, owner.address);
      expect((await pp.getGrant(2n)).status).to.equal(Status.Rejected);
      await expect(pp.connect(owner).approveGrant(2n))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(2n, Status.Rejected, Status.Requested);
    });

    it("reverts when the grant is not requested", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).rejectGrant(1n))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(1n, Status.Active, Status.Requested);
    });
  });

  describe("revokeGrant", function () {
    it("revokes an active grant at once", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).revokeGrant(1n))
        .to.emit(pp, "GrantRevoked")
        .withArgs(1n, owner.address);
      expect((await pp.getGrant(1n)).status).to.equal(Status.Revoked);
      expect(await pp.isGrantUsable(1n)).to.equal(false);
    });

    it("works while paused", async function () {
      const { pp, admin, owner } = await networkHelpers.loadFixture(withGrants);
      await pp.connect(admin).pause();
      await pp.connect(owner).revokeGrant(1n);
      expect((await pp.getGrant(1n)).status).to.equal(Status.Revoked);
    });

    it("reverts when the grant is already revoked", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await pp.connect(owner).revokeGrant(1n);
      await expect(pp.connect(owner).revokeGrant(1n))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(1n, Status.Revoked, Status.Active);
    });

    it("reverts when the sender is the consumer", async function () {
      const { pp, consumer } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(consumer).revokeGrant(1n))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, consumer.address);
    });

    it("is done by the current owner after a transfer", async function () {
      const { pp, owner, other } = await networkHelpers.loadFixture(withGrants);
      await pp.connect(owner).transferAssetOwnership(1n, other.address);
      await expect(pp.connect(owner).revokeGrant(1n))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, owner.address);
      await expect(pp.connect(other).revokeGrant(1n))
        .to.emit(pp, "GrantRevoked")
        .withArgs(1n, other.address);
    });
  });

  describe("updateQuota", function () {
    it("changes the quota and emits old and new values", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).updateQuota(1n, 25))
        .to.emit(pp, "GrantQuotaUpdated")
        .withArgs(1n, 10n, 25n);
      expect((await pp.getGrant(1n)).quota).to.equal(25n);
    });

    it("reverts when the new quota is zero", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).updateQuota(1n, 0))
        .to.be.revertedWithCustomError(pp, "InvalidQuota")
        .withArgs(0n);
    });

    it("reverts when the grant is not active", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).updateQuota(2n, 5))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(2n, Status.Requested, Status.Active);
    });
  });

  describe("updateExpiry", function () {
    it("changes validUntil and emits old and new values", async function () {
      const { pp, owner, until } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).updateExpiry(1n, until + 100n))
        .to.emit(pp, "GrantExpiryUpdated")
        .withArgs(1n, until, until + 100n);
      expect((await pp.getGrant(1n)).validUntil).to.equal(until + 100n);
    });

    it("can end the grant now: it is unusable after this block", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(withGrants);
      const now = BigInt(await networkHelpers.time.latest());
      await pp.connect(owner).updateExpiry(1n, now + 1n);
      expect(await pp.isGrantUsable(1n)).to.equal(true);
      await networkHelpers.time.increase(5);
      expect(await pp.isGrantUsable(1n)).to.equal(false);
    });

    it("reverts when the new expiry is before validFrom", async function () {
      const { pp, owner, from } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.connect(owner).updateExpiry(1n, from - 1n))
        .to.be.revertedWithCustomError(pp, "InvalidValidity")
        .withArgs(from, from - 1n);
    });

    it("reverts when the grant is revoked", async function () {
      const { pp, owner, until } = await networkHelpers.loadFixture(withGrants);
      await pp.connect(owner).revokeGrant(1n);
      await expect(pp.connect(owner).updateExpiry(1n, until))
        .to.be.revertedWithCustomError(pp, "UnexpectedGrantStatus")
        .withArgs(1n, Status.Revoked, Status.Active);
    });
  });

  describe("getGrant / getGrantPolicy", function () {
    it("revert when the grant does not exist", async function () {
      const { pp } = await networkHelpers.loadFixture(withGrants);
      await expect(pp.getGrant(9n)).to.be.revertedWithCustomError(pp, "GrantNotFound").withArgs(9n);
      await expect(pp.getGrantPolicy(9n))
        .to.be.revertedWithCustomError(pp, "GrantNotFound")
        .withArgs(9n);
    });
  });

  describe("isGrantUsable", function () {
    it("is false before validFrom, after validUntil, and once the asset is retired", async function () {
      const { pp, owner, consumer, until } = await networkHelpers.loadFixture(withGrants);
      await pp
        .connect(owner)
        .grantAccess(1n, consumer.address, policyTuple(), until - 10n, until, 1);
      expect(await pp.isGrantUsable(3n)).to.equal(false);
      await networkHelpers.time.increaseTo(until - 10n);
      expect(await pp.isGrantUsable(3n)).to.equal(true);
      await networkHelpers.time.increaseTo(until + 1n);
      expect(await pp.isGrantUsable(3n)).to.equal(false);
      expect(await pp.isGrantUsable(99n)).to.equal(false);
      await pp.connect(owner).updateExpiry(1n, until + 1000n);
      expect(await pp.isGrantUsable(1n)).to.equal(true);
      await pp.connect(owner).retireAsset(1n);
      expect(await pp.isGrantUsable(1n)).to.equal(false);
    });
  });
});
