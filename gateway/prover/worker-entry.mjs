// Bootstrap of a pool worker, as a worker thread or as a forked child process (pool.ts): registers
// tsx so that the TypeScript worker module named in the start-up data (and everything it
// imports) loads, starts it, and tells the pool it is ready (tasks, and their time budgets, start
// only then: never mid-load).
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

const data = parentPort ? workerData : JSON.parse(process.env.PARTPROOF_WORKER_DATA ?? "{}");
if (!parentPort && data.nice) {
  // A process's priority (Linux: this thread's, inherited by every thread it starts later,
  // e.g. snarkjs' curve threads): proofs yield to the gateway's HTTP loop, never the reverse.
  try {
    setPriority(0, data.nice);
  } catch {
    // not permitted here: run at the default priority
  }
}
register();
await import(new URL(data.script, import.meta.url).href);
if (parentPort) parentPort.postMessage({ ready: true });
else process.send({ ready: true });
