/**
 * The parent channel of a pool worker, the same whether the worker runs as a thread
 * (worker_threads, `parentPort`) or as a child process (`process.send`, started by the pool in
 * process mode; see pool.ts): its start-up data, a way to answer, and the tasks it receives.
 */
import { parentPort, workerData as threadData } from "node:worker_threads";

/** Data the pool started this worker with (artifact paths, pool name). */
export const workerData: Record<string, unknown> = parentPort
  ? (threadData as Record<string, unknown>)
  : (JSON.parse(process.env.PARTPROOF_WORKER_DATA ?? "{}") as Record<string, unknown>);

/** Sends a message to the pool. */
export function send(msg: unknown): void {
  if (parentPort) parentPort.postMessage(msg);
  else if (process.send) process.send(msg);
  else throw new Error("a pool worker must run as a worker thread or a forked process");
}

/** Calls `handler` with each message from the pool. */
export function onMessage(handler: (msg: unknown) => void): void {
  if (parentPort) parentPort.on("message", handler);
  else {
    process.on("message", handler);
    // the gateway is gone (even killed): so is the reason to prove
    process.on("disconnect", () => process.exit(0));
  }
}
