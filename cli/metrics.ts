/**
 * The questions automakers ask, by name: each metric preset is an existing aggregate kind over
 * the fields a schema maps (protocol/records), and says its answer in plain words and units.
 * The same metric can be pooled over several suppliers: then each supplier proves the sums the
 * pooled value needs (numerator, denominator or count), and the combination is exact.
 */
import type { JobView } from "../protocol/api.js";
import { BY_DAY } from "../protocol/records/key-order.js";
import type { DataSchema } from "../protocol/records/types.js";
import { UserError } from "./errors.js";

/** What a pooled metric is made of: value = scale · Σ numerator / Σ denominator. */
export interface Pooling {
  /** Field summed for the numerator. */
  numerator: string;
  /** Field summed for the denominator, "count" for the number of records, or none (a total). */
  denominator?: string | "count";
}

/** A named question with its words and units. */
export interface Metric {
  /** Preset name (`--metric`). */
  name: string;
  /**
   * The schema whose fields it reads (quality, delivery, pcf, or an indicator schema of
   * protocol/records/indicators.ts for a filtered question).
   */
  schema: "quality" | "delivery" | "pcf" | "quality-eol3" | "delivery-late" | "pcf-primary50";
  /** What it is, in words (help and output). */
  title: string;
  /** Unit of the value. */
  unit: string;
  /** The one-proof question of one supplier: aggregate kind and fields. */
  aggregate: "ratio" | "sum" | "avg";
  fieldA: string;
  fieldB?: string;
  /** How several suppliers' sums combine into the value. */
  pooling: Pooling;
  /** Fixed-point scale of the value: the value is `raw / divisor` in `unit`. */
  divisor: bigint;
  /** Decimals printed. */
  decimals: number;
}

/** The presets of `automaker query --metric` and `automaker series --metric`. */
export const METRICS: readonly Metric[] = [
  {
    name: "rework-ppm",
    schema: "quality",
    title: "rework rate",
    unit: "PPM",
    aggregate: "ratio",
    fieldA: "reworked",
    fieldB: "quantity",
    pooling: { numerator: "reworked", denominator: "count" },
    divisor: 1n,
    decimals: 0,
  },
  {
    name: "lead-time",
    schema: "delivery",
    title: "average lead time (deliveries with a known arrival)",
    unit: "days",
    aggregate: "ratio",
    fieldA: "leadTimeDays",
    fieldB: "leadTimeKnown",
    pooling: { numerator: "leadTimeDays", denominator: "leadTimeKnown" },
    divisor: 1_000_000n,
    decimals: 2,
  },
  {
    name: "on-time-share",
    schema: "delivery",
    title: "on-time share (arrived by the due date, of the arrived deliveries)",
    unit: "%",
    aggregate: "ratio",
    fieldA: "onTime",
    fieldB: "leadTimeKnown",
    pooling: { numerator: "onTime", denominator: "leadTimeKnown" },
    divisor: 10_000n,
    decimals: 2,
  },
  {
    name: "delivered-qty",
    schema: "delivery",
    title: "delivered quantity",
    unit: "pieces",
    aggregate: "sum",
    fieldA: "quantity",
    pooling: { numerator: "quantity" },
    divisor: 1n,
    decimals: 0,
  },
  {
    name: "pcf-avg",
    schema: "pcf",
    title: "average PCF per part (excluding biogenic uptake)",
    unit: "kg CO2e per part",
    aggregate: "avg",
    fieldA: "pcfMicroKgCo2e",
    pooling: { numerator: "pcfMicroKgCo2e", denominator: "count" },
    divisor: 1_000_000n,
    decimals: 3,
  },
  {
    name: "carbon-total",
    schema: "pcf",
    title: "total carbon of the declared footprints (one part each)",
    unit: "kg CO2e",
    aggregate: "sum",
    fieldA: "pcfMicroKgCo2e",
    pooling: { numerator: "pcfMicroKgCo2e" },
    divisor: 1_000_000n,
    decimals: 3,
  },
  // filters at any size: ratios of indicator fields derived at ingest (one range proof each)
  {
    name: "rework-ppm-eol3",
    schema: "quality-eol3",
    title: "rework rate among parts with at least 3 end-of-line tests",
    unit: "PPM",
    aggregate: "ratio",
    fieldA: "reworkedEolTests3",
    fieldB: "eolTests3",
    pooling: { numerator: "reworkedEolTests3", denominator: "eolTests3" },
    divisor: 1n,
    decimals: 0,
  },
  {
    name: "eol3-share",
    schema: "quality-eol3",
    title: "share of parts with at least 3 end-of-line tests",
    unit: "%",
    aggregate: "ratio",
    fieldA: "eolTests3",
    fieldB: "quantity",
    pooling: { numerator: "eolTests3", denominator: "count" },
    divisor: 10_000n,
    decimals: 2,
  },
  {
    name: "late-share-2d",
    schema: "delivery-late",
    title:
      "share of arrived deliveries late by more than 2 days (after the due date, or without one)",
    unit: "%",
    aggregate: "ratio",
    fieldA: "late2d",
    fieldB: "leadTimeKnown",
    pooling: { numerator: "late2d", denominator: "leadTimeKnown" },
    divisor: 10_000n,
    decimals: 2,
  },
  {
    name: "late-share-5d",
    schema: "delivery-late",
    title:
      "share of arrived deliveries late by more than 5 days (after the due date, or without one)",
    unit: "%",
    aggregate: "ratio",
    fieldA: "late5d",
    fieldB: "leadTimeKnown",
    pooling: { numerator: "late5d", denominator: "leadTimeKnown" },
    divisor: 10_000n,
    decimals: 2,
  },
  {
    name: "pcf-avg-primary50",
    schema: "pcf-primary50",
    title: "average PCF per part among footprints with at least 50 % primary data",
    unit: "kg CO2e per part",
    aggregate: "ratio",
    fieldA: "pcfPrimary50",
    fieldB: "primary50",
    pooling: { numerator: "pcfPrimary50", denominator: "primary50" },
    // 10^6 · Σ µkg / Σ footprints: 10^-12 kg CO2e
    divisor: 1_000_000_000_000n,
    decimals: 3,
  },
  {
    name: "primary50-share",
    schema: "pcf-primary50",
    title: "share of footprints with at least 50 % primary data",
    unit: "%",
    aggregate: "ratio",
    fieldA: "primary50",
    fieldB: "footprints",
    pooling: { numerator: "primary50", denominator: "count" },
    divisor: 10_000n,
    decimals: 2,
  },
];

/**
 * The limit of ad-hoc filters, for help texts: the indicator metrics above answer their filter
 * at any size; any other filter goes through the scan window.
 */
export const FILTERS_NOTE =
  `filtered metrics (${filteredMetricNames()}) read indicator fields that an asset of an ` +
  "indicator schema (quality-eol3, delivery-late, pcf-primary50) derives at ingest, and answer " +
  "at any size; other filters are proved over one scan window of at most 15 consecutive records";

function filteredMetricNames(): string {
  return METRICS.filter((m) => m.schema.includes("-"))
    .map((m) => m.name)
    .join(", ");
}

/**
 * Whether a schema holds the records a metric reads: the metric's schema or its day-ordered
 * variant, or a sibling of it (an indicator schema, `quality-eol3` for `quality`) that has every
 * field the metric reads under the same name.
 */
export function metricFits(metric: Metric, schema: DataSchema): boolean {
  if (schema.name === metric.schema || schema.name === `${metric.schema}${BY_DAY}`) return true;
  const read = [metric.fieldA, metric.fieldB, metric.pooling.numerator, metric.pooling.denominator];
  return (
    schema.name.startsWith(`${metric.schema}-`) &&
    read.every((f) => f === undefined || f === "count" || schema.fields.includes(f))
  );
}

/** A metric by name; the error lists the presets. */
export function metricOf(name: string): Metric {
  const m = METRICS.find((x) => x.name === name.toLowerCase());
  if (!m) {
    throw new UserError(`unknown metric "${name}" (${METRICS.map((x) => x.name).join(", ")})`);
  }
  return m;
}

/** Fixed-point `num / den` with `decimals` decimals, rounded down; "n/a" when den is 0. */
export function decimalOf(num: bigint, den: bigint, decimals: number): string {
  if (den === 0n) return "n/a";
  const scale = 10n ** BigInt(decimals);
  const q = (num * scale) / den;
  if (decimals === 0) return q.toString();
  const s = q.toString().padStart(decimals + 1, "0");
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** A metric's value: an exact fraction `num / den` in the metric's unit, and what it covers. */
export interface MetricValue {
  num: bigint;
  den: bigint;
  /** Records the value is computed over, when the proof reveals it (ratios do not). */
  records?: bigint;
}

/** The value of a one-supplier answer of `metric` (its `aggregate`). */
export function valueOfAnswer(metric: Metric, job: JobView): MetricValue {
  if (!job.answer) throw new UserError(`job ${job.jobId} has no answer`);
  const v = BigInt(job.answer.resultValue);
  const aux = BigInt(job.answer.resultAux);
  switch (metric.aggregate) {
    case "ratio": // v = ⌊10^6 ΣA / ΣB⌋, in the unit: v / divisor
      return { num: v, den: metric.divisor };
    case "sum":
      return { num: v, den: metric.divisor, records: aux };
    case "avg":
      return { num: v, den: aux * metric.divisor, records: aux };
  }
}

/** The number in the metric's unit with its decimals (rounded down). */
export function formatValue(metric: Metric, v: MetricValue): string {
  return decimalOf(v.num, v.den, metric.decimals);
}

/** The value as a float (for charts only; words and CSV use {@link formatValue}). */
export function toNumber(v: MetricValue): number {
  return v.den === 0n ? Number.NaN : Number(v.num) / Number(v.den);
}

/** One line in plain words: "average lead time: 4.25 days over 120 records". */
export function describeMetric(metric: Metric, v: MetricValue, what = ""): string {
  const over = v.records === undefined ? "" : ` over ${v.records} records`;
  return `${metric.title}${what ? ` ${what}` : ""}: ${formatValue(metric, v)} ${metric.unit}${over}`;
}

/** The one-proof sums a supplier proves for a pooled metric: SUM(field) (its aux is the count). */
export function pooledQuestions(metric: Metric): string[] {
  const fields = [metric.pooling.numerator];
  const d = metric.pooling.denominator;
  if (d !== undefined && d !== "count") fields.push(d);
  return fields;
}

/** One supplier's verified sums: per field Σ and the record count. */
export interface SupplierSums {
  sums: Record<string, bigint>;
  count: bigint;
}

/**
 * Pools suppliers' sums into one value: Σ numerators / Σ denominators (or the count) in the
 * metric's unit; a total when the metric has no denominator.
 */
export function pooledValue(metric: Metric, parts: readonly SupplierSums[]): MetricValue {
  const total = (f: string) => parts.reduce((s, p) => s + (p.sums[f] ?? 0n), 0n);
  const count = parts.reduce((s, p) => s + p.count, 0n);
  const num = total(metric.pooling.numerator);
  const d = metric.pooling.denominator;
  if (d === undefined) return { num, den: metric.divisor, records: count };
  const den = d === "count" ? count : total(d);
  if (metric.aggregate === "ratio") {
    // in the unit: 10^6·ΣA/ΣB / divisor (PPM: ×10^6, %: ×100, days: ×1, kg from µkg: ×10^-6),
    // kept as a fraction
    return { num: num * 1_000_000n, den: den * metric.divisor, records: count };
  }
  return { num, den: den * metric.divisor, records: count };
}
