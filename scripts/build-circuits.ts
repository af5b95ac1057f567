/**
 * Builds every circuit instance of circuits/circuits.json: compile → powers of tau → zkey →
 * verification key → Solidity verifier, each step cached by a content hash of its inputs.
 * Instances are independent, so up to `--jobs` of them (default: one per core) build at once:
 * circom's compile runs single-threaded in its own process, the longest step of a first build.
 *
 * Usage: tsx scripts/build-circuits.ts [--target test|production|all] [--only NAME[,NAME]] [--jobs N] [--force] [--manifest FILE]
 * Env:   PTAU=/path/file.ptau      use this powers-of-tau file (e.g. a published ceremony file)
 *        PARTPROOF_PTAU_DIR=DIR    cache of development ptau files (default ~/.cache/partproof/ptau)
 */
import os from "node:os";
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
import { parseArgsOr, positiveIntArg, usageError } from "./lib/args.js";
import { buildCircuit, readManifest, type CircuitEntry } from "./lib/circuit-build.js";

const USAGE =
  "npm run build:circuits -- [--target test|production|all] [--only NAME[,NAME]] [--jobs N] [--force] [--manifest FILE]";

const { values } = parseArgsOr(
  {
    options: {
      target: { type: "string", default: "test" },
      only: { type: "string" },
      jobs: { type: "string", default: String(os.availableParallelism()) },
      manifest: { type: "string" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);

if (values.help) {
  console.log(`Usage: ${USAGE}`);
  process.exit(0);
}
if (!["test", "production", "all"].includes(values.target as string)) {
  usageError(`--target must be test, production or all, got "${values.target}"`, USAGE);
}

const jobs = positiveIntArg("--jobs", values.jobs!, USAGE);

/**
 * Builds the instances, `jobs` at a time; every build runs to its end even when another fails
 * (their outputs are cached), then the first failure is thrown. (Six lines: no queue library.)
 */
async function buildAll(entries: CircuitEntry[], log: (m: string) => void): Promise<void> {
  const queue = [...entries];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      await buildCircuit(e, log, values.force).catch((err: unknown) => void errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, entries.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

const t0 = Date.now();
const log = (msg: string) =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

try {
  const manifest = await readManifest(values.manifest);
  const only = values.only ? new Set(values.only.split(",")) : undefined;
  if (only) {
    const unknown = [...only].filter((n) => !manifest.some((c) => c.name === n));
    if (unknown.length) {
      usageError(
        `--only: unknown circuit(s) ${unknown.join(", ")} (see circuits/circuits.json)`,
        USAGE,
      );
    }
  }
  const selected = manifest.filter((c) =>
    only ? only.has(c.name) : values.target === "all" || c.target === values.target,
  );
  log(
    `building ${selected.length} circuit(s): ${selected.map((c) => c.name).join(", ") || "none"}`,
  );
  // snarkjs shares one BN254 curve (and its worker threads) through globalThis.curve_bn128,
  // made on first use; two builds making it at once each made one, and the threads of the one
  // not kept held the process open after "circuits ready" (a fresh clone's `npm test` hung
  // there). Made once here, before the builds start, it is the one they share and the one
  // ended below.
  if (selected.length > 1 && jobs > 1) await buildBn128();
  await buildAll(selected, log);
  log("circuits ready");
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  // snarkjs keeps its curve worker threads alive; end them so the process exits.
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
}
// Should anything else still hold the process open two seconds after the builds end (it must
// not: every curve is ended above), say so and exit rather than leave `npm test` waiting.
setTimeout(() => {
  console.error("build-circuits: an open handle kept the process alive after the builds; exiting");
  process.exit(process.exitCode ?? 0);
}, 2_000).unref();
