/**
 * The range_d4 build and a small fixed data set for contract tests with real Groth16 proofs
 * (RealProof.test.ts, Invariants.test.ts): eight records, their salts, a policy and a SUM query.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import type { TreeRecord } from "../../circuits/lib/tree.js";
import type { Query } from "../../circuits/lib/query.js";

/** The circuit and its tree depth. */
export const NAME = "range_d4";
export const DEPTH = 4;
const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Build outputs the proofs need (`npm run build:circuits`). */
export const WASM = path.join(ROOT_DIR, "circuits", "build", NAME, `${NAME}_js`, `${NAME}.wasm`);
export const ZKEY = path.join(ROOT_DIR, "circuits", "build", NAME, `${NAME}.zkey`);
export const VKEY = path.join(ROOT_DIR, "circuits", "build", NAME, `${NAME}.vkey.json`);
export const VERIFIER_SOL = path.join(ROOT_DIR, "contracts", "generated", "RangeD4Verifier.sol");

/** Throws, naming the missing files, unless the build is there: these tests fail, never skip. */
export function requireBuild(files: string[] = [WASM, ZKEY, VKEY, VERIFIER_SOL]): void {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `${NAME} build or RangeD4Verifier missing (${missing.join(", ")}); run npm run build:circuits`,
    );
  }
}

/** Eight records (one duplicate key), their salts. */
export const RECORDS: TreeRecord[] = [3n, 8n, 8n, 13n, 21n, 34n, 55n, 89n].map((key, i) => ({
  key,
  values: [BigInt(i + 1), BigInt(1000 + 17 * i), BigInt(i % 2), BigInt(40 + 5 * i)],
}));
export const SALTS = RECORDS.map((_, i) => 5_000_000n + BigInt(i) * 104_729n);
/** Every aggregate and field, filters on every field, keys 1..100, k = 2. */
export const POLICY: Policy = {
  aggregateMask: 0x7f,
  fieldMask: 0xf,
  filterMask: 0xf,
  keyLo: 1n,
  keyHi: 100n,
  minCohort: 2,
};
/** SUM of field 1 over keys 5..60. */
export const QUERY: Query = {
  kind: AggregateKind.Sum,
  fieldA: 1,
  fieldB: 0,
  lo: 5n,
  hi: 60n,
  threshold: 0n,
  nonce: 4242n,
};
