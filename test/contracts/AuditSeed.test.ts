/**
 * The audit seed of a published version (protocol/contract.ts `auditSeed`, protocol/audit.ts):
 * the hash of the block N blocks after the publication block, unknown until that block exists.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { auditIndices, auditProofsDigest, type AuditProofItem } from "../../protocol/audit.js";
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
  return { pp, reader, published, admin: admin!, owner: owner! };
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

  it("reads the anchored seed and every attestation from the chain", async function () {
    const { pp, reader, published, admin, owner } = await networkHelpers.loadFixture(fixture);
    const v = versionIdOf(1n, 1);
    expect(await reader.anchoredSeed(v)).to.deep.equal({
      seedBlock: published + 5,
      anchored: false,
    });
    expect(await reader.versionAttestations(versionIdOf(1n, 2))).to.equal(undefined);
    await networkHelpers.mine(5);
    const seed = (await reader.auditSeed(v))!.seed!;
    await pp.connect(admin).setMinAuditSamples(4);
    const digest = auditProofsDigest([]);
    const tx = await pp.connect(owner).attestAudit(v, seed, 4, digest);
    const block = (await tx.wait())!.blockNumber;
    expect(await reader.versionAttestations(v)).to.deep.equal({
      seed: { seedBlock: published + 5, seed, anchored: true },
      attestations: [{ attester: owner.address, t: 4, attestedBlock: block, proofsDigest: digest }],
      minT: 4,
    });
  });
});

describe("auditProofsDigest", function () {
  const proof = (i: number): AuditProofItem => ({
    index: i,
    publicSignals: ["11", String(i), "33", "4"],
    proof: {
      pi_a: ["1", "2", "1"],
      pi_b: [
        ["3", "4"],
        ["5", "6"],
        ["1", "0"],
      ],
      pi_c: ["7", String(8 + i), "1"],
    },
  });

  it("does not depend on the order the proofs come in, and changes with any number in them", function () {
    const d = auditProofsDigest([proof(1), proof(3)]);
    expect(auditProofsDigest([proof(3), proof(1)])).to.equal(d);
    expect(auditProofsDigest([proof(1)])).to.not.equal(d);
    const p = proof(3);
    const altered = { ...p, publicSignals: ["11", "3", "34", "4"] };
    expect(auditProofsDigest([proof(1), altered])).to.not.equal(d);
    const swapped = {
      ...p,
      proof: {
        ...p.proof,
        pi_b: [
          ["4", "3"],
          ["5", "6"],
        ],
      },
    };
    expect(auditProofsDigest([proof(1), swapped])).to.not.equal(d);
  });

  it("refuses a proof that lacks a coordinate", function () {
    const p = proof(2);
    expect(() => auditProofsDigest([{ ...p, proof: { ...p.proof, pi_c: ["7"] } }])).to.throw(
      /leaf 2 lacks a coordinate/,
    );
  });
});
