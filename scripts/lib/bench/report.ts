/**
 * Writing the benchmark results: bench/results.json (merged: a run with --only keeps the
 * other benchmarks' older entries), bench/RESULTS.md (every table) and the README section
 * between `<!-- bench:start -->` and `<!-- bench:end -->` (a summary).
 */
import type { FiltersBenchData } from "./filters.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  BENCHMARKS,
  fmtCount,
  machineInfo,
  type BenchEntry,
  type BenchName,
  type BenchResults,
  type Stats,
} from "./common.js";
import type { ConstraintsBenchData } from "./constraints.js";
import type { GasBenchData } from "./gas.js";
import type { GatewayBenchData } from "./gateway.js";
import type { UploadRun } from "./uploads.js";
import type { ProveBenchData } from "./prove.js";
import type { TreeBenchData } from "./tree.js";
import { latencySection, proofSection, speedReadmeRows, verifySection } from "./report-speed.js";

/** README markers of the benchmark section. */
export const README_START = "<!-- bench:start -->";
/** End marker. */
export const README_END = "<!-- bench:end -->";

/** Reads `file` (results.json) or returns an empty result set. */
export function readResults(file: string): BenchResults {
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
    if (parsed && typeof parsed === "object" && parsed.benchmarks) return parsed;
  }
  return { machine: machineInfo(), date: new Date().toISOString(), benchmarks: {} };
}

/** Merges this run's entries into `previous`: new entries replace old ones per benchmark. */
export function mergeResults(
  previous: BenchResults,
  entries: Partial<Record<BenchName, BenchEntry>>,
): BenchResults {
  const benchmarks: Partial<Record<BenchName, BenchEntry>> = { ...previous.benchmarks };
  for (const [k, v] of Object.entries(entries)) benchmarks[k as BenchName] = v;
  // Tree sizes not measured again (same depth, both real measurements) keep their old rows,
  // stamped with their own date and load average.
  const oldTree = previous.benchmarks.tree as BenchEntry<TreeBenchData> | undefined;
  const newTree = entries.tree as BenchEntry<TreeBenchData> | undefined;
  if (
    oldTree?.status === "ok" &&
    newTree?.status === "ok" &&
    !oldTree.quick &&
    !newTree.quick &&
    oldTree.data!.depth === newTree.data!.depth
  ) {
    const fresh = new Set(newTree.data!.runs.map((r) => r.records));
    const kept = oldTree
      .data!.runs.filter((r) => !fresh.has(r.records))
      .map((r) => ({ date: oldTree.date, loadavg: oldTree.loadavg, ...r }));
    const runs = [...kept, ...newTree.data!.runs].sort((a, b) => a.records - b.records);
    benchmarks.tree = { ...newTree, data: { ...newTree.data!, runs } };
  }
  const ordered = Object.fromEntries(
    BENCHMARKS.filter((b) => benchmarks[b]).map((b) => [b, benchmarks[b]]),
  ) as Partial<Record<BenchName, BenchEntry>>;
  return { machine: machineInfo(), date: new Date().toISOString(), benchmarks: ordered };
}

const s = (ms: number, d = 2) => (ms / 1000).toFixed(d);
const int = (n: number) => n.toLocaleString("en-US");
const statRow = (label: string, st: Stats, d = 2) =>
  `| ${label} | ${s(st.median, d)} | ${s(st.min, d)} | ${s(st.max, d)} |`;

function header(name: string, e: BenchEntry): string {
  const when = e.date.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const load = `load average ${e.loadavg.start.join(" / ")} at the start, ${e.loadavg.end.join(" / ")} at the end (1 / 5 / 15 min)`;
  return `_${name}: measured ${when}${e.quick ? " in --quick mode (smoke-test sizes, not a measurement)" : ""}; ${load}; took ${e.seconds.toFixed(0)} s._`;
}

function treeSection(e: BenchEntry<TreeBenchData>): string[] {
  const d = e.data!;
  const rows = d.baseline ? [...d.runs, d.baseline] : d.runs;
  const appends = d.runs.flatMap((r) => (r.appends ?? []).map((a) => ({ run: r, a })));
  return [
    `### Commitment tree (\`buildTree\`, depth ${d.depth})`,
    "",
    header("tree", e),
    "",
    "| records | buildTree (s) | of which sort (s) | engine | records/s (salt + tree) | Poseidon hashes | hashes/s | peak RSS (MiB) | measured (UTC) | 1-min load avg. start → end |",
    "|---:|---:|---:|---|---:|---:|---:|---:|---|---|",
    ...rows.map((r) => {
      const date = (r.date ?? e.date).replace("T", " ").replace(/:\d\d\.\d+Z$/, "");
      const load = r.loadavg ?? e.loadavg;
      const engine = r === d.baseline ? "js (baseline)" : (r.engine ?? "js");
      const rate = r.recordsPerSecond === undefined ? "–" : int(r.recordsPerSecond);
      return `| ${fmtCount(r.records)} | ${s(r.buildMs)} | ${s(r.sortMs)} | ${engine} | ${rate} | ${int(r.hashes.total)} | ${int(r.hashesPerSecond)} | ${r.peakRssMiB} | ${date} | ${load.start[0]} → ${load.end[0]} |`;
    }),
    "",
    "Each size runs in its own process; peak RSS is that process's (records, salts and tree; " +
      "the process's RSS before making the records was " +
      `${d.runs[0]?.baselineRssMiB ?? "?"} MiB; the largest size's includes the appends below, ` +
      "with two trees in memory). Engine `native`: the C Poseidon of circuits/native/ on all " +
      "cores; `js`: circomlibjs' WASM Poseidon on worker threads (the fallback when the addon is " +
      "not built, and the implementation before it), measured in the same run. Records/s = " +
      "records / (drawing the salts + buildTree, which sorts and hashes). Hashes: one per used " +
      "leaf (7 inputs), one per non-padding internal node (16 inputs); hashes/s excludes the " +
      "sort. Each row has its own time and load, since sizes can be re-measured alone " +
      "(`--only tree --records 1e4,1e5`) and the CPUs were shared: throughput drops with load.",
    "",
    ...(appends.length
      ? [
          "Appending onto the largest tree (`buildTree(all records, salts, depth, { previous })`: " +
            "subtrees whose leaves did not change or moved by a multiple of their width are copied):",
          "",
          "| onto | added | where | time (s) | leaves hashed / copied | nodes hashed / copied |",
          "|---:|---:|---|---:|---:|---:|",
          ...appends.map(
            ({ run, a }) =>
              `| ${fmtCount(run.records)} | ${fmtCount(a.added)} | ${a.where === "end" ? "keys above every key" : "later days of random parts (spread over the order)"} | ${s(a.ms)} | ${int(a.hashed.leaves)} / ${int(a.reused.leaves)} | ${int(a.hashed.nodes)} / ${int(a.reused.nodes)} |`,
          ),
          "",
        ]
      : []),
  ];
}

function proveSection(e: BenchEntry<ProveBenchData>, cpus: number): string[] {
  const d = e.data!;
  const met = d.fullProveMs.median <= d.targetSeconds * 1000;
  return [
    `### Range-aggregate proof (\`${d.circuit}\`, ${fmtCount(d.records)} records)`,
    "",
    header("prove", e),
    "",
    `RATIO_PPM over a range of ${int(d.rangeCount)} records; ${int(d.constraints)} constraints; ` +
      `${d.fullProveMs.samples.length} measured proofs after one cold one, each witness → prove → verify in one child process.`,
    "",
    "| step | median (s) | min (s) | max (s) |",
    "|---|---:|---:|---:|",
    statRow("witness generation (`wtns.calculate`)", d.witnessMs),
    statRow("proving (`groth16.prove`)", d.proveMs),
    statRow("witness + proving (= `fullProve`)", d.fullProveMs),
    statRow("verifying (`groth16.verify`)", d.verifyMs, 3),
    "",
    `| | |`,
    `|---|---|`,
    `| cold first proof (fresh process: curve + workers start-up) | witness ${s(d.cold.witnessMs)} s, prove ${s(d.cold.proveMs)} s, verify ${s(d.cold.verifyMs, 3)} s |`,
    ...(d.fullProveCpuMs
      ? [
          `| CPU time of witness + proving (user + system, all threads), median | ${s(d.fullProveCpuMs.median)} s: on ${cpus} idle CPUs the wall time would be about ${s(d.fullProveCpuMs.median / cpus)} s or more |`,
        ]
      : d.cold.cpuMs !== undefined
        ? [
            `| CPU time of the cold witness + proving (user + system, all threads) | ${s(d.cold.cpuMs)} s: on ${cpus} idle CPUs the wall time would be about ${s(d.cold.cpuMs / cpus)} s or more |`,
          ]
        : []),
    `| peak RSS of the proving process | ${d.peakRssMiB} MiB (${d.baselineRssMiB} MiB before snarkjs ran) |`,
    `| public signals | ${d.publicSignals} |`,
    `| proof size | ${d.proofCalldataBytes} bytes as calldata (8 field elements); ${d.proofJsonBytes} bytes as snarkjs JSON |`,
    `| target: proof ≤ ${d.targetSeconds} s | ${met ? "met" : "**not met**"} (median witness + proving ${s(d.fullProveMs.median)} s) |`,
    `| all proofs verified | ${d.verified ? "yes" : "**no**"} |`,
    "",
    `The tree and circuit input came from ${d.input.source === "cache" ? `the benchmark cache (made ${d.input.createdAt})` : "a tree built for this run"}; ` +
      "proving time does not depend on the records or salts, only on the circuit.",
    "",
  ];
}

function gasSection(e: BenchEntry<GasBenchData>): string[] {
  const d = e.data!;
  return [
    "### Gas (Hardhat in-process chain, contracts deployed by the Ignition module)",
    "",
    header("gas", e),
    "",
    "| call | gas | note |",
    "|---|---:|---|",
    ...d.rows.map((r) => `| ${r.call} | ${int(r.gasUsed)} | ${r.note ?? ""} |`),
    "",
  ];
}

function constraintsSection(e: BenchEntry<ConstraintsBenchData>): string[] {
  const d = e.data!;
  return [
    "### Circuits (`snarkjs r1cs info`)",
    "",
    header("constraints", e),
    "",
    "| circuit | target | constraints | public inputs | wires | ptau (manifest) | ptau needed | zkey built |",
    "|---|---|---:|---:|---:|---:|---:|---|",
    ...d.circuits.map(
      (c) =>
        `| ${c.name} | ${c.target} | ${int(c.constraints)} | ${c.publicInputs + c.outputs} | ${int(c.wires)} | 2^${c.ptau} | 2^${c.requiredPtau} | ${c.zkey ? "yes" : "no"} |`,
    ),
    ...(d.notCompiled.length ? ["", `Not compiled at the time: ${d.notCompiled.join(", ")}.`] : []),
    ...(d.unreadable?.length
      ? ["", `Unreadable at the time: ${d.unreadable.map((u) => u.name).join(", ")}.`]
      : []),
    "",
  ];
}

function gatewaySection(e: BenchEntry<GatewayBenchData>): string[] {
  const d = e.data!;
  const out = [
    "### Gateway (express + LevelDB, Hardhat in-process chain, one prover worker)",
    "",
    header("gateway", e),
    "",
    "| circuit | Catena-X quality batch | ingest (s) | ingest (records/s) | publish (s) | cold query (s) | query: POST → logged, median (min–max) (s) | POST /queries response, median (s) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of d.runs) {
    out.push(
      `| ${r.circuit} | ${int(r.ingest.records)} records, ${int(Math.round(r.ingest.payloadBytes / 1024))} KiB | ${s(r.ingest.ms)} | ${int(r.ingest.recordsPerSecond)} | ${s(r.publishMs)} | ${s(r.coldQueryMs)} | ${s(r.queryLatencyMs.median)} (${s(r.queryLatencyMs.min)}–${s(r.queryLatencyMs.max)}) | ${s(r.postMs.median, 3)} |`,
    );
  }
  out.push(
    "",
    "Ingest: POST /assets/:id/uploads (validate, map, salt, build the tree, store in one LevelDB batch). " +
      "Publish: the owner's EIP-712 signature relayed as publishVersionBySig. Query: a signed RATIO_PPM " +
      "query of one part, from POST /queries until its job reports `logged` (proved in the worker pool, " +
      "recordAnswer mined); the job is polled every 50 ms. The cold query also builds the version's " +
      "tree in the prover worker, which caches it by root for the later queries.",
    "",
  );
  return out;
}

function uploadsSection(e: BenchEntry<{ runs: UploadRun[] }>): string[] {
  const out = [
    "### Uploads (CLI → resumable upload session → one version; gateway as its own process)",
    "",
    header("uploads", e),
    "",
    "| records | CSV | chunks | upload + commit (s) | records/s | MB/s | gateway peak RSS ingesting (MiB) | gateway peak RSS answering (MiB) | load average after |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of e.data!.runs) {
    out.push(
      `| ${int(r.records)} | ${int(Math.round(r.fileBytes / 1024))} KiB | ${r.chunks} | ${r.seconds} | ${int(r.recordsPerSecond)} | ${r.mbPerSecond} | ${r.gatewayPeakRssMiB} | ${r.answering ? r.answering.gatewayPeakRssMiB : "—"} | ${r.loadavg.join(" / ")} |`,
    );
  }
  const answered = e.data!.runs.filter((r) => r.answering);
  if (answered.length > 0) {
    out.push(
      "",
      "| records | queries answered on the version (POST → logged, s) | prover peak RSS (MiB) | load average after |",
      "|---:|---|---:|---|",
    );
    for (const r of answered) {
      const a = r.answering!;
      const asked = a.queries.map((q, i) => `${q} ${a.seconds[i]}`).join(", ");
      out.push(
        `| ${int(r.records)} | ${asked} | ${a.proverPeakRssMiB.join(" / ")} | ${a.loadavg.join(" / ")} |`,
      );
    }
  }
  out.push(
    "",
    "`uploadPath` of cli/supplier.ts sends a quality CSV (with a partId identity column) in chunks " +
      "within the gateway's default 2 MiB body limit, each owner-signed, read in an ingest worker and " +
      "stored synced; the commit applies them as one upload and builds the depth-20 tree. Peak RSS is " +
      "the gateway process's VmHWM (HTTP thread and ingest workers): while ingesting (upload and " +
      "commit), and while answering the queries asked of the published version (issue 12: ≤ 1 GiB each).",
    "",
  );
  return out;
}

function skipped(key: string, title: string, e: BenchEntry): string[] {
  return [`### ${title}`, "", header(key, e), "", `Skipped: ${e.reason ?? "no reason given"}.`, ""];
}

function filtersSection(e: BenchEntry<FiltersBenchData>): string[] {
  const d = e.data!;
  return [
    "### Filtered questions at any size (indicator schemas)",
    "",
    header("filters", e),
    "",
    `${int(d.records)} generated rows per asset, ingested through \`quality-eol3\` (${d.ingestSeconds.quality} s) and \`delivery-late\` (${d.ingestSeconds.delivery} s); depth-${d.depth} trees ${d.treeSeconds.quality} s / ${d.treeSeconds.delivery} s; \`${d.circuit}\`, ${int(d.constraints)} constraints (the range circuit, unchanged).`,
    "",
    "| question | metric | records in range | selected | answer (10^-6) | witness + prove (s) | verified |",
    "|---|---|---|---|---|---|---|",
    ...d.questions.map(
      (q) =>
        `| ${q.question} | ${q.metric} | ${int(q.rangeRecords)} | ${int(q.selected)} | ${q.answer} | ${q.proveSeconds} | ${q.verified ? "yes" : "NO"} |`,
    ),
    "",
  ];
}

/** The Markdown of bench/RESULTS.md. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (scripts/bench.ts); the numbers are in [results.json](results.json).",
    "",
    `Machine: ${m.cpuModel}, ${m.cpus} logical CPUs, ${int(m.memoryMiB)} MiB memory, Node ${m.node}, ${m.platform}. ` +
      "The machine was shared with other work while measuring: see each table's load average " +
      `(a load above ${m.cpus} means the benchmark got less than the whole machine).`,
    "",
  ];
  const b = r.benchmarks;
  const sections: [BenchName, string, (e: BenchEntry<never>) => string[]][] = [
    ["tree", "Commitment tree", treeSection as (e: BenchEntry<never>) => string[]],
    [
      "prove",
      "Range-aggregate proof",
      ((e: BenchEntry<ProveBenchData>) => proveSection(e, m.cpus)) as (
        e: BenchEntry<never>,
      ) => string[],
    ],
    ["gas", "Gas", gasSection as (e: BenchEntry<never>) => string[]],
    ["constraints", "Circuits", constraintsSection as (e: BenchEntry<never>) => string[]],
    ["gateway", "Gateway", gatewaySection as (e: BenchEntry<never>) => string[]],
    ["uploads", "Uploads", uploadsSection as (e: BenchEntry<never>) => string[]],
    ["proof", "Proof", proofSection as (e: BenchEntry<never>) => string[]],
    ["latency", "Latency", latencySection as (e: BenchEntry<never>) => string[]],
    ["verify", "Auditor re-verification", verifySection as (e: BenchEntry<never>) => string[]],
    ["filters", "Filtered questions", filtersSection as (e: BenchEntry<never>) => string[]],
  ];
  for (const [key, title, render] of sections) {
    const e = b[key];
    if (!e) continue;
    out.push(...(e.status === "ok" ? render(e as BenchEntry<never>) : skipped(key, title, e)));
  }
  out.push(
    "## How to run",
    "",
    "```sh",
    "npm run build:circuits -- --only range_d20   # the production circuit (development setup)",
    "npm run bench                                # everything; tree sizes 10^4, 10^5 (--big: 10^6 too)",
    "npm run bench -- --only prove --repeat 5     # one benchmark; the others keep their entries",
    "npm run bench -- --quick                     # smoke test with small sizes (temp folder)",
    "npm run bench -- --help",
    "```",
    "",
    "The proof's 10^6-record tree and circuit input are cached in `~/.cache/partproof/bench` " +
      "(`--fresh-input` rebuilds them); the `tree` benchmark writes that cache when it builds the " +
      "same size.",
    "",
  );
  return out.join("\n");
}

/** The README section (between the markers, markers included): the headline numbers. */
export function renderReadmeSection(r: BenchResults): string {
  const b = r.benchmarks;
  const m = r.machine;
  const rows: string[] = [];
  const tree = b.tree?.status === "ok" ? (b.tree.data as TreeBenchData) : undefined;
  for (const run of tree?.runs ?? []) {
    rows.push(
      `| commitment tree of ${fmtCount(run.records)} records (${run.engine ?? "js"}, depth ${run.depth}) | ${s(run.buildMs, 1)} s, ${run.recordsPerSecond === undefined ? "" : `${int(run.recordsPerSecond)} records/s, `}${int(run.hashesPerSecond)} hashes/s, peak RSS ${run.peakRssMiB} MiB (load ${(run.loadavg ?? b.tree!.loadavg).start[0]}) |`,
    );
  }
  const prove = b.prove?.status === "ok" ? (b.prove.data as ProveBenchData) : undefined;
  if (prove) {
    rows.push(
      `| range-aggregate proof, \`${prove.circuit}\` over ${fmtCount(prove.records)} records (witness + prove, median) | ${s(prove.fullProveMs.median)} s (witness ${s(prove.witnessMs.median)} s + prove ${s(prove.proveMs.median)} s), peak RSS ${prove.peakRssMiB} MiB; target ≤ ${prove.targetSeconds} s |`,
      `| verify (snarkjs) | ${s(prove.verifyMs.median, 3)} s |`,
      `| proof | ${prove.publicSignals} public signals, ${prove.proofCalldataBytes} bytes calldata, ${int(prove.constraints)} constraints |`,
    );
  }
  const gas = b.gas?.status === "ok" ? (b.gas.data as GasBenchData) : undefined;
  for (const row of gas?.rows ?? []) {
    if (/^(publishVersion \(first|grantAccess|revokeGrant|recordAnswer)/.test(row.call)) {
      rows.push(`| gas: ${row.call} | ${int(row.gasUsed)} |`);
    }
  }
  const gw = b.gateway?.status === "ok" ? (b.gateway.data as GatewayBenchData) : undefined;
  for (const r of gw?.runs ?? []) {
    rows.push(
      `| gateway (\`${r.circuit}\`): one query, POST → logged on-chain (median) | ${s(r.queryLatencyMs.median)} s |`,
      `| gateway (\`${r.circuit}\`): ingest of a Catena-X quality batch of ${int(r.ingest.records)} records | ${s(r.ingest.ms)} s, ${int(r.ingest.recordsPerSecond)} records/s |`,
    );
  }
  rows.push(...speedReadmeRows(r));
  const quick = Object.values(b).some((e) => e?.quick);
  const loads = Object.values(b).flatMap((e) =>
    e ? [e.loadavg.start[0]!, e.loadavg.end[0]!] : [],
  );
  const loadNote = loads.length
    ? ` The CPUs were shared with other work: 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the runs, so the times are upper bounds.`
    : "";
  return [
    README_START,
    "## Benchmarks",
    "",
    `Measured with \`npm run bench\` on ${m.cpus} shared CPUs (${m.cpuModel}), ${Math.round(m.memoryMiB / 1024)} GiB, Node ${m.node}` +
      `${quick ? " (some entries in --quick mode)" : ""}.${loadNote} Every table, the load average during each run and how to repeat ` +
      "them: [bench/RESULTS.md](bench/RESULTS.md).",
    "",
    "| what | result |",
    "|---|---|",
    ...(rows.length ? rows : ["| (no results yet) | run `npm run bench` |"]),
    "",
    "`npm run bench -- --only tree,prove,gas,constraints,gateway,proof,latency,verify` selects " +
      "benchmarks; `--quick` runs small sizes in seconds; `--records 1e4,1e5` sets the tree sizes " +
      "(the largest is also the proof's tree; `--big` adds 10^6); `--repeat N` the proofs per measurement.",
    README_END,
  ].join("\n");
}

/**
 * Formats `text` as prettier would format `file` (the repository's prettier config), so that
 * the written outputs pass `prettier --check`; returns `text` unchanged if prettier fails.
 */
export async function prettierFormat(file: string, text: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

/**
 * Replaces (or appends) the marked section of README.md; the rest of the file is left byte for
 * byte as it was (Markdown is not prettier-checked here; the lead owns the rest of the file).
 */
export async function updateReadme(readmeFile: string, section: string): Promise<void> {
  const text = readFileSync(readmeFile, "utf8");
  const a = text.indexOf(README_START);
  const b = text.indexOf(README_END);
  const next =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + README_END.length)
      : text.replace(/\n*$/, "\n\n") + section + "\n";
  writeFileSync(readmeFile, next);
}

/** Writes results.json and RESULTS.md into `dir` (prettier-formatted). */
export async function writeOutputs(
  dir: string,
  r: BenchResults,
): Promise<{ json: string; md: string }> {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, "results.json");
  const md = path.join(dir, "RESULTS.md");
  writeFileSync(json, await prettierFormat(json, JSON.stringify(r, null, 2) + "\n"));
  writeFileSync(md, await prettierFormat(md, renderMarkdown(r)));
  return { json, md };
}
