/**
 * Groth16 proving and verification of a built circuit instance (snarkjs), using the files of
 * circuits/build/<name>/ that scripts/build-circuits.ts produces (wasm, zkey, vkey).
 */
import { readFileSync } from "node:fs";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { circuitFiles } from "./paths.js";
import type { CircuitInput } from "./witness.js";

/** A snarkjs Groth16 proof (decimal strings). */
export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

/** A proof with its public signals (decimal strings, snarkjs order). */
export interface ProofResult {
  proof: Groth16Proof;
  publicSignals: string[];
}

/**
 * Computes the witness and a Groth16 proof of circuit instance `name` for `input` (e.g.
 * `rangeWitness(...).input`). Throws when the input does not satisfy the circuit.
 */
export async function prove(
  name: string,
  input: CircuitInput,
  buildDir?: string,
): Promise<ProofResult> {
  const files = circuitFiles(name, buildDir);
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, files.wasm, files.zkey);
  return { proof: proof as Groth16Proof, publicSignals: publicSignals as string[] };
}

const vkeys = new Map<string, unknown>();

/** Verifies a Groth16 proof of circuit instance `name` against its verification key. */
export async function verify(
  name: string,
  proof: Groth16Proof,
  publicSignals: readonly string[],
  buildDir?: string,
): Promise<boolean> {
  const file = circuitFiles(name, buildDir).vkey;
  let vkey = vkeys.get(file);
  if (vkey === undefined) {
    vkey = JSON.parse(readFileSync(file, "utf8"));
    vkeys.set(file, vkey);
  }
  return Boolean(await snarkjs.groth16.verify(vkey, [...publicSignals], proof));
}
