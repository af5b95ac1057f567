/**
 * k over the records an answer aggregates. An answer on a field that is defined over a selection
 * of the records only (an indicator schema's filtered value, a lead time over the arrived
 * deliveries) rests on the selected records, which can be far fewer than the key range's. Each
 * schema names, for such fields, the 0/1 field that counts the selection (`cohortFields`); a
 * grant's policy carries that map in its field mask (`cohortMapBits`, circuits/lib/signals.ts),
 * so the policy hash binds it and the circuit requires the counting field's sum over the range
 * to reach k, for fieldA (every kind but COUNT) and fieldB (the ratio kinds). The grant is the
 * supplier's: a consumer cannot drop the map from it.
 */
import { cohortMapBits } from "../../circuits/lib/signals.js";
import type { DataSchema } from "./types.js";

/** Each field's cohort field as an index (null: the field is defined on every record). */
export function cohortFieldIndexes(schema: DataSchema): (number | null)[] {
  return schema.fields.map((name) => {
    const counter = schema.cohortFields?.[name];
    if (counter === undefined) return null;
    const i = schema.fields.indexOf(counter);
    if (i < 0) throw new Error(`${schema.name}: cohort field ${counter} of ${name} is no field`);
    return i;
  });
}

/** The fieldMask bits of a schema's cohort map (OR them into a grant's fieldMask). */
export function cohortMapOf(schema: DataSchema): number {
  return cohortMapBits(cohortFieldIndexes(schema));
}

/** What the catalogue says: which fields rest on a selection, counted by which field. */
export function cohortsOf(schema: DataSchema) {
  return Object.entries(schema.cohortFields ?? {}).map(([field, countedBy]) => ({
    field,
    countedBy,
    rule: `an answer on ${field} needs at least k records with ${countedBy} = 1 in its key range (not only k records)`,
  }));
}
