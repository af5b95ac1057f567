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
 * `npm run gateway -- backup …` / `restore …` back up and restore the data folder, encrypted
 * (gateway/backup.ts).
 *
 * Stops cleanly on SIGINT/SIGTERM: the HTTP server, provers and relayer finish and the store
 * closes; pending chain submissions stay in the outbox and are sent after the next start.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startServer } from "./app.js";
import { backup, backupSecret, restore } from "./backup.js";
import { ConfigError } from "./config.js";

const USAGE = "npm run gateway -- --config FILE   (or PARTPROOF_GATEWAY_CONFIG=FILE)";

/** One line naming the problem and the usage, exit 2 (parseArgs throws with a stack trace). */
function usageError(problem: string): never {
  console.error(`error: ${problem} — usage: ${USAGE}`);
  process.exit(2);
}

const command = process.argv[2];
if (command === "backup" || command === "restore") {
  await backupCommand(command, process.argv.slice(3));
  process.exit(0);
}

/** `backup` / `restore` of the data folder (gateway/backup.ts); exits 2 on a usage error. */
async function backupCommand(cmd: "backup" | "restore", argv: string[]): Promise<void> {
  const usage =
    cmd === "backup"
      ? "npm run gateway -- backup --data DIR --out FILE [--key-file FILE]   (key: PARTPROOF_BACKUP_KEY or --key-file)"
      : "npm run gateway -- restore --in FILE --data DIR [--key-file FILE]   (key: PARTPROOF_BACKUP_KEY or --key-file)";
  let opts: { data?: string; out?: string; in?: string; "key-file"?: string };
  try {
    ({ values: opts } = parseArgs({
      args: argv,
      options: {
        data: { type: "string" },
        out: { type: "string" },
        in: { type: "string" },
        "key-file": { type: "string" },
      },
    }));
  } catch (e) {
    console.error(`error: ${(e as Error).message.split(/\.\s/)[0]} — usage: ${usage}`);
    process.exit(2);
  }
  const file = cmd === "backup" ? opts.out : opts.in;
  if (!opts.data || !file) {
    console.error(
      `error: --data and ${cmd === "backup" ? "--out" : "--in"} are needed — usage: ${usage}`,
    );
    process.exit(2);
  }
  try {
    const secret = await backupSecret(opts["key-file"]);
    if (cmd === "backup") {
      const r = await backup(opts.data, file, secret);
      console.error(`backup: ${r.entries} entries (schema ${r.schemaVersion}) → ${file}`);
    } else {
      const r = await restore(file, opts.data, secret);
      console.error(`restore: ${r.entries} entries → ${opts.data} (schema ${r.from} → ${r.to})`);
    }
  } catch (e) {
    console.error(`${cmd} failed: ${(e as Error).message}`);
    process.exit(1);
  }
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
