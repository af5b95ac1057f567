// Bootstrap of a worker thread: registers tsx so that the TypeScript worker module named in
// workerData.script (and everything it imports) loads in the thread, then starts it.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(new URL(workerData.script, import.meta.url).href);
