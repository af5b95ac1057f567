/**
 * `gateway` benchmark: a real gateway (express + LevelDB in a temp folder) against Hardhat's
 * in-process chain with PartProof deployed by the Ignition module, set up with the gateway
 * tests' helpers (test/gateway/helpers.ts). Measures the ingest of a Catena-X quality batch
 * (POST /assets/:id/uploads: validate, map, salt, build the tree, store) and one query's
 * latency from POST /queries until its job is logged on-chain, first with the test circuit
 * (range_d4) and, when built, with the production circuit (range_d20) and a larger batch.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { AggregateKind } from "../../../circuits/lib/signals.js";
import { circuitPaths } from "../circuit-build.js";
import { DEMO_SUPPLIERS, generateQuality, toCatenaX } from "../demo-data.js";
import { ROOT, round, stats, type Log, type Stats } from "./common.js";
import { hardhatBuild } from "./gas.js";

/** Measurements with one circuit. */
export interface GatewayRun {
  circuit: string;
  depth: number;
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

/** Runs the `gateway` benchmark. */
export async function benchGateway(opts: GatewayBenchOptions, log: Log): Promise<GatewayBenchData> {
  await hardhatBuild(log);
  const { network } = await import("hardhat");
  const h = await import("../../../test/gateway/helpers.js");
  const { signPublish, signQuery, signUpload } = await import("../../../protocol/typed-data.js");
  const { keyRange } = await import("../../../protocol/records/index.js");
  const plans: { circuit: string; depth: number; records: number }[] = [
    { circuit: "range_d4", depth: 4, records: 14 },
  ];
  const d20 = circuitPaths("range_d20");
  if (!opts.quick && [d20.wasm, d20.zkey, d20.vkey, d20.verifier].every((f) => existsSync(f))) {
    plans.push({ circuit: "range_d20", depth: 20, records: 5000 });
  }
  const runs: GatewayRun[] = [];
  const conn = await network.create();
  try {
    const { ethers, networkHelpers } = conn;
    const [, owner, consumer, , relayer] = await ethers.getSigners();
    const pp = await h.deploy(conn);
    const address = await pp.getAddress();
    const domain = await h.domainOf(ethers, address);
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
        .grantAccess(assetId, consumer!.address, h.policyTuple(policy), now, now + 86_400n, 1000);
      const grantId = await pp.grantCount();
      const gw = await h.gateway(ethers, address, relayer!, {
        over: {
          circuit: {
            name: plan.circuit,
            depth: plan.depth,
            artifactsDir: path.relative(ROOT, circuitPaths(plan.circuit).dir),
          },
          bodyLimitBytes: 64 * 1024 * 1024,
          logLevel: "warn",
        },
      });
      try {
        // Warm-up: a first upload pays for lazy start-up (Poseidon tables, workers); keep it
        // out of the measured ingest by sending a tiny batch to a second asset first.
        await pp.connect(owner).registerAsset(schema, ethers.ZeroHash, "http://127.0.0.1/gw");
        const warmId = assetId + 1n;
        const warm = { format: "catenax" as const, payload: batch(3) };
        const w = await h.call(
          gw.url,
          "POST",
          `/assets/${warmId}/uploads`,
          await signUpload(owner!, domain, warmId, warm),
        );
        if (w.status !== 201) throw new Error(`warm-up upload: ${w.status} ${w.text}`);
        const payload = batch(plan.records);
        const data = { format: "catenax" as const, payload };
        const body = await signUpload(owner!, domain, assetId, data);
        const payloadBytes = Buffer.byteLength(JSON.stringify(body));
        log(
          `gateway[${plan.circuit}]: ingesting ${payload.manufacturedParts.length} Catena-X quality records …`,
        );
        let t = performance.now();
        const up = await h.call(gw.url, "POST", `/assets/${assetId}/uploads`, body);
        const ingestMs = performance.now() - t;
        if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.text}`);
        const v = up.body.version;
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
        const p = await h.call(
          gw.url,
          "POST",
          `/assets/${assetId}/versions/${v.localId}/publish`,
          pub,
        );
        const publishMs = performance.now() - t;
        if (p.status !== 201) throw new Error(`publish: ${p.status} ${p.text}`);
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
            requestId: h.requestId(),
            nonce: nonceQ++,
            deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          };
          const signed = await signQuery(consumer!, domain, q);
          const t0 = performance.now();
          const r = await h.call(gw.url, "POST", "/queries", signed);
          const postMs = performance.now() - t0;
          if (r.status !== 202) throw new Error(`query: ${r.status} ${r.text}`);
          const job = await waitLogged(h.call, gw.url, r.body.jobId as string);
          const ms = performance.now() - t0;
          if (job.status !== "logged") throw new Error(`query job ended ${JSON.stringify(job)}`);
          log(
            `gateway[${plan.circuit}]: query ${i === 0 ? "(cold)" : i}: logged after ${(ms / 1000).toFixed(2)} s`,
          );
          latencies.push(round(ms, 1));
          posts.push(round(postMs, 1));
        }
        const [cold, ...rest] = latencies;
        runs.push({
          circuit: plan.circuit,
          depth: plan.depth,
          ingest,
          publishMs: round(publishMs, 1),
          coldQueryMs: cold!,
          queryLatencyMs: stats(rest.length ? rest : [cold!]),
          postMs: stats(posts.slice(1).length ? posts.slice(1) : posts),
        });
      } finally {
        await gw.close();
        await rm(gw.dataDir, { recursive: true, force: true });
      }
    }
    opts.onMeasured?.({ runs });
    return { runs };
  } finally {
    await conn.close();
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  }
}

type Call = (
  base: string,
  method: string,
  url: string,
) => Promise<{ status: number; body: { status?: string } }>;

async function waitLogged(call: Call, base: string, id: string) {
  for (;;) {
    const r = await call(base, "GET", `/jobs/${id}`);
    const s = r.body.status;
    if (s === "logged" || s === "failed" || r.status >= 400) return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
}
