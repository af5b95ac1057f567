/**
 * `tree` benchmark: building the commitment tree in TypeScript (circuits/lib/tree.ts buildTree,
 * sorted and salted records) for each size, each in its own process so that the peak RSS is
 * that size's alone.
 */
import path from "node:path";
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
}

/** Runs the `tree` benchmark. */
export async function benchTree(opts: TreeBenchOptions, log: Log): Promise<TreeBenchData> {
  const runs: TreeRun[] = [];
  for (const n of opts.sizes) {
    log(`tree: ${fmtCount(n)} records at depth ${opts.depth} …`);
    const start = loadavg();
    const args = [String(n), String(opts.depth)];
    if (opts.proveInput?.records === n) args.push(opts.proveInput.file);
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
        `tree: ${fmtCount(n)} records: ${(result.buildMs / 1000).toFixed(2)} s, ` +
          `${result.hashesPerSecond.toLocaleString("en-US")} hashes/s, peak RSS ${result.peakRssMiB} MiB`,
      );
      runs.push({ ...result, date: new Date().toISOString(), loadavg: { start, end: loadavg() } });
    } finally {
      clearInterval(heartbeat);
    }
  }
  return { depth: opts.depth, runs };
}
