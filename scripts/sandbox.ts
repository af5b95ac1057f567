/**
 * `npm run sandbox`: a local PartProof to play with, without the demo's story. Starts a Hardhat
 * node, deploys PartProof, starts one gateway per demo supplier, publishes both suppliers'
 * quality data, grants the automaker access to one part, writes an env file (chain, deployment,
 * gateways, the demo roles' DEVELOPMENT keys) and prints the `partproof` commands to paste.
 * Everything keeps running until Ctrl-C.
 *
 * Usage: npm run sandbox -- [--circuit range_d20] [--dir .partproof/sandbox]
 */
import path from "node:path";
import * as supplierCli from "../cli/supplier.js";
import { policyOf, schemaOf } from "../cli/policy.js";
import { parseArgsOr, usageError } from "./lib/args.js";
import { ROOT, readManifest } from "./lib/circuit-build.js";
import { startHardhatNode, type LocalNode } from "./lib/processes.js";
import {
  buildFor,
  dataSizeFor,
  demoRoles,
  newcomerText,
  preparePlaygroundDir,
  publishDemoData,
  sandboxCommands,
  sessionsOf,
  startPlayground,
  untilStopped,
  writeEnvFile,
  type Playground,
} from "./lib/sandbox.js";

const USAGE = "npm run sandbox -- [--circuit range_d20] [--dir .partproof/sandbox]";
const { values: args } = parseArgsOr(
  {
    options: {
      circuit: { type: "string", default: "range_d20" },
      dir: { type: "string", default: path.join(".partproof", "sandbox") },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);
if (args.help) {
  console.log(`Usage: ${USAGE}

  --circuit NAME  the answer circuit the gateways prove with (default: range_d20, production
                  size; range_d4 is the small test circuit: 16 records per asset)
  --dir DIR       where the deployment, the gateways' data and sandbox.env go
                  (default: .partproof/sandbox; emptied at start if it holds an earlier sandbox)`);
  process.exit(0);
}
const answerCircuits = (await readManifest()).filter(
  (c) => c.kind === "answer" && /^range_/.test(c.name),
);
if (!answerCircuits.some((c) => c.name === args.circuit)) {
  usageError(
    `--circuit must be one of ${answerCircuits.map((c) => c.name).join(", ")}, got "${args.circuit}"`,
    USAGE,
  );
}
const circuit = args.circuit!;
const dir = path.resolve(ROOT, args.dir!);
const say = (line: string) => console.log(`  ${line}`);

let playground: Playground | undefined;
let nodeStarting: Promise<LocalNode> | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (playground) await playground.close();
    // a chain started beside a build that failed: no playground owns it
    else await (await nodeStarting?.catch(() => undefined))?.stop();
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  }
  process.exit(code);
}
const stopped = untilStopped().then(async (sig) => {
  console.log(`\n${sig}: stopping the gateways and the local chain …`);
  return stop(0);
});

try {
  console.log("Building what is not cached (circuit, contracts) while the local chain starts …");
  // the chain needs nothing the build makes
  nodeStarting = startHardhatNode();
  nodeStarting.catch(() => {}); // awaited (and reported) by startPlayground
  await buildFor(circuit, say);
  await preparePlaygroundDir(dir);
  console.log("Deploying PartProof and starting the gateways …");
  // the early start waits 90 s at most, which a long first build can outlast: then start anew
  playground = await startPlayground({
    circuit,
    dir,
    node: nodeStarting.catch(() => startHardhatNode()),
    say,
  });
  const sessions = await sessionsOf(playground);
  const size = dataSizeFor(circuit);
  console.log("Publishing both suppliers' quality data …");
  const [gear, brake] = await publishDemoData(playground, sessions, size);
  say(`Gearworks: asset ${gear!.assetId}, ${gear!.recordCount} records`);
  say(`Brakeline: asset ${brake!.assetId}, ${brake!.recordCount} records`);

  const roles = demoRoles();
  const grant = await supplierCli.grantAccess(
    sessions[0]!,
    roles.suppliers[0]!.connect(playground.node.provider),
    gear!.assetId,
    roles.automaker.address,
    policyOf(schemaOf("quality"), {
      aggregates: ["count", "sum", "ratio", "threshold"],
      fields: ["quantity", "reworked"],
      partNumber: "GBX-3232455",
      minCohort: size.k,
      thresholds: [15_000n],
    }),
    { validFrom: 0, validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400, quota: 100 },
  );
  say(`grant ${grant.grantId}: Gearworks → the automaker, part GBX-3232455, k = ${size.k}`);

  const envFile = await writeEnvFile(playground);
  const commands = sandboxCommands(envFile, {
    circuit,
    assetId: gear!.assetId,
    grantId: grant.grantId,
  });
  for (const line of newcomerText(envFile, commands)) console.log(line);
  await stopped;
} catch (e) {
  console.error(`sandbox failed: ${(e as Error).message}`);
  await stop(1);
}
