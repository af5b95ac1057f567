// Bootstrap of a proving worker thread: registers tsx so that the TypeScript worker (and
// everything it imports) loads in the thread, then starts it.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
