/**
 * `gateway` benchmark: a real gateway (express + LevelDB in a temp folder, `startServer`)
 * against Hardhat's in-process chain with PartProof deployed by the Ignition module, driven
 * through the protocol's client (`protocol/client.ts`, which checks every response against the
 * protocol's schemas). Measures the ingest of a Catena-X quality batch
 * (POST /assets/:id/uploads: validate, map, salt, build the tree, store) and one query's
 * latency from POST /queries until its job is logged on-chain, first with the test circuit
 * (range_d4) and, when built, with the production circuit (range_d20) and a larger batch.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AggregateKind } from "../../../circuits/lib/signals.js";
import type { GatewayConfigInput } from "../../../gateway/config.js";
import type { JobTimeline, JobView } from "../../../protocol/api.js";
import type { GatewayClient } from "../../../protocol/client.js";
import { circuitPaths } from "../circuit-build.js";
import { DEMO_SUPPLIERS, generateQuality, toCatenaX } from "../demo-data.js";
import { ROOT, round, stats, type Log, type Stats } from "./common.js";
import { hardhatBuild } from "./gas.js";

/**
 * How a run proves and follows jobs: "now" = provers as processes (snarkjs on every core) and
 * the client long-polling (GET /jobs/:id?wait=); "former" = a prover worker thread
 * (single-threaded snarkjs) and the client polling every 250 ms, as before issue 13.
 */
export type LatencyVariant = "now" | "former";

/** Where one query's time went, ms (gateway timeline + the client's clock, same machine). */
export interface QueryBreakdown {
  /** POST /queries until its 202 (checks, job stored). */
  post: number;
  /** Accepted → the prover pool took it (queue hand-off). */
  queue: number;
  /** The version's tree (0 when the prover had it cached). */
  tree: number;
  /** Circuit witness. */
  witness: number;
  /** Groth16 proof. */
  prove: number;
  /** Proving's rest: messages to and from the prover, storing the answer with its outbox entry. */
  proverRest: number;
  /** Proved → recordAnswer sent (relayer wake-up, gas estimate, signing, sending). */
  relayer: number;
  /** Sent → logged (mined, confirmations, stored). */
  chain: number;
  /** Logged → the client saw it. */
  client: number;
  /** POST → the client saw it logged. */
  total: number;
  /** total − prove: the time outside proving. */
  outsideProof: number;
}

/** Measurements with one circuit. */
export interface GatewayRun {
  circuit: string;
  depth: number;
  /** How provers ran and the client followed the job (the `latency` benchmark's variants). */
  variant?: LatencyVariant;
  /** Per measured query (not the cold one), where its time went. */
  breakdowns?: QueryBreakdown[];
  /** Ingest of one Catena-X quality batch. */
  ingest: { records: number; payloadBytes: number; ms: number; recordsPerSecond: number };
  /** POST /assets/:id/versions/:localId/publish (relayed EIP-712 publishVersionBySig), ms. */
  publishMs: number;
  /** The first query (cold prover worker), ms from POST to logged. */
  coldQueryMs: number;
  /** Later queries: POST /queries → job status "logged" (polled every 50 ms), ms. */
  queryLatencyMs: Stats;
  /** Of which the POST /queries response (checks, job queued), ms. */
  postMs: Stats;
}

/** Result of the `gateway` benchmark. */
export interface GatewayBenchData {
  runs: GatewayRun[];
}

/** Options of {@link benchGateway}. */
export interface GatewayBenchOptions {
  /** Measured queries after one cold one. */
  repeat: number;
  /** Only the test circuit, with a small batch. */
  quick: boolean;
  /**
   * The `latency` benchmark instead: the production circuit (the test one in quick mode) over
   * a small batch, once as "former" and once as "now", with the gateway's default relayer.
   */
  latency?: boolean;
  /** Called with the numbers as soon as they are measured, before the clean-up. */
  onMeasured?: (data: GatewayBenchData) => void;
}

/** Why the gateway benchmark cannot run here, or undefined when it can. */
export function gatewayAvailable(): string | undefined {
  if (!existsSync(path.join(ROOT, "gateway", "app.ts"))) return "gateway/app.ts missing";
  const p = circuitPaths("range_d4");
  const missing = [p.wasm, p.zkey, p.vkey, p.verifier].find((f) => !existsSync(f));
  return missing
    ? `${path.relative(ROOT, missing)} missing: run npm run build:circuits`
    : undefined;
}

const PART = "GBX-3232455";

/** Quality rows of the first demo supplier: one part, both plants, `n` rows exactly. */
function batch(n: number) {
  const supplier = DEMO_SUPPLIERS[0]!;
  const one = { ...supplier, parts: supplier.parts.filter((p) => p.partNumber === PART) };
  const perDay = 4;
  const days = Math.ceil(n / (perDay * one.plants.length)) + 1;
  const rows = generateQuality(one, {
    from: "2025-01-01",
    days,
    perDay: [perDay, perDay],
    seed: "bench",
  }).slice(0, n);
  return toCatenaX(one, rows, "bench");
}

/**
 * The gateway's config for one plan: any free port, the in-process chain, an injected relayer,
 * a 64 MiB body limit for the big batch, no rate limit in the way, warnings only.
 */
function benchConfig(
  partProof: string,
  dataDir: string,
  circuit: string,
  depth: number,
  latency = false,
): GatewayConfigInput {
  const artifactsDir = path.relative(ROOT, circuitPaths(circuit).dir);
  return {
    port: 0,
    dataDir,
    chain: { rpcUrl: "in-process" },
    contracts: { partProof },
    relayerKey: { source: "injected" },
    circuit: { name: circuit, depth, artifactsDir },
    bodyLimitBytes: 64 * 1024 * 1024,
    rateLimitPerMinute: 10_000,
    // the latency benchmark keeps the gateway's default relayer (woken by each proof)
    relayer: latency
      ? { enabled: true, pollMs: 500, baseBackoffMs: 1000, maxBackoffMs: 60_000 }
      : { enabled: true, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 },
    logLevel: "warn",
  };
}

/** A log sink that drops the gateway's lines (the benchmark's stdout carries its results). */
const DISCARD = { write: () => undefined };

/** Runs the `gateway` benchmark. */
export async function benchGateway(opts: GatewayBenchOptions, log: Log): Promise<GatewayBenchData> {
  await hardhatBuild(log);
  const { network } = await import("hardhat");
  const { partProofModule } = await import("../../../ignition/modules/PartProof.js");
  const { startServer } = await import("../../../gateway/app.js");
  const { GatewayClient } = await import("../../../protocol/client.js");
  const { publishResponseSchema, queryAcceptedSchema, uploadResponseSchema } =
    await import("../../../protocol/api.js");
  const { policyStruct } = await import("../../../protocol/contract.js");
  const { signPublish, signQuery, signUpload } = await import("../../../protocol/typed-data.js");
  const { keyRange } = await import("../../../protocol/records/index.js");
  const plans: { circuit: string; depth: number; records: number; variant?: LatencyVariant }[] = [
    { circuit: "range_d4", depth: 4, records: 14 },
  ];
  const d20 = circuitPaths("range_d20");
  const d20Built = [d20.wasm, d20.zkey, d20.vkey, d20.verifier].every((f) => existsSync(f));
  if (opts.latency) {
    // 100 records (a depth-4 tree holds 14)
    const c =
      !opts.quick && d20Built ? { circuit: "range_d20", depth: 20, records: 100 } : plans[0]!;
    plans.splice(0, 1, ...(["former", "now"] as const).map((variant) => ({ ...c, variant })));
  } else if (!opts.quick && d20Built) {
    plans.push({ circuit: "range_d20", depth: 20, records: 5000 });
  }
  const runs: GatewayRun[] = [];
  const conn = await network.create();
  try {
    const { ethers, networkHelpers } = conn;
    const [, owner, consumer, , relayer] = await ethers.getSigners();
    const deployed = await conn.ignition.deploy(partProofModule(["test", "production"]), {
      displayUi: false,
    });
    const address = await deployed.partProof.getAddress();
    const pp = await ethers.getContractAt("PartProof", address);
    const domain = { chainId: (await ethers.provider.getNetwork()).chainId, partProof: address };
    const schema = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
    const policy = {
      aggregateMask: 0x7f,
      fieldMask: 0xf,
      filterMask: 0,
      ...keyRange({ partNumber: PART }),
      minCohort: 3,
    };
    let assetId = -1n;
    for (const plan of plans) {
      assetId += 2n; // this plan's asset; assetId + 1 is its warm-up asset
      await pp.connect(owner).registerAsset(schema, ethers.ZeroHash, "http://127.0.0.1/gw");
      const now = BigInt(await networkHelpers.time.latest());
      await pp
        .connect(owner)
        .grantAccess(assetId, consumer!.address, policyStruct(policy), now, now + 86_400n, 1000);
      const grantId = await pp.grantCount();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), "partproof-bench-gw-"));
      const gw = await startServer(
        benchConfig(address, dataDir, plan.circuit, plan.depth, opts.latency),
        {
          provider: ethers.provider,
          relayer: relayer!,
          logStream: DISCARD,
          proverKind: plan.variant === "former" ? "thread" : "process",
        },
      );
      const client = new GatewayClient(gw.url, domain);
      try {
        // Warm-up: a first upload pays for lazy start-up (Poseidon tables, workers); keep it
        // out of the measured ingest by sending a tiny batch to a second asset first.
        await pp.connect(owner).registerAsset(schema, ethers.ZeroHash, "http://127.0.0.1/gw");
        const warmId = assetId + 1n;
        const warm = { format: "catenax" as const, payload: batch(3) };
        const w = await client.upload(owner!, warmId, warm);
        if (!w.created) throw new Error("warm-up upload: the gateway held this batch already");
        const payload = batch(plan.records);
        const data = { format: "catenax" as const, payload };
        const body = await signUpload(owner!, domain, assetId, data);
        const payloadBytes = Buffer.byteLength(JSON.stringify(body));
        log(
          `gateway[${plan.circuit}]: ingesting ${payload.manufacturedParts.length} Catena-X quality records …`,
        );
        let t = performance.now();
        const up = await client.request(
          uploadResponseSchema,
          "POST",
          `/assets/${assetId}/uploads`,
          body,
        );
        const ingestMs = performance.now() - t;
        if (!up.created) throw new Error("upload: the gateway held this batch already");
        const v = up.version;
        const nonce = await pp.nonces(owner!.address);
        const pub = await signPublish(
          owner!,
          domain,
          {
            assetId,
            root: BigInt(v.root),
            recordCount: BigInt(v.recordCount),
            treeDepth: BigInt(v.treeDepth),
            paramsHash: v.paramsHash,
          },
          nonce,
          BigInt(Math.floor(Date.now() / 1000) + 600),
        );
        t = performance.now();
        await client.request(
          publishResponseSchema,
          "POST",
          `/assets/${assetId}/versions/${v.localId}/publish`,
          pub,
        );
        const publishMs = performance.now() - t;
        const ingest = {
          records: Number(v.recordCount),
          payloadBytes,
          ms: round(ingestMs, 1),
          recordsPerSecond: Math.round((Number(v.recordCount) / ingestMs) * 1000),
        };
        log(
          `gateway[${plan.circuit}]: ingest ${(ingestMs / 1000).toFixed(2)} s ` +
            `(${ingest.recordsPerSecond.toLocaleString("en-US")} records/s), publish ${(publishMs / 1000).toFixed(2)} s`,
        );
        const latencies: number[] = [];
        const posts: number[] = [];
        const breakdowns: QueryBreakdown[] = [];
        let nonceQ = 1n;
        for (let i = 0; i <= opts.repeat; i++) {
          const q = {
            grantId,
            assetId,
            versionId: 0n,
            kind: AggregateKind.RatioPpm,
            fieldA: 1,
            fieldB: 0,
            lo: policy.keyLo,
            hi: policy.keyHi,
            threshold: 0n,
            requestId: "0x" + randomBytes(32).toString("hex"),
            nonce: nonceQ++,
            deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          };
          const signed = await signQuery(consumer!, domain, q);
          const t0 = performance.now();
          const r = await client.request(queryAcceptedSchema, "POST", "/queries", signed);
          const postMs = performance.now() - t0;
          const postedAt = Date.now() - postMs;
          const job =
            plan.variant === "former"
              ? await pollJob(client, r.jobId, 250)
              : await client.waitJob(r.jobId, { pollMs: 50 });
          const ms = performance.now() - t0;
          if (job.status !== "logged") throw new Error(`query job ended ${JSON.stringify(job)}`);
          const b = job.timeline && breakdown(job.timeline, postedAt, postMs, Date.now());
          if (b && i > 0) breakdowns.push(b);
          const tag = `${plan.circuit}${plan.variant ? `, ${plan.variant}` : ""}`;
          log(
            `gateway[${tag}]: query ${i === 0 ? "(cold)" : i}: logged after ${(ms / 1000).toFixed(2)} s` +
              (b
                ? ` (prove ${(b.prove / 1000).toFixed(2)} s; outside it ${(b.outsideProof / 1000).toFixed(2)} s: queue ${r0(b.queue)}, tree ${r0(b.tree)}, witness ${r0(b.witness)}, prover rest ${r0(b.proverRest)}, relayer ${r0(b.relayer)}, chain ${r0(b.chain)}, client ${r0(b.client)} ms)`
                : ""),
          );
          latencies.push(round(ms, 1));
          posts.push(round(postMs, 1));
        }
        const [cold, ...rest] = latencies;
        runs.push({
          circuit: plan.circuit,
          depth: plan.depth,
          ...(plan.variant ? { variant: plan.variant } : {}),
          ...(breakdowns.length ? { breakdowns } : {}),
          ingest,
          publishMs: round(publishMs, 1),
          coldQueryMs: cold!,
          queryLatencyMs: stats(rest.length ? rest : [cold!]),
          postMs: stats(posts.slice(1).length ? posts.slice(1) : posts),
        });
      } finally {
        await gw.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    opts.onMeasured?.({ runs });
    return { runs };
  } finally {
    await conn.close();
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  }
}

const r0 = (x: number) => Math.round(x);

/** The former way of following a job: GET /jobs/:id every `pollMs` until it is final. */
async function pollJob(client: GatewayClient, jobId: string, pollMs: number): Promise<JobView> {
  for (;;) {
    const job = await client.job(jobId);
    if (job.status === "logged" || job.status === "failed") return job;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Where a query's time went, from its gateway timeline and the client's clock (ms). */
export function breakdown(
  t: JobTimeline,
  postedAt: number,
  postMs: number,
  seenAt: number,
): QueryBreakdown | undefined {
  if (!t.proving || !t.proved || !t.sent || !t.logged || !t.steps) return undefined;
  const { treeMs: tree, witnessMs: witness, proveMs: prove } = t.steps;
  const total = seenAt - postedAt;
  return {
    post: round(postMs, 1),
    queue: t.proving - t.accepted,
    tree,
    witness,
    prove,
    proverRest: t.proved - t.proving - tree - witness - prove,
    relayer: t.sent - t.proved,
    chain: t.logged - t.sent,
    client: seenAt - t.logged,
    total,
    outsideProof: total - prove,
  };
}
