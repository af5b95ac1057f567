/**
 * `npm run demo`: the whole exchange on a local chain, in plain words.
 *
 * Builds what is not cached (production-size circuit range_d20 with a development trusted
 * setup, and the contracts) while a Hardhat node starts, deploys PartProof, starts one gateway
 * per supplier, and plays the story: two suppliers publish quality data generated from the
 * Catena-X sample shape, an automaker gets grants and asks for rework PPM and a yes/no
 * threshold; one query is refused for the cohort floor k and one after revocation; an auditor
 * reconciles the on-chain log with the gateways' exports and writes a report. Every role acts
 * at least once.
 *
 * With --full, every chapter: more questions (a quarter per plant, a reworked-parts count), the
 * questions automakers ask (a monthly series, delivery and carbon metrics, filters, two suppliers
 * pooled), the auditor's sampling at leaves drawn from the chain, and the reverse direction
 * (the automaker publishes field claims, Gearworks asks).
 *
 * Each chapter ends with its elapsed time and the proofs the gateways made in it; the run ends
 * with a summary line.
 *
 * With --keep, the chain and the gateways keep running after the story (until Ctrl-C), an env
 * file with their addresses and the demo roles' development keys is written, and a few
 * `partproof` commands to paste are printed (the same playground as `npm run sandbox`).
 *
 * With --console (implies --keep), the browser console (console/) is served on the kept chain and
 * gateways (which allow its origin) and its URL is printed.
 *
 * Usage: npm run demo -- [--full] [--keep] [--dir .partproof/sandbox] [--days 183]
 *                        [--circuit range_d20] [--check-leaves 0] [--report reports/demo]
 *                        [--console] [--console-port 5173]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
import { tmpdir } from "node:os";
import path from "node:path";
import type { QueryInput } from "../cli/automaker.js";
import type { Session } from "../cli/session.js";
import { parseArgsOr, positiveIntArg, usageError } from "./lib/args.js";
import { ROOT, readManifest } from "./lib/circuit-build.js";
import type { RunningConsole } from "../console/server.js";
import { lapLine, ProofCounter, seconds, summaryLine, type Lap } from "./lib/demo-clock.js";
import { DEMO_SUPPLIERS } from "./lib/demo-data.js";
import { freePort, startHardhatNode, type LocalNode } from "./lib/processes.js";
import { buildFor, DEMO_CHECK_LEAVES, depthOf, untilStopped } from "./lib/demo-build.js";
import type { Playground } from "./lib/sandbox.js";

const USAGE =
  "npm run demo -- [--full] [--keep] [--dir .partproof/sandbox] [--days 183] [--circuit range_d20] [--check-leaves 0] [--report reports/demo] [--console] [--console-port 5173]";
const { values: args } = parseArgsOr(
  {
    options: {
      circuit: { type: "string", default: "range_d20" },
      days: { type: "string", default: "183" },
      full: { type: "boolean", default: false },
      "check-leaves": { type: "string", default: String(DEMO_CHECK_LEAVES) },
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

  --full          play every chapter (default: the short story, every role once): more questions,
                  the questions automakers ask (series, delivery, carbon, filters, two suppliers
                  pooled), the auditor's sampling at chain-drawn leaves, the reverse direction
  --circuit NAME  the answer circuit (default: range_d20, the production size)
  --check-leaves N  random leaves the gateway proves before a supplier signs a version, besides
                  the first and last link (default ${DEMO_CHECK_LEAVES})
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
if (!/^\d{1,3}$/.test(args["check-leaves"]!)) {
  usageError(`--check-leaves must be 0..999, got "${args["check-leaves"]}"`, USAGE);
}
const checkLeaves = Number(args["check-leaves"]);
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

// the clock starts with the process (its imports count); the contracts are built in the build
// chapter, beside the circuits (`npm run demo` runs nothing before this script)
const t0 = Math.round(performance.timeOrigin);
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
let stepNo = 0;
const step = (title: string) => console.log(`\n[${elapsed()}] ${++stepNo}. ${title}`);
const say = (line: string) => console.log(`         ${line}`);

/** Each chapter's time and proofs, for its last line and the summary. */
const laps: Lap[] = [];
let proofs: ProofCounter | undefined;
/** Plays one chapter: its title, its story, then its elapsed time and the proofs made in it. */
async function chapter<T>(name: string, title: string, play: () => Promise<T>): Promise<T> {
  step(title);
  const t = Date.now();
  const out = await play();
  const lap: Lap = { title: name, ms: Date.now() - t };
  if (proofs) lap.proofs = await proofs.take();
  laps.push(lap);
  say(lapLine(lap));
  return out;
}

let nodeStarting: Promise<LocalNode> | undefined;
let playground: Playground | undefined;
let consoleApp: RunningConsole | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await consoleApp?.close();
    if (playground) await playground.close();
    // a chain started beside a build that failed: no playground owns it
    else await (await nodeStarting?.catch(() => undefined))?.stop();
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

async function main(): Promise<void> {
  const circuit = args.circuit;
  const days = daysArg;
  const full = args.full!;
  console.log(
    full
      ? "The full story: every chapter (npm run demo plays a short one, each role once)."
      : "The short story, each role once (npm run demo -- --full plays every chapter).",
  );
  // the chain needs nothing the build makes: it starts while the build runs
  nodeStarting = startHardhatNode();
  nodeStarting.catch(() => {}); // awaited (and reported) by the next chapter
  // the story's modules load the contracts' bindings (types/): imported as soon as the build has
  // written them, while the circuits may still build
  let modules: Promise<typeof import("./lib/demo-modules.js")> | undefined;
  const loadModules = () => (modules ??= import("./lib/demo-modules.js"));
  await chapter("build", "Build: circuits and contracts (cached after the first run)", () =>
    buildFor(circuit, say, {
      contracts: true,
      afterContracts: () => void loadModules().catch(() => {}),
    }),
  );
  const {
    auditorCli,
    automakerCli,
    demoRoles,
    describeAnswer,
    describeCheck,
    demoAudit,
    GatewayRefusal,
    newcomerCommands,
    newcomerText,
    playClaims,
    playShapes,
    policyOf,
    preparePlaygroundDir,
    publishDemoData,
    schemaOf,
    servedAnswers,
    sessionsOf,
    startConsoleOn,
    startPlayground,
    supplierCli,
    writeEnvFile,
    writeReport,
  } = await loadModules();
  // snarkjs and ffjavascript share one BN254 curve (globalThis.curve_bn128), made on first use:
  // two first uses at once (the suppliers publish side by side, each verifying proofs) each
  // made one, and the worker threads of the one not kept held the process open after "Done"
  // (the run once waited there ~10 minutes). Made once here, it is the one cleanup() ends.
  await buildBn128();

  const started = await chapter(
    "chain",
    "Start a local chain (Hardhat node), deploy PartProof, start one gateway per supplier",
    async () => {
      let dir: string;
      if (args.keep) {
        dir = path.resolve(ROOT, args.dir!);
        await preparePlaygroundDir(dir);
      } else {
        dir = workDir = await mkdtemp(path.join(tmpdir(), "partproof-demo-"));
      }
      // the console's origin must be known before the gateways start: they allow it (CORS)
      const consolePort = args.console
        ? Number(args["console-port"]) || (await freePort())
        : undefined;
      playground = await startPlayground({
        circuit,
        dir,
        targets: "test,production",
        corsOrigins: consolePort ? [`http://127.0.0.1:${consolePort}`] : [],
        // started before the build; its start waits 90 s at most, which a long first build on
        // a busy machine can outlast: then a new one starts here
        node: nodeStarting!.catch(() => startHardhatNode()),
        say,
      });
      proofs = new ProofCounter(path.join(dir, "gateway.log"));
      await proofs.take(); // the gateways' start, not a chapter's proofs
      return { consolePort, sessions: (await sessionsOf(playground)) as [Session, Session] };
    },
  );
  const pg = playground!;
  const { consolePort } = started;
  const [sA, sB] = started.sessions;
  const { deployment, node } = pg;
  const roles = demoRoles();
  const [supplierA, supplierB] = roles.suppliers.map((w) => w.connect(node.provider));
  const automaker = roles.automaker.connect(node.provider);
  const auditor = roles.auditor.connect(node.provider);

  const published = await chapter(
    "publish",
    "Suppliers register their quality data assets and publish a version (both at once)",
    async () => {
      const out = await publishDemoData(pg, [sA, sB], { days, perDay: [1, 3] }, checkLeaves);
      for (const [i, sup] of DEMO_SUPPLIERS.entries()) {
        const a = out[i]!;
        say(
          `${sup.name}: asset ${a.assetId}, ${a.recordCount} quality records ` +
            `(${sup.parts.length} parts × ${sup.plants.length} plants × ${days} days) → version ${a.versionId & 0xffffffffffffffffn} of asset ${a.assetId}, ` +
            `root ${a.root.slice(0, 12)}… published on-chain by the gateway's relayer (no gas for the supplier)`,
        );
      }
      say(
        `before signing, each supplier had its gateway prove the version's first and last link` +
          (checkLeaves > 0 ? ` and ${checkLeaves} random leaves` : "") +
          ` (AuditPath proofs: the records rebuild the root, the count is the tree's; --check-leaves N adds random leaves)`,
      );
      return out;
    },
  );
  const assets = published.map((a) => a.assetId);
  const [assetA, assetB] = assets as [bigint, bigint];

  const automakerAddr = await automaker.getAddress();
  const terms = {
    validFrom: 0,
    validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
    quota: 20,
  };
  const k = 25;
  const { gA, req } = await chapter(
    "grants",
    "Grants: Gearworks grants the automaker; the automaker asks Brakeline, which approves",
    async () => {
      const [gA, req] = await Promise.all([
        supplierCli.grantAccess(
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
        ),
        (async () => {
          const r = await automakerCli.requestGrant(
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
          await supplierCli.grantAction(sB, supplierB!, "approve", r.grantId);
          return r;
        })(),
      ]);
      say(
        `grant ${gA.grantId}: part GBX-3232455, count/sum/ratio on quantity and reworked, threshold at 15,000 PPM only, k = ${k}, quota ${terms.quota}`,
      );
      say(
        `grant ${req.grantId}: requested by the automaker for BRK-7712003 (rework PPM), approved by Brakeline`,
      );
      return { gA, req };
    },
  );

  const quality = schemaOf("quality");
  /** Asks, waits for the logged answer and verifies it; returns the lines to show. */
  const askAndCheck = async (
    s: Session,
    title: string,
    q: Omit<QueryInput, "assetId" | "versionId">,
    assetId: bigint,
  ): Promise<string[]> => {
    const t = Date.now();
    const job = await automakerCli.ask(s, automaker, quality, { ...q, assetId, versionId: 0n });
    const done = await automakerCli.waitJob(s, job.jobId);
    const check = await automakerCli.verifyAnswer(s, done);
    return [
      title,
      `  ${describeAnswer(done, q.aggregate)}  [proof ${((done.provingMs ?? 0) / 1000).toFixed(1)} s, total ${((Date.now() - t) / 1000).toFixed(1)} s]`,
      `  ${describeCheck(check)}`,
    ];
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
  await chapter(
    "queries",
    "The automaker asks both suppliers at once; each answer is proved (Groth16) and logged on-chain before it counts",
    async () => {
      const questions: Promise<string[]>[] = [
        ...(full
          ? [
              askAndCheck(
                sA,
                "Rework PPM of GBX-3232455, plant 4711, 2026-Q2:",
                { ...rework, ...gbx("4711", Q2) },
                assetA,
              ),
            ]
          : []),
        askAndCheck(
          sA,
          "Rework PPM of GBX-3232455, plant 4711, 2026-Q3:",
          { ...rework, ...gbx("4711", Q3) },
          assetA,
        ),
        ...(full
          ? [
              askAndCheck(
                sA,
                "Reworked parts of GBX-3232455, plant 4712, 2026-Q3 (SUM of the rework flag):",
                { ...reworkedSum, ...gbx("4712", Q3) },
                assetA,
              ),
            ]
          : []),
        askAndCheck(
          sA,
          "Is the rework rate of GBX-3232455, plant 4712, 2026-Q3 at most 15,000 PPM?",
          { ...atMost15k, ...gbx("4712", Q3) },
          assetA,
        ),
        askAndCheck(
          sB,
          "Rework PPM of BRK-7712003, plant 0815, all of 2026 (Brakeline's gateway):",
          { ...rework, grantId: req.grantId, partNumber: "BRK-7712003", plant: "0815" },
          assetB,
        ),
      ];
      // all in flight at once; shown in the order asked
      for (const lines of await Promise.all(questions)) for (const l of lines) say(l);
    },
  );

  if (full) {
    await chapter(
      "shapes",
      "The questions automakers ask: a monthly series, delivery and carbon, two suppliers at once",
      async () => {
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
          checkLeaves,
          say,
        });
        say(
          `series chart: ${path.relative(ROOT, files.svg)} (data: ${path.relative(ROOT, files.csv)})`,
        );
      },
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
  await chapter(
    "refusals",
    "Refusals: too few parts for the cohort floor k, and a revoked grant",
    async () => {
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
    },
  );

  const outDir = path.resolve(ROOT, args.report);
  const report = await chapter(
    "audit",
    "The auditor reconciles the on-chain access log with the gateways' exports",
    async () => {
      const exports = await Promise.all([sA, sB].map((s) => auditorCli.readExport(s, { auditor })));
      const served = exports.flatMap((e) => servedAnswers(e));
      const report = await auditorCli.audit(sA, {
        fromBlock: deployment.deploymentBlock,
        served,
      });
      await writeReport(report, outDir);
      say(
        `${report.counts.logEntries} log entries, ${report.counts.proofsVerified} proofs re-verified off-chain, ${report.counts.grants} grants, ${report.counts.versions} versions, ${report.counts.served ?? 0} answers served`,
      );
      say(
        `${report.counts.anomalies} anomalies${report.anomalies.map((a) => `\n           ${a.type}: ${a.detail}`).join("")}`,
      );
      say(`report: ${path.relative(ROOT, outDir)}/report.md and report.json`);
      return report;
    },
  );

  if (full) {
    await chapter(
      "sampling",
      "The auditor samples both suppliers' versions at leaves drawn from the chain",
      () => demoAudit({ sessions: [sA, sB], assets, provider: node.provider, report, outDir, say }),
    );
    await chapter(
      "claims",
      "The other direction: the automaker publishes field claims, Gearworks asks about its part",
      () =>
        playClaims({
          playground: pg,
          circuit,
          automaker,
          supplier: supplierA!,
          supplierSession: sA,
          qualityAssetId: assetA,
          k,
          checkLeaves,
          say,
        }),
    );
  }

  const summary = summaryLine(full ? "demo --full" : "demo", Date.now() - t0, laps);
  if (!args.keep) {
    step(`Done in ${seconds(Date.now() - t0)}; shutting down`);
    console.log(summary);
    return;
  }
  step(`Done in ${seconds(Date.now() - t0)}; the chain and the gateways keep running`);
  console.log(summary);
  const envFile = await writeEnvFile(pg);
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
    consoleApp = await startConsoleOn(pg, consolePort);
    console.log(
      `\nThe browser console: ${consoleApp.url}  (automaker, supplier and auditor views; DEVELOPMENT accounts)`,
    );
  }
  kept = true;
}

try {
  await main();
  // with --keep the process stays up until Ctrl-C (handled above)
  if (!args.keep) {
    await cleanup();
    // the story is over and everything it started is stopped: leave now rather than wait for
    // whatever idle handle a library keeps (a finished run once waited here for minutes)
    process.exit(0);
  }
} catch (e) {
  console.error(`\ndemo failed: ${(e as Error).message}`);
  await cleanup();
  process.exitCode = 1;
}
