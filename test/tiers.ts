/**
 * The two test tiers (issue 13: `npm test` after the first demo ≤ 3 min).
 *
 * - `npm test`, the quick tier: every test file except the slow ones listed in {@link SLOW_FILES},
 *   after the build and the lint. What a developer runs after `npm run demo` or a change; it
 *   covers every area (contracts with their reverts, circuits at depth 4, protocol, gateway, CLI,
 *   scripts) and leaves out only long end-to-end runs, soaks, fuzzing loops, the browser test and
 *   files whose cost is a big set-up.
 * - `npm run test:all`: every test file (`hardhat test`), what CI runs (`.ci/run`).
 *
 * A new test file lands in the quick tier unless it is listed here; test/tiers.test.ts checks that
 * every listed file exists and that the quick tier and this list together are every test file.
 *
 * Run as a script (`tsx test/tiers.ts quick|slow|list [hardhat test mocha options…]`) it runs the
 * tier's files through `hardhat test mocha` (`list` prints the quick tier's files). Imported (as
 * mocha does with every file under test/), it only exports.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The files `npm test` leaves out, each with why it is slow (the seconds are a fresh clone's CI
 * run on an idle machine, set-ups included, from test/file-times.ts). Paths from the repository
 * root, forward slashes.
 */
export const SLOW_FILES: Readonly<Record<string, string>> = {
  "test/console/console.test.ts":
    "browser test: chromium drives the console over a chain and three gateways (~175 s)",
  "test/gateway/fuzz-routes.test.ts":
    "fuzzing loop: 1,000 fast-check cases per gateway route against a real gateway (~50-65 s)",
  "test/e2e/anvil-soak.test.ts":
    "soak: the gateway killed with SIGKILL again and again on a separate anvil node (~50 s)",
  "test/e2e/shapes.test.ts":
    "end-to-end: three suppliers' gateways and the CLI, one proof per month of a series (~50 s)",
  "test/cli/audit-sample.test.ts":
    "end-to-end: the auditor's sample mines to the seed block, proves the challenged leaves, attests on-chain (~27-45 s)",
  "test/e2e/anvil.test.ts":
    "end-to-end: reorganisations and the whole CLI story on a separate anvil node (~39 s)",
  "test/e2e/claims.test.ts":
    "end-to-end: claims, stock, demand and capacity in both directions through the CLI (~38 s)",
  "test/scripts/sandbox.test.ts":
    "end-to-end: `npm run sandbox` starts a chain and gateways, publishes, runs every printed command (~25-36 s)",
  "test/e2e/filters.test.ts":
    "end-to-end: filtered questions on indicator schemas through the CLI, a proof per point (~32 s)",
  "test/contracts/Invariants.test.ts":
    "fuzzing loop: random action sequences against the chain with a pool of real range_d4 proofs (~30 s)",
  "test/scripts/dev-zkey.test.ts":
    "big set-up: computes development zkeys and runs `snarkjs zkey verify` on them (~25-30 s)",
  "test/scripts/fixed-base.test.ts":
    "big set-up: development ptau and zkey written twice, by the native and the WebAssembly fixed-base engine (~7 s)",
  "test/circuits/tree-threads.test.ts":
    "soak: starts and kills the tree engines' worker threads again and again (~26 s)",
  "test/cli/audit-supplier.test.ts":
    "big set-up: a CLI world (chain, gateway, published version) rebuilt and re-proved by the supplier (~26 s)",
  "test/circuits/audit_path.test.ts":
    "big set-up: many audit_d4 witnesses of well-formed and forged trees, each constraint found by name (~24 s)",
  "test/gateway/backup.test.ts":
    "big set-up: gateways with logged answers stopped, backed up, restored and proving again (~24 s)",
  "test/gateway/versions.test.ts":
    "end-to-end: a growing data set uploaded, published and answered version by version with proofs (~23-33 s)",
  "test/cli/verify.test.ts":
    "big set-up: a CLI world with a lying gateway, real proofs and logged answers (~23 s)",
  "test/scripts/cli-args.test.ts":
    "spawns every README script once per bad option, a Node start-up each (~20-22 s)",
  "test/circuits/range_aggregate.test.ts":
    "big set-up: compiles relaxed copies of range_d4 to name the one constraint each forged neighbour or policy edit fails (~20 s; its correct witnesses are in the quick range_aggregate-witnesses.test.ts)",
  "test/gateway/ingest-refusals.test.ts":
    "big set-up: a chain and a gateway, chain-side refusals of relayed publications, a full ingest queue (~16-21 s)",
  "test/gateway/upload-expiry.test.ts":
    "waits out real upload-session lifetimes across gateway restarts, no fake clock (~20 s)",
  "test/scripts/circuit-build.test.ts":
    "compiles circuits with circom and runs snarkjs' setup and contributions (~20 s)",
  "test/e2e/story.test.ts": "end-to-end: the whole PartProof story through the CLI (~17 s)",
  "test/cli/pack.test.ts":
    "big set-up: `npm pack` and an install of the package into a temporary folder (~18 s)",
  "test/circuits/threshold_policy.test.ts":
    "big set-up: a ~20-probe binary search and many range_d4 witnesses, each constraint found by name (~17-19 s)",
  "test/circuits/scan_aggregate.test.ts":
    "big set-up: scan_d4_c4 witnesses for every kind and forged scans, each constraint found by name (~20 s)",
  "test/gateway/audit.test.ts":
    "big set-up: a CLI world whose versions are audited leaf by leaf with audit_d4 proofs (~20 s)",
  "test/circuits/cohort_policy.test.ts":
    "big set-up: range_d4 witnesses of filtered questions at every cohort boundary (~14 s)",
  "test/contracts/RealProof.test.ts":
    "big set-up: real range_d4 proofs made and verified on-chain by the generated verifier (~14 s)",
  "test/gateway/answer-release.test.ts":
    "big set-up: a gateway proves answers that the chain logs around a revoked grant and a squatted request id (~12 s)",
  "test/cli/verify-checks.test.ts":
    "big set-up: a CLI world with a proved, logged answer edited once per check (~11 s)",
  "test/gateway/privacy.test.ts":
    "big set-up: gateways prove answers over canary records; every response, log line and chain event searched (~11 s)",
  "test/circuits/audit_sampling.test.ts":
    "big set-up: escape rates of malformed trees measured against the real audit_d4 circuit (~10 s)",
  "test/scripts/dev-ptau.test.ts":
    "big set-up: writes a development ptau and compares its sections byte for byte with snarkjs' (~10 s)",
  "test/gateway/job-events.test.ts":
    "big set-up: gateways proving answers while clients follow each job's events (~10 s)",
  "test/protocol/batch-verify.test.ts":
    "big set-up: real Groth16 proofs made, then verified in batches (~18 s)",
  "test/gateway/ingest-memory.test.ts":
    "big set-up: ingest workers run out of heap on an upload too big for them, and are replaced (~7 s)",
  "test/gateway/prover-engine.test.ts":
    "big set-up: real range_d4 proofs from the prover pool, one child process per engine (~6 s)",
  "test/circuits/native-kernels.test.ts":
    "fuzzing loop: the assembly and C Poseidon kernels compared on many random values (~6-11 s)",
  "test/gateway/gateway.test.ts":
    "big set-up: a chain, a gateway, published versions and real proofs behind every route, restarts (~16 s)",
  "test/gateway/bombs.test.ts":
    "big inputs: numbers of 10^6 digits, 10^5 columns, an upload overrunning its work budget (~6-10 s)",
  "test/scripts/bench-quick.test.ts":
    "runs `scripts/bench.ts --quick` in a child process: a 10^3-record tree at depth 20, the circuits' sizes (~5-8 s)",
  "test/gateway/tenancy.test.ts":
    "big set-up: gateways started per case, a real proof whose relayed log transaction spends the owner's gas (~8-12 s)",
};

/** Every file `hardhat test` loads (JavaScript and TypeScript under test/), sorted. */
export function allTestFiles(): string[] {
  return (readdirSync(path.join(ROOT, "test"), { recursive: true }) as string[])
    .map((f) => `test/${f.split(path.sep).join("/")}`)
    .filter((f) => /\.(ts|cts|mts|js|cjs|mjs)$/i.test(f))
    .sort();
}

/** The quick tier's files: every test file that is not listed as slow. */
export function quickTestFiles(): string[] {
  return allTestFiles().filter((f) => !(f in SLOW_FILES));
}

/** Runs `tier` through `hardhat test mocha`, passing `options` on; returns its exit code. */
function runTier(tier: string, options: string[]): number {
  if (tier === "list") {
    console.log(quickTestFiles().join("\n"));
    return 0;
  }
  const files =
    tier === "quick" ? quickTestFiles() : tier === "slow" ? Object.keys(SLOW_FILES) : undefined;
  if (!files) {
    console.error(`usage: tsx test/tiers.ts quick|slow|list [hardhat test mocha options…]`);
    return 2;
  }
  if (tier === "quick") {
    const tests = files.filter((f) => f.endsWith(".test.ts")).length;
    console.log(
      `quick tier: ${tests} test files; left out (slow, run by \`npm run test:all\` and CI): ${Object.keys(SLOW_FILES).length} files listed in test/tiers.ts`,
    );
  }
  const run = spawnSync(
    path.join(ROOT, "node_modules", ".bin", "hardhat"),
    ["test", "mocha", ...options, ...files],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env, PARTPROOF_TEST_TIER: tier } },
  );
  if (run.error) throw run.error;
  return run.status ?? 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = runTier(process.argv[2] ?? "", process.argv.slice(3));
}
