/**
 * `tree` benchmark: building the commitment tree (circuits/lib/tree.ts buildTree, sorted and
 * salted records, native Poseidon when built) for each size, each in its own process so that
 * the peak RSS is that size's alone; the JavaScript engine (circomlibjs WASM on worker threads,
 * the fallback and the former implementation) at the smallest size as the baseline of the same
 * run; and appends of 10^4 records onto the largest size's tree.
 */
import path from "node:path";
import { buildNative } from "../../../circuits/native/build.js";
import { fmtCount, loadavg, ROOT, runChild, type Log } from "./common.js";
import type { TreeChildResult } from "./tree-child.js";

/** Options of {@link benchTree}. */
export interface TreeBenchOptions {
  /** Record counts to build. */
  sizes: number[];
  /** Tree depth. */
  depth: number;
  /** For this size, also write the prove benchmark's input to `proveInput.file`. */
  proveInput?: { records: number; file: string };
}

/** One size's measurement, with when it ran and how loaded the machine was. */
export interface TreeRun extends TreeChildResult {
  /** ISO date the size finished. */
  date?: string;
  /** os.loadavg() (1, 5, 15 min) when the size started and when it finished. */
  loadavg?: { start: number[]; end: number[] };
}

/** Result of the `tree` benchmark. */
export interface TreeBenchData {
  depth: number;
  runs: TreeRun[];
  /** The JavaScript engine at the smallest size (measured in the same run as `runs`). */
  baseline?: TreeRun;
}

/** Records appended onto the largest tree: 10^4, or 1 % of smaller largest sizes. */
export function appendCount(largest: number): number {
  return largest >= 1e5 ? 10_000 : Math.max(1, Math.floor(largest / 100));
}

/** Runs the `tree` benchmark. */
export async function benchTree(opts: TreeBenchOptions, log: Log): Promise<TreeBenchData> {
  try {
    buildNative({ log }); // what `npm run build` does, cached
  } catch (err) {
    log(`tree: the native Poseidon did not build (${(err as Error).message}); measuring JS`);
  }
  const runs: TreeRun[] = [];
  const largest = Math.max(...opts.sizes);
  const smallest = Math.min(...opts.sizes);
  const jobs: { n: number; args: string[]; baseline: boolean }[] = [
    { n: smallest, args: ["--engine", "js"], baseline: true },
    ...opts.sizes.map((n) => ({
      n,
      args: [
        ...(opts.proveInput?.records === n ? [opts.proveInput.file] : []),
        ...(n === largest ? ["--append", String(appendCount(largest))] : []),
      ],
      baseline: false,
    })),
  ];
  let baseline: TreeRun | undefined;
  for (const job of jobs) {
    const n = job.n;
    log(
      `tree: ${fmtCount(n)} records at depth ${opts.depth}${job.baseline ? " (JS baseline)" : ""} …`,
    );
    const start = loadavg();
    const args = [String(n), String(opts.depth), ...job.args];
    const heartbeat = setInterval(
      () => log(`tree: ${fmtCount(n)} records … still building`),
      30_000,
    );
    try {
      const { result } = await runChild<TreeChildResult>(
        path.join(ROOT, "scripts/lib/bench/tree-child.ts"),
        args,
        log,
        `  [tree ${fmtCount(n)}]`,
      );
      log(
        `tree: ${fmtCount(n)} records (${result.engine}${result.kernel ? `, ${result.kernel} kernels` : ""}): ` +
          `${(result.buildMs / 1000).toFixed(2)} s, ` +
          `${result.recordsPerSecond.toLocaleString("en-US")} records/s, ` +
          `${result.hashesPerSecond.toLocaleString("en-US")} hashes/s, peak RSS ${result.peakRssMiB} MiB` +
          (result.buildCpuMs ? `, CPU ${(result.buildCpuMs / 1000).toFixed(2)} s` : "") +
          (result.buildPhasesMs
            ? ` (check/pack/sort ${(result.buildPhasesMs.prepare / 1000).toFixed(2)} s, hashing ${(result.buildPhasesMs.hash / 1000).toFixed(2)} s)`
            : ""),
      );
      for (const a of result.appends ?? []) {
        log(
          `tree: +${fmtCount(a.added)} (${a.where}) onto ${fmtCount(n)}: ${(a.ms / 1000).toFixed(2)} s`,
        );
      }
      const run = { ...result, date: new Date().toISOString(), loadavg: { start, end: loadavg() } };
      if (job.baseline) baseline = run;
      else runs.push(run);
    } finally {
      clearInterval(heartbeat);
    }
  }
  return { depth: opts.depth, runs, ...(baseline ? { baseline } : {}) };
}
