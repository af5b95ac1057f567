import { expect } from "chai";
import { dayOrderKey } from "../../circuits/lib/tree-order.js";
import {
  dayNumber,
  findSchema,
  idCode,
  indexKey,
  keyRange,
  parseBatch,
  qualitySchema,
  schemaKeyRange,
  type DataSchema,
} from "../../protocol/records/index.js";

const rows = [
  {
    partNumber: "P-1",
    plant: "4711",
    productionDate: "2026-07-02",
    hasBeenReworked: true,
    numberOfConductedEndOfLineTests: 2,
  },
  {
    partNumber: "P-1",
    plant: "4712",
    productionDate: "2026-07-01",
    hasBeenReworked: false,
    numberOfConductedEndOfLineTests: 1,
  },
];

describe("key orders: the day-ordered schema variants", function () {
  const byDay = findSchema("quality-by-day") as DataSchema;

  it("exist for every schema, with their own id, the same fields and the day order", function () {
    for (const name of ["quality", "delivery", "pcf"]) {
      const v = findSchema(`${name}-by-day`)!;
      const base = findSchema(name)!;
      expect(v.id).to.equal(`${base.id}-by-day`);
      expect(findSchema(v.id)).to.equal(v);
      expect(v.fields).to.deep.equal(base.fields);
      expect(v.keyOrder).to.equal("day");
    }
  });

  it("keys the same rows part, day, plant: the same values, other keys and order", function () {
    const first = parseBatch(qualitySchema, { format: "json", rows });
    const second = parseBatch(byDay, { format: "json", rows });
    if (!first.ok || !second.ok) throw new Error("refused");
    expect(first.records.map((r) => r.key)).to.deep.equal([
      indexKey("P-1", "4711", dayNumber("2026-07-02")),
      indexKey("P-1", "4712", dayNumber("2026-07-01")),
    ]);
    expect(second.records.map((r) => r.key)).to.deep.equal([
      dayOrderKey(idCode("P-1"), idCode("4712"), dayNumber("2026-07-01")),
      dayOrderKey(idCode("P-1"), idCode("4711"), dayNumber("2026-07-02")),
    ]);
    expect(second.records.map((r) => r.values)).to.deep.equal(
      [...first.records].reverse().map((r) => r.values),
    );
  });

  it("gives every plant × a window as one range, and refuses a plant", function () {
    const { keyLo, keyHi } = schemaKeyRange(byDay, {
      partNumber: "P-1",
      from: "2026-07-01",
      to: "2026-07-01",
    });
    const r = parseBatch(byDay, { format: "json", rows });
    if (!r.ok) throw new Error("refused");
    expect(r.records.filter((x) => x.key >= keyLo && x.key <= keyHi)).to.have.length(1);
    expect(() => schemaKeyRange(byDay, { partNumber: "P-1", plant: "4711" })).to.throw(
      RangeError,
      "every plant at once",
    );
    // the whole part is the same range in both orders (a part-wide grant fits either)
    expect(schemaKeyRange(byDay, { partNumber: "P-1" })).to.deep.equal(
      keyRange({ partNumber: "P-1" }),
    );
    expect(schemaKeyRange(qualitySchema, { partNumber: "P-1", plant: "4711" })).to.deep.equal(
      keyRange({ partNumber: "P-1", plant: "4711" }),
    );
  });
});
