/**
 * Child process of the `prove` benchmark: reads a circuit input, then `iterations` times
 * computes the witness (snarkjs wtns.calculate), proves (groth16.prove) and verifies
 * (groth16.verify), and prints one JSON line with the times, the proof's size and this
 * process's peak RSS. The first iteration includes snarkjs' curve and worker start-up.
 *
 * Usage: node --import tsx scripts/lib/bench/prove-child.ts <input.json> <wasm> <zkey> <vkey.json> <iterations>
 */
import { readFileSync } from "node:fs";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { peakRssMiB, round, rssMiB } from "./common.js";
import type { ProveInputFile } from "./prove-input.js";

/** Times of one iteration, ms. */
export interface ProveIteration {
  witnessMs: number;
  proveMs: number;
  verifyMs: number;
  /**
   * CPU time (user + system, all threads of the process) of witness + proving, ms: what the
   * proof costs regardless of how many other processes share the CPUs.
   */
  cpuMs?: number;
}

/** The JSON line this child prints. */
export interface ProveChildResult {
  iterations: ProveIteration[];
  /** Every proof verified and its public signals equal the expected ones. */
  verified: boolean;
  /** Public signal count. */
  publicSignals: number;
  /** Size of snarkjs' proof JSON, bytes. */
  proofJsonBytes: number;
  /** Size of the proof as verifier call data (a, b, c: 8 × 32 bytes). */
  proofCalldataBytes: number;
  /** RSS before snarkjs did anything, MiB. */
  baselineRssMiB: number;
  /** Peak RSS of this process (snarkjs and its worker threads), MiB. */
  peakRssMiB: number;
}

const [inputFile, wasm, zkey, vkeyFile, iterArg] = process.argv.slice(2);
const file = JSON.parse(readFileSync(inputFile!, "utf8")) as ProveInputFile;
const vkey = JSON.parse(readFileSync(vkeyFile!, "utf8")) as unknown;
const iterations = Number(iterArg ?? "1");
const baselineRssMiB = rssMiB();
const out: ProveIteration[] = [];
let verified = true;
let publicSignals: string[] = [];
let proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] } | undefined;
for (let i = 0; i < iterations; i++) {
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  const wtns = { type: "mem" };
  await snarkjs.wtns.calculate(file.input, wasm, wtns);
  const witnessMs = performance.now() - t;
  t = performance.now();
  ({ proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns));
  const proveMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  t = performance.now();
  const ok = (await snarkjs.groth16.verify(vkey, publicSignals, proof)) as boolean;
  const verifyMs = performance.now() - t;
  verified &&= ok && JSON.stringify(publicSignals) === JSON.stringify(file.publicSignals);
  out.push({
    witnessMs: round(witnessMs, 1),
    proveMs: round(proveMs, 1),
    verifyMs: round(verifyMs, 1),
    cpuMs: round(cpuMs, 1),
  });
  process.stderr.write(
    `iteration ${i + 1}/${iterations}: witness ${(witnessMs / 1000).toFixed(2)} s, ` +
      `prove ${(proveMs / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(2)} s), verify ${(verifyMs / 1000).toFixed(2)} s, ${ok ? "valid" : "INVALID"}\n`,
  );
}
const result: ProveChildResult = {
  iterations: out,
  verified,
  publicSignals: publicSignals.length,
  proofJsonBytes: Buffer.byteLength(JSON.stringify(proof)),
  proofCalldataBytes: 8 * 32,
  baselineRssMiB,
  peakRssMiB: peakRssMiB(),
};
await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
console.log(JSON.stringify(result));
process.exit(0);
