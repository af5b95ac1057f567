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
 * Usage: npm run demo [-- --keep DIR] [--days N] [--circuit range_d20]
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { startServer, type RunningGateway } from "../gateway/app.js";
import * as auditorCli from "../cli/auditor.js";
import * as automakerCli from "../cli/automaker.js";
import { describeAnswer, describeCheck } from "../cli/format.js";
import { policyOf, schemaOf } from "../cli/policy.js";
import { servedAnswers } from "../cli/reconcile.js";
import { writeReport } from "../cli/report.js";
import { openSession, type Deployment, type Session } from "../cli/session.js";
import * as supplierCli from "../cli/supplier.js";
import { GatewayRefusal } from "../protocol/client.js";
import { ROOT, circuitPaths, readManifest } from "./lib/circuit-build.js";
import { DEMO_SUPPLIERS, generateQuality, toCatenaX } from "./lib/demo-data.js";
import { devAccount, runCommand, startHardhatNode, type LocalNode } from "./lib/processes.js";

const { values: args } = parseArgs({
  options: {
    circuit: { type: "string", default: "range_d20" },
    days: { type: "string", default: "183" },
    report: { type: "string", default: path.join("reports", "demo") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log("Usage: npm run demo [-- --circuit range_d20] [--days 183] [--report reports/demo]");
  process.exit(0);
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
let stepNo = 0;
const step = (title: string) => console.log(`\n[${elapsed()}] ${++stepNo}. ${title}`);
const say = (line: string) => console.log(`         ${line}`);

let node: LocalNode | undefined;
const gateways: RunningGateway[] = [];
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const g of gateways.splice(0)) await g.close().catch(() => {});
    await node?.stop().catch(() => {});
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  })();
  return cleaning;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.log(`\n${sig}: shutting down the gateways and the local chain …`);
    void cleanup().then(() => process.exit(130));
  });
}

async function build(circuit: string): Promise<void> {
  step("Build: circuits and contracts (cached after the first run)");
  const entry = (await readManifest()).find((c) => c.name === circuit);
  if (!entry) throw new Error(`--circuit ${circuit} is not in circuits/circuits.json`);
  const cached = existsSync(circuitPaths(circuit).zkey);
  say(
    cached
      ? `${circuit} was built before; checking the cache`
      : `first build of ${circuit} (2^${entry.ptau} development setup): about 5–8 minutes on 2 cores`,
  );
  await runCommand("tsx", ["scripts/build-circuits.ts", "--only", circuit], {
    onLine: (l) => l.trim() && say(l.trim()),
  });
  await runCommand("hardhat", ["build"], { onLine: (l) => l.trim() && say(l.trim()) });
}

async function main(): Promise<void> {
  const circuit = args.circuit;
  const days = Number(args.days);
  await build(circuit);

  step("Start a local chain (Hardhat node) and deploy PartProof");
  node = await startHardhatNode();
  say(`chain at ${node.url}`);
  workDir = await mkdtemp(path.join(tmpdir(), "partproof-demo-"));
  const deploymentFile = path.join(workDir, "deployment.json");
  const deployer = devAccount(0);
  const deployArgs = [
    "--network",
    node.url,
    "--out",
    deploymentFile,
    "--targets",
    "test,production",
  ];
  await runCommand("tsx", ["scripts/deploy.ts", ...deployArgs], {
    env: { PARTPROOF_DEPLOYER_KEY: deployer.privateKey },
  });
  const deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as Deployment;
  say(
    `PartProof at ${deployment.partProof}; verifiers: ${Object.keys(deployment.verifiers).join(", ")}`,
  );
  if (!deployment.verifiers[circuit]) throw new Error(`no verifier for ${circuit} was deployed`);

  const [supplierA, supplierB] = [devAccount(1), devAccount(2)].map((w) =>
    w.connect(node!.provider),
  );
  const automaker = devAccount(3).connect(node.provider);
  const auditor = devAccount(4).connect(node.provider);
  const relayerKey = devAccount(5).privateKey;
  process.env.PARTPROOF_DEMO_RELAYER_KEY = relayerKey;

  step("Start one gateway per supplier (LevelDB, prover pool, outbox relayer)");
  const logFile = path.join(workDir, "gateway.log");
  for (const [i, s] of DEMO_SUPPLIERS.entries()) {
    const g = await startServer(
      {
        port: 0,
        dataDir: path.join(workDir, `gateway-${i}`),
        chain: { rpcUrl: node.url, confirmations: 1 },
        contracts: { partProof: deployment.partProof },
        relayerKey: { source: "env", name: "PARTPROOF_DEMO_RELAYER_KEY" },
        circuit: {
          name: circuit,
          depth: depthOf(circuit),
          artifactsDir: path.join("circuits", "build", circuit),
        },
        bodyLimitBytes: 32 * 1024 * 1024,
        auditors: [auditor.address],
        logLevel: "info",
      },
      { logStream: pino.destination({ dest: logFile, append: true, sync: true }) },
    );
    gateways.push(g);
    say(`${s.name}'s gateway at ${g.url}`);
  }
  const [gwA, gwB] = gateways as [RunningGateway, RunningGateway];
  const session = (gw: RunningGateway) =>
    openSession({ provider: node!.provider, deployment, gatewayUrl: gw.url });
  const sA = await session(gwA);
  const sB = await session(gwB);

  step("Suppliers register their quality data assets and publish a version");
  const assets: bigint[] = [];
  for (const [i, sup] of DEMO_SUPPLIERS.entries()) {
    const s = i === 0 ? sA : sB;
    const owner = i === 0 ? supplierA! : supplierB!;
    const { assetId } = await supplierCli.registerAsset(s, owner, {
      schema: "quality",
      endpoint: (i === 0 ? gwA : gwB).url,
      metadata: `${sup.name} manufactured-parts quality`,
    });
    const rows = generateQuality(sup, { from: "2026-04-01", days, perDay: [1, 3] });
    const payload = toCatenaX(sup, rows);
    const up = await supplierCli.upload(s, owner, assetId, { format: "catenax", payload });
    const pub = await supplierCli.publishViaGateway(s, owner, up.version);
    assets.push(assetId);
    say(
      `${sup.name}: asset ${assetId}, ${up.version.recordCount} quality records ` +
        `(${sup.parts.length} parts × ${sup.plants.length} plants × ${days} days) → version ${pub.versionId & 0xffffffffffffffffn} of asset ${assetId}, ` +
        `root ${up.version.root.slice(0, 12)}… published on-chain by the gateway's relayer (no gas for the supplier)`,
    );
  }
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
    }),
    terms,
  );
  say(
    `grant ${gA.grantId}: part GBX-3232455, count/sum/ratio/threshold on quantity and reworked, k = ${k}, quota ${terms.quota}`,
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

  step(`Done in ${elapsed().trim()}; shutting down`);
}

function depthOf(circuit: string): number {
  const m = /_d(\d+)/.exec(circuit);
  if (!m) throw new Error(`cannot tell the tree depth of circuit ${circuit}`);
  return Number(m[1]);
}

try {
  await main();
  await cleanup();
} catch (e) {
  console.error(`\ndemo failed: ${(e as Error).message}`);
  await cleanup();
  process.exitCode = 1;
}
