/**
 * scripts/deploy.ts on a chain that is not a local development chain: verifiers whose proving
 * keys come from a development setup are refused unless --allow-dev-setup, which warns loudly.
 * The chain is Hardhat's in-process EDR chain started with another chain id (4242).
 */
import { expect } from "chai";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import {
  checkSetupKinds,
  deploy,
  DevSetupRefused,
  type DeploymentRecord,
} from "../../scripts/deploy.js";
import { verifiersFor } from "../../ignition/modules/PartProof.js";
import { BUILD_DIR, REPO_ROOT, readSetupKind } from "../../protocol/manifest.js";

const CHAIN_ID = 4242;

describe("scripts/deploy.ts: development setups", function () {
  let dir: string;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "partproof-deploy-dev-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
    await rm(path.join(REPO_ROOT, "ignition", "deployments", `partproof-${CHAIN_ID}`), {
      recursive: true,
      force: true,
    });
  });

  describe("deploy", function () {
    it("refuses development-setup verifiers on a non-development chain before any transaction", async function () {
      const names = verifiersFor(["test"]).map((v) => v.name);
      expect(names).to.include("range_d4");
      expect(readSetupKind("range_d4")).to.equal("development");
      const conn = await network.create({ override: { chainId: CHAIN_ID } });
      try {
        const [deployer] = await conn.ethers.getSigners();
        expect((await conn.ethers.provider.getNetwork()).chainId).to.equal(BigInt(CHAIN_ID));
        const nonce = await deployer!.getNonce();
        const warnings: string[] = [];
        const out = path.join(dir, "d.json");
        let error: unknown;
        try {
          await deploy({
            network: `chain-${CHAIN_ID}`,
            connection: conn,
            out,
            targets: ["test"],
            warn: (l) => warnings.push(l),
          });
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(DevSetupRefused);
        const message = (error as Error).message;
        expect(message).to.include(`on chain ${CHAIN_ID}`);
        for (const n of names) expect(message).to.include(n);
        expect(message).to.include("--allow-dev-setup");
        expect(await deployer!.getNonce()).to.equal(nonce); // nothing was sent
        expect(existsSync(out)).to.equal(false);
        expect(warnings).to.deep.equal([]);
      } finally {
        await conn.close();
      }
    });

    it("deploys them with --allow-dev-setup and prints a loud multi-line warning", async function () {
      const conn = await network.create({ override: { chainId: CHAIN_ID } });
      try {
        const warnings: string[] = [];
        const out = path.join(dir, "d.json");
        const record = await deploy({
          network: `chain-${CHAIN_ID}`,
          connection: conn,
          out,
          reset: true,
          targets: ["test"],
          allowDevSetup: true,
          warn: (l) => warnings.push(l),
        });
        const written = JSON.parse(await readFile(out, "utf8")) as DeploymentRecord;
        expect(written.chainId).to.equal(CHAIN_ID);
        expect(written.targets).to.deep.equal(["test"]);
        expect(written.verifiers.range_d4!.setupKind).to.equal("development");
        expect(written.verifiers.range_d4!.address).to.equal(record.verifiers.range_d4!.address);
        const pp = await conn.ethers.getContractAt("PartProof", record.partProof);
        const registered = await pp.getCircuit(written.verifiers.range_d4!.circuitId);
        expect(registered.verifier).to.equal(written.verifiers.range_d4!.address);
        expect(warnings.length).to.be.greaterThan(3);
        const text = warnings.join("\n");
        expect(text).to.include(`--allow-dev-setup on chain ${CHAIN_ID}`);
        expect(text).to.include("range_d4");
        expect(text).to.include("FORGE PROOFS");
      } finally {
        await conn.close();
      }
    });
  });

  describe("checkSetupKinds", function () {
    const FAKE = "_setup_kind_fixture";
    const stamps = path.join(BUILD_DIR, FAKE, "stamps.json");
    afterEach(async function () {
      await rm(path.join(BUILD_DIR, FAKE), { recursive: true, force: true });
    });

    it("allows development setups on the local development chains 31337 and 1337", function () {
      for (const chainId of [31337, 1337]) {
        const warnings: string[] = [];
        const kinds = checkSetupKinds(chainId, ["range_d4"], false, (l) => warnings.push(l));
        expect(kinds).to.deep.equal({ range_d4: "development" });
        expect(warnings).to.deep.equal([]);
      }
    });

    it("passes a ptau-file or ceremony setup on any chain and counts a missing setupKind as development", async function () {
      await mkdir(path.dirname(stamps), { recursive: true });
      for (const kind of ["ptau-file", "ceremony"]) {
        await writeFile(stamps, JSON.stringify({ setup: "x", setupKind: kind }));
        expect(checkSetupKinds(1, [FAKE], false, () => {})).to.deep.equal({ [FAKE]: kind });
      }
      for (const content of [{ setup: "x" }, { setupKind: "trust-me" }]) {
        await writeFile(stamps, JSON.stringify(content));
        expect(readSetupKind(FAKE)).to.equal("development");
        expect(() => checkSetupKinds(1, [FAKE], false, () => {})).to.throw(DevSetupRefused);
      }
      await rm(stamps);
      expect(readSetupKind(FAKE)).to.equal("development");
    });
  });
});
