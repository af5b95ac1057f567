/**
 * `prove` benchmark: a range-aggregate proof (RATIO_PPM of one part) over a tree of n records,
 * with a built answer circuit (default range_d20 over 10^6 records). Witness generation,
 * Groth16 proving and verifying run in a child process whose peak RSS is reported.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { circuitPaths, r1csInfo } from "../circuit-build.js";
import { fmtCount, ROOT, round, runChild, stats, type Log, type Stats } from "./common.js";
import type { ProveChildResult } from "./prove-child.js";
import { proveInputPath, readProveInput } from "./prove-input.js";
import type { TreeChildResult } from "./tree-child.js";

/** Options of {@link benchProve}. */
export interface ProveBenchOptions {
  /** Circuit instance of circuits/circuits.json. */
  circuit: string;
  /** Its tree depth. */
  depth: number;
  /** Records in the tree. */
  records: number;
  /** Measured (warm) repetitions; one cold iteration runs before them. */
  repeat: number;
  /** Rebuild the tree and input even when a cached input exists. */
  freshInput?: boolean;
}

/** Result of the `prove` benchmark. */
export interface ProveBenchData {
  circuit: string;
  depth: number;
  records: number;
  /** Records in the proven range. */
  rangeCount: number;
  constraints: number;
  /** Where the input came from: built now, or the cache of an earlier run. */
  input: { source: "built" | "cache"; file: string; createdAt: string; treeBuildMs?: number };
  /** First iteration in a fresh process (includes snarkjs curve/worker start-up), ms. */
  cold: { witnessMs: number; proveMs: number; verifyMs: number; cpuMs?: number };
  /** Iterations after the first, ms. */
  witnessMs: Stats;
  proveMs: Stats;
  verifyMs: Stats;
  /** witness + prove, ms (what snarkjs groth16.fullProve does). */
  fullProveMs: Stats;
  /** CPU time (user + system, all threads) of witness + prove, ms. */
  fullProveCpuMs?: Stats;
  verified: boolean;
  publicSignals: number;
  proofJsonBytes: number;
  proofCalldataBytes: number;
  /** Peak RSS of the proving process, MiB (baseline: before snarkjs ran). */
  peakRssMiB: number;
  baselineRssMiB: number;
  /** The target: a proof in at most this many seconds. */
  targetSeconds: number;
}

/** Files the benchmark needs from the circuit build; the first missing one, if any. */
export function missingBuild(circuit: string): string | undefined {
  const p = circuitPaths(circuit);
  return [p.r1cs, p.wasm, p.zkey, p.vkey].find((f) => !existsSync(f));
}

/** Runs the `prove` benchmark. */
export async function benchProve(opts: ProveBenchOptions, log: Log): Promise<ProveBenchData> {
  const p = circuitPaths(opts.circuit);
  const file = proveInputPath(opts.records, opts.depth);
  let cached = opts.freshInput ? undefined : readProveInput(file);
  let treeBuildMs: number | undefined;
  if (cached) {
    log(`prove: using the cached input over ${fmtCount(opts.records)} records (${file})`);
  } else {
    log(
      `prove: building a depth-${opts.depth} tree of ${fmtCount(opts.records)} records for the input …`,
    );
    const heartbeat = setInterval(() => log("prove: … still building the tree"), 30_000);
    try {
      const { result } = await runChild<TreeChildResult>(
        path.join(ROOT, "scripts/lib/bench/tree-child.ts"),
        [String(opts.records), String(opts.depth), file],
        log,
        "  [tree]",
      );
      treeBuildMs = result.buildMs;
    } finally {
      clearInterval(heartbeat);
    }
    cached = readProveInput(file)!;
  }
  const info = await r1csInfo(p.r1cs);
  log(
    `prove: ${opts.circuit} (${info.nConstraints.toLocaleString("en-US")} constraints), ` +
      `1 cold + ${opts.repeat} measured proofs …`,
  );
  const { result } = await runChild<ProveChildResult>(
    path.join(ROOT, "scripts/lib/bench/prove-child.ts"),
    [file, p.wasm, p.zkey, p.vkey, String(opts.repeat + 1)],
    log,
    `  [${opts.circuit}]`,
  );
  const [first, ...rest] = result.iterations;
  const warm = rest.length ? rest : [first!];
  const data: ProveBenchData = {
    circuit: opts.circuit,
    depth: opts.depth,
    records: opts.records,
    rangeCount: Number(cached.rangeCount),
    constraints: info.nConstraints,
    input: {
      source: treeBuildMs === undefined ? "cache" : "built",
      file: path.relative(ROOT, file).startsWith("..") ? file : path.relative(ROOT, file),
      createdAt: cached.createdAt,
      ...(treeBuildMs === undefined ? {} : { treeBuildMs }),
    },
    cold: first!,
    witnessMs: stats(warm.map((i) => i.witnessMs)),
    proveMs: stats(warm.map((i) => i.proveMs)),
    verifyMs: stats(warm.map((i) => i.verifyMs)),
    fullProveMs: stats(warm.map((i) => round(i.witnessMs + i.proveMs, 1))),
    ...(warm.every((i) => i.cpuMs !== undefined)
      ? { fullProveCpuMs: stats(warm.map((i) => i.cpuMs!)) }
      : {}),
    verified: result.verified,
    publicSignals: result.publicSignals,
    proofJsonBytes: result.proofJsonBytes,
    proofCalldataBytes: result.proofCalldataBytes,
    peakRssMiB: result.peakRssMiB,
    baselineRssMiB: result.baselineRssMiB,
    targetSeconds: 10,
  };
  log(
    `prove: median witness ${(data.witnessMs.median / 1000).toFixed(2)} s, prove ` +
      `${(data.proveMs.median / 1000).toFixed(2)} s, verify ${(data.verifyMs.median / 1000).toFixed(2)} s, ` +
      `peak RSS ${data.peakRssMiB} MiB, ${data.verified ? "all proofs valid" : "A PROOF WAS INVALID"}`,
  );
  if (!data.verified) throw new Error("prove: a proof did not verify or had unexpected signals");
  return data;
}
