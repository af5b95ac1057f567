/**
 * `proof` benchmark: the gateway's prover against raw snarkjs on the same zkey and witness, in
 * the same run, round after round (so that both see the same load):
 * - raw: `snarkjs groth16 prove <zkey> <wtns>` (snarkjs' own command line, a fresh process at
 *   the provers' nice level: its wall time includes Node's start-up and reading the zkey);
 * - process: the gateway's `ProverPool` (gateway/prover/pool.ts) in its default mode, a child
 *   process in which snarkjs proves on every core;
 * - thread: the same pool as a worker thread (the former mode; snarkjs single-threaded there).
 * It also samples this process's event-loop delay while the pool proves: the gateway's HTTP
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
import { PROVER_NICE, ProverPool, type ProveTask } from "../../../gateway/prover/pool.js";
import { storePolicy, storeQuery } from "../../../gateway/store/job-codec.js";
import { circuitPaths, r1csInfo } from "../circuit-build.js";
import { fmtCount, ROOT, round, stats, syntheticRecords, type Log, type Stats } from "./common.js";
import { BENCH_BINDING, benchPolicy, benchQuery } from "./prove-input.js";

/** Options of {@link benchProof}. */
export interface ProofBenchOptions {
  /** Circuit instance (range_d20, or range_d4 in --quick). */
  circuit: string;
  /** Its tree depth. */
  depth: number;
  /** Records in the tree (proving time does not depend on it). */
  records: number;
  /** Measured rounds (each: raw, process, thread) after one warm-up proof per pool. */
  rounds: number;
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
  /** The gateway's prover (child process, snarkjs' thread pool). */
  process: ProverModeRun;
  /** The former prover (worker thread, single-threaded snarkjs). */
  thread: ProverModeRun;
  /** Every proof of the pools verified against the vkey. */
  verified: boolean;
  /** The target for range_d20 on 2 idle cores, s. */
  targetSeconds: number;
}

/** Runs snarkjs' command line at the gateway provers' priority (a fair baseline on a busy machine). */
function runCli(args: string[]): Promise<number> {
  const t0 = performance.now();
  const cli = [process.execPath, path.join(ROOT, "node_modules/snarkjs/build/cli.cjs"), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn("nice", ["-n", String(PROVER_NICE), ...cli], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`snarkjs ${args.join(" ")} exited with ${code}: ${err}`)),
    );
  });
}

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
  const pools = {
    process: new ProverPool(1, artifacts),
    thread: new ProverPool(1, artifacts, { kind: "thread" }), // runs at the bench's priority
  };
  const raw: number[] = [];
  const samples = () => ({
    prove: [] as number[],
    cpu: [] as number[],
    witness: [] as number[],
    trip: [] as number[],
    p99: [] as number[],
    max: [] as number[],
  });
  const runs = { process: samples(), thread: samples() };
  let verified = true;
  try {
    log(
      `proof: ${opts.circuit} (${info.nConstraints.toLocaleString("en-US")} constraints) over ${fmtCount(opts.records)} records; ` +
        `warming up both pools (tree build, curve start-up) …`,
    );
    for (const pool of Object.values(pools)) await pool.prove(task);
    for (let i = 1; i <= opts.rounds; i++) {
      const rawMs = await runCli([
        "groth16",
        "prove",
        p.zkey,
        wtnsFile,
        path.join(tmp, "proof.json"),
        path.join(tmp, "public.json"),
      ]);
      raw.push(round(rawMs, 1));
      const line = [`raw snarkjs ${(rawMs / 1000).toFixed(2)} s`];
      for (const mode of ["process", "thread"] as const) {
        const h = monitorEventLoopDelay({ resolution: 10 });
        h.enable();
        const t0 = performance.now();
        const r = await pools[mode].prove(task);
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
        line.push(`${mode} ${(r.steps.proveMs / 1000).toFixed(2)} s`);
      }
      log(
        `proof: round ${i}/${opts.rounds}: ${line.join(", ")} (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
  } finally {
    await Promise.all(Object.values(pools).map((pool) => pool.close()));
    await rm(tmp, { recursive: true, force: true });
  }
  const mode = (m: (typeof runs)["process"]): ProverModeRun => ({
    proveMs: stats(m.prove),
    proveCpuMs: stats(m.cpu),
    witnessMs: stats(m.witness),
    roundTripMs: stats(m.trip),
    loopDelayMs: { p99: Math.max(...m.p99), max: Math.max(...m.max) },
  });
  const data: ProofBenchData = {
    circuit: opts.circuit,
    constraints: info.nConstraints,
    records: opts.records,
    rounds: opts.rounds,
    cpus: os.cpus().length,
    raw: { wallMs: stats(raw) },
    process: mode(runs.process),
    thread: mode(runs.thread),
    verified,
    targetSeconds: 3,
  };
  log(
    `proof: median prove: gateway (process) ${(data.process.proveMs.median / 1000).toFixed(2)} s, ` +
      `raw snarkjs CLI ${(data.raw.wallMs.median / 1000).toFixed(2)} s (process wall), ` +
      `former thread ${(data.thread.proveMs.median / 1000).toFixed(2)} s; gateway prover CPU/wall ` +
      `${(data.process.proveCpuMs.median / data.process.proveMs.median).toFixed(2)} cores; ` +
      `loop delay p99 ≤ ${data.process.loopDelayMs.p99} ms`,
  );
  if (!verified) throw new Error("proof: a pool's proof did not verify");
  return data;
}
