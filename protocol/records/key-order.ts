/**
 * The second sort order of an asset's records: (part, day, plant) instead of (part, plant, day),
 * so that "every plant of a part × any date window" is one key range and one range proof
 * (circuits/lib/tree-order.ts; the choice and its measurements are in circuits/README.md).
 *
 * Until a version commits both orders, a supplier offers the day order as a sibling asset: the
 * same records uploaded to an asset of a `…-by-day` schema (below). The asset's on-chain schema
 * id names its order, so a signed query (which names the asset) is read in the right order by
 * the gateway, the consumer and the auditor. A day-ordered asset answers whole-part questions
 * only: a plant is not a range of it, so a plant-restricted grant or question is refused.
 */
import { dayOrderKey, dayWindowRange } from "../../circuits/lib/tree-order.js";
import { dayNumber, idCode, keyRange, packKey } from "./keys.js";
import type { DataSchema } from "./types.js";

/** The order of an asset's index key. */
export type KeyOrder = "plant" | "day";

/** Suffix of the schema id and name of a day-ordered variant. */
export const BY_DAY = "-by-day";

const DAY_MAX = 2 ** 32 - 1;

/** The key order of a schema (the first order unless it is a day-ordered variant). */
export function keyOrderOf(schema: DataSchema): KeyOrder {
  return schema.keyOrder ?? "plant";
}

/** The index key of a record in its schema's order. */
export function recordKey(schema: DataSchema, partNumber: string, plant: string, day: number) {
  const [part, site] = [idCode(partNumber), idCode(plant)];
  return keyOrderOf(schema) === "day" ? dayOrderKey(part, site, day) : packKey(part, site, day);
}

/**
 * The key range of a question in the schema's order: the first order takes an optional plant
 * (a date window needs one); the day order takes every plant and any window, and no plant.
 */
export function schemaKeyRange(
  schema: DataSchema,
  q: { partNumber: string; plant?: string; from?: string; to?: string },
): { keyLo: bigint; keyHi: bigint } {
  if (keyOrderOf(schema) === "plant") return keyRange(q);
  if (q.plant !== undefined) {
    throw new RangeError(
      `a ${schema.name} asset (key order part, day, plant) answers every plant at once; ask the plant-ordered asset for one plant`,
    );
  }
  const from = q.from === undefined ? 0 : dayNumber(q.from);
  const to = q.to === undefined ? DAY_MAX : dayNumber(q.to);
  if (from > to) throw new RangeError("from is after to");
  const { lo, hi } = dayWindowRange(idCode(q.partNumber), from, to);
  return { keyLo: lo, keyHi: hi };
}

/** The day-ordered variant of a schema: same rows, fields and Catena-X reading, other key. */
export function byDay(schema: DataSchema): DataSchema {
  return {
    ...schema,
    id: `${schema.id}${BY_DAY}`,
    name: `${schema.name}${BY_DAY}`,
    description: `${schema.description} Key order part, day, plant: every plant × any date window is one range.`,
    keyOrder: "day",
  };
}
