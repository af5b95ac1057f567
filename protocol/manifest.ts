/**
 * The circuit manifest (circuits/circuits.json) and where each instance's build outputs live:
 * the one reader every app uses (build tools, deployment, gateway, CLI).
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { circuitId } from "../circuits/lib/signals.js";
import { REPO_ROOT } from "../circuits/lib/paths.js";

export { REPO_ROOT };

/** Where build outputs of every circuit instance go (gitignored). */
export const BUILD_DIR = path.join(REPO_ROOT, "circuits", "build");
/** Where generated Solidity verifiers go (gitignored). */
export const VERIFIER_DIR = path.join(REPO_ROOT, "contracts", "generated");
/** The manifest listing circuit instances. */
export const MANIFEST = path.join(REPO_ROOT, "circuits", "circuits.json");

/** One circuit instance of the manifest. */
export interface CircuitEntry {
  /** Instance name: build folder, file names and circuit id (`keccak256(name)`). */
  name: string;
  /** Path of the main .circom file, relative to the repository root. */
  main: string;
  /** Power of tau the instance needs (2^ptau ≥ constraints + public inputs + 1). */
  ptau: number;
  /** "test": tiny instances built by `npm test`; "production": real sizes. */
  target: "test" | "production";
  /** Whether to generate a Solidity verifier (default: true). */
  verifier?: boolean;
  /**
   * "answer" (default): a query-answer circuit with the five public signals of
   * circuits/PROOF_FORMAT.md, registered in the on-chain verifier registry; "audit": a random
   * path audit circuit, verified off-chain only.
   */
  kind?: "answer" | "audit";
}

/** Paths of one instance's build outputs. */
export interface CircuitPaths {
  dir: string;
  r1cs: string;
  sym: string;
  wasm: string;
  zkey: string;
  vkey: string;
  verifier: string;
  stamps: string;
}

/** Reads and validates circuits/circuits.json. */
export async function readManifest(file = MANIFEST): Promise<CircuitEntry[]> {
  return parseManifest(file, await readFile(file, "utf8"));
}

/** Reads and validates circuits/circuits.json, synchronously (for Ignition modules). */
export function readManifestSync(file = MANIFEST): CircuitEntry[] {
  return parseManifest(file, readFileSync(file, "utf8"));
}

function parseManifest(file: string, text: string): CircuitEntry[] {
  const parsed = JSON.parse(text) as { circuits?: unknown };
  if (!Array.isArray(parsed.circuits)) throw new Error(`${file}: "circuits" must be an array`);
  const seen = new Set<string>();
  return parsed.circuits.map((c: Partial<CircuitEntry>, i: number) => {
    const where = `${file}: circuits[${i}]`;
    if (typeof c.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(c.name)) {
      throw new Error(`${where}.name must be snake_case, got ${JSON.stringify(c.name)}`);
    }
    if (seen.has(c.name)) throw new Error(`${where}.name "${c.name}" is used twice`);
    seen.add(c.name);
    if (typeof c.main !== "string" || !existsSync(path.join(REPO_ROOT, c.main))) {
      throw new Error(`${where}.main: file ${JSON.stringify(c.main)} does not exist`);
    }
    if (!Number.isInteger(c.ptau) || (c.ptau as number) < 1 || (c.ptau as number) > 28) {
      throw new Error(`${where}.ptau must be an integer power 1..28, got ${c.ptau}`);
    }
    if (c.target !== "test" && c.target !== "production") {
      throw new Error(`${where}.target must be "test" or "production", got ${c.target}`);
    }
    if (c.kind !== undefined && c.kind !== "answer" && c.kind !== "audit") {
      throw new Error(`${where}.kind must be "answer" or "audit", got ${JSON.stringify(c.kind)}`);
    }
    return { verifier: true, kind: "answer", ...c } as CircuitEntry;
  });
}

/** PascalCase contract name of an instance's verifier, e.g. range_d4 → RangeD4Verifier. */
export function verifierName(name: string): string {
  return (
    name
      .split("_")
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join("") + "Verifier"
  );
}

/** Output paths of an instance. */
export function circuitPaths(name: string): CircuitPaths {
  const dir = path.join(BUILD_DIR, name);
  return {
    dir,
    r1cs: path.join(dir, `${name}.r1cs`),
    sym: path.join(dir, `${name}.sym`),
    wasm: path.join(dir, `${name}_js`, `${name}.wasm`),
    zkey: path.join(dir, `${name}.zkey`),
    vkey: path.join(dir, `${name}.vkey.json`),
    verifier: path.join(VERIFIER_DIR, `${verifierName(name)}.sol`),
    stamps: path.join(dir, "stamps.json"),
  };
}

/** An answer circuit whose generated Solidity verifier exists, to deploy and register. */
export interface GeneratedVerifier {
  /** Circuit instance name in circuits/circuits.json. */
  name: string;
  /** Verifier contract name, e.g. RangeD4Verifier. */
  contract: string;
  /** keccak256(name). */
  circuitId: string;
  /** The manifest's target of the instance. */
  target: "test" | "production";
}

/**
 * The answer circuits of the manifest whose verifier exists in contracts/generated/. Only answer
 * circuits (five public signals) belong in the access log's verifier registry.
 */
export function generatedVerifiers(manifest = MANIFEST): GeneratedVerifier[] {
  if (!existsSync(manifest)) return [];
  return readManifestSync(manifest)
    .filter((c) => c.kind === "answer" && c.verifier !== false)
    .filter((c) => existsSync(circuitPaths(c.name).verifier))
    .map((c) => ({
      name: c.name,
      contract: verifierName(c.name),
      circuitId: circuitId(c.name),
      target: c.target,
    }));
}

/**
 * Where an instance's proving key came from, as the build recorded it in `stamps.json`:
 * - "development": a powers-of-tau file generated locally from a random secret plus one local
 *   phase-2 contribution — whoever ran the build could forge proofs; local chains only;
 * - "ptau-file": a user-supplied (published, verified) powers-of-tau file plus one local
 *   phase-2 contribution;
 * - "ceremony": phase 2 completed by several parties (scripts/ceremony.ts).
 */
export type SetupKind = "development" | "ptau-file" | "ceremony";

const SETUP_KINDS: readonly SetupKind[] = ["development", "ptau-file", "ceremony"];

/**
 * The setup kind recorded for an instance's zkey. A missing build, stamps file or entry, or an
 * unknown value counts as "development" (the kind that must never reach a production chain).
 */
export function readSetupKind(name: string): SetupKind {
  try {
    const stamps = JSON.parse(readFileSync(circuitPaths(name).stamps, "utf8")) as {
      setupKind?: unknown;
    };
    const kind = stamps.setupKind as SetupKind;
    return SETUP_KINDS.includes(kind) ? kind : "development";
  } catch {
    return "development";
  }
}

/** Verification keys of the built circuits, by circuit id (keccak256 of the name). */
export type VerificationKeys = Map<string, { name: string; vkey: unknown }>;

/** Loads the verification key of every built circuit of the manifest, by circuit id. */
export async function loadVerificationKeys(manifest = MANIFEST): Promise<VerificationKeys> {
  const keys: VerificationKeys = new Map();
  for (const { name } of await readManifest(manifest)) {
    const file = circuitPaths(name).vkey;
    if (!existsSync(file)) continue;
    keys.set(circuitId(name).toLowerCase(), {
      name,
      vkey: JSON.parse(await readFile(file, "utf8")),
    });
  }
  return keys;
}
