import { expect } from "chai";
import { network } from "hardhat";
import { ConfigError, loadConfig, resolveArtifacts } from "../../gateway/config.js";
import { startServer } from "../../gateway/app.js";
import { signUpload } from "../../protocol/typed-data.js";
import { call, CIRCUIT, deploy, domainOf, gateway, tempDir, testConfig } from "./helpers.js";
import { setEnv } from "../support.js";

const conn = await network.create();
const { ethers } = conn;
const ADDRESS = "0x" + "12".repeat(20);

function configError(input: unknown): string {
  try {
    loadConfig(input);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("Gateway config", function () {
  describe("loadConfig", function () {
    it("applies defaults to a minimal valid config", function () {
      const c = loadConfig(
        testConfig(ADDRESS, "/tmp/x", { provers: undefined, relayer: undefined }),
      );
      expect(c.provers).to.equal(1);
      expect(c.relayer.enabled).to.equal(true);
      expect(c.circuit.minMaxField).to.equal(3);
    });

    it("names every bad setting and its value", function () {
      const msg = configError({
        ...testConfig("0x1234", "", { port: 70_000 }),
        chain: { rpcUrl: "ftp://node", confirmations: 1 },
      });
      expect(msg).to.include("config.port");
      expect(msg).to.include("(got 70000)");
      expect(msg).to.include("config.dataDir");
      expect(msg).to.include("config.contracts.partProof");
      expect(msg).to.include('(got "0x1234")');
      expect(msg).to.include("config.chain.rpcUrl");
      expect(msg).to.include('"ftp://node"');
    });

    it("never echoes an RPC URL's key or the relayer key", function () {
      const msg = configError({
        ...testConfig(ADDRESS, "/tmp/x", { port: -1 }),
        chain: { rpcUrl: "ftp://user:pw@rpc.example/v3/SECRETKEY1?apikey=SECRETKEY2" },
        relayerKey: { source: "env", name: "0xSECRETKEY3" },
        gatewayId: "see https://rpc.example/v3/SECRETKEY4",
      });
      expect(msg).to.include("config.chain.rpcUrl");
      expect(msg).to.include('(got "ftp://rpc.example/…")');
      expect(msg).to.include("config.relayerKey");
      expect(msg).to.include("config.gatewayId");
      expect(msg).to.not.match(/SECRETKEY|user:pw/);
    });

    it("refuses unknown settings and a missing circuit", function () {
      const { circuit: _c, ...rest } = testConfig(ADDRESS, "/tmp/x");
      const msg = configError({ ...rest, prover: 2 });
      expect(msg).to.include("config.circuit");
      expect(msg).to.match(/prover/);
    });
  });

  describe("resolveArtifacts", function () {
    it("finds the circuit build's wasm, zkey and vkey", function () {
      const a = resolveArtifacts(loadConfig(testConfig(ADDRESS, "/tmp/x")));
      expect(a.wasm).to.match(/range_d4_js\/range_d4\.wasm$/);
      expect(a.zkey).to.match(/range_d4\.zkey$/);
      expect(a.vkey).to.match(/range_d4\.vkey\.json$/);
    });

    it("names the missing folder or file", function () {
      const dir = tempDir();
      expect(() =>
        resolveArtifacts(
          loadConfig(testConfig(ADDRESS, "/tmp/x", { circuit: { ...CIRCUIT, artifactsDir: dir } })),
        ),
      ).to.throw(ConfigError, `no witness generator for circuit range_d4 in ${dir}`);
      expect(() =>
        resolveArtifacts(
          loadConfig(
            testConfig(ADDRESS, "/tmp/x", { circuit: { ...CIRCUIT, artifactsDir: "/nope" } }),
          ),
        ),
      ).to.throw(ConfigError, 'folder "/nope" does not exist');
    });
  });

  describe("startServer", function () {
    it("refuses to start without the relayer key's environment variable", async function () {
      const cfg = testConfig(ADDRESS, tempDir(), {
        chain: { rpcUrl: "http://127.0.0.1:9", confirmations: 1 },
        relayerKey: { source: "env", name: "PARTPROOF_TEST_UNSET_KEY" },
      });
      const err = await startServer(cfg).catch((e) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include("PARTPROOF_TEST_UNSET_KEY is not set");
    });

    it("refuses to start when no contract is at the configured address", async function () {
      const [, , , , relayer] = await ethers.getSigners();
      const err = await startServer(testConfig(ADDRESS, tempDir()), {
        provider: ethers.provider,
        relayer,
      }).catch((e) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include(`config.contracts.partProof: cannot use ${ADDRESS}`);
    });

    it("names an unreachable node without the key in its URL", async function () {
      const restoreEnv = setEnv({ PARTPROOF_TEST_RELAYER_KEY: "0x" + "34".repeat(32) });
      try {
        const cfg = testConfig(ADDRESS, tempDir(), {
          chain: { rpcUrl: "http://user:pw@127.0.0.1:9/v3/SECRETKEY1?k=SECRETKEY2" },
          relayerKey: { source: "env", name: "PARTPROOF_TEST_RELAYER_KEY" },
        });
        const err = await startServer(cfg).catch((e) => e);
        expect(err).to.be.instanceOf(ConfigError);
        expect(err.message).to.include("at http://127.0.0.1:9/…");
        expect(err.message).to.not.match(/SECRETKEY|user:pw|3434343434/);
      } finally {
        restoreEnv();
      }
    });

    it("refuses an in-process chain without a provider", async function () {
      const err = await startServer(testConfig(ADDRESS, tempDir())).catch((e) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include("config.chain.rpcUrl");
    });
  });

  describe("rate limit", function () {
    it("limits requests per signer, not globally", async function () {
      const [, owner, , stranger, relayer] = await ethers.getSigners();
      const pp = await deploy(conn);
      const address = await pp.getAddress();
      await pp
        .connect(owner!)
        .registerAsset("urn:samm:io.catenax.pcf:10.0.0", ethers.ZeroHash, "http://gw");
      const domain = await domainOf(ethers, address);
      const gw = await gateway(ethers, address, relayer!, { over: { rateLimitPerMinute: 2 } });
      try {
        const data = {
          format: "json" as const,
          rows: [
            {
              partNumber: "P",
              plant: "C",
              referencePeriodEnd: "2026-01-01",
              pcfExcludingBiogenicUptake: 1.5,
              productMassPerDeclaredUnit: 2,
              primaryDataShare: 50,
            },
          ],
        };
        const codes = [];
        for (let i = 0; i < 3; i++) {
          const r = await call(
            gw.url,
            "POST",
            "/assets/1/uploads",
            await signUpload(stranger!, domain, 1n, data),
          );
          codes.push(r.body.error.code);
        }
        expect(codes).to.deep.equal(["NOT_OWNER", "NOT_OWNER", "RATE_LIMITED"]);
        const r = await call(
          gw.url,
          "POST",
          "/assets/1/uploads",
          await signUpload(owner!, domain, 1n, data),
        );
        expect(r.status).to.equal(201);
      } finally {
        await gw.close();
      }
    });
  });
});
