/**
 * The deterministic mapping from a record's identifying strings and date to the circuits'
 * 128-bit index key, and the helpers every schema shares (fixed-point decimals, day numbers).
 *
 * Index key (sorted order of the commitment tree):
 *
 *     key = part · 2^80 + plant · 2^32 + day
 *
 * - `part`, `plant`: 48-bit identifier codes, `idCode(s)` below.
 * - `day`: days since 1970-01-01 (UTC), 0 ≤ day < 2^32.
 * - Keys 0 and 2^128 − 1 are the tree's sentinels; `idCode` never returns 0 or 2^48 − 1, so
 *   no record can take either key.
 *
 * Identifier code (version 1), reproducible by any consumer:
 *
 *     norm(s)   = NFKC(s), trimmed, inner whitespace runs → one space, upper-cased
 *     idCode(s) = (uint256(keccak256(utf8("partproof:id:v1:" + norm(s)))) mod (2^48 − 2)) + 1
 *
 * Collisions: 48 bits make a collision likely only beyond ~1.6·10^7 distinct identifiers per
 * asset; two strings with the same code are the same identifier to the circuits.
 */
import { keccak256, toUtf8Bytes } from "ethers";

/** Number of bits of a part or plant code. */
export const ID_BITS = 48n;
/** Number of bits of the day number. */
export const DAY_BITS = 32n;
/** Largest value a record field may hold (fields are range-checked to 64 bits in-circuit). */
export const MAX_U64 = 2n ** 64n - 1n;
/** The low sentinel key (leaf 0 of every tree). */
export const KEY_MIN_SENTINEL = 0n;
/** The high sentinel key (last leaf of every tree). */
export const KEY_MAX_SENTINEL = 2n ** 128n - 1n;

const ID_MOD = 2n ** ID_BITS - 2n;
const PART_SHIFT = 80n;
const PLANT_SHIFT = 32n;
const DAY_MASK = 2n ** DAY_BITS - 1n;
const ID_MASK = 2n ** ID_BITS - 1n;
const MS_PER_DAY = 86_400_000;

/** Normalises an identifier string: NFKC, trim, collapse whitespace, upper case. */
export function normaliseId(s: string): string {
  return s.normalize("NFKC").trim().replace(/\s+/g, " ").toUpperCase();
}

/**
 * Codes of identifiers seen lately: a batch's rows repeat a few part numbers and plants, and a
 * code is a keccak256 in JavaScript (two per record were a third of an upload's parsing time).
 * Bounded, and cleared when full: 4,096 identifiers of at most 256 characters are ~2.5 MB of an
 * ingest worker's heap at worst (its cap can be 64 MiB); a batch of more distinct ones only
 * hashes as it did without the cache.
 */
const ID_CODES = new Map<string, bigint>();
const ID_CODES_MAX = 1 << 12;

/** The 48-bit code of an identifier (part number, plant, …), in [1, 2^48 − 2]. */
export function idCode(s: string): bigint {
  const seen = ID_CODES.get(s);
  if (seen !== undefined) return seen;
  const norm = normaliseId(s);
  if (norm.length === 0) throw new RangeError("identifier is empty");
  const code = (BigInt(keccak256(toUtf8Bytes(`partproof:id:v1:${norm}`))) % ID_MOD) + 1n;
  if (ID_CODES.size >= ID_CODES_MAX) ID_CODES.clear();
  ID_CODES.set(s, code);
  return code;
}

/** Day number (days since 1970-01-01 UTC) of an ISO date `YYYY-MM-DD`; throws if invalid. */
export function dayNumber(isoDate: string): number {
  if (isoDate.length > MAX_DATE_CHARS) throw new RangeError("is not a date YYYY-MM-DD");
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) throw new RangeError("is not a date YYYY-MM-DD");
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError("is not a calendar date");
  }
  const day = ms / MS_PER_DAY;
  if (day < 0) throw new RangeError("is before 1970-01-01");
  return day;
}

/**
 * `YYYY-MM-DD[Thh:mm[:ss[.fraction]][Z|±hh:mm]]`: an ISO 8601 (RFC 3339 / xsd:dateTime) date-time
 * with a four-digit year; the time (a date alone is its day), seconds, fraction and offset are
 * optional.
 */
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:(Z)|([+-])(\d{2}):(\d{2}))?)?$/;

/**
 * Day number (UTC) of an ISO 8601 date-time (`YYYY-MM-DDThh:mm[:ss[.f]]` with `Z` or an offset
 * `±hh:mm`; or a date `YYYY-MM-DD`, a UTC day); throws a RangeError for anything else, including
 * a date-time without its UTC offset (it would be read in some machine's time zone, so the same
 * record would get another day, another index key, on another gateway), dates that are not
 * calendar dates, hours past 24:00, and offsets beyond ±14:00 (JavaScript's `Date.parse` reads
 * offset-less text in the machine's local time, and accepts non-ISO text and 30 February).
 * The fraction of a second never changes the day and is not read.
 */
export function dayOfTimestamp(ts: string): number {
  if (ts.length > MAX_DATE_CHARS) throw new RangeError("is not an ISO 8601 date-time");
  const m = DATE_TIME.exec(ts);
  if (!m) throw new RangeError("is not an ISO 8601 date-time");
  const [, date, hh, mm, ss, z, sign, oh, om] = m;
  if (hh !== undefined && z === undefined && sign === undefined) {
    throw new RangeError(
      `has no UTC offset (Z or ±hh:mm): "${ts}" would be read in the server's time zone`,
    );
  }
  const [h, min, sec] = [Number(hh ?? 0), Number(mm ?? 0), Number(ss ?? 0)];
  if (min > 59 || sec > 59 || h > 24 || (h === 24 && (min > 0 || sec > 0))) {
    throw new RangeError("is not a time of day");
  }
  const offsetMin = sign ? (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  if (Number(om ?? 0) > 59 || Math.abs(offsetMin) > 14 * 60) {
    throw new RangeError("has an offset beyond ±14:00");
  }
  const ms = dateDayMs(date!) + ((h * 60 + min - offsetMin) * 60 + sec) * 1000;
  const day = Math.floor(ms / MS_PER_DAY);
  if (day < 0) throw new RangeError("is before 1970-01-01");
  return day;
}

/** Milliseconds since the epoch at 00:00 UTC of a calendar date `YYYY-MM-DD` (may be < 0). */
function dateDayMs(isoDate: string): number {
  const [y, mo, d] = isoDate.split("-").map(Number) as [number, number, number];
  const back = new Date(0);
  back.setUTCFullYear(y, mo - 1, d); // setUTCFullYear: years 0–99 are not moved to 19xx
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError("is not a calendar date");
  }
  return back.getTime();
}

/** The ISO date `YYYY-MM-DD` of a day number. */
export function isoDateOfDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Builds an index key from part code, plant code and day number. */
export function packKey(part: bigint, plant: bigint, day: number | bigint): bigint {
  const d = BigInt(day);
  if (part < 0n || part > ID_MASK) throw new RangeError("part code out of 48-bit range");
  if (plant < 0n || plant > ID_MASK) throw new RangeError("plant code out of 48-bit range");
  if (d < 0n || d > DAY_MASK) throw new RangeError("day out of 32-bit range");
  return (part << PART_SHIFT) + (plant << PLANT_SHIFT) + d;
}

/** Splits an index key into its part code, plant code and day number. */
export function unpackKey(key: bigint): { part: bigint; plant: bigint; day: number } {
  return {
    part: (key >> PART_SHIFT) & ID_MASK,
    plant: (key >> PLANT_SHIFT) & ID_MASK,
    day: Number(key & DAY_MASK),
  };
}

/** The index key of a record: idCode(part), idCode(plant), day. */
export function indexKey(partNumber: string, plant: string, day: number): bigint {
  return packKey(idCode(partNumber), idCode(plant), day);
}

/**
 * The key range a consumer asks for: one part, optionally one plant, optionally a date
 * window (inclusive ISO dates). Without a plant the range spans every plant of the part;
 * then a date window cannot be expressed as one contiguous range and is refused.
 */
export function keyRange(q: { partNumber: string; plant?: string; from?: string; to?: string }): {
  keyLo: bigint;
  keyHi: bigint;
} {
  const part = idCode(q.partNumber);
  if (q.plant === undefined) {
    if (q.from !== undefined || q.to !== undefined) {
      throw new RangeError("a date window needs a plant (the key orders part, plant, day)");
    }
    return { keyLo: packKey(part, 0n, 0), keyHi: packKey(part, ID_MASK, DAY_MASK) };
  }
  const plant = idCode(q.plant);
  const lo = q.from === undefined ? 0 : dayNumber(q.from);
  const hi = q.to === undefined ? Number(DAY_MASK) : dayNumber(q.to);
  if (lo > hi) throw new RangeError("from is after to");
  return { keyLo: packKey(part, plant, lo), keyHi: packKey(part, plant, hi) };
}

/**
 * Longest numeric text a field accepts (sign, digits, point, exponent). A uint64 at scale 10^6
 * needs 26 characters; anything far longer is refused before any arithmetic, so that a cell of
 * 10^6 digits costs no more than its length check.
 */
export const MAX_NUMBER_CHARS = 64;
/** Largest |exponent| of exponent notation (bounds the work before the value is built). */
export const MAX_EXPONENT = 400;
/** Longest date or date-time text accepted before it is parsed. */
export const MAX_DATE_CHARS = 64;

/**
 * Exact decimal → fixed-point integer: value · 10^scale, refusing negative values, values
 * with more than `scale` decimals, and values above 2^64 − 1. Accepts a JSON number or a
 * decimal string (CSV), including exponent notation. Length and exponent are bounded before
 * any arithmetic (`MAX_NUMBER_CHARS`, `MAX_EXPONENT`), and the work is linear in the length.
 */
export function toFixedPoint(value: number | string, scale: number): bigint {
  if (typeof value === "string" && value.length > MAX_NUMBER_CHARS) {
    throw new RangeError(`is longer than ${MAX_NUMBER_CHARS} characters`);
  }
  const s = typeof value === "number" ? numberToDecimalString(value) : value.trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) throw new RangeError("is not a decimal number");
  const e = m[4] ? Number(m[4]) : 0;
  if (!(Math.abs(e) <= MAX_EXPONENT)) {
    throw new RangeError(`has an exponent outside ±${MAX_EXPONENT}`);
  }
  const neg = m[1] === "-";
  const fraction = m[3] ?? "";
  let digits = ((m[2] ?? "") + fraction).replace(/^0+/, "");
  if (digits === "") return 0n; // zero, whatever its exponent
  let exp = e - fraction.length + scale;
  // drop trailing zeros the scale does not need (at most one per digit: bounded)
  const zeros = digits.length - digits.replace(/0+$/, "").length;
  const drop = Math.min(zeros, Math.max(0, -exp));
  digits = digits.slice(0, digits.length - drop);
  exp += drop;
  if (exp < 0) throw new RangeError(`has more than ${scale} decimals`);
  if (neg) throw new RangeError("is negative");
  // a value of n digits times 10^exp is at least 10^(n − 1 + exp) > 2^64 − 1 once that is ≥ 20
  if (digits.length - 1 + exp >= 20) throw new RangeError("is too large for a 64-bit field");
  const v = BigInt(digits) * 10n ** BigInt(exp);
  if (v > MAX_U64) throw new RangeError("is too large for a 64-bit field");
  return v;
}

function numberToDecimalString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError("is not a finite number");
  return String(n);
}

/** Parses an unsigned integer field (JSON number or decimal string) into a uint64. */
export function toU64(value: number | string | bigint): bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > MAX_U64) throw new RangeError("is outside 0..2^64-1");
    return value;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError("is not an integer (or not exactly representable)");
  }
  if (typeof value === "string" && value.length > MAX_NUMBER_CHARS) {
    throw new RangeError(`has more than ${MAX_NUMBER_CHARS} digits`);
  }
  const s = String(value).trim();
  if (!/^\d+$/.test(s)) throw new RangeError("is not an unsigned integer");
  if (s.replace(/^0+/, "").length > 20) throw new RangeError("is too large for a 64-bit field");
  const v = BigInt(s);
  if (v > MAX_U64) throw new RangeError("is too large for a 64-bit field");
  return v;
}
