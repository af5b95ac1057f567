/**
 * The gateway's data schemas and the one entry point that turns an upload (plain JSON rows,
 * CSV text, or a Catena-X aspect payload) into the circuits' records — all or nothing: any
 * bad row refuses the whole batch, and every bad row is reported with position and reason.
 */
import { getBytes, keccak256 } from "ethers";
import { z } from "zod";
import { deliverySchema } from "./delivery.js";
import { pcfSchema } from "./pcf.js";
import { qualitySchema } from "./quality.js";
import { stockSchema } from "./stock.js";
import { demandSchema } from "./demand.js";
import { capacitySchema } from "./capacity.js";
import { claimsSchema } from "./claims.js";
import { parseCsv } from "./csv.js";
import { zodIssues } from "./issues.js";
import { byDay, keyOrderOf, recordKey } from "./key-order.js";
import { MAX_U64 } from "./keys.js";
import { filtersOf, INDICATOR_SCHEMAS } from "./indicators.js";
import { cohortsOf } from "./cohort.js";
import {
  RECORD_STATUSES,
  rowSchema,
  type DataSchema,
  type MappedRecord,
  type RowError,
} from "./types.js";

export * from "./types.js";
export * from "./keys.js";
export * from "./key-order.js";
export { qualitySchema, deliverySchema, pcfSchema };
export * from "./indicators.js";
export { stockSchema, demandSchema, capacitySchema, claimsSchema };
export * from "./cohort.js";

/** Every schema the gateway serves, by on-chain schema id. */
export const SCHEMAS: ReadonlyMap<string, DataSchema> = new Map(
  [qualitySchema, deliverySchema, pcfSchema].flatMap((s) => [s, byDay(s)]).map((s) => [s.id, s]),
);
// the indicator schemas (filters at any size, indicators.ts) and their day-ordered variants;
// added here, apart from the list above, so that other schemas join that list without a clash
for (const s of INDICATOR_SCHEMAS.flatMap((x) => [x, byDay(x)])) {
  (SCHEMAS as Map<string, DataSchema>).set(s.id, s);
}

/**
 * The supply-chain schemas of issue 18 (stock, demand, capacity, field claims), each with its
 * day-ordered variant; registered in SCHEMAS below (kept as their own list so that they are
 * added without touching the first schemas' line).
 */
export const SUPPLY_SCHEMAS: readonly DataSchema[] = [
  stockSchema,
  demandSchema,
  capacitySchema,
  claimsSchema,
].flatMap((s) => [s, byDay(s)]);
for (const s of SUPPLY_SCHEMAS) (SCHEMAS as Map<string, DataSchema>).set(s.id, s);

/** Looks a schema up by its id (URN) or short name. */
export function findSchema(idOrName: string): DataSchema | undefined {
  return SCHEMAS.get(idOrName) ?? [...SCHEMAS.values()].find((s) => s.name === idOrName);
}

/** An upload's data, in one of the three formats. */
export const uploadDataSchema = z.discriminatedUnion("format", [
  z.strictObject({ format: z.literal("json"), rows: z.array(z.unknown()).min(1) }),
  z.strictObject({ format: z.literal("csv"), csv: z.string().min(1) }),
  z.strictObject({ format: z.literal("catenax"), payload: z.unknown() }),
]);

/** An upload's data, in one of the three formats. */
export type UploadData = z.infer<typeof uploadDataSchema>;

/**
 * Result of parsing a batch: either every record (and the identities its `deleted` rows
 * remove), or every error.
 */
export type ParseResult =
  { ok: true; records: MappedRecord[]; removed: string[] } | { ok: false; errors: RowError[] };

/**
 * The 16-byte digest (hex) that stands for a record's identity in the store: keccak256 of the
 * schema's name and the identity string, cut to 128 bits.
 */
export function recordIdentity(schema: DataSchema, identity: string): string {
  return keccak256(
    new TextEncoder().encode(`partproof:record-id:v1:${schema.name}:${identity}`),
  ).slice(0, 34);
}

const OPTIONAL_ID = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(256, "is longer than 256 characters");

/**
 * Splits a raw row into its record columns and its optional identity columns and
 * `recordStatus`; reports bad optional cells. Returns undefined when the row is not an object.
 */
function splitRow(
  schema: DataSchema,
  raw: unknown,
  position: string,
  errors: RowError[],
): { rest: Record<string, unknown>; ids: Record<string, string>; status?: string } | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const rest: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const ids: Record<string, string> = {};
  let status: string | undefined;
  const sep = position.startsWith("/") ? "/" : ".";
  for (const name of [...schema.identityColumns, "recordStatus"]) {
    if (!(name in rest)) continue;
    const v = rest[name];
    delete rest[name];
    if (v === "" || v === null || v === undefined) continue; // an empty CSV cell: not given
    if (name === "recordStatus") {
      if (typeof v !== "string" || !(RECORD_STATUSES as readonly string[]).includes(v)) {
        errors.push({
          position: `${position}${sep}${name}`,
          reason: `must be one of ${RECORD_STATUSES.join(", ")}`,
        });
      } else status = v;
      continue;
    }
    const parsed = OPTIONAL_ID.safeParse(v);
    if (!parsed.success) errors.push(...zodIssues(parsed.error, `${position}${sep}${name}`));
    else ids[name] = parsed.data;
  }
  return { rest, ids, ...(status ? { status } : {}) };
}

/** Maximum number of row errors reported for one batch (the rest are counted). */
export const MAX_REPORTED_ERRORS = 100;

/**
 * Validates and maps a batch. Records come back sorted by (key, values) so that the same
 * records in any order or format give the same batch.
 */
export function parseBatch(schema: DataSchema, data: UploadData): ParseResult {
  const errors: RowError[] = [];
  const records: MappedRecord[] = [];
  const removed: string[] = [];
  const mode = data.format === "csv" ? "csv" : "json";
  const rs = rowSchema(schema, mode);
  const take = (position: string, raw: unknown) => {
    const before = errors.length;
    const split = splitRow(schema, raw, position, errors);
    if (split?.status === "deleted") {
      // a deleted record needs only its identity
      const identity = schema.identityOf(split.ids, split.rest as never);
      if (identity === undefined) {
        errors.push({
          position,
          reason: `a deleted record must name its identity (${schema.identityColumns.join(" or ")})`,
        });
      } else if (errors.length === before) removed.push(recordIdentity(schema, identity));
      return;
    }
    const parsed = rs.safeParse(split ? split.rest : raw);
    if (!parsed.success) {
      errors.push(...zodIssues(parsed.error, position));
      return;
    }
    if (errors.length > before) return;
    const row = parsed.data;
    try {
      const identity = split ? schema.identityOf(split.ids, row) : undefined;
      records.push({
        key: recordKey(
          schema,
          row[schema.partColumn] as string,
          row[schema.plantColumn] as string,
          row[schema.dateColumn] as number,
        ),
        values: schema.toValues(row),
        ...(identity === undefined ? {} : { id: recordIdentity(schema, identity) }),
        ...(split?.status === "same" ? { keep: true as const } : {}),
      });
    } catch (e) {
      errors.push({ position, reason: (e as Error).message });
    }
  };

  if (data.format === "json") {
    data.rows.forEach((r, i) => take(`rows[${i}]`, r));
  } else if (data.format === "csv") {
    let lines;
    try {
      lines = parseCsv(data.csv);
    } catch (e) {
      return { ok: false, errors: [{ position: "csv", reason: (e as Error).message }] };
    }
    const header = lines.shift();
    const expected = schema.columns.map((c) => c.name);
    const optional = [
      ...schema.identityColumns,
      "recordStatus",
      ...(schema.optionalColumns ?? []).map((c) => c.name),
    ];
    const names = header?.cells.map((c) => c.trim()) ?? [];
    const missing = expected.filter((n) => !names.includes(n));
    const extra = names.filter((n) => !expected.includes(n) && !optional.includes(n));
    // name a few unknown columns, not all of them (a header may be long)
    const unknown = extra.length > 5 ? [...extra.slice(0, 5), `… (${extra.length} in all)`] : extra;
    if (!header || missing.length > 0 || extra.length > 0 || new Set(names).size !== names.length) {
      return {
        ok: false,
        errors: [
          {
            position: "line 1",
            reason: `header must name each of ${expected.join(", ")} once${optional.length ? ` (optional: ${optional.join(", ")})` : ""}${missing.length ? `; missing ${missing.join(", ")}` : ""}${unknown.length ? `; unknown ${unknown.map((n) => n.slice(0, 40)).join(", ")}` : ""}`,
          },
        ],
      };
    }
    if (lines.length === 0)
      return { ok: false, errors: [{ position: "csv", reason: "has no rows" }] };
    for (const l of lines) {
      if (l.cells.length !== names.length) {
        errors.push({
          position: `line ${l.line}`,
          reason: `has ${l.cells.length} cells, the header has ${names.length}`,
        });
        continue;
      }
      take(`line ${l.line}`, Object.fromEntries(names.map((n, i) => [n, l.cells[i]])));
    }
  } else {
    const { rows, errors: e } = schema.fromCatenaX(data.payload);
    errors.push(...e);
    for (const r of rows) take(r.position, r.row);
    if (rows.length === 0 && errors.length === 0) {
      errors.push({ position: "/", reason: "payload holds no records" });
    }
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_ERRORS);
    if (errors.length > shown.length) {
      shown.push({ position: "batch", reason: `${errors.length - shown.length} more errors` });
    }
    return { ok: false, errors: shown };
  }
  if (records.length === 0 && removed.length === 0) {
    return { ok: false, errors: [{ position: "batch", reason: "holds no records" }] };
  }
  // a record whose identity is seen again in the same batch replaces the earlier one
  const lastOf = new Map<string, number>();
  records.forEach((r, i) => r.id !== undefined && lastOf.set(r.id, i));
  if (lastOf.size > 0) {
    let w = 0;
    records.forEach((r, i) => {
      if (r.id === undefined || lastOf.get(r.id) === i) records[w++] = r;
    });
    records.length = w;
  }
  records.sort(compareRecords);
  removed.sort();
  return { ok: true, records, removed };
}

/** Orders records by key, then by values (the tree's leaf order), then by identity. */
export function compareRecords(a: MappedRecord, b: MappedRecord): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  for (let i = 0; i < a.values.length; i++) {
    if (a.values[i] !== b.values[i]) return a.values[i]! < b.values[i]! ? -1 : 1;
  }
  const x = a.id ?? "";
  const y = b.id ?? "";
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * keccak256 over the schema id and the sorted records (key as 16 bytes, each value as 8
 * bytes): equal for the same records in any order or upload format.
 */
export function batchHash(
  schemaId: string,
  sorted: readonly MappedRecord[],
  removed: readonly string[] = [],
): string {
  // the bytes are written into one buffer: hex strings per value and their concatenation
  // (ethers' toBeHex and concat) took a quarter of an upload's parsing time
  const ids = [...sorted.map((r) => r.id), ...removed].map((id) =>
    id === undefined ? undefined : getBytes(id),
  );
  let size = 32 + removed.length;
  for (const [i, r] of sorted.entries()) {
    size += 16 + 8 * r.values.length + (r.keep ? 1 : 0) + (r.id !== undefined ? 1 : 0);
    size += ids[i]?.length ?? 0;
  }
  for (let i = 0; i < removed.length; i++) size += ids[sorted.length + i]!.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(getBytes(keccak256(new TextEncoder().encode(schemaId))), 0);
  let at = 32;
  for (const [i, r] of sorted.entries()) {
    if (r.key < 0n || r.key >> 128n !== 0n) throw new RangeError(`key ${r.key} is not 128 bits`);
    view.setBigUint64(at, r.key >> 64n);
    view.setBigUint64(at + 8, BigInt.asUintN(64, r.key));
    at += 16;
    for (const v of r.values) {
      // setBigUint64 would wrap: such a value is refused, as toBeHex(v, 8) refused it
      if (v < 0n || v > MAX_U64)
        throw new RangeError(`value ${v} is not an unsigned 64-bit integer`);
      view.setBigUint64(at, v);
      at += 8;
    }
    // identities and statuses change what a batch does to the data set (absent: as before)
    const id = ids[i];
    if (id) {
      out[at++] = 0x01;
      out.set(id, at);
      at += id.length;
    }
    if (r.keep) out[at++] = 0x02;
  }
  for (let i = 0; i < removed.length; i++) {
    const id = ids[sorted.length + i]!;
    out[at++] = 0x03;
    out.set(id, at);
    at += id.length;
  }
  return keccak256(out);
}

/** A schema's public description (for the asset catalogue). */
export function describeSchema(schema: DataSchema) {
  return {
    id: schema.id,
    name: schema.name,
    description: schema.description,
    key:
      keyOrderOf(schema) === "day"
        ? "part·2^80 + day·2^48 + plant; part/plant = idCode(normalised string), day = days since 1970-01-01"
        : "part·2^80 + plant·2^32 + day; part/plant = idCode(normalised string), day = days since 1970-01-01",
    columns: [
      ...schema.columns.map((c) => ({
        name: c.name,
        type: c.kind.type,
        description: c.description,
      })),
      ...(schema.optionalColumns ?? []).map((c) => ({
        name: c.name,
        type: c.kind.type,
        description: `optional: ${c.description}`,
      })),
    ],
    fields: schema.fields.map((name, index) => ({
      index,
      name,
      description: schema.fieldDescriptions[index],
    })),
    minMaxField: schema.minMaxField,
    filters: filtersOf(schema),
    cohorts: cohortsOf(schema),
  };
}
