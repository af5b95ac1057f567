/**
 * Shared shape of a data schema: the flat row a supplier uploads (JSON or CSV), the Catena-X
 * aspect it can also read, and the mapping of each row to the circuits' record.
 */
import { z } from "zod";
import { dayNumber, toFixedPoint, toU64 } from "./keys.js";

/** Number of value fields in every record (the circuits' record width). */
export const RECORD_WIDTH = 4;

/** One record as the circuits see it: a 128-bit index key and four uint64 values. */
export interface MappedRecord {
  /** part · 2^80 + plant · 2^32 + day. */
  key: bigint;
  /** Four unsigned 64-bit values, in the schema's field order. */
  values: [bigint, bigint, bigint, bigint];
  /**
   * The record's identity digest (`recordIdentity`, 16 bytes hex) when its row names one: a
   * later record with the same identity replaces it in the asset's data set.
   */
  id?: string;
  /** Catena-X `recordStatus` "same": keep the data set's record of this identity if it has one. */
  keep?: true;
}

/** One refused row or payload element: where it is and why. */
export interface RowError {
  /** Position in the upload: `rows[3].quantity`, `line 5`, or a JSON pointer for Catena-X. */
  position: string;
  /** What is wrong with it. */
  reason: string;
}

/** Kind of a flat-row column and how its cell is parsed. */
export type ColumnKind =
  | { type: "id" }
  | { type: "date" }
  | { type: "bool" }
  | { type: "uint" }
  | { type: "decimal"; scale: number; max?: bigint }
  | { type: "optionalUint" }
  | { type: "optionalDate" };

/** One column of a schema's flat row. */
export interface Column {
  /** Column / property name (CSV header, JSON key). */
  name: string;
  /** How the cell is parsed. */
  kind: ColumnKind;
  /** What it means. */
  description: string;
}

/** A parsed flat row: identifiers as strings, date as a day number, numbers as bigint. */
export type ParsedRow = Record<string, string | number | bigint | null>;

/** A data schema known to the gateway. */
export interface DataSchema {
  /** The on-chain schema id (the Catena-X aspect URN). */
  id: string;
  /** Short name used in routes and docs. */
  name: string;
  /** What the records are. */
  description: string;
  /** The flat row's columns (JSON properties / CSV header). */
  columns: readonly Column[];
  /**
   * Columns a row may leave out (JSON: absent or null; CSV: absent from the header or an empty
   * cell); parsed to null when missing. Kept apart from `columns` so that every upload made
   * before such a column existed stays valid.
   */
  optionalColumns?: readonly Column[];
  /**
   * Order of the index key: "plant" (part, plant, day; the default) or "day" (part, day,
   * plant: the `…-by-day` variants of key-order.ts).
   */
  keyOrder?: "plant" | "day";
  /** Name of the column holding the part identifier. */
  partColumn: string;
  /** Name of the column holding the plant identifier. */
  plantColumn: string;
  /** Name of the column holding the date of the index key. */
  dateColumn: string;
  /** Record field names, by index 0..3. */
  fields: readonly [string, string, string, string];
  /** Meaning of each record field, by index. */
  fieldDescriptions: readonly [string, string, string, string];
  /** Index of the field MIN/MAX answers are computed over. */
  minMaxField: number;
  /**
   * Fields defined over a selection of the records only (a lead time over the arrived
   * deliveries, a value times an indicator), each with the 0/1 field that counts that selection:
   * a grant's policy names them (cohort.ts), and the circuit then requires an answer on such a
   * field to rest on at least k selected records, not just k records of the key range.
   */
  cohortFields?: Readonly<Record<string, string>>;
  /** Maps a parsed flat row to the four record values. */
  toValues(row: ParsedRow): [bigint, bigint, bigint, bigint];
  /**
   * Reads a Catena-X aspect payload into flat JSON rows (one per record), each with the JSON
   * pointer of its source, or reports why the payload is refused.
   */
  fromCatenaX(payload: unknown): { rows: { position: string; row: unknown }[]; errors: RowError[] };
  /**
   * Optional columns (JSON rows, CSV, and the rows read from Catena-X) that name a record's
   * identity; `recordStatus` (new, updated, deleted, same) is accepted beside them.
   */
  identityColumns: readonly string[];
  /** The identity of a row from its identity columns and its parsed row, if it has one. */
  identityOf(ids: Readonly<Record<string, string>>, row: ParsedRow): string | undefined;
}

/**
 * Catena-X `recordStatus` (the quality core's RecordStatusEnumeration): `new` and `updated`
 * add or replace the record of the same identity, `deleted` removes it, `same` keeps the data
 * set's record when it has one.
 */
export const RECORD_STATUSES = ["new", "updated", "deleted", "same"] as const;

function withParse<T>(parse: (v: T) => bigint | number) {
  return (v: T, ctx: z.RefinementCtx) => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  };
}

const ID = z.string().trim().min(1, "must not be empty").max(256, "is longer than 256 characters");

/** The zod type of one column in JSON (typed) or CSV (string cells) mode. */
export function columnSchema(kind: ColumnKind, mode: "json" | "csv"): z.ZodType {
  const num = mode === "json" ? z.number() : z.string();
  switch (kind.type) {
    case "id":
      return ID;
    case "date":
      return z.string().transform(withParse(dayNumber));
    case "bool":
      return mode === "json"
        ? z.boolean().transform((b) => (b ? 1n : 0n))
        : z
            .enum(["true", "false", "0", "1"])
            .transform((s) => (s === "true" || s === "1" ? 1n : 0n));
    case "uint":
      return num.transform(withParse<number | string>(toU64));
    case "optionalUint":
      return mode === "json"
        ? z
            .number()
            .nullable()
            .optional()
            .transform(withParse<number | null | undefined>((v) => (v == null ? -1 : toU64(v))))
            .transform((v) => (v === -1 ? null : v))
        : z
            .string()
            .transform(withParse<string>((v) => (v.trim() === "" ? -1 : toU64(v))))
            .transform((v) => (v === -1 ? null : v));
    case "optionalDate":
      return mode === "json"
        ? z
            .string()
            .nullable()
            .optional()
            .transform(withParse<string | null | undefined>((v) => (v == null ? -1 : dayNumber(v))))
            .transform((v) => (v === -1 ? null : v))
        : z
            .string()
            .optional()
            .transform(
              withParse<string | undefined>((v) =>
                v === undefined || v.trim() === "" ? -1 : dayNumber(v.trim()),
              ),
            )
            .transform((v) => (v === -1 ? null : v));
    case "decimal":
      return num.transform(
        withParse<number | string>((v) => {
          const x = toFixedPoint(v, kind.scale);
          if (kind.max !== undefined && x > kind.max) {
            throw new RangeError(`is above the maximum ${Number(kind.max) / 10 ** kind.scale}`);
          }
          return x;
        }),
      );
  }
}

/** The strict zod object for a schema's flat row in JSON or CSV mode. */
export function rowSchema(schema: DataSchema, mode: "json" | "csv"): z.ZodType<ParsedRow> {
  const shape: Record<string, z.ZodType> = {};
  for (const c of schema.columns) shape[c.name] = columnSchema(c.kind, mode);
  for (const c of schema.optionalColumns ?? []) {
    shape[c.name] = columnSchema(c.kind, mode)
      .optional()
      .transform((v) => v ?? null);
  }
  return z.strictObject(shape) as unknown as z.ZodType<ParsedRow>;
}
