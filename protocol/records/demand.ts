/**
 * Catena-X WeekBasedMaterialDemand 3.0.1: one record per week of a material's demand at a
 * customer site.
 *
 * Flat row (JSON / CSV): partNumber (material), plant (customer site, BPNS), week (YYYY-MM-DD,
 * the Monday of the calendar week), demand (uint, pieces), and optionally inactive (true/false:
 * the demand series is inactive; absent: active) and unit (absent, or `unit:piece`; in CSV a
 * given cell must not be empty).
 * Record: key = indexKey(partNumber, plant, week);
 * values = [activeDemand, entries = 1, inactiveDemand, demand]: the demand goes to
 * activeDemand or inactiveDemand by its flag (the other is 0) and always to field 3.
 * - Demand over a window = SUM(activeDemand); average weekly demand = that sum ÷ the window's
 *   weeks (a public number of the question: weeks without a record demand nothing).
 * - Several demand categories of one week are separate records and add up.
 * MIN/MAX field: demand (3).
 *
 * Weeks: a week is named by its Monday; any other date is refused with its position, so that
 * "weeks in a window" is exact.
 *
 * Units: pieces only (protocol/records/units.ts). A Catena-X demand whose `unitOfMeasure` is
 * another unit, or that omits its unit (`unitOfMeasureIsOmitted` true or no `unitOfMeasure`), is
 * refused with its position: a count of unknown units is never summed with pieces.
 *
 * From the Catena-X payload (one aspect or an array of them): every
 * `demandSeries[i].demands[j]` is one row; partNumber = `materialGlobalAssetId` when the aspect
 * gives it (the identifier ItemStock uses, so that stock and demand of a material share a key),
 * else `materialNumberCustomer`; plant = the series' `customerLocation`; week = `pointInTime`;
 * demand = `demand` (a whole number); inactive = `materialDemandIsInactive`. `changedAt` must
 * carry its UTC offset (checked, not stored).
 *
 * Identity: optional column `demandId`; from Catena-X `materialDemandId`, customer site, demand
 * category and week, so that a week's demand sent again replaces the earlier one.
 */
import { z } from "zod";
import type { DataSchema, RowError } from "./types.js";
import { readEachPayload, type SourcedRows } from "./issues.js";
import { dayNumber, dayOfTimestamp } from "./keys.js";
import { BPNL, BPNS, requireMonday, requirePieces, unitProblem, UUID } from "./units.js";

/** A WeekBasedMaterialDemand 3.0.1 aspect, as far as the demand and capacity schemas read it. */
export const materialDemandPayload = z.looseObject({
  materialDemandId: z.string().regex(UUID, "is not a UUID"),
  materialGlobalAssetId: z.string().regex(UUID, "is not a UUID").optional(),
  materialNumberCustomer: z.string().min(1).max(256),
  materialDescriptionCustomer: z.string(),
  customer: z.string().regex(BPNL, "is not a BPNL"),
  supplier: z.string().regex(BPNL, "is not a BPNL"),
  changedAt: z.string(),
  unitOfMeasure: z.string().optional(),
  unitOfMeasureIsOmitted: z.boolean(),
  materialDemandIsInactive: z.boolean(),
  demandSeries: z
    .array(
      z.looseObject({
        customerLocation: z.string().regex(BPNS, "is not a BPNS"),
        demandCategory: z.looseObject({ demandCategoryCode: z.string().min(1).max(16) }),
        demands: z
          .array(z.looseObject({ demand: z.number(), pointInTime: z.string() }))
          .min(1, "must hold at least one week"),
      }),
    )
    .min(1, "must hold at least one series"),
});

/** A WeekBasedMaterialDemand aspect (parsed). */
export type MaterialDemand = z.infer<typeof materialDemandPayload>;

/** One week of one demand series, read from an aspect, with its JSON pointer. */
export interface DemandWeek {
  position: string;
  series: MaterialDemand["demandSeries"][number];
  demand: number;
  pointInTime: string;
}

/**
 * The weeks of a demand aspect, after the checks every reader makes: the unit is pieces, the
 * change time carries its UTC offset, each week is a Monday. Refusals go to `errors`.
 */
export function demandWeeks(data: MaterialDemand, base: string, errors: RowError[]): DemandWeek[] {
  const before = errors.length;
  const unit = data.unitOfMeasureIsOmitted
    ? "is omitted (unitOfMeasureIsOmitted): a count of unknown units is never summed"
    : data.unitOfMeasure === undefined
      ? "is missing: a count of unknown units is never summed"
      : unitProblem(data.unitOfMeasure);
  if (unit) errors.push({ position: `${base}/unitOfMeasure`, reason: unit });
  try {
    dayOfTimestamp(data.changedAt);
  } catch (e) {
    errors.push({ position: `${base}/changedAt`, reason: (e as Error).message });
  }
  if (errors.length > before) return [];
  const out: DemandWeek[] = [];
  data.demandSeries.forEach((series, i) =>
    series.demands.forEach((d, j) => {
      const position = `${base}/demandSeries/${i}/demands/${j}`;
      try {
        requireMonday(dayNumber(d.pointInTime), "pointInTime");
      } catch (e) {
        errors.push({ position: `${position}/pointInTime`, reason: (e as Error).message });
        return;
      }
      out.push({ position, series, demand: d.demand, pointInTime: d.pointInTime });
    }),
  );
  return out;
}

/** The demand schema. */
export const demandSchema: DataSchema = {
  id: "urn:samm:io.catenax.week_based_material_demand:3.0.1",
  name: "demand",
  description:
    "Weekly material demand per customer site (Catena-X WeekBasedMaterialDemand 3.0.1), pieces, active and inactive apart, indexed by material, customer site and week (its Monday).",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "material identifier" },
    { name: "plant", kind: { type: "id" }, description: "customer site (BPNS)" },
    { name: "week", kind: { type: "date" }, description: "Monday of the week, YYYY-MM-DD" },
    { name: "demand", kind: { type: "uint" }, description: "demand of the week, pieces" },
  ],
  optionalColumns: [
    { name: "inactive", kind: { type: "bool" }, description: "the demand series is inactive" },
    { name: "unit", kind: { type: "id" }, description: "unit of the demand: unit:piece only" },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "week",
  fields: ["activeDemand", "entries", "inactiveDemand", "demand"],
  fieldDescriptions: [
    "demand of an active series, pieces (else 0)",
    "always 1: one record is one week of one series",
    "demand of an inactive series, pieces (else 0)",
    "demand, pieces (active or not)",
  ],
  minMaxField: 3,
  identityColumns: ["demandId"],
  identityOf: (ids) => (ids.demandId ? `demand:${ids.demandId}` : undefined),
  toValues(row) {
    requirePieces(row.unit);
    requireMonday(row.week as number, "week");
    const d = row.demand as bigint;
    const inactive = row.inactive === 1n;
    return [inactive ? 0n : d, 1n, inactive ? d : 0n, d];
  },
  fromCatenaX(payload) {
    return readEachPayload(payload, materialDemandPayload, (data, base, rows: SourcedRows, e) => {
      for (const w of demandWeeks(data, base, e)) {
        rows.push({
          position: w.position,
          row: {
            partNumber: data.materialGlobalAssetId ?? data.materialNumberCustomer,
            plant: w.series.customerLocation,
            week: w.pointInTime,
            demand: w.demand,
            inactive: data.materialDemandIsInactive,
            demandId: [
              data.materialDemandId,
              w.series.customerLocation,
              w.series.demandCategory.demandCategoryCode,
              w.pointInTime,
            ].join("|"),
          },
        });
      }
    });
  },
};
