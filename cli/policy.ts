/**
 * The user's terms → the protocol's: schema and field names, aggregate names, a part/plant/date
 * window as an index-key range, and a policy in words as the contract's `Policy` struct. Every
 * name the user can get wrong is turned into a user error that lists the right ones.
 */
import {
  AggregateKind,
  MAX_THRESHOLDS,
  THRESHOLD_SLOT_BITS,
  type Policy,
} from "../circuits/lib/signals.js";
import {
  cohortMapOf,
  findSchema,
  keyRange,
  SCHEMAS,
  schemaKeyRange,
} from "../protocol/records/index.js";
import type { DataSchema } from "../protocol/records/types.js";
import { UserError } from "./errors.js";
import type { Session } from "./session.js";

/** Aggregate names the CLI accepts, by kind. */
export const AGGREGATES: Record<string, AggregateKind> = {
  count: AggregateKind.Count,
  sum: AggregateKind.Sum,
  avg: AggregateKind.Avg,
  min: AggregateKind.Min,
  max: AggregateKind.Max,
  ratio: AggregateKind.RatioPpm,
  threshold: AggregateKind.ThresholdPpm,
};

/** The aggregate kind of a name; the error lists the known names. */
export function aggregateOf(name: string): AggregateKind {
  const k = AGGREGATES[name.toLowerCase()];
  if (k === undefined) {
    throw new UserError(`unknown aggregate "${name}" (${Object.keys(AGGREGATES).join(", ")})`);
  }
  return k;
}

/** A schema by name or id; the error lists the known ones. */
export function schemaOf(nameOrId: string): DataSchema {
  const schema = findSchema(nameOrId);
  if (!schema) {
    const names = [...SCHEMAS.values()].map((x) => x.name).join(", ");
    throw new UserError(`unknown schema "${nameOrId}" (${names})`);
  }
  return schema;
}

/** The schema of a registered asset, read from the chain. */
export async function assetSchema(s: Session, assetId: bigint): Promise<DataSchema> {
  const asset = await s.reader.getAsset(assetId);
  if (!asset) throw new UserError(`asset ${assetId} is not registered on-chain`);
  return schemaOf(asset.schemaId);
}

/** Index of a schema field given by name or number. */
export function fieldOf(schema: DataSchema, n: string): number {
  const i = /^\d+$/.test(n) ? Number(n) : schema.fields.indexOf(n);
  if (i < 0 || i >= schema.fields.length) {
    throw new UserError(`unknown field "${n}" of ${schema.name} (${schema.fields.join(", ")})`);
  }
  return i;
}

/** The index-key range of a part, optionally one plant and a production-date window. */
export function keyRangeOf(
  q: { partNumber: string; plant?: string; from?: string; to?: string },
  schema?: DataSchema,
) {
  try {
    return schema ? schemaKeyRange(schema, q) : keyRange(q);
  } catch (e) {
    throw new UserError(`key range: ${(e as Error).message}`);
  }
}

/** A policy in the user's terms. */
export interface PolicyInput {
  aggregates: string[];
  fields: string[];
  filters?: string[];
  partNumber: string;
  plant?: string;
  minCohort: number;
  /**
   * The thresholds (PPM) a THRESHOLD query may use, at most four (default: none, so THRESHOLD
   * is not answerable). Fixed by the grant so that a consumer cannot binary-search a ratio.
   */
  thresholds?: readonly (bigint | string)[];
}

/** The allowed thresholds of a policy in words: 1..4 distinct integers in 1..2^48 - 1. */
export function thresholdsOf(aggregateMask: number, given: readonly (bigint | string)[] = []) {
  const max = (1n << BigInt(THRESHOLD_SLOT_BITS)) - 1n;
  const values = given.map((t) => {
    const v = typeof t === "bigint" ? t : /^\d+$/.test(t.trim()) ? BigInt(t.trim()) : -1n;
    if (v < 1n || v > max) {
      throw new UserError(`threshold "${t}" must be an integer from 1 to ${max} (PPM)`);
    }
    return v;
  });
  if (values.length > MAX_THRESHOLDS) {
    throw new UserError(
      `a grant allows at most ${MAX_THRESHOLDS} thresholds, got ${values.length}`,
    );
  }
  if (new Set(values).size !== values.length) {
    throw new UserError(`thresholds must be distinct, got ${values.join(", ")}`);
  }
  const allowsThreshold = ((aggregateMask >>> AggregateKind.ThresholdPpm) & 1) === 1;
  if (allowsThreshold && values.length === 0) {
    throw new UserError(
      "the threshold aggregate needs the thresholds it may use (--thresholds, e.g. 50,100)",
    );
  }
  if (!allowsThreshold && values.length > 0) {
    throw new UserError("thresholds are given but the threshold aggregate is not allowed");
  }
  return values;
}

/** Turns a policy in the user's terms into the on-chain struct. */
export function policyOf(schema: DataSchema, p: PolicyInput): Policy {
  const mask = (names: string[], index: (n: string) => number) =>
    names.reduce((m, n) => m | (1 << index(n)), 0);
  const aggregateMask = mask(p.aggregates, aggregateOf);
  const fieldIndex = (n: string) => fieldOf(schema, n);
  const { keyLo, keyHi } = keyRangeOf({ partNumber: p.partNumber, plant: p.plant }, schema);
  if (!Number.isInteger(p.minCohort) || p.minCohort < 1) {
    throw new UserError("k must be a positive integer");
  }
  return {
    aggregateMask,
    // with the schema's cohort map: answers on a filtered field need k selected records
    fieldMask: mask(p.fields, fieldIndex) | cohortMapOf(schema),
    filterMask: mask(p.filters ?? [], fieldIndex),
    minCohort: p.minCohort,
    keyLo,
    keyHi,
    thresholds: thresholdsOf(aggregateMask, p.thresholds),
  };
}

/** Validity window (unix seconds) and quota of a grant. */
export interface GrantTerms {
  validFrom: number;
  validUntil: number;
  quota: number;
}
