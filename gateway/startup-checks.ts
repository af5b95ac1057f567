/**
 * What the gateway checks against the chain before it takes a request: the configured circuits
 * are registered and active in the on-chain verifier registry, the registered verifier was made
 * from the local verification key (every constant of the key is in the verifier's code: a
 * snarkjs verifier holds them as immediates, so a verifier of another setup or circuit misses
 * them), the configured depth and MIN/MAX field are the ones the circuit's main file builds, and
 * the relayer key holds at least the configured balance floor, and the data folder is of this
 * code's schema version (an older one is migrated first: `backup.ts` migrateAtStart, then the
 * store's own steps as it opens; a newer one stops the start, naming both versions). A circuit
 * mismatch stops the start (each proof would be refused by the access log); a low balance is a
 * warning and the metric `partproof_relayer_balance_low`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { keccak256, toUtf8Bytes, ZeroAddress } from "ethers";
import { circuitId } from "../circuits/lib/signals.js";
import { readManifestSync, REPO_ROOT } from "../protocol/manifest.js";
import { vkeyWords } from "../protocol/vkey.js";
import { migrateAtStart } from "./backup.js";
import type { ChainClient } from "./chain.js";
import { ConfigError, type CircuitArtifacts, type GatewayConfig } from "./config.js";
import type { GatewayMetrics } from "./metrics.js";

/** The circuit checks failed: the message lists each problem. */
export class StartupCheckError extends ConfigError {
  /** Creates the error from the problems found. */
  constructor(readonly problems: string[]) {
    super(`startup checks failed:\n  ${problems.join("\n  ")}`);
    this.name = "StartupCheckError";
  }
}

/** keccak256 of the verification key file's JSON (named in messages, to tell keys apart). */
export function vkeyHash(vkeyFile: string): string {
  return keccak256(toUtf8Bytes(JSON.stringify(JSON.parse(readFileSync(vkeyFile, "utf8")))));
}

/** The numeric template arguments of a circuit instance's main component, from the manifest. */
export function mainArguments(name: string, root = REPO_ROOT): number[] | undefined {
  const manifest = path.join(root, "circuits", "circuits.json");
  if (!existsSync(manifest)) return undefined;
  const entry = readManifestSync(manifest).find((c) => c.name === name);
  if (!entry) return undefined;
  const source = readFileSync(path.join(root, entry.main), "utf8");
  const m = /component\s+main[^=]*=\s*\w+\s*\(([^)]*)\)/.exec(source);
  return m ? m[1]!.split(",").map((a) => Number(a.trim())) : undefined;
}

async function checkCircuit(
  chain: ChainClient,
  setting: string,
  name: string,
  vkeyFile: string,
): Promise<string[]> {
  const id = circuitId(name);
  const entry = await chain.contract.getCircuit(id);
  if (entry.verifier === ZeroAddress) {
    return [
      `config.${setting}.name: circuit ${name} (id ${id}) is not registered in PartProof ${chain.address}; register its verifier or configure a registered circuit`,
    ];
  }
  const problems: string[] = [];
  if (entry.retired) {
    problems.push(
      `config.${setting}.name: circuit ${name} is retired on-chain (verifier ${entry.verifier}); the access log refuses its answers — configure an active circuit`,
    );
  }
  const code = (await chain.provider.getCode(entry.verifier)).toLowerCase();
  const words = vkeyWords(JSON.parse(readFileSync(vkeyFile, "utf8")));
  const missing = words.filter((w) => !code.includes(w)).length;
  if (missing > 0) {
    problems.push(
      `config.${setting}.artifactsDir: the verification key ${vkeyFile} (hash ${vkeyHash(vkeyFile)}) does not match the verifier registered on-chain for ${name} at ${entry.verifier} (${missing} of ${words.length} key constants absent); use the artifacts the verifier was generated from`,
    );
  }
  return problems;
}

/**
 * Runs the startup checks; throws {@link StartupCheckError} listing every circuit problem, and
 * returns the warnings (a relayer balance below the floor), which are also logged and set the
 * balance metrics.
 */
export async function runStartupChecks(args: {
  config: GatewayConfig;
  chain: ChainClient;
  artifacts: CircuitArtifacts;
  scanArtifacts?: CircuitArtifacts;
  metrics: GatewayMetrics;
  warn: (message: string) => void;
  /** Repository root holding circuits/circuits.json and the main files (default: this one). */
  root?: string;
}): Promise<string[]> {
  const { config, chain, metrics } = args;
  let migrated: { from: number; to: number } | undefined;
  try {
    migrated = await migrateAtStart(config.dataDir);
  } catch (e) {
    throw new StartupCheckError([`config.dataDir: ${(e as Error).message}`]);
  }
  const problems = await checkCircuit(chain, "circuit", config.circuit.name, args.artifacts.vkey);
  if (config.scanCircuit && args.scanArtifacts) {
    problems.push(
      ...(await checkCircuit(
        chain,
        "scanCircuit",
        config.scanCircuit.name,
        args.scanArtifacts.vkey,
      )),
    );
  }
  const range = mainArguments(config.circuit.name, args.root);
  if (!range) {
    problems.push(
      `config.circuit.name: circuit ${config.circuit.name} is not in circuits/circuits.json, so its depth cannot be checked`,
    );
  } else {
    const [depth, minMax] = range;
    if (depth !== config.circuit.depth) {
      problems.push(
        `config.circuit.depth: ${config.circuit.depth}, but circuit ${config.circuit.name} is built for depth ${depth}`,
      );
    }
    if (minMax !== undefined && minMax !== config.circuit.minMaxField) {
      problems.push(
        `config.circuit.minMaxField: ${config.circuit.minMaxField}, but circuit ${config.circuit.name} computes MIN/MAX on field ${minMax}`,
      );
    }
  }
  if (config.scanCircuit) {
    const scan = mainArguments(config.scanCircuit.name, args.root);
    if (scan && (scan[0] !== config.circuit.depth || scan[1] !== config.scanCircuit.h)) {
      problems.push(
        `config.scanCircuit: circuit ${config.scanCircuit.name} is built for depth ${scan[0]} and h = ${scan[1]}, the config says depth ${config.circuit.depth} and h = ${config.scanCircuit.h}`,
      );
    }
  }
  if (problems.length > 0) throw new StartupCheckError(problems);

  const warnings: string[] = [];
  if (migrated && migrated.from !== migrated.to) {
    warnings.push(
      `config.dataDir: ${config.dataDir} holds data of schema version ${migrated.from}; it is migrated to ${migrated.to} at this start`,
    );
  }
  if (chain.relayer) {
    const address = await chain.relayer.getAddress();
    const balance = await chain.provider.getBalance(address);
    const floor = config.relayerBalanceFloorWei;
    metrics.relayerBalanceWei.set(Number(balance));
    metrics.relayerBalanceLow.set(balance < floor ? 1 : 0);
    if (balance < floor) {
      warnings.push(
        `the relayer ${address} holds ${balance} wei, below config.relayerBalanceFloorWei (${floor}); fund it, or relayed publications and answer log entries will fail`,
      );
    }
  }
  for (const w of warnings) args.warn(w);
  return warnings;
}
