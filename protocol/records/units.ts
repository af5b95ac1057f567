/**
 * What the stock, demand, capacity and claims schemas share: the one unit their quantities add
 * up in, and the week-based date rule of Catena-X demand and capacity management (DCM).
 *
 * Units are never mixed in one sum: a record field holds pieces only, so a batch (flat rows or a
 * Catena-X payload) with a quantity in any other unit is refused, naming the position and the
 * unit. Quantities of other units belong in an asset of their own (not built: every schema here
 * sums pieces).
 */
import { PIECE_UNIT } from "./delivery.js";
import { isoDateOfDay } from "./keys.js";

export { PIECE_UNIT };

/** UUID v4 text as the Catena-X shared UuidV4Trait writes it (bare or `urn:uuid:`). */
export const UUID =
  /(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)|(^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)/;
/** A site's business partner number (BPNS). */
export const BPNS = /^BPNS[a-zA-Z0-9]{12}$/;
/** A legal entity's business partner number (BPNL). */
export const BPNL = /^BPNL[a-zA-Z0-9]{12}$/;

/** Why a unit is refused, or undefined when it is pieces (absent in a flat row: pieces). */
export function unitProblem(unit: unknown): string | undefined {
  if (unit === undefined || unit === null || unit === PIECE_UNIT) return undefined;
  return `is "${String(unit).slice(0, 40)}": this schema adds up quantities in ${PIECE_UNIT} only (units are never summed together; put other units in an asset of their own)`;
}

/** Throws when a flat row's optional `unit` cell names another unit than pieces. */
export function requirePieces(unit: unknown): void {
  const p = unitProblem(unit);
  if (p) throw new RangeError(`unit ${p}`);
}

/**
 * Throws unless `day` is a Monday: DCM's week-based series give each calendar week as the date
 * of its Monday, so a week is one day number and "weeks in a window" is exact.
 */
export function requireMonday(day: number, column: string): void {
  // 1970-01-01 (day 0) was a Thursday: Monday is day ≡ 4 (mod 7)
  if (day % 7 !== 4) {
    throw new RangeError(
      `${column} ${isoDateOfDay(day)} is not a Monday (a week-based series names each week by its Monday)`,
    );
  }
}
