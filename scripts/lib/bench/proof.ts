/**
 * `proof` benchmark: the gateway's prover against raw snarkjs on the same zkey and witness, in
 * the same run, round after round (so that all see the same load):
 * - raw: `snarkjs groth16 prove <zkey> <wtns>` (snarkjs' own command line, a fresh process at
 *   the provers' nice level: its wall time includes Node's start-up and reading the zkey);
 * - native: the native prover's command line (circuits/native/prove-cli.ts), the same way; it
 *   also reports its proving time without the process's start-up;
 * - process: the gateway's `ProverPool` (gateway/prover/pool.ts) in its default mode, a child
 *   process proving with the native prover when it is built (its proofs are checked against
 *   the vkey there, which the time includes), else snarkjs;
 * - snarkjs: the same pool told to prove with snarkjs (its thread pool on every core);
 * - thread: the pool as a worker thread with snarkjs (the first mode; single-threaded there),
 *   unless `skipThread`.
 * It also samples this process's event-loop delay while a pool proves: the gateway's HTTP
 * loop must stay responsive while a proof takes every core.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { buildTree, randomSalt } from "../../../circuits/lib/tree.js";
import { rangeWitness } from "../../../circuits/lib/witness.js";
import { loadNativeProver } from "../../../circuits/native/groth16.js";
import { PROVER_NICE, ProverPool, type ProveTask } from "../../../gateway/prover/pool.js";
import type { ProverEngine } from "../../../gateway/prover/worker.js";
import { storePolicy, storeQuery } from "../../../gateway/store/job-codec.js";
import { circuitPaths, r1csInfo } from "../circuit-build.js";
import { fmtCount, ROOT, round, stats, syntheticRecords, type Log, type Stats } from "./common.js";
import { BENCH_BINDING, benchPolicy, benchQuery } from "./prove-input.js";

/** The pools the benchmark runs (see the file's comment). */
type PoolMode = "process" | "snarkjs" | "thread";

/** Options of {@link benchProof}. */
export interface ProofBenchOptions {
  /** Circuit instance (range_d20, or range_d4 in --quick). */
  circuit: string;
  /** Its tree depth. */
  depth: number;
  /** Records in the tree (proving time does not depend on it). */
  records: number;
  /** Measured rounds (each: raw, native, process, snarkjs, thread) after one warm-up proof per pool. */
  rounds: number;
  /** Leave out the worker-thread pool (snarkjs on one core: the slowest row). */
  skipThread?: boolean;
}

/** One prover mode's numbers, ms. */
export interface ProverModeRun {
  /** Groth16 proving (snarkjs groth16.prove, zkey read included) inside the worker. */
  proveMs: Stats;
  /** CPU time of the worker's process while proving (process mode: every snarkjs thread). */
  proveCpuMs: Stats;
  /** Witness computation inside the worker. */
  witnessMs: Stats;
  /** The caller's wait for `pool.prove` (witness, proof, messages). */
  roundTripMs: Stats;
  /** Event-loop delay of the caller while proving: p99 and max, ms. */
  loopDelayMs: { p99: number; max: number };
  /** The prover the pool's worker used. */
  engine?: ProverEngine;
}

/** Result of the `proof` benchmark. */
export interface ProofBenchData {
  circuit: string;
  constraints: number;
  records: number;
  rounds: number;
  cpus: number;
  /** `snarkjs groth16 prove` command line, wall time of the process, ms. */
  raw: { wallMs: Stats };
  /**
   * The native prover's command line (absent when its addon is not built): wall time of the
   * process; its proving time inside (zkey and witness read included) and that time's CPU.
   */
  native?: { wallMs: Stats; proveMs: Stats; cpuMs: Stats };
  /** The gateway's prover (child process; native prover when built, else snarkjs). */
  process: ProverModeRun;
  /** The gateway's pool told to use snarkjs (child process, snarkjs' thread pool). */
  snarkjs?: ProverModeRun;
  /** The first prover (worker thread, single-threaded snarkjs); absent with `skipThread`. */
  thread?: ProverModeRun;
  /** Every proof of the pools verified against the vkey. */
  verified: boolean;
  /** The target for range_d20 on 2 idle cores, s. */
  targetSeconds: number;
}

/**
 * Runs a command line at the gateway provers' priority (a fair baseline on a busy machine);
 * resolves with its wall time and standard output.
 */
function runCli(cli: string[]): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("nice", ["-n", String(PROVER_NICE), ...cli], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-2000)));
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t0, stdout: out })
        : reject(new Error(`${cli.slice(1).join(" ")} exited with ${code}: ${err}`)),
    );
  });
}

const SNARKJS_CLI = [process.execPath, path.join(ROOT, "node_modules/snarkjs/build/cli.cjs")];
const NATIVE_CLI = [
  process.execPath,
  "--import",
  "tsx",
  path.join(ROOT, "circuits/native/prove-cli.ts"),
];

/** Runs the `proof` benchmark. */
export async function benchProof(opts: ProofBenchOptions, log: Log): Promise<ProofBenchData> {
  const p = circuitPaths(opts.circuit);
  const info = await r1csInfo(p.r1cs);
  const vkey = JSON.parse(readFileSync(p.vkey, "utf8")) as unknown;
  const records = syntheticRecords(opts.records);
  const salts = records.map(() => randomSalt());
  const tree = await buildTree(records, salts, opts.depth);
  const query = benchQuery(opts.records);
  const policy = benchPolicy(opts.records);
  const blind = 12345n;
  const witness = rangeWitness(tree, query, policy, blind, BENCH_BINDING);
  const tmp = await mkdtemp(path.join(os.tmpdir(), "partproof-bench-proof-"));
  const wtnsFile = path.join(tmp, "witness.wtns");
  const toStr = (v: unknown): unknown =>
    typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(toStr) : v;
  const input = Object.fromEntries(Object.entries(witness.input).map(([k, v]) => [k, toStr(v)]));
  await snarkjs.wtns.calculate(input, p.wasm, wtnsFile);
  const task: ProveTask = {
    root: tree.root.toString(),
    records: records.map((r) => [r.key, ...r.values].map(String)),
    salts: salts.map(String),
    depth: opts.depth,
    minMaxField: 3,
    // as the gateway stores a signed query (the fields the circuit does not read are zero)
    query: storeQuery({
      ...query,
      grantId: 0n,
      assetId: 0n,
      versionId: 0n,
      requestId: "0x" + "00".repeat(32),
      deadline: 0n,
      predicates: [],
    }),
    policy: storePolicy(policy),
    blind: blind.toString(),
    binding: BENCH_BINDING.toString(),
  };
  const artifacts = { range: { wasm: p.wasm, zkey: p.zkey } };
  const pools: Partial<Record<PoolMode, ProverPool>> = {
    process: new ProverPool(1, artifacts),
    snarkjs: new ProverPool(1, artifacts, { prover: "snarkjs" }),
    // runs at the bench's priority
    ...(opts.skipThread
      ? {}
      : { thread: new ProverPool(1, artifacts, { kind: "thread", prover: "snarkjs" }) }),
  };
  const modes = Object.keys(pools) as PoolMode[];
  const hasNative = loadNativeProver() !== null;
  const raw: number[] = [];
  const native = { wall: [] as number[], prove: [] as number[], cpu: [] as number[] };
  const engines: Partial<Record<PoolMode, ProverEngine>> = {};
  const samples = () => ({
    prove: [] as number[],
    cpu: [] as number[],
    witness: [] as number[],
    trip: [] as number[],
    p99: [] as number[],
    max: [] as number[],
  });
  const runs = { process: samples(), snarkjs: samples(), thread: samples() };
  let verified = true;
  try {
    log(
      `proof: ${opts.circuit} (${info.nConstraints.toLocaleString("en-US")} constraints) over ${fmtCount(opts.records)} records; ` +
        `warming up the pools (tree build, curve start-up) …`,
    );
    for (const pool of Object.values(pools)) await pool.prove(task);
    const outFiles = [path.join(tmp, "proof.json"), path.join(tmp, "public.json")];
    for (let i = 1; i <= opts.rounds; i++) {
      const rawRun = await runCli([
        ...SNARKJS_CLI,
        "groth16",
        "prove",
        p.zkey,
        wtnsFile,
        ...outFiles,
      ]);
      raw.push(round(rawRun.ms, 1));
      const line = [`raw snarkjs ${(rawRun.ms / 1000).toFixed(2)} s`];
      if (hasNative) {
        const n = await runCli([...NATIVE_CLI, p.zkey, wtnsFile, ...outFiles]);
        const inner = JSON.parse(n.stdout.trim().split("\n").pop()!) as {
          proveMs: number;
          cpuMs: number;
        };
        const publicSignals = JSON.parse(readFileSync(outFiles[1]!, "utf8")) as string[];
        const proof = JSON.parse(readFileSync(outFiles[0]!, "utf8")) as unknown;
        verified &&= (await snarkjs.groth16.verify(vkey, publicSignals, proof)) as boolean;
        native.wall.push(round(n.ms, 1));
        native.prove.push(round(inner.proveMs, 1));
        native.cpu.push(round(inner.cpuMs, 1));
        line.push(
          `native ${(inner.proveMs / 1000).toFixed(2)} s (process ${(n.ms / 1000).toFixed(2)} s)`,
        );
      }
      for (const mode of modes) {
        const h = monitorEventLoopDelay({ resolution: 10 });
        h.enable();
        const t0 = performance.now();
        const r = await pools[mode]!.prove(task);
        const trip = performance.now() - t0;
        h.disable();
        verified &&= (await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof)) as boolean;
        const m = runs[mode];
        m.prove.push(round(r.steps.proveMs, 1));
        m.cpu.push(round(r.steps.proveCpuMs, 1));
        m.witness.push(round(r.steps.witnessMs, 1));
        m.trip.push(round(trip, 1));
        m.p99.push(round(h.percentile(99) / 1e6, 1));
        m.max.push(round(h.max / 1e6, 1));
        engines[mode] = r.steps.prover;
        line.push(`${mode} (${r.steps.prover}) ${(r.steps.proveMs / 1000).toFixed(2)} s`);
      }
      log(
        `proof: round ${i}/${opts.rounds}: ${line.join(", ")} (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
  } finally {
    await Promise.all(Object.values(pools).map((pool) => pool.close()));
    await rm(tmp, { recursive: true, force: true });
  }
  const mode = (k: PoolMode): ProverModeRun => {
    const m = runs[k];
    return {
      proveMs: stats(m.prove),
      proveCpuMs: stats(m.cpu),
      witnessMs: stats(m.witness),
      roundTripMs: stats(m.trip),
      loopDelayMs: { p99: Math.max(...m.p99), max: Math.max(...m.max) },
      ...(engines[k] ? { engine: engines[k] } : {}),
    };
  };
  const data: ProofBenchData = {
    circuit: opts.circuit,
    constraints: info.nConstraints,
    records: opts.records,
    rounds: opts.rounds,
    cpus: os.cpus().length,
    raw: { wallMs: stats(raw) },
    ...(hasNative
      ? {
          native: {
            wallMs: stats(native.wall),
            proveMs: stats(native.prove),
            cpuMs: stats(native.cpu),
          },
        }
      : {}),
    process: mode("process"),
    snarkjs: mode("snarkjs"),
    ...(pools.thread ? { thread: mode("thread") } : {}),
    verified,
    targetSeconds: 3,
  };
  const sec = (ms: number | undefined) => (ms === undefined ? "-" : (ms / 1000).toFixed(2));
  log(
    `proof: median prove: gateway (process, ${data.process.engine}) ${sec(data.process.proveMs.median)} s, ` +
      `native ${sec(data.native?.proveMs.median)} s (process wall ${sec(data.native?.wallMs.median)} s), ` +
      `raw snarkjs CLI ${sec(data.raw.wallMs.median)} s (process wall), gateway with snarkjs ` +
      `${sec(data.snarkjs?.proveMs.median)} s, thread ${sec(data.thread?.proveMs.median)} s; gateway prover CPU/wall ` +
      `${(data.process.proveCpuMs.median / data.process.proveMs.median).toFixed(2)} cores; ` +
      `loop delay p99 ≤ ${data.process.loopDelayMs.p99} ms`,
  );
  if (!verified) throw new Error("proof: a pool's proof did not verify");
  return data;
}
