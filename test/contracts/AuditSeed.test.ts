/**
 * The audit seed of a published version (protocol/contract.ts `auditSeed`, protocol/audit.ts):
 * the hash of the block N blocks after the publication block, unknown until that block exists.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { auditIndices } from "../../protocol/audit.js";
import { PartProofReader, versionIdOf } from "../../protocol/contract.js";
import { deployPartProof, ENDPOINT, META, PARAMS, ROOT, SCHEMA } from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  const [admin, owner] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  const tx = await pp.connect(owner).publishVersion(1n, ROOT, 10n, 4, PARAMS);
  const published = (await tx.wait())!.blockNumber;
  const reader = new PartProofReader(ethers.provider, await pp.getAddress());
  return { reader, published };
}

describe("PartProofReader audit seed", function () {
  it("finds the publication block of a version, and nothing for an unknown one", async function () {
    const { reader, published } = await networkHelpers.loadFixture(fixture);
    expect(await reader.versionPublicationBlock(versionIdOf(1n, 1))).to.equal(published);
    expect(await reader.versionPublicationBlock(versionIdOf(1n, 2))).to.equal(undefined);
    expect(await reader.auditSeed(versionIdOf(1n, 2))).to.equal(undefined);
  });

  it("has no seed before the block 5 after publication, then that block's hash", async function () {
    const { reader, published } = await networkHelpers.loadFixture(fixture);
    const v = versionIdOf(1n, 1);
    await networkHelpers.mine(4);
    expect(await reader.auditSeed(v)).to.deep.equal({ seedBlock: published + 5 });
    await networkHelpers.mine(3);
    const s = await reader.auditSeed(v);
    expect(s?.seedBlock).to.equal(published + 5);
    expect(s?.seed).to.equal((await ethers.provider.getBlock(published + 5))!.hash);
    // a longer delay is another block, so another seed and other indices
    const later = await reader.auditSeed(v, 7);
    expect(later?.seed).to.equal((await ethers.provider.getBlock(published + 7))!.hash);
    expect(auditIndices(v, later!.seed!, 10n, 4, 20)).to.not.deep.equal(
      auditIndices(v, s!.seed!, 10n, 4, 20),
    );
  });
});
