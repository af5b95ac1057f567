/**
 * The supply-chain questions each side asks (issue 18), by name, in words and units: stock
 * coverage and capacity cover (a consumer of a supplier's stock, demand and capacity data) and
 * field-claim rates (a supplier as the consumer of an automaker's claims). Each is made of one or
 * two proven answers — existing aggregates (SUM, RATIO_PPM) over the fields the schemas map
 * (protocol/records) — and the combination of two answers is exact and shown in words.
 */
import { BY_DAY } from "../protocol/records/key-order.js";
import type { DataSchema } from "../protocol/records/types.js";
import { UserError } from "./errors.js";
import { decimalOf } from "./metrics.js";

/** One proven answer a question needs. */
export interface ProvenPart {
  /** Its name in `--grant NAME=ID` and in the output. */
  name: string;
  /** The schema of the asset asked (its day-ordered variant fits too). */
  schema: "stock" | "demand" | "capacity" | "claims" | "delivery" | "quality";
  aggregate: "sum" | "ratio";
  fieldA: string;
  fieldB?: string;
  /** "window": the question's dates (or each period of it); "day": one day (`--at`). */
  dates: "window" | "day";
  /** What the answer is, in words, and its unit. */
  words: string;
  unit: string;
}

/** The verified answers of one period, by part name: the answer's value and count. */
export type PartValues = Record<string, { value: bigint; aux: bigint }>;

/** A question's value: the exact fraction num / den in its unit. */
export interface SupplyValue {
  num: bigint;
  den: bigint;
  /** The combination with the proven numbers filled in, in words. */
  shown: string;
}

/** A named supply-chain question. */
export interface SupplyMetric {
  name: string;
  /** Who asks whom, in words (help and docs). */
  asks: string;
  title: string;
  unit: string;
  decimals: number;
  /** Periods: "month" forces one question per calendar month of the window; else as asked. */
  by?: "month";
  parts: readonly ProvenPart[];
  /** The combination in words, with the parts' names. */
  combination: string;
  /** The value from the proven answers; `days` is the window's length in days. */
  value(v: PartValues, days: number): SupplyValue;
}

const ratioValue = (v: bigint, unitScale: bigint) => ({ num: v, den: unitScale });

/** The presets of `consumer ask` (also `automaker ask`). */
export const SUPPLY_METRICS: readonly SupplyMetric[] = [
  {
    name: "stock-coverage",
    asks: "a customer asks a supplier",
    title: "stock coverage of a material (outbound stock ÷ average weekly active demand)",
    unit: "weeks",
    decimals: 2,
    parts: [
      {
        name: "stock",
        schema: "stock",
        aggregate: "sum",
        fieldA: "outboundQuantity",
        dates: "day",
        words: "outbound stock on the day",
        unit: "pieces",
      },
      {
        name: "demand",
        schema: "demand",
        aggregate: "sum",
        fieldA: "activeDemand",
        dates: "window",
        words: "active demand over the window",
        unit: "pieces",
      },
    ],
    combination: "stock ÷ (demand ÷ weeks of the window) = stock × days ÷ (7 × demand)",
    value(v, days) {
      const stock = v.stock!.value;
      const demand = v.demand!.value;
      return {
        num: stock * BigInt(days),
        den: 7n * demand,
        shown: `${stock} pieces ÷ (${demand} pieces ÷ ${decimalOf(BigInt(days), 7n, 2)} weeks)`,
      };
    },
  },
  {
    name: "capacity-share",
    asks: "a customer asks a supplier",
    title:
      "share of weeks whose actual capacity covers the linked demand (of the capacity group's week records that carry a demand)",
    unit: "% of weeks",
    decimals: 2,
    parts: [
      {
        name: "capacity",
        schema: "capacity",
        aggregate: "ratio",
        fieldA: "covered",
        fieldB: "demandKnown",
        dates: "window",
        words: "covered weeks per 10^6 weeks with a demand",
        unit: "PPM",
      },
    ],
    combination: "RATIO_PPM(covered, demandKnown) ÷ 10^4",
    value(v) {
      return { ...ratioValue(v.capacity!.value, 10_000n), shown: `${v.capacity!.value} PPM` };
    },
  },
  {
    name: "claims-per-month",
    asks: "a supplier asks an automaker",
    title: "field claims of the part per calendar month",
    unit: "claims",
    decimals: 0,
    by: "month",
    parts: [
      {
        name: "claims",
        schema: "claims",
        aggregate: "sum",
        fieldA: "claims",
        dates: "window",
        words: "claimed parts in the month",
        unit: "claims",
      },
    ],
    combination: "SUM(claims) per month",
    value(v) {
      return { num: v.claims!.value, den: 1n, shown: `${v.claims!.value} claims` };
    },
  },
  {
    name: "causal-claims-per-month",
    asks: "a supplier asks an automaker",
    title: "field claims of the part marked causal, per calendar month",
    unit: "causal claims",
    decimals: 0,
    by: "month",
    parts: [
      {
        name: "claims",
        schema: "claims",
        aggregate: "sum",
        fieldA: "causal",
        dates: "window",
        words: "claimed parts marked causal in the month",
        unit: "claims",
      },
    ],
    combination: "SUM(causal) per month",
    value(v) {
      return { num: v.claims!.value, den: 1n, shown: `${v.claims!.value} causal claims` };
    },
  },
  {
    name: "causal-share",
    asks: "a supplier asks an automaker",
    title: "share of the part's field claims marked causal",
    unit: "%",
    decimals: 2,
    parts: [
      {
        name: "claims",
        schema: "claims",
        aggregate: "ratio",
        fieldA: "causal",
        fieldB: "claims",
        dates: "window",
        words: "causal claims per 10^6 claims",
        unit: "PPM",
      },
    ],
    combination: "RATIO_PPM(causal, claims) ÷ 10^4",
    value(v) {
      return { ...ratioValue(v.claims!.value, 10_000n), shown: `${v.claims!.value} PPM` };
    },
  },
  {
    name: "replaced-ppm",
    asks: "a supplier asks an automaker, and its own delivery asset",
    title: "parts replaced in field claims per million delivered",
    unit: "PPM of delivered",
    decimals: 0,
    parts: [
      {
        name: "claims",
        schema: "claims",
        aggregate: "sum",
        fieldA: "replacedParts",
        dates: "window",
        words: "pieces replaced in the automaker's field claims",
        unit: "pieces",
      },
      {
        name: "delivery",
        schema: "delivery",
        aggregate: "sum",
        fieldA: "quantity",
        dates: "window",
        words: "pieces the supplier delivered",
        unit: "pieces",
      },
    ],
    combination: "10^6 × replaced ÷ delivered",
    value(v) {
      const replaced = v.claims!.value;
      const delivered = v.delivery!.value;
      return {
        num: 1_000_000n * replaced,
        den: delivered,
        shown: `10^6 × ${replaced} pieces replaced ÷ ${delivered} pieces delivered`,
      };
    },
  },
];

/** A supply question by name; the error lists them. */
export function supplyMetricOf(name: string): SupplyMetric {
  const m = SUPPLY_METRICS.find((x) => x.name === name.toLowerCase());
  if (!m) {
    throw new UserError(
      `unknown question "${name}" (${SUPPLY_METRICS.map((x) => x.name).join(", ")})`,
    );
  }
  return m;
}

/** Whether an asset's schema holds the records a part reads (its day-ordered variant too). */
export function partFits(part: ProvenPart, schema: DataSchema): boolean {
  return schema.name === part.schema || schema.name === `${part.schema}${BY_DAY}`;
}

/** The value in the question's unit with its decimals (rounded down); "n/a" on a zero divisor. */
export function formatSupply(metric: SupplyMetric, v: SupplyValue): string {
  return decimalOf(v.num, v.den, metric.decimals);
}
