import { expect } from "chai";
import { schemaDescriptionSchema } from "../../protocol/api.js";
import {
  cohortFieldIndexes,
  describeSchema,
  findSchema,
  SCHEMAS,
  indexKey,
  parseBatch,
  recordKey,
  type DataSchema,
  type MappedRecord,
} from "../../protocol/records/index.js";

/** The values of one JSON row mapped by a schema (throws with the errors when refused). */
function valuesOf(schema: DataSchema, row: Record<string, unknown>): bigint[] {
  const r = parseBatch(schema, { format: "json", rows: [row] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return [...(r.records[0] as MappedRecord).values];
}

const schema = (name: string) => findSchema(name) as DataSchema;

const part = (tests: number, reworked: boolean) => ({
  partNumber: "P-1",
  plant: "4711",
  productionDate: "2026-07-02",
  hasBeenReworked: reworked,
  numberOfConductedEndOfLineTests: tests,
});

const delivery = (leadTimeDays: number | null, dueDate?: string | null) => ({
  partNumber: "P-1",
  plant: "BPNS000000000AUT",
  departureDate: "2026-07-01",
  quantity: 40,
  leadTimeDays,
  ...(dueDate === undefined ? {} : { dueDate }),
});

const footprint = (primaryDataShare: number | string, pcf = 12.5) => ({
  partNumber: "P-1",
  plant: "BPNL00000000GEAR",
  referencePeriodEnd: "2026-07-31",
  pcfExcludingBiogenicUptake: pcf,
  productMassPerDeclaredUnit: 1.25,
  primaryDataShare,
});

describe("indicator schemas: filters derived at ingest", function () {
  describe("quality-eol3", function () {
    it("sets eolTests3 from exactly 3 end-of-line tests, not at 2", function () {
      const s = schema("quality-eol3");
      expect(valuesOf(s, part(2, true))).to.deep.equal([1n, 1n, 0n, 0n]);
      expect(valuesOf(s, part(3, true))).to.deep.equal([1n, 1n, 1n, 1n]);
      expect(valuesOf(s, part(3, false))).to.deep.equal([1n, 0n, 1n, 0n]);
      expect(valuesOf(s, part(0, true))).to.deep.equal([1n, 1n, 0n, 0n]);
    });

    it("keys the record as the base schema does, and reads CSV alike", function () {
      const s = schema("quality-eol3");
      const r = parseBatch(s, {
        format: "csv",
        csv: "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests\nP-1,4711,2026-07-02,true,4\n",
      });
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.records[0]!.key).to.equal(indexKey("P-1", "4711", 20636));
      expect(r.records[0]!.values).to.deep.equal([1n, 1n, 1n, 1n]);
      const byDay = schema("quality-eol3-by-day");
      expect(byDay.id).to.equal(`${s.id}-by-day`);
      expect(valuesOf(byDay, part(3, true))).to.deep.equal([1n, 1n, 1n, 1n]);
      expect(recordKey(byDay, "P-1", "4711", 20636)).to.not.equal(indexKey("P-1", "4711", 20636));
    });
  });

  describe("delivery-late", function () {
    it("is not late by more than 2 days at exactly 2 days late, and is at 3", function () {
      const s = schema("delivery-late");
      // due 07-03; arrival 07-01 + 4 = 07-05: exactly 2 days late
      expect(valuesOf(s, delivery(4, "2026-07-03"))).to.deep.equal([40n, 1n, 0n, 0n]);
      expect(valuesOf(s, delivery(5, "2026-07-03"))).to.deep.equal([40n, 1n, 1n, 0n]);
      // exactly 5 days late: late2d, not late5d; 6 days: both
      expect(valuesOf(s, delivery(7, "2026-07-03"))).to.deep.equal([40n, 1n, 1n, 0n]);
      expect(valuesOf(s, delivery(8, "2026-07-03"))).to.deep.equal([40n, 1n, 1n, 1n]);
      // on time and early
      expect(valuesOf(s, delivery(2, "2026-07-03"))).to.deep.equal([40n, 1n, 0n, 0n]);
      expect(valuesOf(s, delivery(0, "2026-07-03"))).to.deep.equal([40n, 1n, 0n, 0n]);
    });

    it("counts an arrival without a due date as late, and a delivery not arrived as in no share", function () {
      const s = schema("delivery-late");
      expect(valuesOf(s, delivery(1))).to.deep.equal([40n, 1n, 1n, 1n]);
      expect(valuesOf(s, delivery(1, null))).to.deep.equal([40n, 1n, 1n, 1n]);
      expect(valuesOf(s, delivery(null, "2026-07-03"))).to.deep.equal([40n, 0n, 0n, 0n]);
      expect(valuesOf(s, delivery(null))).to.deep.equal([40n, 0n, 0n, 0n]);
    });
  });

  describe("pcf-primary50", function () {
    it("sets primary50 from exactly 50 % and carries the PCF only then", function () {
      const s = schema("pcf-primary50");
      expect(valuesOf(s, footprint(50))).to.deep.equal([12_500_000n, 1n, 1n, 12_500_000n]);
      expect(valuesOf(s, footprint(49.99))).to.deep.equal([0n, 0n, 1n, 12_500_000n]);
      expect(valuesOf(s, footprint(100, 0.000001))).to.deep.equal([1n, 1n, 1n, 1n]);
      expect(valuesOf(s, footprint(0))).to.deep.equal([0n, 0n, 1n, 12_500_000n]);
    });
  });

  it("names, for each field defined over a selection, a 0/1 field that is 0 wherever it is", function () {
    const parts = [0, 2, 3, 5].flatMap((tests) => [part(tests, true), part(tests, false)]);
    const deliveries = [null, 0, 3, 4, 9].flatMap((lead) =>
      [undefined, null, "2026-07-03"].map((due) => delivery(lead, due)),
    );
    const footprints = [0, 49.99, 50, 80].map((share) => footprint(share));
    const cases: [string, Record<string, unknown>[], [string, string][]][] = [
      ["quality-eol3", parts, [["reworkedEolTests3", "eolTests3"]]],
      [
        "delivery-late",
        deliveries,
        [
          ["late2d", "leadTimeKnown"],
          ["late5d", "leadTimeKnown"],
        ],
      ],
      [
        "delivery",
        deliveries,
        [
          ["onTime", "leadTimeKnown"],
          ["leadTimeDays", "leadTimeKnown"],
        ],
      ],
      ["pcf-primary50", footprints, [["pcfPrimary50", "primary50"]]],
    ];
    for (const [name, rows, pairs] of cases) {
      const s = schema(name);
      const map = cohortFieldIndexes(s);
      expect(pairs.map(([f]) => [f, s.fields[map[s.fields.indexOf(f)]!]])).to.deep.equal(pairs);
      expect(map.filter((c) => c !== null)).to.have.length(pairs.length);
      for (const row of rows) {
        const v = valuesOf(s, row);
        for (const [f, c] of pairs) {
          const [fv, cv] = [v[s.fields.indexOf(f)]!, v[s.fields.indexOf(c)]!];
          expect([0n, 1n], `${name} ${c}`).to.include(cv);
          if (cv === 0n) expect(fv, `${name} ${f} outside its selection`).to.equal(0n);
        }
      }
      expect(describeSchema(s).cohorts.map((x) => [x.field, x.countedBy])).to.deep.equal(pairs);
    }
  });

  it("lists each schema's indicator fields and the scan window's limit in the catalogue", function () {
    const d = describeSchema(schema("delivery-late-by-day"));
    expect(d.filters.indicators.map((i) => [i.index, i.field])).to.deep.equal([
      [2, "late2d"],
      [3, "late5d"],
    ]);
    expect(d.filters.scanWindow).to.match(/at most 15 consecutive records/);
    expect(describeSchema(schema("quality")).filters.indicators).to.deep.equal([]);
    // every catalogue entry is what the API's response schema accepts
    for (const s of SCHEMAS.values()) {
      expect(schemaDescriptionSchema.safeParse(describeSchema(s)).success, s.name).to.equal(true);
    }
    expect(SCHEMAS.size).to.be.at.least(12);
    for (const name of ["quality-eol3", "delivery-late", "pcf-primary50"]) {
      const s = schema(name);
      for (const i of describeSchema(s).filters.indicators) {
        expect(s.fields[i.index], `${name} ${i.field}`).to.equal(i.field);
      }
    }
  });
});
