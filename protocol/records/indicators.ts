/**
 * Indicator schemas: filters at any size. A filtered question ("rework PPM among parts with at
 * least 3 end-of-line tests", "share of deliveries late by more than 2 days") is made a plain
 * range sum by deriving, at ingest, a 0/1 indicator of the filter (and the product of a value
 * with it) into the record's four value fields. Then Σ(value · indicator) / Σ(indicator) over a
 * key range is one `range_d20` proof at any record count, the same circuit as every other range
 * question (no circuit change: only the mapping of rows to the four fields differs). The scan
 * window (`scan_d20_c16`: predicates over at most 15 consecutive records) stays for small
 * ad-hoc filters.
 *
 * Each indicator schema is a sibling of its base schema: the same flat rows (JSON / CSV), the
 * same Catena-X reading, the same index key, other value fields; a supplier uploads the same
 * records to an asset of it. The asset's on-chain schema id names the mapping, so gateway,
 * consumer and auditor read the fields alike. A grant names the indicator fields it may use in
 * its field mask like any other field: a grant without them is refused (POLICY_VIOLATION) by the
 * gateway and, through the policy hash, by the circuit. Each has a day-ordered variant too
 * (`…-by-day`, key-order.ts): every plant × a window, filtered.
 *
 * Derivation (exact integers, no floats; the thresholds are fixed per schema):
 *
 * `quality-eol3` (ManufacturedPartsQualityInformation rows):
 *   values = [quantity = 1, reworked 0/1, eolTests3 = [tests ≥ 3], reworkedEolTests3 =
 *   reworked · eolTests3].
 *   - rework PPM among parts with ≥ 3 end-of-line tests = RATIO_PPM(reworkedEolTests3, eolTests3)
 *   - share of parts with ≥ 3 tests = RATIO_PPM(eolTests3, quantity); rework PPM = RATIO_PPM(1, 0)
 *   MIN/MAX field 3 holds a 0/1 product here (no meaningful MIN/MAX; the base schema has it).
 *
 * `delivery-late` (DeliveryInformation rows): values = [quantity, leadTimeKnown 0/1, late2d,
 *   late5d] with, for N = 2 and 5 days,
 *     lateN = 1 iff the delivery arrived (lead time known) and NOT (a due date is given and
 *             departure + lead time ≤ due date + N),
 *   i.e. arrived more than N days after its due date, or arrived without a due date — the
 *   conservative reading of the base schema's on-time field (an arrived delivery without a due
 *   date is not on time, so it is late: a supplier cannot lower its late share by leaving due
 *   dates out). A delivery that has not arrived is in no share (leadTimeKnown 0, lateN 0).
 *   Exactly N days late is not late by more than N days.
 *   - share of arrived deliveries late by more than N days = RATIO_PPM(lateNd, leadTimeKnown)
 *
 * `pcf-primary50` (PCF rows): values = [pcfPrimary50 = pcf · primary50, primary50 = [share ≥
 *   50.00 %], footprints = 1, pcf µkg CO2e] with the share in basis points (≥ 5000).
 *   - average PCF among footprints with ≥ 50 % primary data = RATIO_PPM(pcfPrimary50, primary50)
 *     (in 10^-12 kg CO2e per part)
 *   - share of footprints with ≥ 50 % primary data = RATIO_PPM(primary50, footprints)
 *   - average PCF (all) = SUM(3) / SUM(2) as in the base schema; MIN/MAX field 3: PCF.
 */
import { deliverySchema } from "./delivery.js";
import { BY_DAY } from "./key-order.js";
import { pcfSchema } from "./pcf.js";
import { qualitySchema } from "./quality.js";
import type { DataSchema, ParsedRow } from "./types.js";

/** End-of-line tests a part needs for `eolTests3` = 1. */
export const EOL_TESTS_MIN = 3n;
/** The "late by more than N days" thresholds of `delivery-late`, in field order (2 then 5). */
export const LATE_DAYS = [2n, 5n] as const;
/** Primary-data share (basis points) a footprint needs for `primary50` = 1: 50.00 %. */
export const PRIMARY_SHARE_MIN_BP = 5000n;

/** 1 when a part had at least {@link EOL_TESTS_MIN} end-of-line tests, else 0. */
export function eolTestsIndicator(tests: bigint): bigint {
  return tests >= EOL_TESTS_MIN ? 1n : 0n;
}

/**
 * 1 when a delivery arrived more than `n` days after its due date, or arrived without a due
 * date; 0 when it arrived within `n` days of its due date or has not arrived (days are day
 * numbers: departure + lead time is the arrival day).
 */
export function lateIndicator(
  departureDay: bigint,
  leadTimeDays: bigint | null,
  dueDay: bigint | null,
  n: bigint,
): bigint {
  if (leadTimeDays === null) return 0n;
  if (dueDay === null) return 1n;
  return departureDay + leadTimeDays > dueDay + n ? 1n : 0n;
}

/** 1 when a footprint's primary-data share (basis points) is at least 50.00 %, else 0. */
export function primaryShareIndicator(shareBp: bigint): bigint {
  return shareBp >= PRIMARY_SHARE_MIN_BP ? 1n : 0n;
}

/** An indicator a schema derives: its field, the filter in words, the fields it pairs with. */
export interface IndicatorInfo {
  /** The schema field holding the indicator (0/1) or its product with a value. */
  field: string;
  /** What it selects, in words. */
  filter: string;
}

/** The indicator fields of each indicator schema (by base name), for the catalogue. */
export const INDICATORS: Readonly<Record<string, readonly IndicatorInfo[]>> = {
  "quality-eol3": [
    { field: "eolTests3", filter: "1 if the part had ≥ 3 end-of-line tests" },
    {
      field: "reworkedEolTests3",
      filter: "1 if the part had ≥ 3 end-of-line tests and was reworked",
    },
  ],
  "delivery-late": [
    { field: "late2d", filter: "1 if arrived > 2 days after its due date (or without one)" },
    { field: "late5d", filter: "1 if arrived > 5 days after its due date (or without one)" },
  ],
  "pcf-primary50": [
    { field: "primary50", filter: "1 if the primary-data share is ≥ 50 %" },
    { field: "pcfPrimary50", filter: "the PCF if the primary-data share is ≥ 50 %, else 0" },
  ],
};

/** The limit of the scan window, for small ad-hoc filters the indicators do not cover. */
export const SCAN_WINDOW_NOTE =
  "ad-hoc filters (predicates ==, ≤, ≥ on up to 3 fields the grant's filter mask allows) are proved over one scan window (scan_d20_c16): at most 15 consecutive records of the key range; larger filtered questions need an indicator field";

/** What the catalogue says about a schema's filters: its indicator fields and the scan limit. */
export function filtersOf(schema: DataSchema) {
  return {
    indicators: (INDICATORS[schema.name.replace(BY_DAY, "")] ?? []).map((i) => ({
      index: schema.fields.indexOf(i.field),
      ...i,
    })),
    scanWindow: SCAN_WINDOW_NOTE,
  };
}

function variant(
  base: DataSchema,
  suffix: string,
  what: string,
  fields: DataSchema["fields"],
  fieldDescriptions: DataSchema["fieldDescriptions"],
  cohortFields: DataSchema["cohortFields"],
  toValues: (row: ParsedRow) => [bigint, bigint, bigint, bigint],
): DataSchema {
  return {
    ...base,
    id: `${base.id}-${suffix}`,
    name: `${base.name}-${suffix}`,
    description: `${base.description} Indicator fields derived at ingest: ${what}.`,
    fields,
    fieldDescriptions,
    cohortFields,
    toValues,
  };
}

/** Quality with the "≥ 3 end-of-line tests" indicator and its product with the rework flag. */
export const qualityEol3Schema: DataSchema = variant(
  qualitySchema,
  "eol3",
  "parts with at least 3 end-of-line tests (eolTests3) and such parts reworked (reworkedEolTests3)",
  ["quantity", "reworked", "eolTests3", "reworkedEolTests3"],
  [
    "always 1: one record is one part",
    "1 if the part was reworked, else 0",
    "1 if the part had at least 3 end-of-line tests, else 0",
    "1 if the part had at least 3 end-of-line tests and was reworked, else 0",
  ],
  { reworkedEolTests3: "eolTests3" },
  (row) => {
    const reworked = row.hasBeenReworked as bigint;
    const ind = eolTestsIndicator(row.numberOfConductedEndOfLineTests as bigint);
    return [1n, reworked, ind, reworked * ind];
  },
);

/** Delivery with "late by more than 2 / 5 days" indicators. */
export const deliveryLateSchema: DataSchema = variant(
  deliverySchema,
  "late",
  "arrived more than 2 days (late2d) and more than 5 days (late5d) after the due date",
  ["quantity", "leadTimeKnown", "late2d", "late5d"],
  [
    "delivered quantity, pieces",
    "1 if the lead time is known (the delivery arrived), else 0",
    "1 if the delivery arrived more than 2 days after its due date or without a due date, else 0",
    "1 if the delivery arrived more than 5 days after its due date or without a due date, else 0",
  ],
  { late2d: "leadTimeKnown", late5d: "leadTimeKnown" },
  (row) => {
    const lead = row.leadTimeDays as bigint | null;
    const due = row.dueDate == null ? null : BigInt(row.dueDate as number);
    const departure = BigInt(row.departureDate as number);
    return [
      row.quantity as bigint,
      lead === null ? 0n : 1n,
      lateIndicator(departure, lead, due, LATE_DAYS[0]),
      lateIndicator(departure, lead, due, LATE_DAYS[1]),
    ];
  },
);

/** PCF with the "primary-data share ≥ 50 %" indicator and the PCF of such footprints. */
export const pcfPrimary50Schema: DataSchema = variant(
  pcfSchema,
  "primary50",
  "footprints with a primary-data share of at least 50 % (primary50) and their PCF (pcfPrimary50)",
  ["pcfPrimary50", "primary50", "footprints", "pcfMicroKgCo2e"],
  [
    "PCF (10^-6 kg CO2e per part) if the primary-data share is at least 50 %, else 0",
    "1 if the primary-data share is at least 50 %, else 0",
    "always 1: one record is one footprint",
    "PCF excluding biogenic uptake, 10^-6 kg CO2e per declared unit",
  ],
  { pcfPrimary50: "primary50" },
  (row) => {
    const pcf = row.pcfExcludingBiogenicUptake as bigint;
    const ind = primaryShareIndicator(row.primaryDataShare as bigint);
    return [pcf * ind, ind, 1n, pcf];
  },
);

/** Every indicator schema (the day-ordered variants are made in index.ts). */
export const INDICATOR_SCHEMAS: readonly DataSchema[] = [
  qualityEol3Schema,
  deliveryLateSchema,
  pcfPrimary50Schema,
];
