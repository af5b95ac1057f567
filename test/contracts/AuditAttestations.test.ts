/**
 * Attestations of audited versions (IAuditAttestations): the seed a version is audited for is
 * the hash of the block AUDIT_SEED_DELAY blocks after its publication, anchored on-chain while
 * the EVM still knows it; anyone may attest that a version passed t ≥ minAuditSamples audits for
 * that seed, and only for that seed.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { id as keccakText } from "ethers";
import { deployPartProof, ENDPOINT, META, PARAMS, ROOT, SCHEMA } from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const DELAY = 5;
const DIGEST = keccakText("the proofs the attester checked");

/** Asset 1 of `owner` with version 1 published in block `published`; minimum lowered to 3. */
async function fixture() {
  const [admin, owner, auditor, other, stranger] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  const tx = await pp.connect(owner).publishVersion(1n, ROOT, 16n, 4, PARAMS);
  const published = (await tx.wait())!.blockNumber;
  const versionId = await pp.versionIdOf(1n, 1);
  return {
    pp,
    published,
    seedBlock: published + DELAY,
    versionId,
    admin: admin!,
    owner: owner!,
    auditor: auditor!,
    other: other!,
    stranger: stranger!,
  };
}

type F = Awaited<ReturnType<typeof fixture>>;

/** The fixture, mined past the seed block, with a minimum of 3 draws. */
async function seededFixture() {
  const f = await fixture();
  await f.pp.connect(f.admin).setMinAuditSamples(3);
  await networkHelpers.mine(DELAY);
  return { ...f, seed: (await ethers.provider.getBlock(f.seedBlock))!.hash! };
}

async function blockHash(n: number): Promise<string> {
  return (await ethers.provider.getBlock(n))!.hash!;
}

describe("AuditAttestations", function () {
  describe("attack: an attestation for a seed the gateway chose", function () {
    it("is refused on-chain: the seed must be the hash of the version's seed block", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      // a gateway that built a malformed tree picks a seed whose indices miss the bad links
      const chosen = keccakText("a seed whose draws miss the malformed links");
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, chosen, 3, DIGEST))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedMismatch")
        .withArgs(f.versionId, f.seed, chosen);
      // nor a hash the gateway knew when it published (its own publication block's)
      const known = await blockHash(f.published);
      await expect(
        f.pp.connect(f.auditor).attestAudit(f.versionId, known, 3, DIGEST),
      ).to.be.revertedWithCustomError(f.pp, "AuditSeedMismatch");
      expect(await f.pp.getAuditAttestations(f.versionId)).to.deep.equal([]);
    });
  });

  describe("anchorAuditSeed", function () {
    it("reverts while the seed block is not mined: a seed from before it exists is impossible", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await networkHelpers.mine(DELAY - 1); // the next block is the seed block itself
      expect(await ethers.provider.getBlockNumber()).to.equal(f.seedBlock - 1);
      await expect(f.pp.connect(f.stranger).anchorAuditSeed(f.versionId))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedNotYetAvailable")
        .withArgs(f.versionId, f.seedBlock);
      const [seedBlock, seed, anchored] = await f.pp.auditSeedOf(f.versionId);
      expect([seedBlock, seed, anchored]).to.deep.equal([
        BigInt(f.seedBlock),
        ethers.ZeroHash,
        false,
      ]);
    });

    it("stores the seed block's hash for anyone, once, and keeps it after the EVM forgets it", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await networkHelpers.mine(DELAY); // the seed block is the latest: its hash is known now
      const seed = await blockHash(f.seedBlock);
      await expect(f.pp.connect(f.stranger).anchorAuditSeed(f.versionId))
        .to.emit(f.pp, "AuditSeedAnchored")
        .withArgs(f.versionId, f.seedBlock, seed);
      await expect(f.pp.connect(f.auditor).anchorAuditSeed(f.versionId))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedAlreadyAnchored")
        .withArgs(f.versionId, seed);
      await networkHelpers.mine(300);
      expect(await f.pp.auditSeedOf(f.versionId)).to.deep.equal([BigInt(f.seedBlock), seed, true]);
      await f.pp.connect(f.admin).setMinAuditSamples(3);
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, seed, 3, DIGEST)).to.emit(
        f.pp,
        "AuditAttested",
      );
    });

    it("works 256 blocks after the seed block and reverts with AuditSeedExpired after that", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const seed = await (async () => {
        await networkHelpers.mine(DELAY + 256 - 1); // the anchoring tx lands 256 after the seed
        return blockHash(f.seedBlock);
      })();
      const snapshot = await networkHelpers.takeSnapshot();
      await expect(f.pp.connect(f.stranger).anchorAuditSeed(f.versionId))
        .to.emit(f.pp, "AuditSeedAnchored")
        .withArgs(f.versionId, f.seedBlock, seed);
      await snapshot.restore();
      await networkHelpers.mine(1); // now the tx would land 257 blocks after the seed block
      await expect(f.pp.connect(f.stranger).anchorAuditSeed(f.versionId))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedExpired")
        .withArgs(f.versionId, f.seedBlock);
      await networkHelpers.mine(1); // a call sees the latest block, a transaction the next
      expect((await f.pp.auditSeedOf(f.versionId))[1]).to.equal(ethers.ZeroHash);
      // so an unanchored version can no longer be attested, with any seed
      await f.pp.connect(f.admin).setMinAuditSamples(3);
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, seed, 3, DIGEST))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedExpired")
        .withArgs(f.versionId, f.seedBlock);
    });

    it("reverts with VersionNotFound for a version never published", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const missing = await f.pp.versionIdOf(1n, 2);
      await expect(f.pp.anchorAuditSeed(missing))
        .to.be.revertedWithCustomError(f.pp, "VersionNotFound")
        .withArgs(missing);
      await expect(f.pp.auditSeedOf(missing))
        .to.be.revertedWithCustomError(f.pp, "VersionNotFound")
        .withArgs(missing);
    });

    it("works while paused (a pause must not let seeds expire)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await f.pp.connect(f.admin).pause();
      await networkHelpers.mine(DELAY);
      await expect(f.pp.connect(f.stranger).anchorAuditSeed(f.versionId)).to.emit(
        f.pp,
        "AuditSeedAnchored",
      );
    });
  });

  describe("attestAudit", function () {
    it("records the attester, t, digest and block, anchors the seed, and emits AuditAttested", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      const tx = f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 7, DIGEST);
      await expect(tx)
        .to.emit(f.pp, "AuditAttested")
        .withArgs(f.versionId, f.auditor.address, f.seed, 7, DIGEST);
      await expect(tx)
        .to.emit(f.pp, "AuditSeedAnchored")
        .withArgs(f.versionId, f.seedBlock, f.seed);
      const block = (await (await tx).wait())!.blockNumber;
      expect(await f.pp.getAuditAttestations(f.versionId)).to.deep.equal([
        [f.auditor.address, 7n, BigInt(block), DIGEST],
      ]);
      expect((await f.pp.auditSeedOf(f.versionId))[2]).to.equal(true);
    });

    it("keeps one entry per attester: several attesters, and the same one only with a larger t", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      await f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 5, DIGEST);
      await f.pp.connect(f.other).attestAudit(f.versionId, f.seed, 3, DIGEST);
      for (const t of [5, 4]) {
        await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, t, DIGEST))
          .to.be.revertedWithCustomError(f.pp, "AttestationNotStronger")
          .withArgs(f.versionId, f.auditor.address, 5, t);
      }
      const digest2 = keccakText("eight proofs");
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 8, digest2))
        .to.emit(f.pp, "AuditAttested")
        .withArgs(f.versionId, f.auditor.address, f.seed, 8, digest2);
      const list = await f.pp.getAuditAttestations(f.versionId);
      expect(list.map((a) => [a.attester, a.t, a.proofsDigest])).to.deep.equal([
        [f.auditor.address, 8n, digest2],
        [f.other.address, 3n, DIGEST],
      ]);
    });

    it("reverts with AuditSamplesBelowMinimum under the minimum", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 2, DIGEST))
        .to.be.revertedWithCustomError(f.pp, "AuditSamplesBelowMinimum")
        .withArgs(2, 3);
    });

    it("reverts with AuditSeedNotYetAvailable before the seed block is mined", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await f.pp.connect(f.admin).setMinAuditSamples(3);
      // whatever seed is given, none can be right before the seed block exists
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, DIGEST, 3, DIGEST))
        .to.be.revertedWithCustomError(f.pp, "AuditSeedNotYetAvailable")
        .withArgs(f.versionId, f.seedBlock);
    });

    it("reverts with VersionNotFound for a version never published", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      const missing = await f.pp.versionIdOf(2n, 1);
      await expect(f.pp.connect(f.auditor).attestAudit(missing, f.seed, 3, DIGEST))
        .to.be.revertedWithCustomError(f.pp, "VersionNotFound")
        .withArgs(missing);
    });

    it("reverts with EnforcedPause while paused", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      await f.pp.connect(f.admin).pause();
      await expect(
        f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 3, DIGEST),
      ).to.be.revertedWithCustomError(f.pp, "EnforcedPause");
    });

    it("attests a version of a retired asset (its answers stay on record)", async function () {
      const f = await networkHelpers.loadFixture(seededFixture);
      await f.pp.connect(f.owner).retireAsset(1n);
      await expect(f.pp.connect(f.auditor).attestAudit(f.versionId, f.seed, 3, DIGEST)).to.emit(
        f.pp,
        "AuditAttested",
      );
    });
  });

  describe("setMinAuditSamples", function () {
    it("starts at DEFAULT_MIN_AUDIT_SAMPLES (300), the auditor's default t", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.pp.DEFAULT_MIN_AUDIT_SAMPLES()).to.equal(300n);
      expect(await f.pp.minAuditSamples()).to.equal(300n);
      expect(await f.pp.AUDIT_SEED_DELAY()).to.equal(BigInt(DELAY));
    });

    it("lets AUDIT_ADMIN_ROLE change it, with old and new values in the event", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(f.pp.connect(f.admin).setMinAuditSamples(50))
        .to.emit(f.pp, "MinAuditSamplesUpdated")
        .withArgs(300, 50);
      expect(await f.pp.minAuditSamples()).to.equal(50n);
    });

    it("reverts for anyone without AUDIT_ADMIN_ROLE, also the asset owner and other admins", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const role = await f.pp.AUDIT_ADMIN_ROLE();
      await f.pp.connect(f.admin).grantRole(await f.pp.PAUSER_ROLE(), f.other.address);
      for (const who of [f.owner, f.stranger, f.other]) {
        await expect(f.pp.connect(who).setMinAuditSamples(1))
          .to.be.revertedWithCustomError(f.pp, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, role);
      }
      await f.pp.connect(f.admin).grantRole(role, f.stranger.address);
      await f.pp.connect(f.admin).renounceRole(role, f.admin.address);
      await expect(f.pp.connect(f.stranger).setMinAuditSamples(1)).to.emit(
        f.pp,
        "MinAuditSamplesUpdated",
      );
      await expect(f.pp.connect(f.admin).setMinAuditSamples(2)).to.be.revertedWithCustomError(
        f.pp,
        "AccessControlUnauthorizedAccount",
      );
    });

    it("reverts with InvalidMinAuditSamples for zero", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(f.pp.connect(f.admin).setMinAuditSamples(0))
        .to.be.revertedWithCustomError(f.pp, "InvalidMinAuditSamples")
        .withArgs(0);
    });
  });

  describe("publishVersion", function () {
    it("stores the publication block in the version", async function () {
      const f: F = await networkHelpers.loadFixture(fixture);
      expect((await f.pp.getVersion(f.versionId)).publishedBlock).to.equal(BigInt(f.published));
    });
  });
});
