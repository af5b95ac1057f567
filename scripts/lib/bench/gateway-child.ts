/**
 * Child process of the `gateway` benchmark: runs {@link benchGateway} and prints its numbers
 * as one JSON line as soon as they are measured, so that a failure while closing the gateway,
 * LevelDB or the chain afterwards cannot lose them.
 *
 * Usage: node --import tsx scripts/lib/bench/gateway-child.ts <repeat> [quick] [latency]
 */
import { benchGateway } from "./gateway.js";

const repeat = Number(process.argv[2] ?? "3");
const quick = process.argv.slice(3).includes("quick");
const latency = process.argv.slice(3).includes("latency");
const log = (m: string) => process.stderr.write(m + "\n");
await benchGateway(
  { repeat, quick, latency, onMeasured: (data) => console.log(JSON.stringify(data)) },
  log,
);
process.exit(0);
