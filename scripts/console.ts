/**
 * `npm run console`: serves the browser console (console/) on a chain and its gateways. The
 * browser talks to them directly, so each gateway must list the console's origin in its
 * config's `corsOrigins` (printed below). `npm run demo -- --console` does all of it on the
 * demo's local chain.
 *
 * Usage: npm run console -- --rpc URL --deployment FILE --gateway NAME=URL [--gateway …]
 *                           [--port 5173] [--host 127.0.0.1] [--dev-accounts]
 *        npm run console -- --sandbox .partproof/sandbox [--port 5173]
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { startConsole } from "../console/server.js";
import { parseArgsOr, usageError } from "./lib/args.js";
import { ROOT } from "./lib/circuit-build.js";
import { consoleDevAccounts } from "./lib/console.js";
import { DEMO_SUPPLIERS } from "./lib/demo-data.js";
import { ENV, ENV_FILE, untilStopped } from "./lib/sandbox.js";

const USAGE =
  "npm run console -- (--rpc URL --deployment FILE --gateway NAME=URL … | --sandbox DIR) [--port 5173] [--host 127.0.0.1] [--dev-accounts]";
const { values: args } = parseArgsOr(
  {
    options: {
      rpc: { type: "string" },
      deployment: { type: "string" },
      gateway: { type: "string", multiple: true, default: [] },
      sandbox: { type: "string" },
      port: { type: "string", default: "5173" },
      host: { type: "string", default: "127.0.0.1" },
      "dev-accounts": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);
if (args.help) {
  console.log(`Usage: ${USAGE}

  --rpc URL            the chain's JSON-RPC URL (the browser calls it directly)
  --deployment FILE    the deployment file written by npm run deploy
  --gateway NAME=URL   a gateway the console talks to (repeat for several)
  --sandbox DIR        take the chain, deployment and gateways of a running sandbox
                       (DIR/${ENV_FILE}); offers the demo roles' DEVELOPMENT accounts
  --port N             the console's port (default 5173; 0: any free port)
  --dev-accounts       offer the demo roles' DEVELOPMENT keys (only on a local development chain)

Each gateway must allow the console's origin: "corsOrigins": ["http://HOST:PORT"] in its config.`);
  process.exit(0);
}
if (!/^\d+$/.test(args.port!) || Number(args.port) > 65_535) {
  usageError(`--port must be 0..65535, got "${args.port}"`, USAGE);
}

/** The values an env file of a sandbox exports. */
async function readEnvFile(file: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    const m = /^export (\w+)='([^']*)'/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

let rpcUrl = args.rpc;
let deploymentFile = args.deployment;
let gateways: { name: string; url: string }[] = [];
for (const g of args.gateway ?? []) {
  const m = /^([^=]+)=(https?:\/\/.+)$/.exec(g);
  if (!m) usageError(`--gateway must be NAME=URL, got "${g}"`, USAGE);
  gateways.push({ name: m[1]!, url: m[2]! });
}
if (args.sandbox) {
  const dir = path.resolve(ROOT, args.sandbox);
  let env: Record<string, string>;
  try {
    env = await readEnvFile(path.join(dir, ENV_FILE));
  } catch {
    usageError(
      `${dir} holds no ${ENV_FILE}: start npm run sandbox or npm run demo -- --keep`,
      USAGE,
    );
  }
  rpcUrl ??= env.PARTPROOF_RPC_URL;
  deploymentFile ??= env.PARTPROOF_DEPLOYMENT;
  gateways = DEMO_SUPPLIERS.map((s, i) => ({ name: s.name, url: env[ENV.gateways[i]!] ?? "" }));
}
if (!rpcUrl || !deploymentFile || gateways.length === 0 || gateways.some((g) => !g.url)) {
  usageError("name the chain, the deployment and at least one gateway (or --sandbox DIR)", USAGE);
}
let deployment: { chainId: number; partProof: string; deploymentBlock?: number };
try {
  deployment = JSON.parse(await readFile(deploymentFile, "utf8"));
} catch {
  usageError(`deployment file ${deploymentFile} cannot be read`, USAGE);
}

try {
  const running = await startConsole({
    rpcUrl,
    deployment,
    gateways,
    devAccounts: args["dev-accounts"] || args.sandbox ? consoleDevAccounts() : [],
    host: args.host,
    port: Number(args.port),
  });
  console.log(`PartProof console at ${running.url}  (Ctrl-C stops it)`);
  console.log(`Each gateway must allow this origin: "corsOrigins": ["${running.url}"]`);
  const sig = await untilStopped();
  console.log(`\n${sig}: stopping the console`);
  await running.close();
} catch (e) {
  console.error(`console failed: ${(e as Error).message}`);
  process.exitCode = 1;
}
