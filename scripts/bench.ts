/**
 * PartProof benchmarks: commitment tree, range-aggregate proof, gas, circuit sizes, gateway,
 * the gateway's prover against raw snarkjs, where a query's latency goes, batched verification.
 * Writes bench/results.json, bench/RESULTS.md and the README section between
 * `<!-- bench:start -->` and `<!-- bench:end -->`.
 *
 * Usage: npm run bench -- [--only tree,prove,gas,constraints,gateway,proof,latency,verify] [--records 1e4,1e5]
 *                         [--repeat 3] [--quick] [--out DIR] [--no-readme] [--fresh-input] [--report-only]
 */
import os from "node:os";
import path from "node:path";
import {
  BENCHMARKS,
  fmtCount,
  loadavg,
  makeLog,
  parseCount,
  ROOT,
  runChild,
  type BenchEntry,
  type BenchName,
  type Log,
} from "./lib/bench/common.js";
import { benchConstraints } from "./lib/bench/constraints.js";
import { benchGas, provableRangeCircuits } from "./lib/bench/gas.js";
import { gatewayAvailable, type GatewayBenchData } from "./lib/bench/gateway.js";
import { benchProve, missingBuild } from "./lib/bench/prove.js";
import { proveInputPath, readProveInput } from "./lib/bench/prove-input.js";
import {
  mergeResults,
  readResults,
  renderReadmeSection,
  updateReadme,
  writeOutputs,
} from "./lib/bench/report.js";
import { benchShapes } from "./lib/bench/shapes.js";
import { benchFilters } from "./lib/bench/filters.js";
import { benchTree } from "./lib/bench/tree.js";
import { benchProof } from "./lib/bench/proof.js";
import { benchVerify } from "./lib/bench/verify.js";
import { parseArgsOr, usageError } from "./lib/args.js";

const HELP = `Usage: npm run bench -- [options]

Benchmarks (all by default, in this order): ${BENCHMARKS.join(", ")}
  constraints  constraint count, public inputs and ptau power of every compiled circuit
  tree         TypeScript commitment tree (buildTree) for each --records size at depth 20
  prove        range-aggregate proof with range_d20 over a tree of the largest --records size:
               witness, proving, verify time, peak RSS of the proving process
  gas          publishVersion, grantAccess, revokeGrant, recordAnswer (real proofs) in Hardhat
  uploads      upload + commit of 10^4 and 10^5 quality records through the CLI's upload
               session to a gateway process, with its peak RSS (10^6: --uploads-million)
  gateway      one query's latency (POST /queries → logged) and Catena-X ingest throughput
  shapes       proof time and constraints per question shape (series, metrics, several
               suppliers, every plant × quarter in the day order) over 10^4 records
  filters      filtered questions at any size: the largest --records size of generated
               quality and delivery rows ingested through the indicator schemas
               (quality-eol3, delivery-late), two filtered questions proved at depth 20
  proof        range_d20 proof: raw snarkjs, the native prover, the gateway's prover (native, snarkjs, thread)
               next to raw \`snarkjs groth16 prove\` on the same zkey and witness, same run
  latency      where one range_d20 query's time goes (POST → logged: queue, tree, witness,
               proof, relayer, chain, client), former way vs now, same run
  verify       auditor re-verification: batched proofs/s vs snarkjs verify one by one

Options:
  --only LIST      comma-separated benchmarks to run (the others keep their last results)
  --records LIST   tree sizes, e.g. 1e4,1e5 (default); the largest is the proof's tree
  --big            add 10^6 to the tree sizes (minutes, ~1 GB)
  --repeat N       measured proofs / queries after one cold one (default 3)
  --quick          small sizes, a smoke test in seconds (test circuits only, range_d4, a
                   10^3-record tree); writes to a temporary folder unless --out is given,
                   and never to README.md
  --out DIR        where results.json and RESULTS.md go (default bench/)
  --no-readme      do not update README.md's benchmark section
  --fresh-input    rebuild the proof's tree even when its input is cached
                   (~/.cache/partproof/bench, or PARTPROOF_BENCH_CACHE)
  --report-only    run nothing: rewrite RESULTS.md and the README section from results.json
  --uploads-million  the uploads benchmark also uploads 10^6 records (long)
  -h, --help       this text

Needs: npm run build:circuits -- --only range_d20 (the prove benchmark; range_d4 is the test
build) and npm run build (contracts) for gas.`;

const USAGE =
  "npm run bench -- [--only LIST] [--records LIST] [--big] [--repeat N] [--quick] [--out DIR] [--no-readme] [--fresh-input] [--report-only] (more: --help)";

const { values } = parseArgsOr(
  {
    options: {
      only: { type: "string" },
      records: { type: "string" },
      repeat: { type: "string", default: "3" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      "no-readme": { type: "boolean", default: false },
      "fresh-input": { type: "boolean", default: false },
      "report-only": { type: "boolean", default: false },
      "uploads-million": { type: "boolean", default: false },
      big: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function fail(msg: string): never {
  return usageError(msg, USAGE);
}

const quick = values.quick!;
const selected: BenchName[] = values.only
  ? values.only.split(",").map((s) => {
      const name = s.trim() as BenchName;
      if (!BENCHMARKS.includes(name))
        fail(`--only: unknown benchmark "${s}" (${BENCHMARKS.join(", ")})`);
      return name;
    })
  : [...BENCHMARKS];
let sizes: number[];
try {
  sizes = values.records
    ? values.records.split(",").map(parseCount)
    : quick
      ? [1000]
      : [10_000, 100_000];
  if (values.big && !quick && !sizes.includes(1_000_000)) sizes.push(1_000_000);
} catch (e) {
  fail(`--records: ${(e as Error).message}`);
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) fail("--repeat must be a positive integer");
const outDir = path.resolve(
  values.out ??
    (quick ? path.join(os.tmpdir(), "partproof-bench-quick") : path.join(ROOT, "bench")),
);
const writeReadme = !quick && !values["no-readme"];

const TREE_DEPTH = 20;
const proveCircuit = quick ? { name: "range_d4", depth: 4 } : { name: "range_d20", depth: 20 };
const proveRecords = quick ? 12 : Math.max(...sizes);

const log = makeLog();
const entries: Partial<Record<BenchName, BenchEntry>> = {};
let failed = false;

async function run(name: BenchName, fn: (log: Log) => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  const start = loadavg();
  log(`── ${name} (load average ${start.join(" / ")}) ──`);
  const entry = (status: "ok" | "skipped", extra: Partial<BenchEntry>): BenchEntry => ({
    date: new Date().toISOString(),
    quick,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    loadavg: { start, end: loadavg() },
    status,
    ...extra,
  });
  try {
    const data = await fn(log);
    entries[name] = entry("ok", { data });
  } catch (e) {
    if (e instanceof Skip) {
      log(`${name}: skipped: ${e.message}`);
      entries[name] = entry("skipped", { reason: e.message });
    } else {
      failed = true;
      log(`${name}: FAILED: ${(e as Error).stack ?? e}`);
    }
  }
}

/** A benchmark that cannot run here (a build missing); recorded, not a failure. */
class Skip extends Error {}

log(
  `benchmarks: ${selected.join(", ")}${quick ? " (--quick)" : ""}; tree sizes ${sizes.map(fmtCount).join(", ")}; ` +
    `results → ${path.relative(process.cwd(), outDir) || "."}`,
);

const toRun = values["report-only"] ? [] : BENCHMARKS.filter((b) => selected.includes(b));
for (const name of toRun) {
  if (name === "constraints") {
    await run(name, (l) => benchConstraints(l, quick ? "test" : undefined));
  } else if (name === "tree") {
    await run(name, (l) =>
      benchTree(
        {
          sizes,
          depth: TREE_DEPTH,
          // Let the proof reuse the largest tree when it will need one (not in --quick).
          ...(!quick &&
          selected.includes("prove") &&
          (values["fresh-input"] || !readProveInput(proveInputPath(proveRecords, TREE_DEPTH)))
            ? {
                proveInput: {
                  records: proveRecords,
                  file: proveInputPath(proveRecords, TREE_DEPTH),
                },
              }
            : {}),
        },
        l,
      ),
    );
  } else if (name === "prove") {
    await run(name, async (l) => {
      const missing = missingBuild(proveCircuit.name);
      if (missing) {
        throw new Skip(
          `${path.relative(ROOT, missing)} missing: run npm run build:circuits -- --only ${proveCircuit.name}`,
        );
      }
      return benchProve(
        {
          circuit: proveCircuit.name,
          depth: proveCircuit.depth,
          records: proveRecords,
          repeat: quick ? 1 : repeat,
          freshInput: values["fresh-input"] && !selected.includes("tree"),
        },
        l,
      );
    });
  } else if (name === "gas") {
    await run(name, async (l) => {
      const maxDepth = quick ? 4 : 20;
      if (provableRangeCircuits(maxDepth).length === 0) {
        throw new Skip("no range circuit with zkey and verifier: run npm run build:circuits");
      }
      return benchGas({ maxDepth }, l);
    });
  } else if (name === "shapes") {
    const records = quick ? 12 : Math.min(proveRecords, 10_000);
    await run(name, (l) =>
      benchShapes({ circuit: proveCircuit.name, depth: proveCircuit.depth, records }, l),
    );
  } else if (name === "filters") {
    // 10^5 generated rows per asset by default (the largest --records size)
    const records = quick ? 12 : proveRecords;
    await run(name, (l) =>
      benchFilters({ circuit: proveCircuit.name, depth: proveCircuit.depth, records }, l),
    );
  } else if (name === "uploads") {
    await run(name, async (l) => {
      const why = gatewayAvailable();
      if (why) throw new Skip(why);
      // 10^6 records take long: only with --uploads-million
      const counts = quick
        ? [1000]
        : values["uploads-million"]
          ? [10_000, 100_000, 1_000_000]
          : [10_000, 100_000];
      const { benchUploads } = await import("./lib/bench/uploads.js");
      const runs = await benchUploads(
        counts,
        (r) => l(`  [uploads] ${JSON.stringify(r)}`),
        (line) => l(`  [uploads]${line}`),
      );
      return { runs };
    });
  } else if (name === "gateway" || name === "latency") {
    await run(name, async (l) => {
      const why = gatewayAvailable();
      if (why) throw new Skip(why);
      // In a child process: its numbers survive a crash while the gateway shuts down.
      const { result } = await runChild<GatewayBenchData>(
        path.join(ROOT, "scripts/lib/bench/gateway-child.ts"),
        [
          String(quick ? 1 : repeat),
          ...(quick ? ["quick"] : []),
          ...(name === "latency" ? ["latency"] : []),
        ],
        l,
        `  [${name}]`,
        {},
        true,
      );
      return result;
    });
  } else if (name === "proof") {
    await run(name, async (l) => {
      const missing = missingBuild(proveCircuit.name);
      if (missing) {
        throw new Skip(
          `${path.relative(ROOT, missing)} missing: run npm run build:circuits -- --only ${proveCircuit.name}`,
        );
      }
      return benchProof(
        {
          circuit: proveCircuit.name,
          depth: proveCircuit.depth,
          records: quick ? 12 : 10_000,
          rounds: quick ? 1 : repeat,
        },
        l,
      );
    });
  } else if (name === "verify") {
    await run(name, async (l) => {
      const missing = missingBuild("range_d4");
      if (missing) throw new Skip(`${path.relative(ROOT, missing)} missing: run npm run build`);
      return benchVerify({ batch: quick ? 32 : 512, single: quick ? 8 : 64 }, l);
    });
  }
}

const resultsFile = path.join(outDir, "results.json");
const results = mergeResults(readResults(resultsFile), entries);
const files = await writeOutputs(outDir, results);
log(
  `wrote ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.md)}`,
);
if (writeReadme) {
  await updateReadme(path.join(ROOT, "README.md"), renderReadmeSection(results));
  log("updated the benchmark section of README.md");
}
await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
process.exit(failed ? 1 : 0);
