/**
 * Catena-X WeekBasedCapacityGroup 3.0.0: one record per week of a capacity group.
 *
 * Flat row (JSON / CSV): partNumber (the capacity group id), plant (the supplier, BPNL), week
 * (YYYY-MM-DD, the Monday of the calendar week), actualCapacity and maximumCapacity (uint,
 * pieces per week), and optionally demand (uint: the week's demand linked to the group, in the
 * group's unit; absent, null or an empty cell when unknown) and unit (absent, or
 * `unit:piece`; in CSV a given cell must not be empty).
 * Record: key = indexKey(capacityGroupId, supplier, week);
 * values = [maximumCapacity, demandKnown 0/1, covered 0/1, actualCapacity], with
 * covered = 1 iff the demand is known and actualCapacity ≥ demand.
 * - Share of weeks whose capacity covers demand = RATIO_PPM(covered, demandKnown) over a window
 *   (e.g. a quarter): what is proven is exactly "of the group's committed week records in the
 *   window that carry a linked demand, this share has actual capacity ≥ that demand" — both
 *   numbers as the publisher committed them; weeks without a record or without a demand are in
 *   neither count.
 * - Capacity over a window = SUM(actualCapacity) (or SUM(maximumCapacity)); weeks = COUNT.
 * MIN/MAX field: actual capacity (3).
 *
 * Weeks: named by their Monday (the aspect's rule); any other date is refused with its position.
 *
 * Units: pieces only (protocol/records/units.ts): a group or linked demand in another unit, or
 * with its unit omitted, is refused with its position; so is a flat row with another unit.
 *
 * From the Catena-X payload: one WeekBasedCapacityGroup aspect, or an array of aspects that
 * holds capacity groups and the WeekBasedMaterialDemand aspects their demand series link to (an
 * item with `materialDemandId` is a demand). Every `capacities[i]` of a group is one row:
 * partNumber = `capacityGroupId`, plant = `supplier`, week = `pointInTime`, capacities as given
 * (whole numbers). The week's demand is Σ demand × `loadFactor` (1 when absent) over the weeks
 * of the array's demand series that a `linkedDemandSeries` entry names (same
 * `materialNumberCustomer`, `customerLocation` and `demandCategoryCode`, same customer and
 * supplier), rounded up to a whole piece (so "covered" is exact: actual ≥ the rounded value iff
 * actual ≥ the exact one); it is unknown when no linked week is in the payload. `changedAt`
 * must carry its UTC offset (checked, not stored). An inactive group
 * (`capacityGroupIsInactive`) is read like an active one (the record has no field for it).
 *
 * Identity: optional column `capacityId`; from Catena-X the group id and week, so that a week
 * sent again replaces the earlier one.
 */
import { z } from "zod";
import { demandWeeks, materialDemandPayload, type DemandWeek } from "./demand.js";
import { zodIssues } from "./issues.js";
import { dayNumber, dayOfTimestamp, toFixedPoint } from "./keys.js";
import type { DataSchema, RowError } from "./types.js";
import { BPNL, requireMonday, requirePieces, unitProblem, UUID } from "./units.js";

const capacityGroupPayload = z.looseObject({
  capacityGroupId: z.string().regex(UUID, "is not a UUID"),
  name: z.string().min(1),
  customer: z.string().regex(BPNL, "is not a BPNL"),
  supplier: z.string().regex(BPNL, "is not a BPNL"),
  changedAt: z.string(),
  unitOfMeasure: z.string().optional(),
  unitOfMeasureIsOmitted: z.boolean(),
  capacityGroupIsInactive: z.boolean(),
  linkedDemandSeries: z
    .array(
      z.looseObject({
        materialNumberCustomer: z.string().min(1).max(256),
        customerLocation: z.string(),
        demandCategory: z.looseObject({ demandCategoryCode: z.string().min(1).max(16) }),
        loadFactor: z.number().optional(),
      }),
    )
    .optional(),
  capacities: z
    .array(
      z.looseObject({
        pointInTime: z.string(),
        actualCapacity: z.number(),
        maximumCapacity: z.number(),
      }),
    )
    .optional(),
});

type CapacityGroup = z.infer<typeof capacityGroupPayload>;
type LinkedWeek = DemandWeek & {
  materialNumberCustomer: string;
  customer: string;
  supplier: string;
};

/** Fixed-point scale of demand and load factor while their product is summed. */
const SCALE = 6;
const ONE = 10n ** BigInt(SCALE);

/** The capacity schema. */
export const capacitySchema: DataSchema = {
  id: "urn:samm:io.catenax.week_based_capacity_group:3.0.0",
  name: "capacity",
  description:
    "Weekly actual and maximum capacity per capacity group (Catena-X WeekBasedCapacityGroup 3.0.0), pieces, with whether the linked demand is covered, indexed by capacity group, supplier and week (its Monday).",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "capacity group id" },
    { name: "plant", kind: { type: "id" }, description: "supplier (BPNL)" },
    { name: "week", kind: { type: "date" }, description: "Monday of the week, YYYY-MM-DD" },
    { name: "actualCapacity", kind: { type: "uint" }, description: "actual capacity, pieces" },
    { name: "maximumCapacity", kind: { type: "uint" }, description: "maximum capacity, pieces" },
  ],
  optionalColumns: [
    {
      name: "demand",
      kind: { type: "optionalUint" },
      description: "the week's linked demand, pieces; absent/empty when unknown",
    },
    { name: "unit", kind: { type: "id" }, description: "unit of the quantities: unit:piece only" },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "week",
  fields: ["maximumCapacity", "demandKnown", "covered", "actualCapacity"],
  fieldDescriptions: [
    "maximum capacity of the week, pieces",
    "1 if the week's linked demand is known, else 0",
    "1 if the demand is known and the actual capacity is at least the demand, else 0",
    "actual capacity of the week, pieces",
  ],
  minMaxField: 3,
  // "covered" is defined over the weeks with a known demand only (cohort.ts)
  cohortFields: { covered: "demandKnown" },
  identityColumns: ["capacityId"],
  identityOf: (ids) => (ids.capacityId ? `capacity:${ids.capacityId}` : undefined),
  toValues(row) {
    requirePieces(row.unit);
    requireMonday(row.week as number, "week");
    const actual = row.actualCapacity as bigint;
    const demand = (row.demand ?? null) as bigint | null;
    const covered = demand !== null && actual >= demand;
    return [row.maximumCapacity as bigint, demand === null ? 0n : 1n, covered ? 1n : 0n, actual];
  },
  fromCatenaX(payload) {
    const many = Array.isArray(payload);
    const items = many ? (payload as unknown[]) : [payload];
    const rows: { position: string; row: unknown }[] = [];
    const errors: RowError[] = [];
    const groups: { data: CapacityGroup; base: string }[] = [];
    const linked: LinkedWeek[] = [];
    items.forEach((item, k) => {
      const base = many ? `/${k}` : "";
      const isDemand = typeof item === "object" && item !== null && "materialDemandId" in item;
      if (isDemand) {
        const parsed = materialDemandPayload.safeParse(item);
        if (!parsed.success) errors.push(...zodIssues(parsed.error, base));
        else {
          const d = parsed.data;
          for (const w of demandWeeks(d, base, errors)) {
            const who = { customer: d.customer, supplier: d.supplier };
            linked.push({ ...w, ...who, materialNumberCustomer: d.materialNumberCustomer });
          }
        }
        return;
      }
      const parsed = capacityGroupPayload.safeParse(item);
      if (parsed.success) groups.push({ data: parsed.data, base });
      else errors.push(...zodIssues(parsed.error, base));
    });
    for (const { data, base } of groups) readGroup(data, base, linked, rows, errors);
    return { rows, errors };
  },
};

/** The rows of one capacity group, each week with its linked demand when the payload has it. */
function readGroup(
  g: CapacityGroup,
  base: string,
  linked: readonly LinkedWeek[],
  rows: { position: string; row: unknown }[],
  errors: RowError[],
): void {
  const before = errors.length;
  const unit = g.unitOfMeasureIsOmitted
    ? "is omitted (unitOfMeasureIsOmitted): capacities of unknown units are never summed"
    : g.unitOfMeasure === undefined
      ? "is missing: capacities of unknown units are never summed"
      : unitProblem(g.unitOfMeasure);
  if (unit) errors.push({ position: `${base}/unitOfMeasure`, reason: unit });
  try {
    dayOfTimestamp(g.changedAt);
  } catch (e) {
    errors.push({ position: `${base}/changedAt`, reason: (e as Error).message });
  }
  const factors: bigint[] = [];
  (g.linkedDemandSeries ?? []).forEach((s, i) => {
    try {
      factors.push(toFixedPoint(s.loadFactor ?? 1, SCALE));
    } catch (e) {
      errors.push({
        position: `${base}/linkedDemandSeries/${i}/loadFactor`,
        reason: (e as Error).message,
      });
    }
  });
  if (errors.length > before) return;
  (g.capacities ?? []).forEach((c, i) => {
    const position = `${base}/capacities/${i}`;
    let day: number;
    try {
      day = dayNumber(c.pointInTime);
      requireMonday(day, "pointInTime");
    } catch (e) {
      errors.push({ position: `${position}/pointInTime`, reason: (e as Error).message });
      return;
    }
    // Σ demand × load factor over the linked series' weeks of this Monday (scale 10^12)
    let total = 0n;
    let known = false;
    (g.linkedDemandSeries ?? []).forEach((s, j) => {
      for (const w of linked) {
        const match =
          w.materialNumberCustomer === s.materialNumberCustomer &&
          w.series.customerLocation === s.customerLocation &&
          w.series.demandCategory.demandCategoryCode === s.demandCategory.demandCategoryCode &&
          w.customer === g.customer &&
          w.supplier === g.supplier &&
          dayNumber(w.pointInTime) === day;
        if (!match) continue;
        try {
          total += toFixedPoint(w.demand, SCALE) * factors[j]!;
          known = true;
        } catch (e) {
          errors.push({ position: `${w.position}/demand`, reason: (e as Error).message });
        }
      }
    });
    const scale = ONE * ONE;
    rows.push({
      position,
      row: {
        partNumber: g.capacityGroupId,
        plant: g.supplier,
        week: c.pointInTime,
        actualCapacity: c.actualCapacity,
        maximumCapacity: c.maximumCapacity,
        // rounded up: actual ≥ ⌈x⌉ iff actual ≥ x for a whole actual
        demand: known ? Number((total + scale - 1n) / scale) : null,
        capacityId: `${g.capacityGroupId}|${c.pointInTime}`,
      },
    });
  });
}
