/**
 * The RESULTS.md tables and README rows of the issue-13 benchmarks: `proof` (the gateway's
 * prover vs raw snarkjs), `latency` (where a query's time goes, former way vs now) and `verify`
 * (batched re-verification vs snarkjs one by one).
 */
import type { BenchEntry, BenchResults, Stats } from "./common.js";
import type { GatewayBenchData, QueryBreakdown } from "./gateway.js";
import type { ProofBenchData } from "./proof.js";
import type { VerifyBenchData } from "./verify.js";

const s = (ms: number, d = 2) => (ms / 1000).toFixed(d);
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const med = (st: Stats, d = 2) => `${s(st.median, d)} (${s(st.min, d)}–${s(st.max, d)})`;

function header(name: string, e: BenchEntry): string {
  const when = e.date.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const load = `load average ${e.loadavg.start.join(" / ")} at the start, ${e.loadavg.end.join(" / ")} at the end (1 / 5 / 15 min)`;
  return `_${name}: measured ${when}${e.quick ? " in --quick mode (smoke-test sizes, not a measurement)" : ""}; ${load}; took ${e.seconds.toFixed(0)} s._`;
}

/** RESULTS.md section of the `proof` benchmark. */
export function proofSection(e: BenchEntry<ProofBenchData>): string[] {
  const d = e.data!;
  const cores = (m: ProofBenchData["process"]) =>
    (m.proveCpuMs.median / m.proveMs.median).toFixed(2);
  const pool = (label: string, m: ProofBenchData["process"] | undefined, thread = false) =>
    m
      ? [
          `| ${label} | ${med(m.proveMs)} | ${s(m.witnessMs.median)} | ${med(m.roundTripMs)} | ${thread ? "(whole process)" : cores(m)} | ${m.loopDelayMs.p99} / ${m.loopDelayMs.max} |`,
        ]
      : [];
  const n = d.native;
  return [
    `### Proof: the gateway's prover vs raw snarkjs (\`${d.circuit}\`)`,
    "",
    header("proof", e),
    "",
    `${int(d.constraints)} constraints; the same zkey and witness; ${d.rounds} rounds, each: raw snarkjs, the native prover's command line, then each pool below (after one warm-up proof per pool). Seconds, median (min–max).`,
    "",
    "| prover | Groth16 proof (s) | witness (s) | caller's wait (s) | CPU / wall while proving | caller's event-loop delay p99 / max (ms) |",
    "|---|---:|---:|---:|---:|---:|",
    `| raw \`snarkjs groth16 prove\` (command line at nice 5 like the provers: a process's wall time, Node start-up and zkey read included) | ${med(d.raw.wallMs)} | (given) | | | |`,
    ...(n
      ? [
          `| native prover (circuits/native), its command line at nice 5: proving, zkey and witness read included (the whole process: ${med(n.wallMs)}) | ${med(n.proveMs)} | (given) | | ${(n.cpuMs.median / n.proveMs.median).toFixed(2)} | |`,
        ]
      : []),
    ...pool(
      `gateway prover now: a child process, ${d.process.engine ?? "snarkjs"} prover${d.process.engine === "native" ? " (each proof checked against the vkey in the worker, included)" : ""}`,
      d.process,
    ),
    ...pool("gateway prover told to use snarkjs: a child process, snarkjs' thread pool", d.snarkjs),
    ...pool("first gateway prover: a worker thread, snarkjs single-threaded", d.thread, true),
    "",
    `CPU / wall: CPU time of the prover process (all its threads) during the proof over its wall time: the cores it used, at most ${d.cpus} on an idle machine, its share of the CPUs on a busy one. The prover processes run at nice 5, so the gateway's HTTP loop comes first (the event-loop delay column is the caller's, i.e. the HTTP loop's, while a proof ran); the command lines run at nice 5 too, the thread prover at the benchmark's priority. Target: ${d.circuit} ≤ ${d.targetSeconds} s on 2 idle cores.`,
    "",
  ];
}

const STEPS: [keyof QueryBreakdown, string][] = [
  ["post", "POST /queries response (checks, job stored)"],
  ["queue", "accepted → prover took it"],
  ["tree", "tree (cached after the cold query)"],
  ["witness", "witness"],
  ["prove", "Groth16 proof"],
  ["proverRest", "prover messages, storing the answer"],
  ["relayer", "proved → recordAnswer sent (wake-up, gas estimate, send)"],
  ["chain", "sent → logged (mined, 1 confirmation, stored)"],
  ["client", "logged → seen by the client"],
  ["total", "POST → seen logged"],
  ["outsideProof", "of which outside the proof"],
];

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/** RESULTS.md section of the `latency` benchmark. */
export function latencySection(e: BenchEntry<GatewayBenchData>): string[] {
  const runs = e.data!.runs.filter((r) => r.breakdowns?.length);
  if (!runs.length) return [];
  const out = [
    `### Latency: where a query's time goes (\`${runs[0]!.circuit}\`, POST → logged)`,
    "",
    header("latency", e),
    "",
    "A real gateway (express + LevelDB, Hardhat's in-process chain, automine, 1 confirmation, " +
      `the default relayer) answering a RATIO_PPM query over ${int(runs[0]!.ingest.records)} ` +
      "records; steps from the job's timeline (GET /jobs/:id) and the client's clock. Former: a " +
      "prover worker thread and a client polling every 250 ms; now: prover processes and a " +
      "long-polling client. Medians of the measured queries (after a cold one), ms.",
    "",
    `| step | ${runs.map((r) => `${r.variant ?? "now"} (ms)`).join(" | ")} |`,
    `|---|${runs.map(() => "---:").join("|")}|`,
  ];
  for (const [key, label] of STEPS) {
    out.push(
      `| ${label} | ${runs.map((r) => int(median(r.breakdowns!.map((b) => b[key])))).join(" | ")} |`,
    );
  }
  out.push(
    "",
    'Target: POST → logged ≤ proof time + 1 s, i.e. "outside the proof" ≤ 1,000 ms.',
    "",
  );
  return out;
}

/** RESULTS.md section of the `verify` benchmark. */
export function verifySection(e: BenchEntry<VerifyBenchData>): string[] {
  const d = e.data!;
  return [
    "### Auditor re-verification: batched vs one by one",
    "",
    header("verify", e),
    "",
    "| how | proofs | time (s) | proofs/s |",
    "|---|---:|---:|---:|",
    `| batched (protocol/batch-verify.ts: one randomised multi-pairing) | ${d.batch} | ${s(d.batched.ms)} | ${int(d.batched.proofsPerSecond)} |`,
    `| snarkjs \`groth16.verify\`, one by one | ${d.oneByOne.proofs} | ${s(d.oneByOne.ms)} | ${d.oneByOne.proofsPerSecond} |`,
    `| batch with one bad proof: findInvalid names it (halving) | ${d.batch} | ${s(d.withOneBad.ms)} | named [${d.withOneBad.named.join(", ")}], planted ${d.withOneBad.planted} |`,
    "",
    `Proofs: ${d.realProofs} real \`${d.circuit}\` proofs re-randomised into ${d.batch} distinct valid proofs (verification costs the same for every proof with 5 public signals). Target: ≥ ${d.targetPerSecond} proofs/s.`,
    "",
  ];
}

/** README rows of the three benchmarks (empty when they have not run). */
export function speedReadmeRows(r: BenchResults): string[] {
  const b = r.benchmarks;
  const rows: string[] = [];
  const proof = b.proof?.status === "ok" ? (b.proof.data as ProofBenchData) : undefined;
  if (proof) {
    rows.push(
      `| \`${proof.circuit}\` proof in the gateway's prover (${proof.process.engine ?? "snarkjs"}) vs raw \`snarkjs groth16 prove\`, same zkey and witness, same run (median) | ${s(proof.process.proveMs.median)} s vs ${s(proof.raw.wallMs.median)} s (${proof.native ? `native prover alone ${s(proof.native.proveMs.median)} s; ` : ""}${proof.snarkjs ? `gateway with snarkjs ${s(proof.snarkjs.proveMs.median)} s; ` : ""}load ${b.proof!.loadavg.start[0]}) |`,
    );
  }
  const lat = b.latency?.status === "ok" ? (b.latency.data as GatewayBenchData) : undefined;
  for (const run of lat?.runs ?? []) {
    if (!run.breakdowns?.length) continue;
    const m = (k: keyof QueryBreakdown) => median(run.breakdowns!.map((x) => x[k]));
    rows.push(
      `| query POST → logged (\`${run.circuit}\`, ${run.variant}), median | ${s(m("total"))} s, of which proof ${s(m("prove"))} s and ${s(m("outsideProof"))} s outside it (load ${b.latency!.loadavg.start[0]}) |`,
    );
  }
  const v = b.verify?.status === "ok" ? (b.verify.data as VerifyBenchData) : undefined;
  if (v) {
    rows.push(
      `| auditor re-verification, batched vs snarkjs one by one | ${int(v.batched.proofsPerSecond)} vs ${v.oneByOne.proofsPerSecond} proofs/s (load ${b.verify!.loadavg.start[0]}) |`,
    );
  }
  return rows;
}
