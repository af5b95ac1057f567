/**
 * The native Groth16 prover as a command line, the counterpart of `snarkjs groth16 prove`:
 *
 *   tsx circuits/native/prove-cli.ts <circuit.zkey> <witness.wtns> <proof.json> <public.json>
 *
 * Writes the proof and public signals as snarkjs does, and prints the proving time (the zkey
 * and witness read included, Node's start-up not) as JSON on stdout: { proveMs, cpuMs }.
 * Fails (exit 1) when the addon is not built or the files do not fit.
 */
import fs from "node:fs";
import { loadNativeProver, nativeProverUnavailableReason, proveNative } from "./groth16.js";

const [zkey, wtnsFile, proofFile, publicFile] = process.argv.slice(2);
if (!zkey || !wtnsFile || !proofFile || !publicFile) {
  console.error("usage: prove-cli.ts <circuit.zkey> <witness.wtns> <proof.json> <public.json>");
  process.exit(2);
}
if (!loadNativeProver()) {
  console.error(`native prover: ${nativeProverUnavailableReason()}`);
  process.exit(1);
}
try {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { proof, publicSignals } = await proveNative(zkey, fs.readFileSync(wtnsFile));
  const cpu = process.cpuUsage(cpu0);
  const proveMs = performance.now() - t0;
  fs.writeFileSync(proofFile, JSON.stringify(proof, null, 1));
  fs.writeFileSync(publicFile, JSON.stringify(publicSignals, null, 1));
  console.log(JSON.stringify({ proveMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
} catch (e) {
  console.error(`native prover: ${(e as Error).message}`);
  process.exit(1);
}
