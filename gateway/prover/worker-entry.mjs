// Bootstrap of a worker thread: registers tsx so that the TypeScript worker module named in
// workerData.script (and everything it imports) loads in the thread, starts it, and tells the
// pool it is ready (tasks, and their time budgets, start only then: never mid-load).
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(new URL(workerData.script, import.meta.url).href);
parentPort.postMessage({ ready: true });
