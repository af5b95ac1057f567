/**
 * The chain an e2e test runs on, chosen by `E2E_CHAIN`: `hardhat` (default: Hardhat's
 * in-process chain, PartProof deployed by Ignition in the test process, the relayer an
 * injected signer) or `anvil` (Foundry's node started as a separate process, PartProof deployed
 * by `scripts/deploy.ts` over JSON-RPC, the gateway connected by URL with its relayer key from
 * an environment variable — as a deployed gateway runs; nothing of Hardhat's chain is used).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Provider, Signer } from "ethers";
import { network } from "hardhat";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { devAccount, runCommand, startAnvil } from "../../scripts/lib/processes.js";
import { deploy, gateway } from "../gateway/helpers.js";

/** The development account the e2e gateways relay with. */
export const RELAYER_ACCOUNT = 5;
/** The environment variable an anvil-backed gateway reads its relayer key from. */
export const RELAYER_KEY_ENV = "E2E_RELAYER_KEY";

/** A chain with PartProof deployed (test circuits registered) and a way to start gateways on it. */
export interface E2EChain {
  /** "hardhat" or "anvil". */
  kind: "hardhat" | "anvil";
  /** A provider for the CLI and the test's own reads. */
  provider: Provider;
  /** JSON-RPC URL (anvil only). */
  url?: string;
  /** The PartProof contract's address. */
  partProof: string;
  /** Starts a gateway on this chain (helpers' `gateway`, connected as this chain needs). */
  gateway(opts?: { dataDir?: string; over?: Record<string, unknown> }): ReturnType<typeof gateway>;
  /** Stops the node (anvil). */
  close(): Promise<void>;
}

/** Deploys PartProof on anvil through the deploy script (a child process, as an operator would). */
export async function deployOnAnvil(url: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "partproof-anvil-"));
  try {
    const out = path.join(dir, "deployment.json");
    await runCommand(
      "tsx",
      ["scripts/deploy.ts", "--network", url, "--out", out, "--targets", "test"],
      { env: { PARTPROOF_DEPLOYER_KEY: devAccount(0).privateKey } },
    );
    return (JSON.parse(await readFile(out, "utf8")) as { partProof: string }).partProof;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The chain `kind` (default `E2E_CHAIN`, else hardhat), PartProof deployed on it. */
export async function e2eChain(
  kind = (process.env.E2E_CHAIN ?? "hardhat") as "hardhat" | "anvil",
): Promise<E2EChain> {
  if (kind === "anvil") {
    const node = await startAnvil();
    try {
      const partProof = await deployOnAnvil(node.url);
      process.env[RELAYER_KEY_ENV] = devAccount(RELAYER_ACCOUNT).privateKey;
      return {
        kind,
        provider: node.provider,
        url: node.url,
        partProof,
        gateway: (opts = {}) =>
          // the helper's injected provider and relayer are unused: the config names the node
          gateway({} as HardhatEthers, partProof, undefined as unknown as Signer, {
            ...opts,
            over: {
              chain: { rpcUrl: node.url, confirmations: 1 },
              relayerKey: { source: "env", name: RELAYER_KEY_ENV },
              ...opts.over,
            },
          }),
        close: () => node.stop(),
      };
    } catch (e) {
      await node.stop();
      throw e;
    }
  }
  if (kind !== "hardhat") throw new Error(`E2E_CHAIN must be hardhat or anvil, got ${kind}`);
  const conn = await network.create();
  const { ethers } = conn;
  // The CLI signs with keys from env vars: Hardhat's funded accounts are the dev mnemonic's.
  const signers = await ethers.getSigners();
  expect(signers[0]!.address).to.equal(devAccount(0).address);
  const partProof = await (await deploy(conn as never)).getAddress();
  return {
    kind,
    provider: ethers.provider,
    partProof,
    gateway: (opts = {}) => gateway(ethers, partProof, signers[RELAYER_ACCOUNT]!, opts),
    close: async () => {},
  };
}
