/**
 * Deploys PartProof (PoseidonT5 linked) and the generated circuit verifiers with the Hardhat
 * Ignition module, registers each verifier under circuitId = keccak256(name), and writes the
 * addresses to a JSON file.
 *
 * Usage:
 *   tsx scripts/deploy.ts [--network hardhat|localhost|<name>|<http(s) url>] [--out FILE] [--reset]
 *
 * --network  a network of hardhat.config.ts (default "hardhat", the in-process chain), or an
 *            RPC URL. For a URL, and for any network when PARTPROOF_DEPLOYER_KEY is set, the
 *            deployer key is PARTPROOF_DEPLOYER_KEY, resolved from the environment or from
 *            Hardhat's keystore (`npx hardhat keystore set PARTPROOF_DEPLOYER_KEY`).
 *            Without it, `localhost` uses the node's unlocked first account.
 * --out      output file (default deployments/<chainId>.json).
 * --reset    start a fresh Ignition deployment (always done on chain 31337, a dev chain).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { configVariable } from "hardhat/config";
import hre from "hardhat";
import PartProofModule, { generatedVerifiers } from "../ignition/modules/PartProof.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Options of {@link deploy}. */
export interface DeployOptions {
  /** Network name of hardhat.config.ts or an http(s) RPC URL. */
  network: string;
  /** Output JSON file; default deployments/<chainId>.json. */
  out?: string;
  /** Start a fresh Ignition deployment. */
  reset?: boolean;
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
  /** Registered verifiers by circuit name. */
  verifiers: Record<string, { circuitId: string; contract: string; address: string }>;
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

/** Deploys everything to `options.network` and writes the deployment record. */
export async function deploy(options: DeployOptions): Promise<DeploymentRecord> {
  // Compile first: deploy fresh, uninstrumented artifacts (a coverage run leaves instrumented ones).
  await hre.tasks.getTask("build").run({ quiet: true });
  const keyFromEnvOrKeystore =
    process.env.PARTPROOF_DEPLOYER_KEY !== undefined || isUrl(options.network);
  const accounts = keyFromEnvOrKeystore ? [configVariable("PARTPROOF_DEPLOYER_KEY")] : undefined;
  // "hardhat" names the in-process chain, which Hardhat 3 calls "default".
  const name = options.network === "hardhat" ? "default" : options.network;
  const connection = isUrl(options.network)
    ? await hre.network.create({
        network: "localhost",
        override: { url: options.network, accounts },
      })
    : await hre.network.create({
        network: name,
        ...(accounts && name !== "default" ? { override: { accounts } } : {}),
      });
  try {
    const { ethers, ignition } = connection;
    const chainId = Number((await ethers.provider.getNetwork()).chainId);
    const deploymentId = `partproof-${chainId}`;
    if (options.reset || chainId === 31337) {
      await rm(path.join(ROOT, "ignition", "deployments", deploymentId), {
        recursive: true,
        force: true,
      });
    }
    const { partProof, poseidonT5 } = await ignition.deploy(PartProofModule, {
      deploymentId,
      displayUi: false,
    });
    const [signer] = await ethers.getSigners();
    const address = await partProof.getAddress();
    const pp = await ethers.getContractAt("PartProof", address);
    const verifiers: DeploymentRecord["verifiers"] = {};
    for (const v of generatedVerifiers()) {
      const entry = await pp.getCircuit(v.circuitId);
      verifiers[v.name] = { circuitId: v.circuitId, contract: v.contract, address: entry.verifier };
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
      verifiers,
      eip712: { name: "PartProof", version: "1", chainId, verifyingContract: address },
      deployedAt: new Date().toISOString(),
      file,
    };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(record, null, 2) + "\n");
    return record;
  } finally {
    await connection.close();
  }
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
  const { values } = parseArgs({
    options: {
      network: { type: "string", default: "hardhat" },
      out: { type: "string" },
      reset: { type: "boolean", default: false },
    },
  });
  const record = await deploy({ network: values.network!, out: values.out, reset: values.reset });
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
