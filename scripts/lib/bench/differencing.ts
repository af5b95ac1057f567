/**
 * The differencing guard's cost with 10^4 answered queries (issue 11): loading a consumer's
 * answered sets from LevelDB, merging versions into a record universe (once per version set,
 * cached by the gateway), and one check of the next query against every answered set.
 *
 * Usage: bash scripts/env.sh npx tsx scripts/lib/bench/differencing.ts [--answered 10000]
 *        [--records 10000] [--versions 1] [--repeat 5]
 * Prints one line per measure and the load average; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PredicateOp, type Predicate } from "../../../circuits/lib/query.js";
import type { MappedRecord } from "../../../protocol/records/types.js";
import { GatewayStore } from "../../../gateway/store/index.js";
import { AnsweredStore } from "../../../gateway/store/answered.js";
import {
  checkDifferencing,
  RecordUniverse,
  type RecordSet,
} from "../../../gateway/usecases/differencing.js";
import { unpackPredicate } from "../../../gateway/store/job-codec.js";
import { packPredicates } from "../../../protocol/typed-data.js";

const { values: opts } = parseArgs({
  options: {
    answered: { type: "string", default: "10000" },
    records: { type: "string", default: "10000" },
    versions: { type: "string", default: "1" },
    repeat: { type: "string", default: "5" },
  },
});
const ANSWERED = Number(opts.answered);
const RECORDS = Number(opts.records);
const VERSIONS = Number(opts.versions);
const REPEAT = Number(opts.repeat);

let seed = 42;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

/** Keys 1 … 2·RECORDS (so about half the key space is empty), 4 small values. */
function version(extra: number): MappedRecord[] {
  const out: MappedRecord[] = [];
  for (let i = 0; i < RECORDS + extra; i++) {
    out.push({
      key: BigInt(1 + rand(2 * RECORDS)),
      values: [1n, BigInt(rand(2)), 0n, BigInt(rand(50))],
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const versions = new Map<string, MappedRecord[]>();
  for (let v = 0; v < VERSIONS; v++) versions.set(String(v + 1), version(v * 10));
  // answered sets: 9 in 10 plain ranges of 1..5 % of the keys, 1 in 10 a filtered small range
  const sets: RecordSet[] = [];
  for (let i = 0; i < ANSWERED; i++) {
    const lo = BigInt(1 + rand(2 * RECORDS));
    const filtered = rand(10) === 0;
    const width = filtered ? 3 : 1 + rand(Math.max(1, Math.floor(RECORDS / 10)));
    const predicates: Predicate[] = filtered
      ? [{ field: 3, op: PredicateOp.Ge, value: BigInt(rand(50)) }]
      : [];
    sets.push({
      versionId: String(1 + rand(VERSIONS)),
      lo,
      hi: lo + BigInt(width),
      predicates,
    });
  }

  // LevelDB: store the answered sets of one consumer, then load them as a check does
  const dir = mkdtempSync(path.join(os.tmpdir(), "partproof-bench-diff-"));
  const store = await GatewayStore.open(dir);
  const answered = new AnsweredStore(store);
  const consumer = "0x" + "ab".repeat(20);
  for (let i = 0; i < sets.length; i++) {
    const s = sets[i]!;
    await answered.add("1", consumer, `job-${i}`, {
      versionId: s.versionId,
      root: s.versionId,
      lo: s.lo.toString(),
      hi: s.hi.toString(),
      predicates: packPredicates(s.predicates)
        .filter((p) => p !== 0n)
        .map(String),
    });
  }
  const loads: number[] = [];
  let loaded: RecordSet[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.hrtime.bigint();
    loaded = (await answered.of("1", consumer)).map((e) => ({
      versionId: e.versionId,
      lo: BigInt(e.lo),
      hi: BigInt(e.hi),
      predicates: e.predicates.map((p) => unpackPredicate(BigInt(p))),
    }));
    loads.push(ms(t0));
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  let t0 = process.hrtime.bigint();
  const universe = RecordUniverse.build(versions);
  const buildMs = ms(t0);

  const checks: number[] = [];
  const cpu: number[] = [];
  let refused = 0;
  for (let r = 0; r < REPEAT; r++) {
    const lo = BigInt(1 + rand(2 * RECORDS));
    const next: RecordSet = {
      versionId: "1",
      lo,
      hi: lo + BigInt(RECORDS / 20),
      predicates: [],
    };
    t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    if (checkDifferencing(universe, loaded, next, 5)) refused += 1;
    const c1 = process.cpuUsage(c0);
    checks.push(ms(t0));
    cpu.push((c1.user + c1.system) / 1000);
  }
  const load = os.loadavg().map((x) => x.toFixed(2));
  console.log(
    `differencing guard: ${loaded.length} answered sets, ${RECORDS} records × ${VERSIONS} version(s), ${os.cpus().length} cores, load ${load.join(" ")}`,
  );
  console.log(`  load answered sets from LevelDB: median ${median(loads).toFixed(1)} ms`);
  console.log(`  build record universe (once per version set): ${buildMs.toFixed(1)} ms`);
  console.log(
    `  check one query: median ${median(checks).toFixed(1)} ms (min ${Math.min(...checks).toFixed(1)}, max ${Math.max(...checks).toFixed(1)}; ${refused}/${REPEAT} would be refused); CPU time median ${median(cpu).toFixed(1)} ms`,
  );
  // the records as objects are the bench's own (the gateway streams them from the store:
  // scripts/lib/bench/universe-rss.ts measures that path)
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

await main();
