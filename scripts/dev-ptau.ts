/**
 * Writes a prepared (phase-2-ready) BN254 powers-of-tau file for development, in seconds instead
 * of snarkjs' `new → contribute → prepare phase2` (minutes to an hour). The secrets are derived
 * from a seed, so the file is a development setup only: NOT secure, whoever knows the seed can
 * forge proofs.
 *
 * Usage: tsx scripts/dev-ptau.ts --power P --out FILE [--seed S | --random] [--threads N]
 *   --power    log2 of the number of powers (1..27); a circuit of up to 2^P − 1 constraints fits
 *   --out      output .ptau file
 *   --seed     seed string for τ, α, β (default "partproof-dev-ptau/v1/2^P": reproducible)
 *   --random   use a random seed that is never printed or stored
 *   --threads  worker threads (default: all cores)
 */
import { parseArgs } from "node:util";
import {
  DEV_PTAU_WARNING,
  MAX_DEV_PTAU_POWER,
  defaultDevPtauSeed,
  randomDevPtauSeed,
  writeDevPtau,
} from "./lib/dev-ptau.js";

const USAGE =
  "Usage: tsx scripts/dev-ptau.ts --power P --out FILE [--seed S | --random] [--threads N]";

const { values } = parseArgs({
  options: {
    power: { type: "string" },
    out: { type: "string" },
    seed: { type: "string" },
    random: { type: "boolean", default: false },
    threads: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const power = Number(values.power);
if (!values.power || !Number.isInteger(power) || power < 1 || power > MAX_DEV_PTAU_POWER) {
  console.error(`--power must be an integer in 1..${MAX_DEV_PTAU_POWER}\n${USAGE}`);
  process.exit(2);
}
if (!values.out) {
  console.error(`--out is required\n${USAGE}`);
  process.exit(2);
}
if (values.seed !== undefined && values.random) {
  console.error(`--seed and --random exclude each other\n${USAGE}`);
  process.exit(2);
}
const threads = values.threads === undefined ? undefined : Number(values.threads);
if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
  console.error(`--threads must be a positive integer\n${USAGE}`);
  process.exit(2);
}

const seed = values.random ? randomDevPtauSeed() : (values.seed ?? defaultDevPtauSeed(power));
console.log(`WARNING: ${DEV_PTAU_WARNING}`);
console.log(
  values.random
    ? "seed: random (not stored)"
    : `seed: ${JSON.stringify(seed)}${values.seed === undefined ? " (default)" : ""}`,
);
try {
  await writeDevPtau(power, values.out, {
    seed,
    threads,
    onProgress: (msg) => console.log(`[dev-ptau] ${msg}`),
  });
} catch (e) {
  console.error(`dev-ptau failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
