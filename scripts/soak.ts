/**
 * Soak: `npm run soak -- --minutes N [--seed S] [--fuzz-cases C] [--json]`.
 *
 * Starts anvil (a separate process), deploys PartProof with the test circuits (range_d4, so that
 * proofs finish between kills), and runs the gateway as a child process: its entry and its pool
 * workers bundled once per run (scripts/lib/soak-bundle.ts) and run with plain `node`, so that a
 * restart does not transpile the code again. While it runs, uploads, publications (one at a
 * time per owner, each signed with the owner's current nonce) and queries are driven
 * concurrently, and the gateway is killed with SIGKILL at a moment each cycle aims at
 * (`AIM_SHARES`): `random` (0.2 s to `KILL_MAX_MS` after the start, a share up to
 * `LONG_RUN_MAX_MS`), `proving` (just after a job is seen proving), `ingest` (just after an
 * upload is sent), `broadcast` (the node's automine off: the relayer's recordAnswer waits in the
 * pool, and the kill lands with it pending or just after it is mined, before the gateway can have
 * booked it; confirmed when a later gateway run books the answer). Just before each kill the
 * soak reads what is in flight and counts the kill under each phase it cuts: `ingest` (an upload
 * request unanswered), `proving` (a job the gateway reports proving), `broadcast` (the chain
 * has logged a job's answer, or the relayer has a transaction pending, while the gateway still
 * reports it proved), or `idle`; and a share of the restarts (`START_KILL_SHARE`) is killed
 * again while the gateway starts (store open, outbox recovery, provers starting): `startup`.
 * After each restart it checks, and at the end after a drain:
 *  - every accepted query (202) ends logged or failed with a reason; none is lost (404 or stuck);
 *  - no answer is logged twice (AnswerRecorded per grant and request id ≤ 1), and the gateway's
 *    logged jobs are exactly the chain's entries;
 *  - no partial version: every batch sent (answered or cut off by the kill) sent again gives one
 *    version with every record;
 *  - nonces and quotas: each grant's on-chain `used` equals its entries, a query's nonce sent
 *    again is refused NONCE_REUSED, and the relayer's nonce equals its mined transactions.
 * Prints the figures (kills, kills per phase and per aim, queries, lost, duplicated) and exits 1
 * when any check fails. Beside the kills (unless `--fuzz-cases 0`) the route fuzzer
 * (test/gateway/fuzz-routes.test.ts) runs on its own chain and gateway with C cases per route
 * (default 10,000; CI's suite runs 1,000) and prints, per route, the responses ≥ 500 (must be
 * 0), those of 1 s or more, and the slowest, with the load average and how long it took
 * (timings are figures here, never pass/fail).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { hexlify, randomBytes, type HDNodeWallet } from "ethers";
import { AggregateKind } from "../circuits/lib/signals.js";
import { partProofAt, policyStruct } from "../protocol/contract.js";
import { keyRange } from "../protocol/records/index.js";
import { signPublish, signQuery, signUpload, type Domain } from "../protocol/typed-data.js";
import { parseArgsOr } from "./lib/args.js";
import { ROOT } from "./lib/circuit-build.js";
import { devAccount, freePort, runCommand, startAnvil } from "./lib/processes.js";
import { bundleGateway } from "./lib/soak-bundle.js";
import { KeyedMutex } from "../gateway/locks.js";

const USAGE = "npm run soak -- [--minutes N] [--seed S] [--fuzz-cases C] [--json]";
const { values: args } = parseArgsOr(
  {
    options: {
      minutes: { type: "string", default: "10" },
      seed: { type: "string", default: String(Date.now()) },
      json: { type: "boolean", default: false },
      "fuzz-cases": { type: "string", default: "10000" },
    },
  },
  USAGE,
);
const minutes = Number(args.minutes);
if (!(minutes > 0)) {
  console.error(`error: --minutes must be a positive number — usage: ${USAGE}`);
  process.exit(2);
}
const fuzzCases = Number(args["fuzz-cases"]);
if (!Number.isInteger(fuzzCases) || fuzzCases < 0) {
  console.error(`error: --fuzz-cases must be a whole number ≥ 0 — usage: ${USAGE}`);
  process.exit(2);
}

/** A small seeded generator (xorshift), so a failing run can be played again with --seed. */
let state = BigInt.asUintN(64, BigInt(args.seed as string) || 1n);
function rand(): number {
  state ^= state << 13n;
  state = BigInt.asUintN(64, state);
  state ^= state >> 7n;
  state ^= state << 17n;
  state = BigInt.asUintN(64, state);
  return Number(state % 1_000_000n) / 1_000_000;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => {
  if (!args.json) console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
};

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";
const RELAYER_KEY_ENV = "PARTPROOF_SOAK_RELAYER_KEY";
/** Accepted queries not yet logged or failed, at most (new queries wait below it). */
const MAX_OPEN = 4;
/** Longest time from a gateway's start (healthy) to its kill, ms. */
const KILL_MAX_MS = 3_000;
/** Share of the runs that last longer (KILL_MAX_MS to LONG_RUN_MAX_MS): proofs end, relays go. */
const LONG_RUN_SHARE = 0.05;
const LONG_RUN_MAX_MS = 15_000;
/** Share of the restarts killed again while the gateway starts. */
const START_KILL_SHARE = 0.4;
const relayerAccount = devAccount(9);
/** How a cycle picks its kill's moment (shares of the cycles). */
type Aim = "random" | "proving" | "broadcast" | "ingest";
const AIM_SHARES: Record<Aim, number> = {
  random: 0.48,
  proving: 0.2,
  broadcast: 0.12,
  ingest: 0.2,
};
/** Longest wait for an aim's moment; then the kill comes anyway (counted as missed). */
const AIM_TIMEOUT_MS = 15_000;
/** An aimed kill comes within this long after a job is seen proving. */
const PROVING_CUT_MS = 300;
/** An aimed ingest kill comes within this long after an upload is sent. */
const INGEST_CUT_MS = 150;

/** Ten quality rows; `tag` makes the batch (and so the version) distinct. */
function batch(tag: number) {
  return {
    format: "json" as const,
    // the same ten identities every time: an upload adds to the asset's data set, so each batch
    // replaces the ten records of the one before (a version always holds exactly ten)
    rows: Array.from({ length: 10 }, (_, i) => ({
      partId: `soak-${i}`,
      partNumber: PART,
      plant: String(4000 + (tag % 997)),
      productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
      hasBeenReworked: (i + tag) % 3 === 0,
      numberOfConductedEndOfLineTests: 1 + ((i + tag) % 4),
    })),
  };
}

async function http(base: string, method: string, url: string, body?: unknown) {
  const res = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json };
}

/** Figures and the ledger of what was accepted. */
const figures = {
  minutes,
  kills: 0,
  /** Kills by the phase they cut (one kill may cut several: the sum can exceed `kills`). */
  killsBy: { ingest: 0, proving: 0, broadcast: 0, idle: 0, startup: 0 } as Record<string, number>,
  /** Kills by the moment their cycle aimed at (`random`: a random time), and the aims missed. */
  killsAimed: {} as Record<string, number>,
  aimMissed: {} as Record<string, number>,
  /** Aimed broadcast kills with the answer pending in the node's pool, or mined just before. */
  broadcastKills: { pending: 0, mined: 0 },
  /** Of those, the ones a gateway started after the kill was seen booking (its timeline). */
  broadcastConfirmed: 0,
  /** Accepted queries seen proved (or logged): proofs that finished between kills. */
  proved: 0,
  /** Proving times seen (a job proved by one gateway run, from its timeline), seconds. */
  provingSeconds: [] as number[],
  /** Seconds from a kill to the restarted gateway's first healthy answer (mean, max). */
  restartSeconds: { mean: 0, max: 0 },
  restarts: 0,
  queries: 0,
  accepted: 0,
  refused: 0,
  refusedBy: {} as Record<string, number>,
  cutOff: 0,
  logged: 0,
  failedWithReason: 0,
  /** Accepted queries that failed, by the reason's code. */
  failedBy: {} as Record<string, number>,
  lost: 0,
  duplicated: 0,
  uploads: 0,
  batchesChecked: 0,
  partialVersions: 0,
  publications: 0,
  nonceChecks: 0,
  quotaMismatches: 0,
  problems: [] as string[],
  loadAverage: "",
  /** The route fuzzer's figures (undefined with --fuzz-cases 0). */
  fuzz: undefined as FuzzFigures | undefined,
};

/** What the route fuzzer reports (test/gateway/fuzz-routes.test.ts, FUZZ_FIGURES_FILE). */
interface FuzzFigures {
  casesPerRoute: number;
  passed: boolean;
  seconds: number;
  loadAverage: string;
  routes: {
    route: string;
    requests: number;
    atLeast500: number;
    slow: number;
    slowestMs: number;
  }[];
}

interface Accepted {
  jobId: string;
  requestId: string;
  grantId: bigint;
  nonce: bigint;
  body: unknown;
  final?: "logged" | "failed";
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "partproof-soak-"));
  say(`anvil, deploy, gateway data in ${dir}`);
  const gatewayBundle = await bundleGateway(ROOT, "gateway/main.ts");
  const node = await startAnvil().catch(async (e: Error) => {
    await gatewayBundle.remove();
    throw e;
  });
  let gwChild: ChildProcess | undefined;
  let fuzzing: Promise<FuzzFigures> | undefined;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      gwChild?.kill("SIGKILL");
      fuzzChild?.kill("SIGKILL");
      void Promise.allSettled([node.stop(), gatewayBundle.remove()]).finally(() =>
        process.exit(130),
      );
    });
  }
  try {
    const deploymentFile = path.join(dir, "deployment.json");
    await runCommand(
      "tsx",
      ["scripts/deploy.ts", "--network", node.url, "--out", deploymentFile, "--targets", "test"],
      { env: { PARTPROOF_DEPLOYER_KEY: devAccount(0).privateKey } },
    );
    const { partProof } = JSON.parse(await readFile(deploymentFile, "utf8")) as {
      partProof: string;
    };
    const provider = node.provider;
    const domain: Domain = { chainId: 31337n, partProof };
    const queried = devAccount(1).connect(provider) as HDNodeWallet;
    const publishers = [2, 4, 6].map((i) => devAccount(i).connect(provider) as HDNodeWallet);
    const consumer = devAccount(3).connect(provider) as HDNodeWallet;

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const configFile = path.join(dir, "gateway.json");
    await writeFile(
      configFile,
      JSON.stringify({
        port,
        dataDir: path.join(dir, "data"),
        chain: { rpcUrl: node.url, confirmations: 1 },
        contracts: { partProof },
        relayerKey: { source: "env", name: RELAYER_KEY_ENV },
        circuit: { name: "range_d4", depth: 4, artifactsDir: "circuits/build/range_d4" },
        rateLimitPerMinute: 100_000,
        ipRateLimitPerMinute: 1_000_000,
        // The soak publishes hundreds of versions in ten minutes: with the default per-owner
        // caps (10^7 relayed gas a day ≈ 100 publications) every query after the fifth minute
        // was refused OWNER_CAP_REACHED, and kills no longer cut proofs or broadcasts.
        limits: { versionsPerOwner: 1_000_000, relayerGasPerOwnerPerDay: 1_000_000_000_000 },
        relayer: { enabled: true, pollMs: 100, baseBackoffMs: 100, maxBackoffMs: 2000 },
        sender: {
          stuckAfterMs: 30_000,
          feeBumpPercent: 25,
          maxFeeBumps: 5,
          pollMs: 100,
          confirmTimeoutMs: 120_000,
        },
        logLevel: "warn",
      }),
    );

    /**
     * Starts the gateway; resolves with it once healthy, or — given `killAt` (ms since the
     * epoch) — with undefined when it is still starting then (the caller kills it there).
     */
    const gatewayLog = openSync(path.join(dir, "gateway.log"), "a");
    const startGateway = async (killAt?: number) => {
      // plain node on the bundled entry: no TypeScript to transpile at each restart (a node
      // process itself, not a wrapper whose child would outlive SIGKILL)
      const child = spawn(process.execPath, [gatewayBundle.main], {
        cwd: ROOT,
        env: {
          ...process.env,
          PARTPROOF_GATEWAY_CONFIG: configFile,
          // V8's code cache across restarts (and the prover processes the gateway starts)
          NODE_COMPILE_CACHE: path.join(dir, "compile-cache"),
          [RELAYER_KEY_ENV]: relayerAccount.privateKey,
        },
        // its log lines (warnings and errors) go to gateway.log in the run's folder
        stdio: ["ignore", gatewayLog, "pipe"],
      });
      gwChild = child;
      let err = "";
      child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      const deadline = Date.now() + 180_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the gateway exited:\n${err}`);
        const ok = await fetch(`${base}/health`)
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return child;
        if (killAt !== undefined && Date.now() >= killAt) return undefined;
        if (Date.now() > deadline) throw new Error(`the gateway did not start:\n${err}`);
        await sleep(killAt === undefined ? 50 : Math.max(0, Math.min(50, killAt - Date.now())));
      }
    };

    /** Kills the gateway with SIGKILL and makes sure it no longer answers. */
    const kill = async () => {
      const child = gwChild!;
      const exited = new Promise((r) => (child.exitCode !== null ? r(0) : child.once("exit", r)));
      child.kill("SIGKILL");
      await exited;
      if (
        await fetch(`${base}/health`).then(
          () => true,
          () => false,
        )
      )
        throw new Error("a killed gateway still answers: the kill did not reach it");
      figures.kills++;
    };

    // set-up, with a first gateway: the queried asset (published once, granted), and one
    // asset per publisher (a new version published again and again)
    await startGateway();
    const pq = partProofAt(partProof, queried);
    await (await pq.registerAsset(QUALITY, "0x" + "00".repeat(32), base)).wait();
    const queriedAsset = await pq.assetCount();
    const up0 = await http(
      base,
      "POST",
      `/assets/${queriedAsset}/uploads`,
      await signUpload(queried, domain, queriedAsset, batch(0)),
    );
    if (up0.status !== 201) throw new Error(`set-up upload: ${JSON.stringify(up0.body)}`);
    // One publication at a time per owner, its nonce read just before it is signed: the
    // contract takes an owner's publications in nonce order, so two signed with the same nonce
    // at once leave one refused (BAD_SIGNATURE, rightly) — the soak's own bug before.
    const publishing = new KeyedMutex();
    const publish = (owner: HDNodeWallet, assetId: bigint, v: any) =>
      publishing.run(owner.address, () => publishNow(owner, assetId, v));
    const publishNow = async (owner: HDNodeWallet, assetId: bigint, v: any) => {
      const p = partProofAt(partProof, owner);
      return http(
        base,
        "POST",
        `/assets/${assetId}/versions/${v.localId}/publish`,
        await signPublish(
          owner,
          domain,
          {
            assetId,
            root: BigInt(v.root),
            recordCount: BigInt(v.recordCount),
            treeDepth: BigInt(v.treeDepth),
            paramsHash: v.paramsHash,
          },
          await p.nonces(owner.address),
          BigInt(Math.floor(Date.now() / 1000) + 3600),
        ),
      );
    };
    const pub0 = await publish(queried, queriedAsset, up0.body.version);
    if (pub0.status !== 201) throw new Error(`set-up publish: ${JSON.stringify(pub0.body)}`);
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const QUOTA = 100_000;
    await (
      await pq.grantAccess(
        queriedAsset,
        consumer.address,
        policyStruct({
          aggregateMask: 0b1111111,
          fieldMask: 0b1111,
          filterMask: 0,
          ...keyRange({ partNumber: PART }),
          minCohort: 3,
        }),
        now - 60n,
        now + 30n * 86400n,
        QUOTA,
      )
    ).wait();
    const grantId = await pq.grantCount();
    const publisherAssets: bigint[] = [];
    for (const p of publishers) {
      const c = partProofAt(partProof, p);
      await (await c.registerAsset(QUALITY, "0x" + "00".repeat(32), base)).wait();
      publisherAssets.push(await c.assetCount());
    }

    const accepted: Accepted[] = [];
    const batches: { owner: HDNodeWallet; assetId: bigint; tag: number }[] = [];
    let nonce = BigInt(Date.now()) * 1000n;
    let tag = 1;
    const { keyLo, keyHi } = keyRange({ partNumber: PART });

    const query = async () => {
      const q = {
        grantId,
        assetId: queriedAsset,
        versionId: 0n,
        kind: AggregateKind.Count,
        fieldA: 0,
        fieldB: 0,
        lo: keyLo,
        hi: keyHi,
        threshold: 0n,
        requestId: hexlify(randomBytes(32)),
        nonce: nonce++,
        deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
      };
      const body = await signQuery(consumer, domain, q);
      figures.queries++;
      try {
        const r = await http(base, "POST", "/queries", body);
        if (r.status === 202) {
          figures.accepted++;
          accepted.push({
            jobId: r.body.jobId,
            requestId: q.requestId,
            grantId,
            nonce: q.nonce,
            body,
          });
        } else if (r.status >= 400 && r.status < 500 && r.body?.error?.code) {
          figures.refused++;
          const code = r.body.error.code as string;
          figures.refusedBy[code] = (figures.refusedBy[code] ?? 0) + 1;
        } else figures.problems.push(`query answered ${r.status}: ${JSON.stringify(r.body)}`);
      } catch (e) {
        figures.cutOff++; // the kill cut the request off: checked through the chain below
        if (figures.cutOff <= 3)
          say(`query cut off: ${(e as Error).message} ${(e as Error).cause ?? ""}`);
      }
    };
    let uploadsInFlight = 0;
    const upload = async () => {
      const i = Math.floor(rand() * publishers.length);
      const owner = publishers[i]!;
      const assetId = publisherAssets[i]!;
      const t = tag++;
      batches.push({ owner, assetId, tag: t });
      figures.uploads++;
      try {
        const body = await signUpload(owner, domain, assetId, batch(t));
        uploadsInFlight++;
        const r = await http(base, "POST", `/assets/${assetId}/uploads`, body).finally(
          () => uploadsInFlight--,
        );
        if (r.status === 201 && rand() < 0.7) {
          const p = await publish(owner, assetId, r.body.version);
          if (p.status === 201) figures.publications++;
          else {
            const code = `publish:${p.body?.error?.code ?? p.status}`;
            figures.refusedBy[code] = (figures.refusedBy[code] ?? 0) + 1;
            if (p.status >= 500) figures.problems.push(`publication answered ${p.status}`);
          }
        }
      } catch {
        // cut off by the kill: the batch is checked after the restart
      }
    };

    /**
     * What a kill now would cut among the jobs: a job proving, or an answer between broadcast
     * and bookkeeping (logged on the chain, or its transaction pending, while the gateway still
     * reports the job proved). Uploads unanswered (ingest) are looked at just before the kill.
     */
    const jobPhasesNow = async (): Promise<Set<string>> => {
      const phases = new Set<string>();
      const open = accepted.filter((a) => !a.final);
      const [latest, pending] = await Promise.all([
        provider.getTransactionCount(relayerAccount.address, "latest"),
        provider.getTransactionCount(relayerAccount.address, "pending"),
      ]);
      await Promise.all(
        open.map(async (a) => {
          const r = await http(base, "GET", `/jobs/${a.jobId}`).catch(() => undefined);
          const status = r?.body?.status;
          if (status === "proving") phases.add("proving");
          if (
            status === "proved" &&
            (pending > latest || (await pq.isRequestLogged(a.grantId, a.requestId)))
          )
            phases.add("broadcast");
        }),
      );
      return phases;
    };

    /** Notes a job's status from a GET /jobs answer: terminal, proved, booked by this process. */
    const noteJob = (a: Accepted, view: any) => {
      const status = view?.status;
      if (status === "proved" || status === "logged") {
        const t = view.timeline;
        if (!provedJobs.has(a.jobId) && t?.proving && t.proved) {
          figures.provingSeconds.push((t.proved - t.proving) / 1000);
          if (t.steps) say(`proved in ${t.proved - t.proving} ms ${JSON.stringify(t.steps)}`);
        }
        provedJobs.add(a.jobId);
      }
      if (status === "logged") {
        a.final = "logged";
        // an aimed broadcast kill is confirmed when a gateway started after it books the answer
        if (aimedBroadcast.delete(a.jobId) && view.timeline?.logged) figures.broadcastConfirmed++;
      } else if (status === "failed" && view.error?.code) fail(a, view.error);
    };
    const fail = (a: Accepted, error: { code: string; message?: string }) => {
      a.final = "failed";
      figures.failedBy[error.code] = (figures.failedBy[error.code] ?? 0) + 1;
      if (figures.failedBy[error.code] === 1) say(`job failed: ${error.code} ${error.message}`);
    };
    const provedJobs = new Set<string>();
    const aimedBroadcast = new Set<string>();

    /**
     * Load for one cycle, in the background until stopped: queries (at most MAX_OPEN open),
     * uploads with publications, and a look at one open job each round.
     */
    const startLoad = () => {
      let running = true;
      const inflight: Promise<void>[] = [];
      const loop = (async () => {
        while (running) {
          const open = accepted.filter((a) => !a.final);
          if (open.length > 0) {
            const a = pick(open);
            const r = await http(base, "GET", `/jobs/${a.jobId}`).catch(() => undefined);
            if (r?.status === 200) noteJob(a, r.body);
          }
          if (open.length < MAX_OPEN && rand() < 0.5) inflight.push(query());
          if (rand() < 0.4) inflight.push(upload());
          await sleep(30 + rand() * 120);
        }
      })();
      return async () => {
        running = false;
        await loop;
        void Promise.allSettled(inflight);
      };
    };

    /** The relayer's transactions waiting in the node's pool (anvil's txpool_content). */
    const relayerPending = async (): Promise<{ hash: string; input: string }[]> => {
      const pool = (await provider.send("txpool_content", [])) as {
        pending?: Record<string, Record<string, { hash: string; input: string }>>;
      };
      const mine = Object.entries(pool.pending ?? {}).find(
        ([from]) => from.toLowerCase() === relayerAccount.address.toLowerCase(),
      );
      return mine ? Object.values(mine[1]) : [];
    };

    /**
     * Waits for the moment the cycle's aim names, with load running; returns what it found
     * (`hit` false: the aim's moment did not come within AIM_TIMEOUT_MS, killed there anyway).
     * `broadcast` turns the node's automine off until {@link afterKill}: the relayer's answer
     * transaction then waits in the pool, and the kill lands with it pending, or (half of them)
     * just after it is mined, before the gateway can have booked it.
     */
    const aimAt = async (aim: Aim): Promise<{ hit: boolean; phases: Set<string> }> => {
      const deadline = Date.now() + AIM_TIMEOUT_MS;
      if (aim === "random") {
        const killAt =
          Date.now() +
          (rand() < LONG_RUN_SHARE
            ? KILL_MAX_MS + rand() * (LONG_RUN_MAX_MS - KILL_MAX_MS)
            : 200 + rand() * (KILL_MAX_MS - 200));
        await sleep(killAt - Date.now());
        return { hit: true, phases: await jobPhasesNow() };
      }
      if (aim === "ingest") {
        await sleep(200 + rand() * 1000);
        void upload();
        await sleep(rand() * INGEST_CUT_MS);
        return { hit: uploadsInFlight > 0, phases: await jobPhasesNow() };
      }
      if (aim === "proving") {
        while (Date.now() < deadline) {
          const open = accepted.filter((a) => !a.final);
          const views = await Promise.all(
            open.map((a) =>
              http(base, "GET", `/jobs/${a.jobId}`).then(
                (r) => ({ a, view: r.body }),
                () => undefined,
              ),
            ),
          );
          for (const v of views) if (v) noteJob(v.a, v.view);
          if (views.some((v) => v?.view?.status === "proving")) {
            await sleep(rand() * PROVING_CUT_MS);
            const phases = await jobPhasesNow();
            return { hit: phases.has("proving"), phases };
          }
          const queued = views.find((v) => v?.view?.status === "queued");
          // the job's next write (it starts proving) ends the wait
          if (queued)
            await http(base, "GET", `/jobs/${queued.a.jobId}?wait=2000&after=queued`).catch(
              () => undefined,
            );
          else await sleep(100);
        }
        return { hit: false, phases: await jobPhasesNow() };
      }
      // broadcast
      await provider.send("evm_setAutomine", [false]);
      automineOff = true;
      while (Date.now() < deadline) {
        const txs = await relayerPending();
        for (const tx of txs) {
          const parsed = pq.interface.parseTransaction({ data: tx.input });
          if (parsed?.name !== "recordAnswer") continue;
          const a = accepted.find((x) => x.requestId === parsed.args.requestId);
          const phases = await jobPhasesNow();
          if (!a || !phases.has("broadcast")) continue;
          aimedBroadcast.add(a.jobId);
          if (rand() < 0.5) {
            await provider.send("evm_mine", []);
            figures.broadcastKills.mined++;
          } else figures.broadcastKills.pending++;
          return { hit: true, phases };
        }
        // a publication waiting: mine it and wait on for an answer
        if (txs.length > 0) await provider.send("evm_mine", []);
        await sleep(50);
      }
      say(
        `broadcast aim missed: no answer sent within ${AIM_TIMEOUT_MS / 1000} s (open jobs: ${(
          await Promise.all(
            accepted
              .filter((a) => !a.final)
              .map((a) =>
                http(base, "GET", `/jobs/${a.jobId}`).then(
                  (r) => r.body?.status,
                  () => "?",
                ),
              ),
          )
        ).join(", ")})`,
      );
      return { hit: false, phases: await jobPhasesNow() };
    };
    /** After the kill: what an aim left waiting in the node's pool is mined, automine back on. */
    let automineOff = false;
    const afterKill = async () => {
      if (!automineOff) return;
      await provider.send("evm_mine", []);
      await provider.send("evm_setAutomine", [true]);
      automineOff = false;
    };

    /** One cycle: load, the aim's moment, then the phases a kill now cuts. */
    const drive = async (): Promise<{ aim: Aim; hit: boolean; phases: string[] }> => {
      const r = rand();
      let acc = 0;
      const aim =
        (Object.entries(AIM_SHARES) as [Aim, number][]).find(
          ([, share]) => r < (acc += share),
        )?.[0] ?? "random";
      const stopLoad = startLoad();
      try {
        const { hit, phases } = await aimAt(aim);
        if (uploadsInFlight > 0) phases.add("ingest");
        return { aim, hit, phases: phases.size > 0 ? [...phases] : ["idle"] };
      } finally {
        void stopLoad();
      }
    };

    /** After a restart: every accepted job terminal or moving, none unknown. */
    let lastSaid = Date.now();
    const check = async (final: boolean) => {
      // every open job at once (one after the other costs seconds per restart on a busy machine)
      await Promise.all(accepted.filter((a) => !a.final).map((a) => checkOne(a, final)));
    };
    const checkOne = async (a: Accepted, final: boolean) => {
      const deadline = Date.now() + (final ? 600_000 : 0);
      for (;;) {
        const r = await http(base, "GET", `/jobs/${a.jobId}`);
        if (r.status === 404) {
          figures.lost++;
          figures.problems.push(`accepted job ${a.jobId} is unknown after a restart`);
          a.final = "failed";
          break;
        }
        if (r.body.status === "logged") {
          noteJob(a, r.body);
          break;
        }
        if (r.body.status === "failed") {
          if (!r.body.error?.code) {
            figures.problems.push(`job ${a.jobId} failed without a reason`);
            a.final = "failed";
          } else fail(a, r.body.error);
          break;
        }
        if (final && Date.now() - lastSaid > 15_000) {
          lastSaid = Date.now();
          say(`drain: ${accepted.filter((x) => x.final).length}/${accepted.length} ended`);
        }
        if (Date.now() > deadline) {
          if (final) {
            figures.lost++;
            figures.problems.push(`job ${a.jobId} still ${r.body.status} after the drain`);
          }
          break;
        }
        await sleep(250);
      }
    };

    // the route fuzzer runs beside the kills, on its own chain and gateway (10,000 cases per
    // route take longer than the kills on a loaded machine)
    fuzzing = fuzzCases > 0 ? fuzzRoutes(dir) : undefined;
    const endAt = Date.now() + minutes * 60_000;
    while (Date.now() < endAt) {
      const { aim, hit, phases } = await drive();
      await kill();
      await afterKill();
      for (const p of phases) figures.killsBy[p] = (figures.killsBy[p] ?? 0) + 1;
      figures.killsAimed[aim] = (figures.killsAimed[aim] ?? 0) + 1;
      if (!hit) figures.aimMissed[aim] = (figures.aimMissed[aim] ?? 0) + 1;
      // a share of the restarts is cut while the gateway starts (store open, outbox recovery,
      // provers starting): at a random time within its usual start time
      const mean = figures.restartSeconds.mean * 1000;
      if (figures.restarts > 0 && rand() < START_KILL_SHARE) {
        const started = await startGateway(Date.now() + 100 + rand() * mean * 0.9);
        if (!started) {
          await kill();
          figures.killsBy.startup = (figures.killsBy.startup ?? 0) + 1;
          phases.push("startup");
        }
      }
      const t0 = Date.now();
      if (gwChild!.exitCode !== null || gwChild!.signalCode !== null) await startGateway();
      const took = (Date.now() - t0) / 1000;
      if (took > 0.5) {
        figures.restartSeconds.max = Math.max(figures.restartSeconds.max, took);
        figures.restartSeconds.mean +=
          (took - figures.restartSeconds.mean) / (figures.restarts + 1);
      }
      figures.restarts++;
      await check(false);
      const done = accepted.filter((a) => a.final).length;
      say(
        `kill ${figures.kills} (aim ${aim}${hit ? "" : " missed"}; cut ${phases.join("+")}): queries ${figures.queries}, accepted ${figures.accepted}, terminal ${done}, uploads ${figures.uploads}, lost ${figures.lost}`,
      );
    }

    say("drain: waiting for every accepted query to end");
    await check(true);
    figures.logged = accepted.filter((a) => a.final === "logged").length;
    figures.proved = provedJobs.size;
    figures.failedWithReason = accepted.filter((a) => a.final === "failed").length;

    // no answer twice; the gateway's logged jobs are the chain's entries; quota consistent
    const events = await pq.queryFilter(pq.filters.AnswerRecorded(grantId), 0);
    const perRequest = new Map<string, number>();
    for (const e of events) {
      const k = e.args.requestId;
      perRequest.set(k, (perRequest.get(k) ?? 0) + 1);
    }
    figures.duplicated = [...perRequest.values()].filter((n) => n > 1).length;
    const loggedIds = new Set(accepted.filter((a) => a.final === "logged").map((a) => a.requestId));
    for (const id of loggedIds) {
      if (!perRequest.has(id)) figures.problems.push(`job of ${id} logged but not on-chain`);
    }
    const used = (await pq.getGrant(grantId)).used;
    if (used !== BigInt(events.length)) {
      figures.quotaMismatches++;
      figures.problems.push(`grant used ${used}, entries ${events.length}`);
    }
    // a nonce used by an accepted query is refused when sent again
    for (const a of accepted.slice(0, 5)) {
      const r = await http(base, "POST", "/queries", a.body);
      figures.nonceChecks++;
      if (r.body?.error?.code !== "NONCE_REUSED" && r.body?.error?.code !== "REQUEST_REUSED")
        figures.problems.push(`a used nonce was answered ${r.status}`);
    }
    // the relayer's nonce: every nonce it used is mined, nothing pending or lost
    const [latest, pending] = await Promise.all([
      provider.getTransactionCount(relayerAccount.address, "latest"),
      provider.getTransactionCount(relayerAccount.address, "pending"),
    ]);
    if (latest !== pending)
      figures.problems.push(`relayer nonces: ${latest} mined, ${pending} pending`);
    // no partial version: each batch sent again is one whole version
    for (const b of batches) {
      const r = await http(
        base,
        "POST",
        `/assets/${b.assetId}/uploads`,
        await signUpload(b.owner, domain, b.assetId, batch(b.tag)),
      );
      figures.batchesChecked++;
      if (
        (r.status !== 200 && r.status !== 201) ||
        r.body.version.recordCount !== 10 ||
        (r.status === 200 && r.body.created !== false)
      ) {
        figures.partialVersions++;
        figures.problems.push(`batch ${b.tag}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  } catch (e) {
    fuzzChild?.kill("SIGKILL");
    throw e;
  } finally {
    gwChild?.kill("SIGKILL");
    await Promise.allSettled([node.stop(), gatewayBundle.remove()]);
  }
  figures.loadAverage = loadAverage();
  if (fuzzing) {
    say("waiting for the route fuzzer");
    figures.fuzz = await fuzzing;
  }
  const ok =
    figures.lost === 0 &&
    figures.duplicated === 0 &&
    figures.partialVersions === 0 &&
    figures.quotaMismatches === 0 &&
    figures.problems.length === 0;
  if (args.json) console.log(JSON.stringify({ ok, ...figures }));
  else {
    console.log(
      `soak ${minutes} min: kills ${figures.kills} (${Object.entries(figures.killsBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), ` +
        `queries ${figures.queries} (accepted ${figures.accepted}: logged ${figures.logged}, failed with a reason ${figures.failedWithReason} ${JSON.stringify(figures.failedBy)}; refused ${figures.refused} ${JSON.stringify(figures.refusedBy)}; cut off by a kill ${figures.cutOff}), ` +
        `lost ${figures.lost}, duplicated ${figures.duplicated}, uploads ${figures.uploads} (batches re-checked ${figures.batchesChecked}, partial ${figures.partialVersions}), publications ${figures.publications}, ` +
        `load average ${figures.loadAverage}`,
    );
    console.log(
      `kills per phase (a kill may cut several): ${Object.entries(figures.killsBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}; aimed at ${Object.entries(figures.killsAimed)
        .map(
          ([k, v]) => `${k} ${v}${figures.aimMissed[k] ? ` (missed ${figures.aimMissed[k]})` : ""}`,
        )
        .join(
          ", ",
        )}; between broadcast and bookkeeping: answer pending ${figures.broadcastKills.pending}, mined ${figures.broadcastKills.mined}, booked after the restart ${figures.broadcastConfirmed}; proofs finished ${figures.proved}; restart after a kill: mean ${figures.restartSeconds.mean.toFixed(1)} s, max ${figures.restartSeconds.max.toFixed(1)} s; ${(figures.kills / minutes).toFixed(1)} kills per minute`,
    );
    const f = figures.fuzz;
    if (f) {
      console.log(
        `route fuzzing, ${f.casesPerRoute} cases per route: ${f.passed ? "passed" : "FAILED"} in ${f.seconds.toFixed(0)} s, load average ${f.loadAverage}`,
      );
      for (const r of f.routes)
        console.log(
          `  ${r.route.padEnd(44)} ${String(r.requests).padStart(7)} requests, ≥ 500: ${r.atLeast500}, ≥ 1 s: ${r.slow}, slowest ${r.slowestMs.toFixed(0)} ms`,
        );
    }
    for (const p of figures.problems) console.log(`PROBLEM: ${p}`);
  }
  // the deployment, the gateway's data and log: kept to look into when the soak failed
  if (ok && !(figures.fuzz && !figures.fuzz.passed))
    await rm(dir, { recursive: true, force: true });
  else say(`kept ${dir} (the gateway's data and log)`);
  process.exit(ok ? 0 : 1);
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

/**
 * Runs the route fuzzer (its own in-process chain and gateway) with `fuzzCases` cases per route;
 * its figures come back through FUZZ_FIGURES_FILE. A response ≥ 500 or off the protocol fails it
 * (a problem here); slow responses are figures only.
 */
let fuzzChild: ChildProcess | undefined;
async function fuzzRoutes(dir: string): Promise<FuzzFigures> {
  say(`route fuzzing: ${fuzzCases} cases per route`);
  const file = path.join(dir, "fuzz-figures.json");
  const t0 = Date.now();
  let passed = true;
  // its own child (not runCommand) so that a failing soak can stop it
  fuzzChild = spawn(
    path.join(ROOT, "node_modules", ".bin", "hardhat"),
    ["test", "test/gateway/fuzz-routes.test.ts"],
    {
      cwd: ROOT,
      env: { ...process.env, FUZZ_RUNS: String(fuzzCases), FUZZ_FIGURES_FILE: file },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4000));
  fuzzChild.stdout?.on("data", keep);
  fuzzChild.stderr?.on("data", keep);
  const code = await new Promise<number | null>((resolve) => {
    fuzzChild!.once("error", () => resolve(-1));
    fuzzChild!.once("exit", (c) => resolve(c));
  });
  fuzzChild = undefined;
  if (code !== 0) {
    passed = false;
    figures.problems.push(`route fuzzing failed (exit ${code}): ${out.slice(-2000)}`);
  }
  const routes = await readFile(file, "utf8")
    .then((t) => JSON.parse(t) as FuzzFigures["routes"])
    .catch(() => [] as FuzzFigures["routes"]);
  if (routes.length === 0) figures.problems.push("route fuzzing reported no figures");
  for (const r of routes) {
    if (r.atLeast500 > 0) figures.problems.push(`${r.route}: ${r.atLeast500} responses ≥ 500`);
    // every route gets its own cases (issue 16: ≥ 10,000 per route), none shares them
    if (r.requests < fuzzCases)
      figures.problems.push(`${r.route}: ${r.requests} fuzz cases, fewer than ${fuzzCases}`);
  }
  return {
    casesPerRoute: fuzzCases,
    passed,
    seconds: (Date.now() - t0) / 1000,
    loadAverage: loadAverage(),
    routes,
  };
}

main().catch((e) => {
  console.error(`soak failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
