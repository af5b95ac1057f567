/**
 * Runs a gateway as a process: `npm run gateway -- --config gateway.json`.
 *
 * The config file is JSON in the shape of `gateway/config.ts` (validated at start; a missing
 * or bad value stops the start with a message naming it). Example:
 *
 *   { "port": 8080, "dataDir": "data/gateway",
 *     "chain": { "rpcUrl": "http://127.0.0.1:8545", "confirmations": 1 },
 *     "contracts": { "partProof": "0x…" },
 *     "relayerKey": { "source": "env", "name": "PARTPROOF_RELAYER_KEY" },
 *     "circuit": { "name": "range_d20", "depth": 20, "artifactsDir": "circuits/build/range_d20" } }
 *
 * Stops cleanly on SIGINT/SIGTERM: the HTTP server, provers and relayer finish and the store
 * closes; pending chain submissions stay in the outbox and are sent after the next start.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startServer } from "./app.js";
import { ConfigError } from "./config.js";

const USAGE = "npm run gateway -- --config FILE   (or PARTPROOF_GATEWAY_CONFIG=FILE)";

/** One line naming the problem and the usage, exit 2 (parseArgs throws with a stack trace). */
function usageError(problem: string): never {
  console.error(`error: ${problem} — usage: ${USAGE}`);
  process.exit(2);
}

let values: { config?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      config: { type: "string", default: process.env.PARTPROOF_GATEWAY_CONFIG },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  // "Unknown option '--x'. To specify a positional argument…": the first sentence names it.
  const m = (e as Error).message.split(/\.\s/)[0]!;
  usageError(m.charAt(0).toLowerCase() + m.slice(1));
}

if (values.help) {
  console.log(`Usage: ${USAGE}`);
  process.exit(0);
}
if (!values.config) usageError("no config file");

let input: unknown;
try {
  input = JSON.parse(await readFile(values.config, "utf8"));
} catch (e) {
  console.error(`config ${values.config}: ${(e as Error).message}`);
  process.exit(2);
}

try {
  const gw = await startServer(input);
  console.error(`gateway listening on ${gw.url}`);
  let stopping = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`${sig}: stopping the gateway …`);
      void gw.close().then(() => process.exit(0));
    });
  }
} catch (e) {
  console.error(
    e instanceof ConfigError ? e.message : `gateway failed to start: ${(e as Error).message}`,
  );
  process.exit(e instanceof ConfigError ? 2 : 1);
}
