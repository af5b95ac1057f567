/**
 * Deploys PartProof (PoseidonT5 linked) and the generated circuit verifiers of the requested
 * targets with the Hardhat Ignition module, registers each verifier under
 * circuitId = keccak256(name), and writes the addresses to a JSON file.
 *
 * Usage:
 *   tsx scripts/deploy.ts [--network hardhat|localhost|<name>|<http(s) url>] [--out FILE] [--reset]
 *                         [--targets production|test|test,production] [--allow-dev-setup]
 *
 * --network  a network of hardhat.config.ts (default "hardhat", the in-process chain), or an
 *            RPC URL. For a URL, and for any network when PARTPROOF_DEPLOYER_KEY is set, the
 *            deployer key is PARTPROOF_DEPLOYER_KEY, resolved from the environment or from
 *            Hardhat's keystore (`npx hardhat keystore set PARTPROOF_DEPLOYER_KEY`).
 *            Without it, `localhost` uses the node's unlocked first account.
 * --out      output file (default deployments/<chainId>.json).
 * --reset    start a fresh Ignition deployment (always done on a local dev chain, 31337 or 1337).
 * --targets  which circuits' verifiers to register (circuits/circuits.json `target`), comma
 *            separated; default "production".
 * --allow-dev-setup
 *            register verifiers whose proving key came from a development setup
 *            (circuits/build/NAME/stamps.json `setupKind`, missing = development) on a chain
 *            other than a local development chain (31337, 1337). Without it the deployment is
 *            refused before any transaction; with it a loud warning is printed.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { configVariable } from "hardhat/config";
import hre from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  parseTargets,
  partProofModule,
  verifiersFor,
  type CircuitTarget,
} from "../ignition/modules/PartProof.js";
import { readSetupKind, type SetupKind } from "../protocol/manifest.js";
import { parseArgsOr, usageError } from "./lib/args.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Options of {@link deploy}. */
export interface DeployOptions {
  /** Network name of hardhat.config.ts or an http(s) RPC URL. */
  network: string;
  /** Output JSON file; default deployments/<chainId>.json. */
  out?: string;
  /** Start a fresh Ignition deployment. */
  reset?: boolean;
  /** Circuit targets whose verifiers are registered; default ["production"]. */
  targets?: readonly CircuitTarget[];
  /** Register development-setup verifiers on a non-development chain (with a loud warning). */
  allowDevSetup?: boolean;
  /**
   * An open connection to deploy through instead of connecting to `network` (which then only
   * names the network in the record).
   */
  connection?: NetworkConnection;
  /** Where warnings go; default stderr. */
  warn?: (line: string) => void;
}

/** What {@link deploy} writes to the output file. */
export interface DeploymentRecord {
  /** Chain id. */
  chainId: number;
  /** The --network argument (a URL's credentials are not recorded). */
  network: string;
  /** Deployer and initial admin (all roles). */
  deployer: string;
  /** PartProof contract. */
  partProof: string;
  /** Linked PoseidonT5 library. */
  poseidonT5: string;
  /** Block of the PartProof deployment (start of an auditor's log scan). */
  deploymentBlock: number;
  /** The circuit targets whose verifiers were registered. */
  targets: CircuitTarget[];
  /** Registered verifiers by circuit name, with the setup their proving key came from. */
  verifiers: Record<
    string,
    { circuitId: string; contract: string; address: string; setupKind: SetupKind }
  >;
  /** EIP-712 domain of PartProof (see contracts/typed-data.ts). */
  eip712: { name: string; version: string; chainId: number; verifyingContract: string };
  /** ISO timestamp of the deployment. */
  deployedAt: string;
  /** Output file written. */
  file: string;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** Chain ids of local development chains (Hardhat, Ganache/Geth dev), where dev setups are fine. */
export const DEV_CHAIN_IDS: ReadonlySet<number> = new Set([31337, 1337]);

/** A deployment refused because it would register a development-setup verifier. */
export class DevSetupRefused extends Error {
  override name = "DevSetupRefused";
}

/**
 * Refuses (throws DevSetupRefused) to register verifiers whose proving key came from a
 * development setup on a chain other than a local development chain, unless `allow`; with
 * `allow` it prints a loud multi-line warning through `warn`. Returns each verifier's kind.
 */
export function checkSetupKinds(
  chainId: number,
  names: readonly string[],
  allow: boolean,
  warn: (line: string) => void,
): Record<string, SetupKind> {
  const kinds = Object.fromEntries(names.map((n) => [n, readSetupKind(n)]));
  const dev = names.filter((n) => kinds[n] === "development");
  if (dev.length === 0 || DEV_CHAIN_IDS.has(chainId)) return kinds;
  if (!allow) {
    throw new DevSetupRefused(
      `refusing to register ${dev.join(", ")} on chain ${chainId}: their proving keys come from a ` +
        "development setup (whoever built them could forge proofs). Build with a published " +
        "powers-of-tau file (PTAU=…) and a phase-2 ceremony (npm run ceremony), deploy only the " +
        "targets you need (--targets production), or pass --allow-dev-setup for a throw-away chain.",
    );
  }
  const bar = "!".repeat(78);
  for (const line of [
    bar,
    `!! WARNING: --allow-dev-setup on chain ${chainId}`,
    `!! Registering verifiers built on a DEVELOPMENT trusted setup: ${dev.join(", ")}`,
    "!! Whoever ran that build could know the setup's secret and FORGE PROOFS that this",
    "!! contract accepts. Answers logged for these circuits prove nothing to anyone else.",
    "!! Never use this deployment for real data.",
    bar,
  ]) {
    warn(line);
  }
  return kinds;
}

/** Deploys everything to `options.network` and writes the deployment record. */
export async function deploy(options: DeployOptions): Promise<DeploymentRecord> {
  // Compile first: deploy fresh, uninstrumented artifacts (a coverage run leaves instrumented ones).
  await hre.tasks.getTask("build").run({ quiet: true });
  const targets = [...(options.targets ?? ["production"])];
  const warn = options.warn ?? ((line: string) => console.error(line));
  const connection = options.connection ?? (await connect(options.network));
  try {
    const { ethers, ignition } = connection;
    const chainId = Number((await ethers.provider.getNetwork()).chainId);
    const registered = verifiersFor(targets);
    const setupKinds = checkSetupKinds(
      chainId,
      registered.map((v) => v.name),
      options.allowDevSetup ?? false,
      warn,
    );
    const deploymentId = `partproof-${chainId}`;
    if (options.reset || DEV_CHAIN_IDS.has(chainId)) {
      await rm(path.join(ROOT, "ignition", "deployments", deploymentId), {
        recursive: true,
        force: true,
      });
    }
    const { partProof, poseidonT5 } = await ignition.deploy(partProofModule(targets), {
      deploymentId,
      displayUi: false,
    });
    const [signer] = await ethers.getSigners();
    const address = await partProof.getAddress();
    const pp = await ethers.getContractAt("PartProof", address);
    const verifiers: DeploymentRecord["verifiers"] = {};
    for (const v of registered) {
      const entry = await pp.getCircuit(v.circuitId);
      verifiers[v.name] = {
        circuitId: v.circuitId,
        contract: v.contract,
        address: entry.verifier,
        setupKind: setupKinds[v.name]!,
      };
    }
    const receipt = await partProof.deploymentTransaction()?.wait();
    const file = path.resolve(options.out ?? path.join(ROOT, "deployments", `${chainId}.json`));
    const record: DeploymentRecord = {
      chainId,
      network: isUrl(options.network) ? new URL(options.network).origin : options.network,
      deployer: await signer!.getAddress(),
      partProof: address,
      poseidonT5: await poseidonT5.getAddress(),
      deploymentBlock: receipt?.blockNumber ?? (await deploymentBlock(ethers.provider, address)),
      targets,
      verifiers,
      eip712: { name: "PartProof", version: "1", chainId, verifyingContract: address },
      deployedAt: new Date().toISOString(),
      file,
    };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(record, null, 2) + "\n");
    return record;
  } finally {
    if (!options.connection) await connection.close();
  }
}

/** Connects to a network of hardhat.config.ts or an RPC URL, with the deployer key if set. */
async function connect(network: string): Promise<NetworkConnection> {
  const keyFromEnvOrKeystore = process.env.PARTPROOF_DEPLOYER_KEY !== undefined || isUrl(network);
  const accounts = keyFromEnvOrKeystore ? [configVariable("PARTPROOF_DEPLOYER_KEY")] : undefined;
  // "hardhat" names the in-process chain, which Hardhat 3 calls "default".
  const name = network === "hardhat" ? "default" : network;
  return isUrl(network)
    ? hre.network.create({ network: "localhost", override: { url: network, accounts } })
    : hre.network.create({
        network: name,
        ...(accounts && name !== "default" ? { override: { accounts } } : {}),
      });
}

/** First block at which `address` has code (binary search), for resumed deployments. */
async function deploymentBlock(
  provider: { getCode(a: string, b?: number): Promise<string>; getBlockNumber(): Promise<number> },
  address: string,
): Promise<number> {
  let lo = 0;
  let hi = await provider.getBlockNumber();
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await provider.getCode(address, mid)) === "0x") lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function main(): Promise<void> {
  const usage =
    "npm run deploy -- [--network hardhat|localhost|NAME|URL] [--out FILE] [--reset] [--targets production|test|test,production] [--allow-dev-setup]";
  const { values } = parseArgsOr(
    {
      options: {
        network: { type: "string", default: "hardhat" },
        out: { type: "string" },
        reset: { type: "boolean", default: false },
        targets: { type: "string", default: "production" },
        "allow-dev-setup": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    usage,
  );
  if (values.help) {
    console.log(
      `Usage: ${usage}\n\nSee the header of scripts/deploy.ts for what each option does.`,
    );
    return;
  }
  let targets: CircuitTarget[];
  try {
    targets = parseTargets(values.targets!);
  } catch (e) {
    usageError(`--targets: ${(e as Error).message}`, usage);
  }
  const record = await deploy({
    network: values.network!,
    out: values.out,
    reset: values.reset,
    targets,
    allowDevSetup: values["allow-dev-setup"],
  });
  console.log(
    `PartProof ${record.partProof} on chain ${record.chainId} (PoseidonT5 ${record.poseidonT5}); ` +
      `verifiers: ${Object.keys(record.verifiers).join(", ") || "none"}; written to ${path.relative(process.cwd(), record.file)}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
