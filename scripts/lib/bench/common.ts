/**
 * Shared pieces of the benchmarks (scripts/bench.ts): the result types, machine info,
 * progress logging with elapsed time, statistics, child processes that report their own
 * peak memory, and the deterministic synthetic record set the tree and proof benchmarks use.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TreeRecord } from "../../../circuits/lib/tree.js";

/** Repository root (this file lives in scripts/lib/bench/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Names of the selectable benchmarks, in the order they run. */
export const BENCHMARKS = [
  "constraints",
  "tree",
  "prove",
  "gas",
  "gateway",
  "uploads",
  "shapes",
  "filters",
  "proof",
  "latency",
  "verify",
] as const;
/** One selectable benchmark. */
export type BenchName = (typeof BENCHMARKS)[number];

/** What the machine looked like when a benchmark ran. */
export interface MachineInfo {
  /** CPU model. */
  cpuModel: string;
  /** Logical CPUs. */
  cpus: number;
  /** Total memory in MiB. */
  memoryMiB: number;
  /** Node.js version. */
  node: string;
  /** os.platform()-os.arch(). */
  platform: string;
}

/** The envelope of one benchmark's result in bench/results.json. */
export interface BenchEntry<T = unknown> {
  /** ISO date the benchmark finished. */
  date: string;
  /** --quick (small sizes: a smoke test, not a measurement). */
  quick: boolean;
  /** Wall time of the whole benchmark in seconds. */
  seconds: number;
  /** os.loadavg() (1, 5, 15 min) at the start and at the end: the machine is shared. */
  loadavg: { start: number[]; end: number[] };
  /** "ok", or "skipped" with a reason (e.g. a circuit not built). */
  status: "ok" | "skipped";
  /** Why the benchmark was skipped. */
  reason?: string;
  /** The benchmark's numbers. */
  data?: T;
}

/** The whole results file. */
export interface BenchResults {
  /** Machine of the latest run. */
  machine: MachineInfo;
  /** ISO date of the latest run. */
  date: string;
  /** Per benchmark, its latest result (a run with --only keeps the others' older entries). */
  benchmarks: Partial<Record<BenchName, BenchEntry>>;
}

/** The machine this process runs on. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpus: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/** A progress logger: prints `[  12.3 s] message`, the time since the logger was made. */
export type Log = (msg: string) => void;

/** Makes a {@link Log} whose clock starts now. */
export function makeLog(write: (line: string) => void = (l) => console.log(l)): Log {
  const t0 = performance.now();
  return (msg) => write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${msg}`);
}

/** Median, min and max of a non-empty list. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  /** The samples themselves. */
  samples: number[];
}

/** {@link Stats} of `xs` (median of an even count: mean of the middle two). */
export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new RangeError("stats of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples: [...xs] };
}

/** Rounds to `digits` decimals (for readable JSON). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The current os.loadavg(), rounded. */
export function loadavg(): number[] {
  return os.loadavg().map((x) => round(x, 2));
}

/** What a benchmark child process prints as its last stdout line (JSON) plus its exit code. */
export interface ChildResult<T> {
  /** The parsed last JSON line of stdout. */
  result: T;
  /** Wall time of the child from spawn to exit, ms. */
  wallMs: number;
}

/**
 * Runs `script` (a TypeScript file, through tsx) in a fresh Node process so that its peak RSS
 * belongs to the measured work alone. Lines the child writes to stderr are forwarded to `log`
 * (prefixed); the child's last stdout line must be its JSON result. With `resultBeforeCrash`,
 * a child that printed its result and then failed (e.g. crashed while closing) still counts.
 */
export function runChild<T>(
  script: string,
  args: string[],
  log: Log,
  prefix: string,
  env: NodeJS.ProcessEnv = {},
  resultBeforeCrash = false,
): Promise<ChildResult<T>> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let errTail = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    let partial = "";
    child.stderr.on("data", (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (l.trim()) log(`${prefix} ${l}`);
        errTail = (errTail + l + "\n").slice(-4000);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (partial.trim()) errTail += partial;
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0 && !(resultBeforeCrash && last.startsWith("{"))) {
        reject(new Error(`${path.basename(script)} exited with ${code}:\n${errTail}`));
        return;
      }
      if (code !== 0) {
        log(
          `${prefix} exited with ${code} after printing its result (kept): ${errTail.trim().split("\n").pop() ?? ""}`,
        );
      }
      try {
        resolve({ result: JSON.parse(last) as T, wallMs: performance.now() - t0 });
      } catch {
        reject(new Error(`${path.basename(script)} printed no JSON result:\n${out}\n${errTail}`));
      }
    });
  });
}

/** Peak resident set size of this process so far, in MiB (process.resourceUsage().maxRSS). */
export function peakRssMiB(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/** Current resident set size of this process, in MiB. */
export function rssMiB(): number {
  return round(process.memoryUsage().rss / 2 ** 20, 1);
}

/** mulberry32: a small deterministic PRNG, so every run commits the same records. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parts in the synthetic record set (index key: part · 2^40 + plant · 2^20 + day). */
export const SYNTH_PARTS = 1000;
/** Plants per part in the synthetic record set. */
export const SYNTH_PLANTS = 8;

/** The index key of the synthetic records: part · 2^40 + plant · 2^20 + day (all ≥ 1). */
export function synthKey(part: number, plant: number, day: number): bigint {
  return (BigInt(part) << 40n) + (BigInt(plant) << 20n) + BigInt(day);
}

/**
 * `n` synthetic quality records in the shape of the Catena-X manufactured-parts quality
 * schema after mapping (key = part, plant, day; values = produced quantity, defects, rework,
 * cycle time in ms), deterministic for a given `seed`, in shuffled (insertion) order.
 */
export function syntheticRecords(n: number, seed = 20261125): TreeRecord[] {
  const rnd = prng(seed);
  const out: TreeRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const part = 1 + Math.floor(rnd() * SYNTH_PARTS);
    const plant = 1 + Math.floor(rnd() * SYNTH_PLANTS);
    const day = 20000 + Math.floor(rnd() * 730);
    const quantity = 50 + Math.floor(rnd() * 5000);
    const defects = Math.floor(rnd() * rnd() * 40);
    const rework = Math.floor(defects * rnd());
    const cycleMs = 20_000 + Math.floor(rnd() * 100_000);
    out[i] = {
      key: synthKey(part, plant, day),
      values: [BigInt(quantity), BigInt(defects), BigInt(rework), BigInt(cycleMs)],
    };
  }
  return out;
}

/**
 * Number of Poseidon hashes buildTree computes for `n` records at `depth`: one per used leaf
 * (the low sentinel and the records), one per non-padding internal node, and one padding
 * node per level.
 */
export function treeHashCount(n: number, depth: number): { leaf: number; node: number } {
  const used = n + 1;
  let node = 0;
  for (let l = 1; l <= depth; l++) node += Math.ceil(used / 2 ** l);
  return { leaf: used + 1, node: node + depth };
}

/** Parses a count such as "1e6", "100000" or "10^5". */
export function parseCount(s: string): number {
  const m = /^10\^(\d+)$/.exec(s.trim());
  const n = m ? 10 ** Number(m[1]) : Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`not a positive count: "${s}"`);
  return n;
}

/** Formats a count as 10^k when it is a power of ten, else with thousands separators. */
export function fmtCount(n: number): string {
  const k = Math.log10(n);
  return Number.isInteger(k) && k >= 3 ? `10^${k}` : n.toLocaleString("en-US");
}
