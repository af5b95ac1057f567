import { expect } from "chai";
import { network } from "hardhat";
import PartProofModule, {
  generatedVerifiers,
  parseTargets,
  partProofModule,
  verifiersFor,
} from "../../ignition/modules/PartProof.js";
import { existsSync } from "node:fs";
import { circuitId } from "../../circuits/lib/signals.js";
import { circuitPaths, readManifest } from "../../scripts/lib/circuit-build.js";
import { POLICY, POLICY_HASH, policyTuple } from "./helpers.js";

const { ethers, ignition } = await network.create();

describe("Ignition module PartProof", function () {
  describe("deploy", function () {
    it("deploys PartProof with PoseidonT5 linked and registers every generated verifier of the targets", async function () {
      const [deployer] = await ethers.getSigners();
      const { partProof, poseidonT5 } = await ignition.deploy(
        partProofModule(["test", "production"]),
        { displayUi: false },
      );
      const pp = await ethers.getContractAt("PartProof", await partProof.getAddress());
      for (const role of [
        await pp.DEFAULT_ADMIN_ROLE(),
        await pp.CIRCUIT_ADMIN_ROLE(),
        await pp.PAUSER_ROLE(),
      ]) {
        expect(await pp.hasRole(role, deployer!.address)).to.equal(true);
      }
      // The linked library computes the policy hash of circuits/lib/signals.ts.
      const lib = new ethers.Contract(
        await poseidonT5.getAddress(),
        ["function hash(uint256[4]) pure returns (uint256)"],
        ethers.provider,
      );
      const hash = lib.getFunction("hash");
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await pp.registerAsset("urn:x", ethers.ZeroHash, "http://gw");
      await pp.grantAccess(1n, deployer!.address, policyTuple(POLICY), now, now + 100n, 1);
      expect((await pp.getGrant(1n)).policyHash).to.equal(POLICY_HASH);
      // POLICY_HASH (poseidon-lite, circuits/lib/signals.ts) against the Solidity Poseidon of the
      // masks packed by hand (aggregate + field·2^32 + filter·2^64), key range and k
      const packed =
        BigInt(POLICY.aggregateMask) +
        (BigInt(POLICY.fieldMask) << 32n) +
        (BigInt(POLICY.filterMask) << 64n);
      expect(await hash([packed, POLICY.keyLo, POLICY.keyHi, BigInt(POLICY.minCohort)])).to.equal(
        POLICY_HASH,
      );
      const verifiers = generatedVerifiers();
      expect(verifiers.map((v) => v.name)).to.include.members(["range_d4", "scan_d4_c4"]);
      for (const v of verifiers) {
        const c = await pp.getCircuit(v.circuitId);
        expect(c.verifier, v.name).to.not.equal(ethers.ZeroAddress);
        expect(await ethers.provider.getCode(c.verifier)).to.not.equal("0x");
      }
    });

    it("registers no test-target verifier by default (production only)", async function () {
      const testOnes = generatedVerifiers().filter((v) => v.target === "test");
      expect(testOnes.map((v) => v.name)).to.include("range_d4"); // built by npm test
      const { partProof } = await ignition.deploy(PartProofModule, { displayUi: false });
      const pp = await ethers.getContractAt("PartProof", await partProof.getAddress());
      for (const v of testOnes) {
        expect((await pp.getCircuit(v.circuitId)).verifier, v.name).to.equal(ethers.ZeroAddress);
      }
      // the production verifiers registered are exactly the production answer circuits whose
      // verifier was generated (none after a test-size build: the loop below may be empty)
      const production = (await readManifest()).filter(
        (c) => c.target === "production" && c.kind === "answer",
      );
      expect(production.map((c) => c.name)).to.include("range_d20");
      const productionBuilt = production.filter((c) => existsSync(circuitPaths(c.name).verifier));
      expect(verifiersFor(["production"]).map((v) => v.name)).to.deep.equal(
        productionBuilt.map((c) => c.name),
      );
      for (const v of verifiersFor(["production"])) {
        expect((await pp.getCircuit(v.circuitId)).verifier, v.name).to.not.equal(
          ethers.ZeroAddress,
        );
      }
      expect(partProofModule()).to.equal(PartProofModule);
    });

    it("keeps audit circuits (four public signals) out of the answer verifier registry", async function () {
      const { partProof } = await ignition.deploy(partProofModule(["test", "production"]), {
        displayUi: false,
      });
      const pp = await ethers.getContractAt("PartProof", await partProof.getAddress());
      const audits = (await readManifest()).filter((c) => c.kind === "audit");
      expect(audits.map((c) => c.name)).to.include("audit_d4");
      const names = generatedVerifiers().map((v) => v.name);
      for (const a of audits) {
        expect(names).to.not.include(a.name);
        expect((await pp.getCircuit(circuitId(a.name))).verifier).to.equal(ethers.ZeroAddress);
      }
      // the exclusion is by kind, not because the verifier was never generated
      expect(existsSync(circuitPaths("audit_d4").verifier)).to.equal(true);
    });
  });
});

describe("scripts/deploy.ts", function () {
  describe("deploy", function () {
    it("deploys to the in-process network and writes the addresses", async function () {
      const { deploy } = await import("../../scripts/deploy.js");
      const { mkdtemp, readFile, rm } = await import("node:fs/promises");
      const { tmpdir } = await import("node:os");
      const path = await import("node:path");
      const dir = await mkdtemp(path.join(tmpdir(), "partproof-deploy-"));
      try {
        const out = path.join(dir, "d.json");
        const record = await deploy({ network: "hardhat", out, targets: ["test", "production"] });
        const written = JSON.parse(await readFile(out, "utf8"));
        expect(written.chainId).to.equal(31337);
        expect(written.partProof).to.equal(record.partProof);
        expect(ethers.isAddress(written.partProof)).to.equal(true);
        expect(ethers.isAddress(written.poseidonT5)).to.equal(true);
        expect(written.eip712).to.deep.equal({
          name: "PartProof",
          version: "1",
          chainId: 31337,
          verifyingContract: record.partProof,
        });
        expect(Object.keys(written.verifiers).sort()).to.deep.equal(
          generatedVerifiers()
            .map((v) => v.name)
            .sort(),
        );
        expect(written.targets).to.deep.equal(["test", "production"]);
        expect(written.deploymentBlock).to.be.greaterThan(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("parseTargets", function () {
  it("parses a comma-separated list and drops repeats", function () {
    expect(parseTargets("production")).to.deep.equal(["production"]);
    expect(parseTargets(" test, production ,test")).to.deep.equal(["test", "production"]);
  });

  it("names an unknown target and refuses an empty list", function () {
    expect(() => parseTargets("test,prod")).to.throw('unknown circuit target "prod"');
    expect(() => parseTargets(" , ")).to.throw("no circuit target given");
  });
});
