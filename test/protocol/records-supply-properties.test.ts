/**
 * Properties of the stock, demand, capacity and claims schemas: no input — arbitrary payloads,
 * or the Catena-X samples with any one value replaced by anything — makes a parse throw; every
 * refusal names a position; a batch that mixes units is always refused at the other unit's
 * row; capacity's "covered" is exactly actual ≥ Σ demand × load factor.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import {
  capacitySchema,
  claimsSchema,
  demandSchema,
  MAX_U64,
  parseBatch,
  stockSchema,
  type DataSchema,
  type UploadData,
} from "../../protocol/records/index.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const check = <T>(p: fc.IProperty<T>) => fc.assert(p, { numRuns: RUNS });
const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/catenax/${name}.sample.json`, import.meta.url), "utf8"),
  );
const SAMPLES: [DataSchema, unknown][] = [
  [stockSchema, fixture("io.catenax.item_stock_2.0.0")],
  [demandSchema, fixture("io.catenax.week_based_material_demand_3.0.1")],
  [capacitySchema, fixture("io.catenax.week_based_capacity_group_3.0.0")],
  [claimsSchema, fixture("io.catenax.fleet.claim_data_3.0.0")],
];

/** Every path to a value (leaf or not) of a JSON value. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = at.length ? [at] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}
/** A deep copy of `v` with the value at `path` replaced. */
function replaced(v: unknown, path: (string | number)[], by: unknown): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path.at(-1)!] = by;
  return copy;
}

/** A parse result is well formed: positioned refusals, or records of uint64 values. */
function wellFormed(schema: DataSchema, d: UploadData) {
  const r = parseBatch(schema, d);
  if (!r.ok) {
    expect(r.errors.length).to.be.within(1, 101);
    for (const e of r.errors) {
      expect(e.position).to.be.a("string").and.not.equal("");
      expect(e.reason).to.be.a("string").and.not.equal("");
    }
  } else {
    for (const rec of r.records) {
      expect(rec.values.every((v) => v >= 0n && v <= MAX_U64)).to.equal(true);
    }
  }
  return r;
}

describe("stock, demand, capacity and claims schemas: properties", function () {
  it("refuse a payload without any property the aspect's JSON schema requires, at its pointer", function () {
    const names = [
      "io.catenax.item_stock_2.0.0",
      "io.catenax.week_based_material_demand_3.0.1",
      "io.catenax.week_based_capacity_group_3.0.0",
      "io.catenax.fleet.claim_data_3.0.0",
    ];
    SAMPLES.forEach(([schema, sample], i) => {
      const json = JSON.parse(
        readFileSync(
          new URL(`../../protocol/records/catenax/${names[i]}.schema.json`, import.meta.url),
          "utf8",
        ),
      ) as { required: string[] };
      expect(json.required.length).to.be.greaterThan(0);
      for (const prop of json.required) {
        const payload = structuredClone(sample) as Record<string, unknown>;
        delete payload[prop];
        const r = parseBatch(schema, { format: "catenax", payload });
        expect(r.ok, `${schema.name} without ${prop}`).to.equal(false);
        if (!r.ok) expect(r.errors.map((e) => e.position)).to.include(`/${prop}`);
      }
    });
  });

  it("never throw on arbitrary rows or payloads", function () {
    const schemas = fc.constantFrom(...SAMPLES.map(([s]) => s));
    const data = fc.oneof(
      fc
        .array(fc.anything(), { minLength: 1, maxLength: 5 })
        .map((rows) => ({ format: "json" as const, rows })),
      fc.anything().map((payload) => ({ format: "catenax" as const, payload })),
      fc
        .array(fc.anything(), { maxLength: 4 })
        .map((payload) => ({ format: "catenax" as const, payload })),
    );
    check(fc.property(schemas, data, (schema, d) => void wellFormed(schema, d)));
  });

  it("never throw when any one value of a Catena-X sample is replaced by anything", function () {
    for (const [schema, sample] of SAMPLES) {
      const all = paths(sample);
      check(
        fc.property(fc.constantFrom(...all), fc.anything(), (path, by) => {
          wellFormed(schema, { format: "catenax", payload: replaced(sample, path, by) });
        }),
      );
    }
  });

  it("refuse every batch of flat rows that mixes pieces with another unit, at that row", function () {
    const rowOf: Record<string, (unit: string | undefined) => Record<string, unknown>> = {
      stock: (unit) => ({
        partNumber: "M",
        plant: "S",
        stockDate: "2026-01-05",
        quantity: 5,
        direction: "OUTBOUND",
        isBlocked: false,
        ...(unit ? { unit } : {}),
      }),
      demand: (unit) => ({
        partNumber: "M",
        plant: "S",
        week: "2026-01-05",
        demand: 5,
        ...(unit ? { unit } : {}),
      }),
      capacity: (unit) => ({
        partNumber: "G",
        plant: "S",
        week: "2026-01-05",
        actualCapacity: 5,
        maximumCapacity: 6,
        ...(unit ? { unit } : {}),
      }),
    };
    const other = fc.constantFrom("unit:kilogram", "unit:set", "unit:litre", "kg", "PIECE");
    check(
      fc.property(
        fc.constantFrom(stockSchema, demandSchema, capacitySchema),
        fc.array(fc.constantFrom(undefined, "unit:piece"), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        other,
        (schema, units, at, unit) => {
          const i = at % (units.length + 1);
          const rows = units.map((u) => rowOf[schema.name]!(u));
          rows.splice(i, 0, rowOf[schema.name]!(unit));
          const r = parseBatch(schema, { format: "json", rows });
          expect(r.ok).to.equal(false);
          if (!r.ok) expect(r.errors.map((e) => e.position)).to.deep.equal([`rows[${i}]`]);
        },
      ),
    );
  });

  it("capacity: covered iff actual capacity ≥ Σ linked demand × load factor, exactly", function () {
    const group = fixture("io.catenax.week_based_capacity_group_3.0.0") as any;
    const demand = fixture("io.catenax.week_based_material_demand_3.0.1") as any;
    check(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 400 }), // load factor in hundredths
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 3 }),
        (actual, lf100, demands) => {
          const g = structuredClone(group);
          g.capacities[0].actualCapacity = actual;
          g.linkedDemandSeries[0].loadFactor = lf100 / 100;
          const ds = demands.map((q) => {
            const d = structuredClone(demand);
            Object.assign(d, {
              materialNumberCustomer: g.linkedDemandSeries[0].materialNumberCustomer,
              customer: g.customer,
              supplier: g.supplier,
            });
            d.demandSeries[0].demands = [{ demand: q, pointInTime: g.capacities[0].pointInTime }];
            return d;
          });
          const r = parseBatch(capacitySchema, { format: "catenax", payload: [g, ...ds] });
          if (!r.ok) throw new Error(JSON.stringify(r.errors));
          // Σ q × lf100 / 100 ≤ actual  ⟺  Σ q × lf100 ≤ 100 × actual
          const need = demands.reduce((s, q) => s + q * lf100, 0);
          expect(r.records[0]!.values.slice(1, 3)).to.deep.equal([
            1n,
            need <= 100 * actual ? 1n : 0n,
          ]);
        },
      ),
    );
  });
});
