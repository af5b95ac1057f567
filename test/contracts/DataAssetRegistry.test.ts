import { expect } from "chai";
import { network } from "hardhat";
import { deployPartProof, ENDPOINT, META, PARAMS, ROOT, SCHEMA } from "./helpers.js";
import { partProofDomain, PUBLISH_VERSION_TYPES } from "../../protocol/typed-data.js";
import { FIELD_MODULUS } from "../../circuits/lib/signals.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  const [admin, owner, other, relayer] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return { pp, admin: admin!, owner: owner!, other: other!, relayer: relayer!, chainId };
}

describe("DataAssetRegistry", function () {
  describe("registerAsset", function () {
    it("stores the asset under the next id with the sender as owner", async function () {
      const { pp, owner, other } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(other).registerAsset("urn:x", META, "http://b"))
        .to.emit(pp, "AssetRegistered")
        .withArgs(2n, other.address, "urn:x", META, "http://b");
      expect(await pp.assetCount()).to.equal(2n);
      const a = await pp.getAsset(1n);
      expect(a.owner).to.equal(owner.address);
      expect(a.schemaId).to.equal(SCHEMA);
      expect(a.metadataHash).to.equal(META);
      expect(a.endpoint).to.equal(ENDPOINT);
      expect(a.versionCount).to.equal(0n);
      expect(a.retired).to.equal(false);
      expect(a.registeredAt).to.be.greaterThan(0n);
    });

    it("reverts when the schema id is empty", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(
        pp.connect(owner).registerAsset("", META, ENDPOINT),
      ).to.be.revertedWithCustomError(pp, "InvalidSchemaId");
    });

    it("reverts when paused", async function () {
      const { pp, admin, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).pause();
      await expect(
        pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT),
      ).to.be.revertedWithCustomError(pp, "EnforcedPause");
    });
  });

  describe("getAsset", function () {
    it("reverts when the asset does not exist", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      await expect(pp.getAsset(7n)).to.be.revertedWithCustomError(pp, "AssetNotFound").withArgs(7n);
    });
  });

  describe("updateEndpoint", function () {
    it("changes the endpoint and emits old and new values", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).updateEndpoint(1n, "https://new"))
        .to.emit(pp, "AssetEndpointUpdated")
        .withArgs(1n, ENDPOINT, "https://new");
      expect((await pp.getAsset(1n)).endpoint).to.equal("https://new");
    });

    it("reverts when the sender is not the owner", async function () {
      const { pp, other } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(other).updateEndpoint(1n, "x"))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, other.address);
    });

    it("reverts when the asset does not exist", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).updateEndpoint(9n, "x"))
        .to.be.revertedWithCustomError(pp, "AssetNotFound")
        .withArgs(9n);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(owner).updateEndpoint(1n, "x"))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });
  });

  describe("updateMetadata", function () {
    it("changes the metadata hash and emits old and new values", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      const next = "0x" + "11".repeat(32);
      await expect(pp.connect(owner).updateMetadata(1n, next))
        .to.emit(pp, "AssetMetadataUpdated")
        .withArgs(1n, META, next);
      expect((await pp.getAsset(1n)).metadataHash).to.equal(next);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(owner).updateMetadata(1n, META))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });
  });

  describe("transferAssetOwnership", function () {
    it("hands the asset over: the new owner publishes, the old one no longer can", async function () {
      const { pp, owner, other } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).transferAssetOwnership(1n, other.address))
        .to.emit(pp, "AssetOwnershipTransferred")
        .withArgs(1n, owner.address, other.address);
      expect((await pp.getAsset(1n)).owner).to.equal(other.address);
      await pp.connect(other).publishVersion(1n, ROOT, 4n, 2, PARAMS);
      await expect(pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, owner.address);
    });

    it("reverts when the new owner is the zero address", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).transferAssetOwnership(1n, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(pp, "InvalidAssetOwner")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("retireAsset", function () {
    it("retires the asset and keeps its history readable", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS);
      await expect(pp.connect(owner).retireAsset(1n)).to.emit(pp, "AssetRetired").withArgs(1n);
      expect((await pp.getAsset(1n)).retired).to.equal(true);
      expect((await pp.getVersion(await pp.versionIdOf(1n, 1))).root).to.equal(ROOT);
    });

    it("works while paused", async function () {
      const { pp, admin, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).pause();
      await pp.connect(owner).retireAsset(1n);
      expect((await pp.getAsset(1n)).retired).to.equal(true);
    });

    it("reverts when already retired", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(owner).retireAsset(1n))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });
  });

  describe("publishVersion", function () {
    it("numbers versions from 1 and stores them immutably", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      const v1 = await pp.versionIdOf(1n, 1);
      const v2 = await pp.versionIdOf(1n, 2);
      expect(v1).to.equal((1n << 64n) | 1n);
      await expect(pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS))
        .to.emit(pp, "VersionPublished")
        .withArgs(1n, v1, 1n, ROOT, 4n, 2n, PARAMS, owner.address);
      await expect(pp.connect(owner).publishVersion(1n, ROOT + 1n, 9n, 3, PARAMS))
        .to.emit(pp, "VersionPublished")
        .withArgs(1n, v2, 2n, ROOT + 1n, 9n, 3n, PARAMS, owner.address);
      const first = await pp.getVersion(v1);
      expect(first.root).to.equal(ROOT);
      expect(first.recordCount).to.equal(4n);
      expect(first.treeDepth).to.equal(2n);
      expect(first.paramsHash).to.equal(PARAMS);
      expect(first.publishedAt).to.be.greaterThan(0n);
      expect((await pp.getVersion(v2)).root).to.equal(ROOT + 1n);
      expect((await pp.getAsset(1n)).versionCount).to.equal(2n);
    });

    it("reverts when the root is zero", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).publishVersion(1n, 0n, 4n, 2, PARAMS))
        .to.be.revertedWithCustomError(pp, "InvalidRoot")
        .withArgs(0n);
    });

    it("reverts when the root is not a field element", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(owner).publishVersion(1n, FIELD_MODULUS, 4n, 2, PARAMS))
        .to.be.revertedWithCustomError(pp, "InvalidRoot")
        .withArgs(FIELD_MODULUS);
    });

    it("reverts when the sender is not the owner", async function () {
      const { pp, other } = await networkHelpers.loadFixture(fixture);
      await expect(pp.connect(other).publishVersion(1n, ROOT, 4n, 2, PARAMS))
        .to.be.revertedWithCustomError(pp, "UnauthorizedAssetOwner")
        .withArgs(1n, other.address);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).retireAsset(1n);
      await expect(pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS))
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });

    it("reverts when paused", async function () {
      const { pp, admin, owner } = await networkHelpers.loadFixture(fixture);
      await pp.connect(admin).pause();
      await expect(
        pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS),
      ).to.be.revertedWithCustomError(pp, "EnforcedPause");
    });
  });

  describe("getVersion", function () {
    it("reverts when the version does not exist", async function () {
      const { pp } = await networkHelpers.loadFixture(fixture);
      const id = await pp.versionIdOf(1n, 1);
      await expect(pp.getVersion(id))
        .to.be.revertedWithCustomError(pp, "VersionNotFound")
        .withArgs(id);
    });
  });

  describe("publishVersionBySig", function () {
    async function sign(
      signer: Awaited<ReturnType<typeof fixture>>["owner"],
      pp: Awaited<ReturnType<typeof fixture>>["pp"],
      chainId: bigint,
      over: Partial<{ nonce: bigint; deadline: bigint; root: bigint }> = {},
    ) {
      const now = BigInt(await networkHelpers.time.latest());
      const message = {
        assetId: 1n,
        root: over.root ?? ROOT,
        recordCount: 4n,
        treeDepth: 2n,
        paramsHash: PARAMS,
        nonce: over.nonce ?? (await pp.nonces(signer.address)),
        deadline: over.deadline ?? now + 3600n,
      };
      const domain = partProofDomain(chainId, await pp.getAddress());
      const signature = await signer.signTypedData(domain, PUBLISH_VERSION_TYPES, message);
      return { message, signature };
    }

    it("publishes a version relayed by anyone with the owner's signature", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      const v1 = await pp.versionIdOf(1n, 1);
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.emit(pp, "VersionPublished")
        .withArgs(1n, v1, 1n, ROOT, 4n, 2n, PARAMS, relayer.address);
      expect(await pp.nonces(owner.address)).to.equal(1n);
      expect((await pp.getVersion(v1)).root).to.equal(ROOT);
    });

    it("agrees with the contract's EIP-712 domain and type hash", async function () {
      const { pp, chainId } = await networkHelpers.loadFixture(fixture);
      const d = await pp.eip712Domain();
      expect(d.name).to.equal("PartProof");
      expect(d.version).to.equal("1");
      expect(d.chainId).to.equal(chainId);
      expect(d.verifyingContract).to.equal(await pp.getAddress());
      expect(await pp.PUBLISH_VERSION_TYPEHASH()).to.equal(
        ethers.id(ethers.TypedDataEncoder.from(PUBLISH_VERSION_TYPES).encodeType("PublishVersion")),
      );
    });

    it("accepts an ERC-1271 signature when the owner is a contract wallet", async function () {
      const { pp, owner, other, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const wallet = await ethers.deployContract("TestERC1271Wallet", [owner.address]);
      const walletAddress = await wallet.getAddress();
      await wallet
        .connect(owner)
        .execute(
          await pp.getAddress(),
          pp.interface.encodeFunctionData("registerAsset", [SCHEMA, META, ENDPOINT]),
        );
      expect((await pp.getAsset(2n)).owner).to.equal(walletAddress);
      await expect(wallet.connect(other).execute(await pp.getAddress(), "0x"))
        .to.be.revertedWithCustomError(wallet, "NotSigner")
        .withArgs(other.address);
      const deadline = BigInt(await networkHelpers.time.latest()) + 600n;
      const message = {
        assetId: 2n,
        root: ROOT,
        recordCount: 4n,
        treeDepth: 2n,
        paramsHash: PARAMS,
        nonce: await pp.nonces(walletAddress),
        deadline,
      };
      const domain = partProofDomain(chainId, await pp.getAddress());
      const good = await owner.signTypedData(domain, PUBLISH_VERSION_TYPES, message);
      const bad = await other.signTypedData(domain, PUBLISH_VERSION_TYPES, message);
      await expect(pp.connect(relayer).publishVersionBySig(2n, ROOT, 4n, 2, PARAMS, deadline, bad))
        .to.be.revertedWithCustomError(pp, "InvalidPublishSignature")
        .withArgs(2n, walletAddress);
      await expect(pp.connect(relayer).publishVersionBySig(2n, ROOT, 4n, 2, PARAMS, deadline, good))
        .to.emit(pp, "VersionPublished")
        .withArgs(2n, await pp.versionIdOf(2n, 1), 1n, ROOT, 4n, 2n, PARAMS, relayer.address);
      expect(await pp.nonces(walletAddress)).to.equal(1n);
    });

    it("reverts when the signature is replayed", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      await pp
        .connect(relayer)
        .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature);
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "InvalidPublishSignature")
        .withArgs(1n, owner.address);
    });

    it("reverts when the signer is not the owner", async function () {
      const { pp, owner, other, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(other, pp, chainId, {
        nonce: await pp.nonces(owner.address),
      });
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "InvalidPublishSignature")
        .withArgs(1n, owner.address);
    });

    it("reverts when a signed field is changed", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT + 1n, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "InvalidPublishSignature")
        .withArgs(1n, owner.address);
    });

    it("reverts when the deadline has passed", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 10n;
      const { signature } = await sign(owner, pp, chainId, { deadline });
      await networkHelpers.time.increaseTo(deadline + 1n);
      await expect(
        pp.connect(relayer).publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "ExpiredSignature")
        .withArgs(deadline);
    });

    it("reverts when the asset does not exist", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(5n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "AssetNotFound")
        .withArgs(5n);
    });

    it("reverts when the asset is retired", async function () {
      const { pp, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      await pp.connect(owner).retireAsset(1n);
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      )
        .to.be.revertedWithCustomError(pp, "AssetIsRetired")
        .withArgs(1n);
    });

    it("reverts when paused", async function () {
      const { pp, admin, owner, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await sign(owner, pp, chainId);
      await pp.connect(admin).pause();
      await expect(
        pp
          .connect(relayer)
          .publishVersionBySig(1n, ROOT, 4n, 2, PARAMS, message.deadline, signature),
      ).to.be.revertedWithCustomError(pp, "EnforcedPause");
    });
  });
});
