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

const { values } = parseArgs({
  options: {
    config: { type: "string", default: process.env.PARTPROOF_GATEWAY_CONFIG },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help || !values.config) {
  console.error("Usage: npm run gateway -- --config FILE   (or PARTPROOF_GATEWAY_CONFIG=FILE)");
  process.exit(values.help ? 0 : 2);
}

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
