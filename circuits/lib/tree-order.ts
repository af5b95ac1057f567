/**
 * A second sort order of the same records: (part, day, plant) instead of (part, plant, day).
 * In it, "every plant of a part in a date window" is one contiguous key range, so the
 * unchanged range circuit (RangeAggregate: it treats keys as opaque 128-bit numbers) answers
 * "all plants × any date window" with one proof at the cost of one range proof. The second
 * tree is built with the same `buildTree` over the re-keyed records; see circuits/README.md
 * ("Any plant set × any date window") for the measurements, the choice and the integration
 * that remains (the version commits both roots, the query names its order).
 *
 * Layouts (part, plant: 48-bit codes; day: 32-bit day number):
 *
 *     by plant (the first order):  key = part · 2^80 + plant · 2^32 + day
 *     by day (this order):         key = part · 2^80 + day · 2^48 + plant
 *
 * Both keep the part in the same top bits, so a policy over one whole part ([part, 0, 0] ..
 * [part, max, max]) is the same key range in both orders. A policy restricted to one plant is
 * not a range of the day order: such grants keep the first order.
 */
import type { TreeRecord } from "./tree.js";

const ID_MASK = (1n << 48n) - 1n;
const DAY_MASK = (1n << 32n) - 1n;

/** The key of the day order from part, plant codes and day number. */
export function dayOrderKey(part: bigint, plant: bigint, day: bigint | number): bigint {
  const d = BigInt(day);
  if (part < 0n || part > ID_MASK) throw new RangeError("part code out of 48-bit range");
  if (plant < 0n || plant > ID_MASK) throw new RangeError("plant code out of 48-bit range");
  if (d < 0n || d > DAY_MASK) throw new RangeError("day out of 32-bit range");
  return (part << 80n) + (d << 48n) + plant;
}

/** Re-keys a first-order key (part, plant, day) into the day order (part, day, plant). */
export function toDayOrder(plantOrderKey: bigint): bigint {
  const part = (plantOrderKey >> 80n) & ID_MASK;
  const plant = (plantOrderKey >> 32n) & ID_MASK;
  const day = plantOrderKey & DAY_MASK;
  return dayOrderKey(part, plant, day);
}

/** The records of a version re-keyed into the day order (values unchanged). */
export function recordsInDayOrder(records: readonly TreeRecord[]): TreeRecord[] {
  return records.map((r) => ({ key: toDayOrder(r.key), values: r.values }));
}

/** The day-order key range of every plant of `part` on days `fromDay`..`toDay` (inclusive). */
export function dayWindowRange(
  part: bigint,
  fromDay: number,
  toDay: number,
): { lo: bigint; hi: bigint } {
  if (fromDay > toDay) throw new RangeError("from is after to");
  return { lo: dayOrderKey(part, 0n, fromDay), hi: dayOrderKey(part, ID_MASK, toDay) };
}
