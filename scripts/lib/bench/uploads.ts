/**
 * `uploads` benchmark: upload + commit of 10^4 / 10^5 (/ 10^6) quality records through the
 * CLI's upload (`cli/supplier.ts` `uploadPath`: chunks within the body limit, a resumable
 * session, one commit) to a gateway run as its own process with its default limits
 * (`gateway/main.ts`, 2 MiB bodies, 30 s ingest budget), and the gateway process's peak RSS
 * (VmHWM: its HTTP thread and its ingest workers). The records are a CSV file with a `partId`
 * identity column (~100 bytes a record). The gateway's tree depth is 20.
 *
 * Answering (by default for 10^6 records, the issue's "peak RSS ≤ 1 GiB while answering queries
 * on a 10^6-record version"): after the commit the owner publishes the version, grants a consumer
 * a policy over one part number, and the consumer asks a few queries of it (COUNT, SUM, RATIO_PPM
 * over its records), one after another, each followed until logged. The gateway process's peak
 * RSS is reset (`/proc/<pid>/clear_refs`) before the first query, so the figure is the peak while
 * answering, not the ingest's; its prover processes' peaks are reported apart. This needs the
 * real range_d20 artifacts (not the stand-in below).
 *
 * The child gateway reaches Hardhat's in-process chain through {@link rpcBridge}.
 *
 * The gateway's start-up checks want a depth-20 circuit registered on-chain whose key matches
 * its artifacts. When range_d20 is not built, the bench's private chain registers range_d4's
 * verifier under range_d20's id and the gateway gets range_d4's artifacts under range_d20's
 * names ({@link standInD20}): then nothing can be proved, only versions built at depth 20, and
 * no query is asked.
 *
 * Usage (a child of scripts/bench.ts): node --import tsx scripts/lib/bench/uploads.ts 1e4,1e5
 * [--answer 1e5] prints one JSON line per size as soon as it is measured; `--answer` lists the
 * sizes whose version also answers queries (default: 10^6 and up).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { ROOT, loadavg, parseCount, round } from "./common.js";

/** Measurements of one size. */
export interface UploadRun {
  records: number;
  fileBytes: number;
  chunks: number;
  /** Upload (every chunk) + commit, seconds. */
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  /** Peak resident set of the gateway process, MiB. */
  gatewayPeakRssMiB: number;
  loadavg: number[];
  /** Queries asked of the version once published (the sizes chosen to answer). */
  answering?: Answering;
}

/** Queries answered on the uploaded version, and memory while answering. */
export interface Answering {
  /** The aggregates asked, in order. */
  queries: string[];
  /** Each answer's result value (COUNT: the part's records, 1 in 50 of the version's). */
  results: string[];
  /** Seconds from sending each query to its answer logged. */
  seconds: number[];
  /** Peak resident set of the gateway process from the first query to the last answer, MiB. */
  gatewayPeakRssMiB: number;
  /** Peak resident set of each prover process (they only prove), MiB. */
  proverPeakRssMiB: number[];
  loadavg: number[];
}

/** An EIP-1193 provider's `request`. */
type Request = (a: { method: string; params?: unknown[] }) => Promise<unknown>;

/** Serves an EIP-1193 provider as JSON-RPC over HTTP (single and batch requests). */
export async function rpcBridge(request: Request): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const msg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const one = async (m: { id: unknown; method: string; params?: unknown[] }) => {
        try {
          return {
            jsonrpc: "2.0",
            id: m.id,
            result: await request({ method: m.method, params: m.params ?? [] }),
          };
        } catch (e) {
          const err = e as { code?: number; message?: string; data?: unknown };
          return {
            jsonrpc: "2.0",
            id: m.id,
            error: { code: err.code ?? -32603, message: err.message ?? "error", data: err.data },
          };
        }
      };
      const out = Array.isArray(msg) ? await Promise.all(msg.map(one)) : await one(msg);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
    })();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return server;
}

/** Starts `gateway/main.ts --config <file>` and resolves once it listens. */
export async function startGatewayProcess(
  config: string,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "gateway/main.ts", "--config", config],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-8000);
      if (err.includes("gateway listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
  return child;
}

/** Stops a child with SIGKILL (or SIGTERM) and waits for it. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Peak resident set (VmHWM) of a process, MiB (Linux). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? round(Number(m[1]) / 1024, 1) : NaN;
}

/** Resets a process's peak resident set to its current one (Linux ≥ 4.0, our own child). */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** The child processes of a process (every thread's children). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/**
 * The artifacts folder of range_d20, or (when it is not built) a folder holding range_d4's
 * artifacts under range_d20's names, with range_d4's verifier registered under range_d20's id
 * on the bench's chain, so that a depth-20 gateway starts. No proof is asked of it.
 */
async function standInD20(
  work: string,
  pp: {
    getCircuit(id: string): Promise<{ verifier: string }>;
    registerCircuit(id: string, verifier: string): Promise<{ wait(): Promise<unknown> }>;
  },
): Promise<string> {
  const built = path.join(ROOT, "circuits/build/range_d20");
  if (existsSync(path.join(built, "range_d20.zkey"))) return built;
  const { circuitId } = await import("../../../circuits/lib/signals.js");
  const d4 = path.join(ROOT, "circuits/build/range_d4");
  const dir = path.join(work, "range_d20-stand-in");
  await mkdir(dir, { recursive: true });
  await symlink(path.join(d4, "range_d4_js/range_d4.wasm"), path.join(dir, "range_d20.wasm"));
  await symlink(path.join(d4, "range_d4.zkey"), path.join(dir, "range_d20.zkey"));
  await symlink(path.join(d4, "range_d4.vkey.json"), path.join(dir, "range_d20.vkey.json"));
  const { verifier } = await pp.getCircuit(circuitId("range_d4"));
  await (await pp.registerCircuit(circuitId("range_d20"), verifier)).wait();
  return dir;
}

/** A quality CSV of `n` records with a partId each. */
async function csvFile(file: string, n: number): Promise<void> {
  const lines = [
    "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests,partId",
  ];
  const day0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    const date = new Date(day0 + (i % 700) * 86_400_000).toISOString().slice(0, 10);
    lines.push(
      `GBX-${3232455 + (i % 50)},${4711 + (i % 4)},${date},${i % 17 === 0},${1 + (i % 5)},${randomUUID()}`,
    );
  }
  await writeFile(file, lines.join("\n"));
}

/** The part number whose records the answering queries cover (1 record in 50 of the CSV). */
const ASKED_PART = "GBX-3232455";

/**
 * Publishes local version `v` of `assetId` from the owner's account, grants `consumer` every
 * aggregate over {@link ASKED_PART} (k = 3), asks COUNT, SUM(field 3) and RATIO_PPM(1, 0) of it
 * one after another, each followed until logged, and measures the gateway's memory meanwhile.
 */
async function answerQueries(
  gatewayPid: number,
  s: import("../../../cli/session.js").Session,
  pp: any,
  owner: import("ethers").Signer,
  consumer: import("ethers").Signer,
  assetId: bigint,
  v: { root: string; recordCount: number; treeDepth: number; paramsHash: string },
  log: (line: string) => void,
): Promise<Answering> {
  const { keyRange } = await import("../../../protocol/records/index.js");
  const { policyStruct } = await import("../../../protocol/contract.js");
  const { AggregateKind } = await import("../../../circuits/lib/signals.js");
  const { gatewayOf } = await import("../../../cli/session.js");
  const { hexlify, randomBytes } = await import("ethers");
  await (
    await pp
      .connect(owner)
      .publishVersion(assetId, BigInt(v.root), BigInt(v.recordCount), v.treeDepth, v.paramsHash)
  ).wait();
  const now = BigInt((await s.provider.getBlock("latest"))!.timestamp);
  const part = keyRange({ partNumber: ASKED_PART });
  const grant = await (
    await pp.connect(owner).grantAccess(
      assetId,
      await consumer.getAddress(),
      policyStruct({
        aggregateMask: 0b1111111,
        fieldMask: 0b1111,
        filterMask: 0,
        ...part,
        minCohort: 3,
      }),
      now - 60n,
      now + 86_400n,
      100n,
    )
  ).wait();
  const issued = grant.logs
    .map((l: never) => pp.interface.parseLog(l))
    .find((e: { name: string } | null) => e?.name === "GrantIssued");
  const grantId = issued.args.grantId as bigint;
  const asked = [
    { name: "COUNT", kind: AggregateKind.Count, fieldA: 0, fieldB: 0 },
    { name: "SUM(3)", kind: AggregateKind.Sum, fieldA: 3, fieldB: 0 },
    { name: "RATIO_PPM(1,0)", kind: AggregateKind.RatioPpm, fieldA: 1, fieldB: 0 },
  ];
  const gw = gatewayOf(s);
  resetPeakRss(gatewayPid);
  const results: string[] = [];
  const seconds: number[] = [];
  for (const q of asked) {
    const t0 = performance.now();
    const job = await gw.query(consumer, {
      grantId,
      assetId,
      versionId: 0n,
      kind: q.kind,
      fieldA: q.fieldA,
      fieldB: q.fieldB,
      lo: part.keyLo,
      hi: part.keyHi,
      threshold: 0n,
      requestId: hexlify(randomBytes(32)),
      nonce: BigInt(hexlify(randomBytes(16))),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
    });
    const done = await gw.waitJob(job.jobId, { until: "logged", timeoutMs: 30 * 60_000 });
    if (done.status !== "logged") {
      throw new Error(`query ${q.name} ended ${done.status}: ${JSON.stringify(done.error)}`);
    }
    seconds.push(round((performance.now() - t0) / 1000, 1));
    results.push(done.answer?.resultValue.toString() ?? "");
    log(`  ${v.recordCount}: ${q.name} logged in ${seconds.at(-1)} s`);
  }
  return {
    queries: asked.map((q) => q.name),
    results,
    seconds,
    gatewayPeakRssMiB: peakRss(gatewayPid),
    proverPeakRssMiB: childrenOf(gatewayPid).map(peakRss),
    loadavg: loadavg(),
  };
}

/**
 * Runs the benchmark for each size; `onRun` gets each size's numbers as soon as measured. A
 * size that `answer` accepts also answers queries once uploaded (default: 10^6 and up).
 */
export async function benchUploads(
  sizes: number[],
  onRun: (r: UploadRun) => void,
  log: (line: string) => void,
  answer: (records: number) => boolean = (n) => n >= 1_000_000,
): Promise<UploadRun[]> {
  const { network } = await import("hardhat");
  const { partProofModule } = await import("../../../ignition/modules/PartProof.js");
  const { openSession } = await import("../../../cli/session.js");
  const { uploadPath } = await import("../../../cli/supplier.js");
  const conn = await network.create();
  const bridge = await rpcBridge((a) => conn.provider.request(a) as Promise<unknown>);
  const work = await mkdtemp(path.join(os.tmpdir(), "partproof-bench-uploads-"));
  const runs: UploadRun[] = [];
  try {
    const { ethers } = conn;
    const [, owner, consumer] = await ethers.getSigners();
    const deployed = await conn.ignition.deploy(partProofModule(["test", "production"]), {
      displayUi: false,
    });
    const address = await deployed.partProof.getAddress();
    const pp = await ethers.getContractAt("PartProof", address);
    const artifactsDir = await standInD20(work, pp as never);
    const canProve = artifactsDir === path.join(ROOT, "circuits/build/range_d20");
    const schema = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
    for (const [k, n] of sizes.entries()) {
      await (pp.connect(owner!) as any).registerAsset(schema, ethers.ZeroHash, "http://gw");
      const assetId = BigInt(k + 1);
      const file = path.join(work, `quality-${n}.csv`);
      await csvFile(file, n);
      const fileBytes = (await stat(file)).size;
      const port = 20000 + Math.floor(Math.random() * 20000);
      const answers = answer(n) && canProve;
      if (answer(n) && !canProve) log(`  ${n}: range_d20 is not built: no query is asked`);
      const config = path.join(work, `gateway-${n}.json`);
      await writeFile(
        config,
        JSON.stringify({
          port,
          host: "127.0.0.1",
          dataDir: path.join(work, `db-${n}`),
          chain: { rpcUrl: `http://127.0.0.1:${(bridge.address() as AddressInfo).port}` },
          contracts: { partProof: address },
          relayerKey: { source: "env", name: "BENCH_UPLOADS_RELAYER_KEY" },
          circuit: { name: "range_d20", depth: 20, artifactsDir },
          // the relayer logs the answers of the sizes that answer queries
          relayer: { enabled: answers },
          logLevel: "warn",
        }),
      );
      const child = await startGatewayProcess(config, {
        // Hardhat's first development account; a relayer is not used here
        BENCH_UPLOADS_RELAYER_KEY:
          "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
      });
      try {
        const s = await openSession({
          provider: ethers.provider,
          deployment: { chainId: 31337, partProof: address, deploymentBlock: 0, verifiers: {} },
          gatewayUrl: `http://127.0.0.1:${port}`,
        });
        const t0 = performance.now();
        let last = 0;
        const up = await uploadPath(s, owner!, assetId, file, {
          replace: true,
          onProgress: (p) => {
            if (performance.now() - last > 10_000) {
              last = performance.now();
              log(
                `  ${n}: chunk ${p.chunk}/${p.chunkCount}, ${p.records} records, ${p.mbPerSec.toFixed(2)} MB/s`,
              );
            }
          },
        });
        const seconds = (performance.now() - t0) / 1000;
        if (up.version.recordCount !== n) {
          throw new Error(`the version holds ${up.version.recordCount} records, not ${n}`);
        }
        const run: UploadRun = {
          records: n,
          fileBytes,
          chunks: up.chunks,
          seconds: round(seconds, 1),
          recordsPerSecond: Math.round(n / seconds),
          mbPerSecond: round(fileBytes / 1e6 / seconds, 2),
          gatewayPeakRssMiB: peakRss(child.pid!),
          loadavg: loadavg(),
        };
        if (answers) {
          run.answering = await answerQueries(
            child.pid!,
            s,
            pp,
            owner!,
            consumer!,
            assetId,
            up.version,
            log,
          );
        }
        runs.push(run);
        onRun(run);
      } finally {
        await stopProcess(child, "SIGTERM");
      }
    }
  } finally {
    bridge.close();
    await rm(work, { recursive: true, force: true });
  }
  return runs;
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === path.join(ROOT, "scripts/lib/bench/uploads.ts")
) {
  const sizes = (process.argv[2] ?? "1e4,1e5").split(",").map(parseCount);
  const at = process.argv.indexOf("--answer");
  const answering = at > 0 ? (process.argv[at + 1] ?? "").split(",").map(parseCount) : undefined;
  await benchUploads(
    sizes,
    (r) => console.log(JSON.stringify(r)),
    (l) => process.stderr.write(l + "\n"),
    answering ? (n) => answering.includes(n) : undefined,
  );
  process.exit(0);
}
