/**
 * A proving worker thread: receives circuit inputs, runs snarkjs Groth16 fullProve (witness
 * and proof) and posts the proof back. Runs off the HTTP loop.
 */
import { parentPort, workerData } from "node:worker_threads";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";

/** A proving request sent to the worker. */
export interface ProveRequest {
  /** Task id. */
  id: number;
  /** Circuit input (values as decimal strings or nested arrays of them). */
  input: Record<string, unknown>;
}

/** The worker's answer. */
export type ProveResponse =
  | { id: number; ok: true; proof: unknown; publicSignals: string[]; ms: number }
  | { id: number; ok: false; error: string };

const { wasm, zkey } = workerData as { wasm: string; zkey: string };
// Each pool worker proves on its own thread: ffjavascript's own thread pool (the `web-worker`
// package) does not work inside a worker thread, so the curve runs single-threaded here and
// the pool size sets the parallelism.
const PROVER_OPTIONS = { singleThread: true };

parentPort!.on("message", async (msg: ProveRequest | "close") => {
  if (msg === "close") {
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
    parentPort!.postMessage("closed");
    return;
  }
  const t0 = performance.now();
  try {
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      msg.input,
      wasm,
      zkey,
      undefined,
      undefined,
      PROVER_OPTIONS,
    );
    parentPort!.postMessage({
      id: msg.id,
      ok: true,
      proof,
      publicSignals,
      ms: performance.now() - t0,
    } satisfies ProveResponse);
  } catch (e) {
    // snarkjs/witness errors name the failing constraint, never input values
    const text = String((e as Error)?.message ?? e)
      .split("\n")[0]!
      .slice(0, 200);
    parentPort!.postMessage({ id: msg.id, ok: false, error: text } satisfies ProveResponse);
  }
});
