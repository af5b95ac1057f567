/**
 * `filters` benchmark (issue 14): filtered questions at any size. Generated flat rows (quality
 * and delivery, 10^5 each by default) are ingested through the indicator schemas' real mapping
 * (`parseBatch` of `quality-eol3` and `delivery-late`, protocol/records/indicators.ts), committed
 * in depth-20 trees, and two filtered questions are proved with the range circuit: "rework PPM
 * among parts with at least 3 end-of-line tests" and "share of deliveries late by more than 2
 * days" for one part × one plant × a quarter. Each answer is checked against plain TypeScript over
 * the generated rows (dates and counts, not the indicator code), and the proof is verified.
 * A scan proof could not answer either: its window holds at most 15 consecutive records.
 */
import { performance } from "node:perf_hooks";
import { prove, verify } from "../../../circuits/lib/prove.js";
import { AggregateKind, type Policy } from "../../../circuits/lib/signals.js";
import { buildTree, randomSalt } from "../../../circuits/lib/tree.js";
import { rangeWitness } from "../../../circuits/lib/witness.js";
import {
  findSchema,
  idCode,
  keyRange,
  parseBatch,
  type DataSchema,
} from "../../../protocol/records/index.js";
import { DemoRandom, type QualityRow } from "../demo-data.js";
import type { DeliveryRow } from "../demo-shapes.js";
import { circuitPaths, r1csInfo } from "../circuit-build.js";
import { round, type Log } from "./common.js";

/** Options of {@link benchFilters}. */
export interface FiltersBenchOptions {
  /** The range circuit (range_d20; range_d4 with --quick). */
  circuit: string;
  depth: number;
  /** Records per asset (quality and delivery each). */
  records: number;
}

/** One filtered question: what it selected and what its proof cost. */
export interface FilteredQuestion {
  question: string;
  metric: string;
  /** Records in the key range (the circuit's cohort) and those the indicator selects. */
  rangeRecords: number;
  selected: number;
  /** The proved answer (10^6 · Σnumerator / Σindicator) and plain TypeScript's. */
  answer: string;
  expected: string;
  /** Witness + prove, s. */
  proveSeconds: number;
  verified: boolean;
}

/** Result of the `filters` benchmark. */
export interface FiltersBenchData {
  circuit: string;
  depth: number;
  records: number;
  constraints: number;
  /** parseBatch of the generated rows through each indicator schema, s. */
  ingestSeconds: { quality: number; delivery: number };
  /** Tree build per asset, s. */
  treeSeconds: { quality: number; delivery: number };
  questions: FilteredQuestion[];
}

const PARTS = 40;
const PLANTS = 6;
const DAYS = 730;
const FIRST = Date.UTC(2025, 0, 1);
const iso = (day: number) => new Date(FIRST + day * 86_400_000).toISOString().slice(0, 10);

interface Rows {
  quality: QualityRow[];
  delivery: DeliveryRow[];
}

/** n quality and n delivery rows over 40 parts, 6 plants and two years (deterministic). */
function generate(n: number): Rows {
  const rnd = new DemoRandom("bench-filters");
  const rows: Rows = { quality: [], delivery: [] };
  for (let i = 0; i < n; i++) {
    const part = `P-${rnd.int(1, PARTS)}`;
    const plant = `PLANT-${rnd.int(1, PLANTS)}`;
    rows.quality.push({
      partNumber: part,
      plant,
      productionDate: iso(rnd.int(0, DAYS - 1)),
      hasBeenReworked: rnd.next() < 0.03,
      numberOfConductedEndOfLineTests: rnd.int(0, 5),
    });
    const dep = rnd.int(0, DAYS - 1);
    const lead = rnd.next() < 0.05 ? null : rnd.int(1, 12);
    rows.delivery.push({
      partNumber: `P-${rnd.int(1, PARTS)}`,
      plant: `PLANT-${rnd.int(1, PLANTS)}`,
      departureDate: iso(dep),
      quantity: rnd.int(10, 1000),
      leadTimeDays: lead,
      dueDate: rnd.next() < 0.05 ? null : iso(dep + rnd.int(2, 8)),
    });
  }
  return rows;
}

/** Runs the `filters` benchmark. */
export async function benchFilters(o: FiltersBenchOptions, log: Log): Promise<FiltersBenchData> {
  const rows = generate(o.records);
  const constraints = (await r1csInfo(circuitPaths(o.circuit).r1cs)).nConstraints;
  // the question: part P-1 at PLANT-1 in 2025-Q3 (in --quick: every record of the part and plant)
  const q =
    o.records < 1000
      ? { from: iso(0), to: iso(DAYS - 1) }
      : { from: "2025-07-01", to: "2025-09-30" };
  const where = (part: string, plant: string, day: string) =>
    o.records < 1000 ? true : part === "P-1" && plant === "PLANT-1" && day >= q.from && day <= q.to;
  const pick = <T extends { partNumber: string; plant: string }>(rs: T[]) => {
    // in --quick every record is the one part and plant of the question
    if (o.records < 1000)
      for (const r of rs) Object.assign(r, { partNumber: "P-1", plant: "PLANT-1" });
    return rs;
  };
  pick(rows.quality);
  pick(rows.delivery);
  // at least one selected record per question, whatever the size
  rows.quality[0]!.numberOfConductedEndOfLineTests = 3;
  rows.delivery[0]!.leadTimeDays = 3;

  const commit = async (name: string, data: unknown[]) => {
    const schema = findSchema(name) as DataSchema;
    let t = performance.now();
    const parsed = parseBatch(schema, { format: "json", rows: data });
    if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(parsed.errors.slice(0, 3))}`);
    const ingest = (performance.now() - t) / 1000;
    t = performance.now();
    const tree = await buildTree(
      parsed.records,
      parsed.records.map(() => randomSalt()),
      o.depth,
    );
    const build = (performance.now() - t) / 1000;
    log(
      `filters: ${name}: ${o.records} rows ingested ${ingest.toFixed(1)} s, tree ${build.toFixed(1)} s`,
    );
    return { schema, tree, ingest, build };
  };
  const quality = await commit("quality-eol3", rows.quality);
  const delivery = await commit("delivery-late", rows.delivery);

  const { keyLo, keyHi } = keyRange({ partNumber: "P-1", plant: "PLANT-1", ...q });
  const policy: Policy = {
    aggregateMask: 0x7f,
    fieldMask: 0xf,
    filterMask: 0,
    keyLo: idCode("P-1") << 80n,
    keyHi: ((idCode("P-1") + 1n) << 80n) - 1n,
    minCohort: 1,
  };
  const ask = async (
    question: string,
    metric: string,
    c: typeof quality,
    num: string,
    den: string,
    truth: { range: number; selected: number; numerator: number },
  ): Promise<FilteredQuestion> => {
    const query = {
      kind: AggregateKind.RatioPpm,
      fieldA: c.schema.fields.indexOf(num),
      fieldB: c.schema.fields.indexOf(den),
      lo: keyLo,
      hi: keyHi,
      threshold: 0n,
      nonce: 1n,
    };
    const t = performance.now();
    const w = rangeWitness(c.tree, query, policy, 5n, 6n);
    const r = await prove(o.circuit, w.input);
    const s = (performance.now() - t) / 1000;
    const verified = await verify(o.circuit, r.proof, r.publicSignals);
    const expected = (1_000_000n * BigInt(truth.numerator)) / BigInt(truth.selected);
    const answer = w.answer.resultValue;
    if (answer !== expected || Number(w.answer.count) !== truth.range) {
      throw new Error(
        `${metric}: proved ${answer} over ${w.answer.count}, plain TypeScript ${expected} over ${truth.range}`,
      );
    }
    log(
      `filters: ${question}: ${answer} (10^-6) over ${truth.selected} of ${truth.range} records, ${s.toFixed(1)} s, verified ${verified}`,
    );
    return {
      question,
      metric,
      rangeRecords: truth.range,
      selected: truth.selected,
      answer: String(answer),
      expected: String(expected),
      proveSeconds: round(s, 2),
      verified,
    };
  };

  // plain TypeScript over the generated rows
  const qs = rows.quality.filter((r) => where(r.partNumber, r.plant, r.productionDate));
  const eol3 = qs.filter((r) => r.numberOfConductedEndOfLineTests >= 3);
  const ds = rows.delivery.filter((r) => where(r.partNumber, r.plant, r.departureDate));
  const arrived = ds.filter((r) => r.leadTimeDays !== null);
  const addDays = (d: string, n: number) =>
    iso((Date.parse(`${d}T00:00:00Z`) - FIRST) / 86_400_000 + n);
  const late = arrived.filter(
    (r) => r.dueDate === null || addDays(r.departureDate, r.leadTimeDays!) > addDays(r.dueDate, 2),
  );
  const questions = [
    await ask(
      "rework PPM among parts with at least 3 end-of-line tests, one part × plant × quarter",
      "rework-ppm-eol3",
      quality,
      "reworkedEolTests3",
      "eolTests3",
      {
        range: qs.length,
        selected: eol3.length,
        numerator: eol3.filter((r) => r.hasBeenReworked).length,
      },
    ),
    await ask(
      "share of deliveries late by more than 2 days, one part × plant × quarter",
      "late-share-2d",
      delivery,
      "late2d",
      "leadTimeKnown",
      { range: ds.length, selected: arrived.length, numerator: late.length },
    ),
  ];
  return {
    circuit: o.circuit,
    depth: o.depth,
    records: o.records,
    constraints,
    ingestSeconds: { quality: round(quality.ingest, 2), delivery: round(delivery.ingest, 2) },
    treeSeconds: { quality: round(quality.build, 2), delivery: round(delivery.build, 2) },
    questions,
  };
}
