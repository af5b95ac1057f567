/**
 * `npm run demo`: the whole exchange on a local chain, in plain words.
 *
 * Builds what is not cached (production-size circuit range_d20 with a development trusted
 * setup, and the contracts), starts a Hardhat node, deploys PartProof, starts one gateway per
 * supplier, and plays the story: two suppliers publish quality data generated from the
 * Catena-X sample shape, an automaker gets grants and asks for defect PPM, a rework count and a
 * yes/no threshold; one query is refused for the cohort floor k and one after revocation;
 * an auditor reconciles the on-chain log with the gateways' exports and writes a report.
 *
 * With --keep, the chain and the gateways keep running after the story (until Ctrl-C), an env
 * file with their addresses and the demo roles' development keys is written, and a few
 * `partproof` commands to paste are printed (the same playground as `npm run sandbox`).
 *
 * With --console (implies --keep), the browser console (console/) is served on the kept chain and
 * gateways (which allow its origin) and its URL is printed.
 *
 * Usage: npm run demo -- [--keep] [--dir .partproof/sandbox] [--days 183] [--circuit range_d20]
 *                        [--report reports/demo] [--console] [--console-port 5173]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as auditorCli from "../cli/auditor.js";
import * as automakerCli from "../cli/automaker.js";
import { describeAnswer, describeCheck } from "../cli/format.js";
import { policyOf, schemaOf } from "../cli/policy.js";
import { servedAnswers } from "../cli/reconcile.js";
import { writeReport } from "../cli/report.js";
import type { Session } from "../cli/session.js";
import * as supplierCli from "../cli/supplier.js";
import { GatewayRefusal } from "../protocol/client.js";
import { parseArgsOr, positiveIntArg, usageError } from "./lib/args.js";
import { ROOT, readManifest } from "./lib/circuit-build.js";
import type { RunningConsole } from "../console/server.js";
import { startConsoleOn } from "./lib/console.js";
import { DEMO_SUPPLIERS } from "./lib/demo-data.js";
import { demoAudit } from "./lib/demo-audit.js";
import { playShapes } from "./lib/demo-shapes.js";
import { playClaims } from "./lib/demo-claims.js";
import { freePort } from "./lib/processes.js";
import {
  buildFor,
  demoRoles,
  depthOf,
  newcomerCommands,
  newcomerText,
  preparePlaygroundDir,
  publishDemoData,
  sessionsOf,
  startPlayground,
  untilStopped,
  writeEnvFile,
  type Playground,
} from "./lib/sandbox.js";

const USAGE =
  "npm run demo -- [--keep] [--dir .partproof/sandbox] [--days 183] [--circuit range_d20] [--report reports/demo] [--console] [--console-port 5173]";
const { values: args } = parseArgsOr(
  {
    options: {
      circuit: { type: "string", default: "range_d20" },
      days: { type: "string", default: "183" },
      report: { type: "string", default: path.join("reports", "demo") },
      keep: { type: "boolean", default: false },
      dir: { type: "string", default: path.join(".partproof", "sandbox") },
      console: { type: "boolean", default: false },
      "console-port": { type: "string", default: "5173" },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);
if (args.help) {
  console.log(`Usage: ${USAGE}

  --circuit NAME  the answer circuit (default: range_d20, the production size)
  --days N        days of generated production data per supplier (default: 183, from 2026-04-01)
  --report DIR    where the auditor's report.md and report.json go (default: reports/demo)
  --keep          after the story, keep the chain and the gateways running until Ctrl-C, write
                  DIR/sandbox.env and print partproof commands to try
  --dir DIR       with --keep: where the deployment, the gateways' data and sandbox.env go
                  (default: .partproof/sandbox; emptied at start if it holds an earlier sandbox)
  --console       like --keep, and serve the browser console on the chain and the gateways
  --console-port N  the console's port (default 5173; 0: any free port)`);
  process.exit(0);
}
const daysArg = positiveIntArg("--days", args.days!, USAGE);
if (args.console) args.keep = true;
if (!/^\d+$/.test(args["console-port"]!) || Number(args["console-port"]) > 65_535) {
  usageError(`--console-port must be 0..65535, got "${args["console-port"]}"`, USAGE);
}
{
  const names = (await readManifest()).filter((c) => /^range_/.test(c.name)).map((c) => c.name);
  if (!names.includes(args.circuit!)) {
    usageError(`--circuit must be one of ${names.join(", ")}, got "${args.circuit}"`, USAGE);
  }
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
let stepNo = 0;
const step = (title: string) => console.log(`\n[${elapsed()}] ${++stepNo}. ${title}`);
const say = (line: string) => console.log(`         ${line}`);

let playground: Playground | undefined;
let consoleApp: RunningConsole | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await consoleApp?.close();
    await playground?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  })();
  return cleaning;
}

/** Whether the story finished with --keep (then Ctrl-C is the normal end: exit 0). */
let kept = false;
void untilStopped().then(async (sig) => {
  console.log(`\n${sig}: shutting down the gateways and the local chain …`);
  await cleanup();
  process.exit(kept ? 0 : 130);
});

async function build(circuit: string): Promise<void> {
  step("Build: circuits and contracts (cached after the first run)");
  await buildFor(circuit, say);
}

async function main(): Promise<void> {
  const circuit = args.circuit;
  const days = daysArg;
  await build(circuit);

  step("Start a local chain (Hardhat node), deploy PartProof, start one gateway per supplier");
  let dir: string;
  if (args.keep) {
    dir = path.resolve(ROOT, args.dir!);
    await preparePlaygroundDir(dir);
  } else {
    dir = workDir = await mkdtemp(path.join(tmpdir(), "partproof-demo-"));
  }
  // the console's origin must be known before the gateways start: they allow it (CORS)
  const consolePort = args.console ? Number(args["console-port"]) || (await freePort()) : undefined;
  playground = await startPlayground({
    circuit,
    dir,
    targets: "test,production",
    corsOrigins: consolePort ? [`http://127.0.0.1:${consolePort}`] : [],
    say,
  });
  const { deployment, node } = playground;
  const roles = demoRoles();
  const [supplierA, supplierB] = roles.suppliers.map((w) => w.connect(node.provider));
  const automaker = roles.automaker.connect(node.provider);
  const auditor = roles.auditor.connect(node.provider);
  const [sA, sB] = (await sessionsOf(playground)) as [Session, Session];

  step("Suppliers register their quality data assets and publish a version");
  const published = await publishDemoData(playground, [sA, sB], { days, perDay: [1, 3] });
  for (const [i, sup] of DEMO_SUPPLIERS.entries()) {
    const a = published[i]!;
    say(
      `${sup.name}: asset ${a.assetId}, ${a.recordCount} quality records ` +
        `(${sup.parts.length} parts × ${sup.plants.length} plants × ${days} days) → version ${a.versionId & 0xffffffffffffffffn} of asset ${a.assetId}, ` +
        `root ${a.root.slice(0, 12)}… published on-chain by the gateway's relayer (no gas for the supplier)`,
    );
  }
  const assets = published.map((a) => a.assetId);
  const [assetA, assetB] = assets as [bigint, bigint];

  step("Grants: Gearworks grants the automaker; the automaker asks Brakeline, which approves");
  const automakerAddr = await automaker.getAddress();
  const terms = {
    validFrom: 0,
    validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
    quota: 20,
  };
  const k = 25;
  const gA = await supplierCli.grantAccess(
    sA,
    supplierA!,
    assetA,
    automakerAddr,
    policyOf(schemaOf("quality"), {
      aggregates: ["count", "sum", "ratio", "threshold"],
      fields: ["quantity", "reworked"],
      partNumber: "GBX-3232455",
      minCohort: k,
      thresholds: [15_000n],
    }),
    terms,
  );
  say(
    `grant ${gA.grantId}: part GBX-3232455, count/sum/ratio on quantity and reworked, threshold at 15,000 PPM only, k = ${k}, quota ${terms.quota}`,
  );
  const req = await automakerCli.requestGrant(
    sB,
    automaker,
    assetB,
    policyOf(schemaOf("quality"), {
      aggregates: ["ratio"],
      fields: ["quantity", "reworked"],
      partNumber: "BRK-7712003",
      minCohort: k,
    }),
    terms,
  );
  await supplierCli.grantAction(sB, supplierB!, "approve", req.grantId);
  say(
    `grant ${req.grantId}: requested by the automaker for BRK-7712003 (rework PPM), approved by Brakeline`,
  );

  step("The automaker asks; each answer is proved (Groth16) and logged on-chain before it counts");
  const quality = schemaOf("quality");
  const askAndShow = async (
    s: Session,
    title: string,
    q: Omit<automakerCli.QueryInput, "assetId" | "versionId">,
    assetId: bigint,
  ) => {
    const t = Date.now();
    const job = await automakerCli.ask(s, automaker, quality, { ...q, assetId, versionId: 0n });
    const done = await automakerCli.waitJob(s, job.jobId);
    const check = await automakerCli.verifyAnswer(s, done);
    say(`${title}`);
    say(
      `  ${describeAnswer(done, q.aggregate)}  [proof ${((done.provingMs ?? 0) / 1000).toFixed(1)} s, total ${((Date.now() - t) / 1000).toFixed(1)} s]`,
    );
    say(`  ${describeCheck(check)}`);
    return done;
  };
  const rework = { aggregate: "ratio", fieldA: "reworked", fieldB: "quantity" } as const;
  const Q2 = { from: "2026-04-01", to: "2026-06-30" };
  const Q3 = { from: "2026-07-01", to: "2026-09-30" };
  // part GBX-3232455 of one plant under Gearworks' grant
  const gbx = (plant: string, window: { from: string; to: string }) => ({
    grantId: gA.grantId,
    partNumber: "GBX-3232455",
    plant,
    ...window,
  });
  const reworkedSum = { aggregate: "sum", fieldA: "reworked" } as const;
  const atMost15k = { ...rework, aggregate: "threshold", threshold: 15_000n } as const;
  await askAndShow(
    sA,
    "Rework PPM of GBX-3232455, plant 4711, 2026-Q2:",
    { ...rework, ...gbx("4711", Q2) },
    assetA,
  );
  await askAndShow(
    sA,
    "Rework PPM of GBX-3232455, plant 4711, 2026-Q3:",
    { ...rework, ...gbx("4711", Q3) },
    assetA,
  );
  await askAndShow(
    sA,
    "Reworked parts of GBX-3232455, plant 4712, 2026-Q3 (SUM of the rework flag):",
    { ...reworkedSum, ...gbx("4712", Q3) },
    assetA,
  );
  await askAndShow(
    sA,
    "Is the rework rate of GBX-3232455, plant 4712, 2026-Q3 at most 15,000 PPM?",
    { ...atMost15k, ...gbx("4712", Q3) },
    assetA,
  );
  await askAndShow(
    sB,
    "Rework PPM of BRK-7712003, plant 0815, all of 2026 (Brakeline's gateway):",
    { ...rework, grantId: req.grantId, partNumber: "BRK-7712003", plant: "0815" },
    assetB,
  );

  step(
    "The questions automakers ask: a monthly series, delivery and carbon, two suppliers at once",
  );
  {
    const reportDir = path.resolve(ROOT, args.report);
    await mkdir(reportDir, { recursive: true });
    const files = await playShapes({
      sessions: [sA, sB],
      suppliers: [DEMO_SUPPLIERS[0]!, DEMO_SUPPLIERS[1]!],
      supplierSigners: [supplierA!, supplierB!],
      automaker,
      quality: { assetId: assetA, grantId: gA.grantId },
      capacity: 2 ** depthOf(circuit) - 2,
      k,
      outDir: reportDir,
      say,
    });
    say(
      `series chart: ${path.relative(ROOT, files.svg)} (data: ${path.relative(ROOT, files.csv)})`,
    );
  }

  const refused = async (title: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      throw new Error(`expected a refusal: ${title}`);
    } catch (e) {
      if (!(e instanceof GatewayRefusal)) throw e;
      say(`${title}`);
      say(`  refused: ${e.status} ${e.code} — ${e.reason}`);
    }
  };
  const latestA = { assetId: assetA, versionId: 0n };
  await refused("One week of plant 4711 (too few parts for k = 25):", () =>
    automakerCli.ask(sA, automaker, quality, {
      ...rework,
      ...latestA,
      ...gbx("4711", { from: "2026-05-04", to: "2026-05-10" }),
    }),
  );
  await supplierCli.grantAction(sA, supplierA!, "revoke", gA.grantId);
  say(`Gearworks revokes grant ${gA.grantId} (effective in the same block).`);
  await refused("The same Q3 question after revocation:", () =>
    automakerCli.ask(sA, automaker, quality, { ...rework, ...latestA, ...gbx("4711", Q3) }),
  );

  step("The auditor reconciles the on-chain access log with the gateways' exports");
  const served = [
    ...servedAnswers(await auditorCli.readExport(sA, { auditor })),
    ...servedAnswers(await auditorCli.readExport(sB, { auditor })),
  ];
  const report = await auditorCli.audit(sA, { fromBlock: deployment.deploymentBlock, served });
  const outDir = path.resolve(ROOT, args.report);
  await writeReport(report, outDir);
  say(
    `${report.counts.logEntries} log entries, ${report.counts.proofsVerified} proofs re-verified off-chain, ${report.counts.grants} grants, ${report.counts.versions} versions, ${report.counts.served ?? 0} answers served`,
  );
  say(
    `${report.counts.anomalies} anomalies${report.anomalies.map((a) => `\n           ${a.type}: ${a.detail}`).join("")}`,
  );
  say(`report: ${path.relative(ROOT, outDir)}/report.md and report.json`);

  step("The auditor samples both suppliers' versions at leaves drawn from the chain");
  await demoAudit({ sessions: [sA, sB], assets, provider: node.provider, report, outDir, say });

  step("The other direction: the automaker publishes field claims, Gearworks asks about its part");
  await playClaims({
    playground,
    circuit,
    automaker,
    supplier: supplierA!,
    supplierSession: sA,
    qualityAssetId: assetA,
    k,
    say,
  });

  if (!args.keep) {
    step(`Done in ${elapsed().trim()}; shutting down`);
    return;
  }
  step(`Done in ${elapsed().trim()}; the chain and the gateways keep running`);
  const envFile = await writeEnvFile(playground);
  const commands = newcomerCommands(envFile, {
    // the grant Brakeline approved is still valid (Gearworks' was revoked in the story)
    ask: {
      supplier: 1,
      assetId: assetB,
      grantId: req.grantId,
      question: [
        "--aggregate ratio --field reworked --of quantity --part BRK-7712003 --plant 0815",
      ],
    },
    grant: {
      supplier: 0,
      assetId: assetA,
      policy: [
        `--aggregates count,sum,ratio --fields quantity,reworked --part CLU-0099812 --k ${k}`,
      ],
    },
  });
  for (const line of newcomerText(envFile, commands)) console.log(line);
  if (consolePort) {
    consoleApp = await startConsoleOn(playground, consolePort);
    console.log(
      `\nThe browser console: ${consoleApp.url}  (automaker, supplier and auditor views; DEVELOPMENT accounts)`,
    );
  }
  kept = true;
}

try {
  await main();
  // with --keep the process stays up until Ctrl-C (handled above)
  if (!args.keep) await cleanup();
} catch (e) {
  console.error(`\ndemo failed: ${(e as Error).message}`);
  await cleanup();
  process.exitCode = 1;
}
