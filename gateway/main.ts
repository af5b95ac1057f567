/**
 * Runs a gateway from a JSON config file: `tsx gateway/main.ts <config.json>` (or the path in
 * PARTPROOF_GATEWAY_CONFIG). See gateway/README.md for the settings. Stops cleanly on
 * SIGINT/SIGTERM (pending proofs resume and pending chain submissions are sent on restart).
 */
import { readFileSync } from "node:fs";
import { startServer } from "./app.js";
import { ConfigError } from "./config.js";

const file = process.argv[2] ?? process.env.PARTPROOF_GATEWAY_CONFIG;
if (!file) {
  console.error("usage: tsx gateway/main.ts <config.json>  (or set PARTPROOF_GATEWAY_CONFIG)");
  process.exit(2);
}

let input: unknown;
try {
  input = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  console.error(`cannot read config ${file}: ${(e as Error).message}`);
  process.exit(2);
}

try {
  const gw = await startServer(input);
  console.log(`PartProof gateway listening on ${gw.url}`);
  const stop = async () => {
    await gw.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  console.error(
    e instanceof ConfigError ? e.message : `gateway failed to start: ${(e as Error).message}`,
  );
  process.exit(1);
}
