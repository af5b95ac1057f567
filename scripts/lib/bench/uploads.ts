/**
 * `uploads` benchmark: upload + commit of 10^4 / 10^5 (/ 10^6) quality records through the
 * CLI's upload (`cli/supplier.ts` `uploadPath`: chunks within the body limit, a resumable
 * session, one commit) to a gateway run as its own process with its default limits
 * (`gateway/main.ts`, 2 MiB bodies, 30 s ingest budget), and the gateway process's peak RSS
 * (VmHWM: its HTTP thread and its ingest workers). The records are a CSV file with a `partId`
 * identity column (~100 bytes a record). The gateway's tree depth is 20 (the test circuit's
 * artifacts are named only so that it starts: no query is asked here; see below).
 *
 * The child gateway reaches Hardhat's in-process chain through {@link rpcBridge}.
 *
 * The gateway's start-up checks want a depth-20 circuit registered on-chain whose key matches
 * its artifacts. When range_d20 is not built, the bench's private chain registers range_d4's
 * verifier under range_d20's id and the gateway gets range_d4's artifacts under range_d20's
 * names ({@link standInD20}): nothing is proved here, only versions built at depth 20.
 *
 * Usage (a child of scripts/bench.ts): node --import tsx scripts/lib/bench/uploads.ts 1e4,1e5
 * prints one JSON line per size as soon as it is measured.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
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

/** Runs the benchmark for each size; `onRun` gets each size's numbers as soon as measured. */
export async function benchUploads(
  sizes: number[],
  onRun: (r: UploadRun) => void,
  log: (line: string) => void,
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
    const [, owner] = await ethers.getSigners();
    const deployed = await conn.ignition.deploy(partProofModule(["test", "production"]), {
      displayUi: false,
    });
    const address = await deployed.partProof.getAddress();
    const pp = await ethers.getContractAt("PartProof", address);
    const artifactsDir = await standInD20(work, pp as never);
    const schema = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
    for (const [k, n] of sizes.entries()) {
      await (pp.connect(owner!) as any).registerAsset(schema, ethers.ZeroHash, "http://gw");
      const assetId = BigInt(k + 1);
      const file = path.join(work, `quality-${n}.csv`);
      await csvFile(file, n);
      const fileBytes = (await stat(file)).size;
      const port = 20000 + Math.floor(Math.random() * 20000);
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
          relayer: { enabled: false },
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
  await benchUploads(
    sizes,
    (r) => console.log(JSON.stringify(r)),
    (l) => process.stderr.write(l + "\n"),
  );
  process.exit(0);
}
