/**
 * What the demo (and `npm run sandbox`) does before PartProof's contracts are built: build the
 * native addons, the circuits (and, for the demo, the contracts) side by side, and wait for
 * Ctrl-C. Nothing here imports the contracts' TypeScript bindings (types/, written by
 * `hardhat build`), so the demo can start, and start its build, on a fresh clone.
 */
import { existsSync } from "node:fs";
import { PROVER_ADDON_LOCK, circuitPaths, readManifest, withLock } from "./circuit-build.js";
import { seconds } from "./demo-clock.js";
import { runCommand } from "./processes.js";

/** The tree depth of a circuit instance named like range_d20. */
export function depthOf(circuit: string): number {
  const m = /_d(\d+)/.exec(circuit);
  if (!m) throw new Error(`cannot tell the tree depth of circuit ${circuit}`);
  return Number(m[1]);
}

/** How long each part of {@link buildFor} took, in ms. */
export interface BuildTimes {
  /** The native Poseidon and Groth16 prover addons. */
  native: number;
  /** The answer circuit and the audit circuit of its depth (built at the same time). */
  circuits: number;
  /** The contracts (`hardhat build`), when {@link buildFor} was asked to build them. */
  contracts?: number;
}

/**
 * Builds what is not cached: the native addons, and the circuit and the audit circuit of its
 * depth (with a development setup), and with `contracts` PartProof's contracts and their
 * TypeScript bindings (`hardhat build`; `afterContracts` is called when they are written). They
 * do not depend on each other and build at the same time: circom's compile and solc-js each use
 * one core, and on a fresh clone the contracts' compile fills the core the circuits leave idle.
 * The verifiers the circuits' build writes are compiled by scripts/deploy.ts, which builds the
 * contracts again before it deploys. Says how long each part took.
 */
export async function buildFor(
  circuit: string,
  say: (line: string) => void,
  opts: { contracts?: boolean; afterContracts?: () => void } = {},
): Promise<BuildTimes> {
  const entry = (await readManifest()).find((c) => c.name === circuit);
  if (!entry) throw new Error(`circuit ${circuit} is not in circuits/circuits.json`);
  // and the audit circuit of the same depth: suppliers check a version before signing it and
  // auditors sample published versions with it (issue 15)
  const audit = `audit_d${depthOf(circuit)}`;
  const cached = [circuit, audit].every((c) => existsSync(circuitPaths(c).zkey));
  say(
    cached
      ? `${circuit} and ${audit} were built before; checking the cache`
      : `first build of ${circuit} and ${audit} (2^${entry.ptau} development setup), side by side`,
  );
  const part = async (label: string, cmd: string, args: string[]) => {
    const t = Date.now();
    await runCommand(cmd, args, { onLine: (l) => l.trim() && say(`${label} ${l.trim()}`) });
    return Date.now() - t;
  };
  // the native Poseidon and Groth16 prover (cached; a failed build only warns, and trees and
  // proofs then run in JavaScript): without them a fresh clone's demo hashed and proved ~3-5x slower
  // the prover first, under its lock: a circuit's zkey step (ensureProverAddon) waits for this
  // build and then uses its fixed-base multiplication, rather than compiling the addon a second
  // time; then Poseidon (build.ts; the prover is a cache hit there), which only the story needs
  const nativeBuild = async () => {
    const prover = await withLock(PROVER_ADDON_LOCK, say, () =>
      part("[native]", "tsx", ["circuits/native/build-prover.ts"]),
    );
    return prover + (await part("[native]", "tsx", ["circuits/native/build.ts"]));
  };
  const [native, circuits, contracts] = await Promise.all([
    nativeBuild(),
    part("[circuits]", "tsx", ["scripts/build-circuits.ts", "--only", `${circuit},${audit}`]),
    opts.contracts
      ? part("[contracts]", "hardhat", ["build", "--quiet"]).then((ms) => {
          opts.afterContracts?.();
          return ms;
        })
      : undefined,
  ]);
  say(
    `build: native addons ${seconds(native)}, circuits ${seconds(circuits)}` +
      (contracts === undefined ? "" : `, contracts ${seconds(contracts)}`) +
      ", side by side",
  );
  return { native, circuits, ...(contracts === undefined ? {} : { contracts }) };
}

/**
 * Random leaves a demo supplier has the gateway prove before it signs a version, besides the
 * first and last link (the CLI's default is `SIGN_CHECK_SAMPLES` of cli/supplier.ts; the demo's
 * `--check-leaves` sets it): each is an AuditPath proof at the circuit's depth, seconds at depth
 * 20, and the full story publishes eight versions. The first and last link alone still catch a
 * gateway whose records do not rebuild the root or whose count is not the tree's (any opened
 * leaf shows those); random leaves sample the links between, as the auditor's chapter does.
 */
export const DEMO_CHECK_LEAVES = 0;

/** Resolves when the process gets SIGINT or SIGTERM (the playground's owner then closes it). */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve(sig));
  });
}
