import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  capacitySchema,
  dayNumber,
  indexKey,
  parseBatch,
  type ParseResult,
} from "../../protocol/records/index.js";

const fixture = (name: string): any =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/catenax/${name}.sample.json`, import.meta.url), "utf8"),
  );
const group = () => fixture("io.catenax.week_based_capacity_group_3.0.0");
const demand = () => fixture("io.catenax.week_based_material_demand_3.0.1");
const ok = (r: ParseResult) => {
  if (!r.ok) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.records;
};
const errs = (r: ParseResult) => {
  if (r.ok) throw new Error("expected the batch to be refused");
  return r.errors;
};
const GROUP = "0157ba42-d2a8-4e28-8565-7b07830c1110";
const SUPPLIER = "BPNL6666666666YY";
const row = (over: Record<string, unknown> = {}) => ({
  partNumber: GROUP,
  plant: SUPPLIER,
  week: "2022-08-01",
  actualCapacity: 1000,
  maximumCapacity: 2000,
  ...over,
});

/** A demand aspect the sample group links to (material, site, category), one week. */
function linkedDemand(week: string, qty: number) {
  const d = demand();
  d.materialNumberCustomer = "MNR-7307-AU340474.002";
  d.customer = "BPNL8888888888XX";
  d.supplier = "BPNL6666666666YY";
  d.demandSeries[0].demands = [{ demand: qty, pointInTime: week }];
  return d;
}

describe("capacity schema (WeekBasedCapacityGroup 3.0.0)", function () {
  it("ingests the Catena-X sample unchanged: one week, no linked demand in the payload", function () {
    const [r, ...rest] = ok(parseBatch(capacitySchema, { format: "catenax", payload: group() }));
    expect(rest).to.deep.equal([]);
    expect(r!.key).to.equal(indexKey(GROUP, SUPPLIER, dayNumber("2022-08-01")));
    expect(r!.values).to.deep.equal([2000n, 0n, 0n, 1000n]);
  });

  it("carries the linked demand × load factor of the same week from demand aspects sent beside the group", function () {
    // load factor 3.5: 285 pieces of demand need 997.5 → 998 of capacity (covered by 1000)
    const covered = ok(
      parseBatch(capacitySchema, {
        format: "catenax",
        payload: [group(), linkedDemand("2022-08-01", 285)],
      }),
    );
    expect(covered.map((r) => r.values)).to.deep.equal([[2000n, 1n, 1n, 1000n]]);
    // 286 need 1001: not covered; a demand of another week is not this week's
    const short = ok(
      parseBatch(capacitySchema, {
        format: "catenax",
        payload: [linkedDemand("2022-08-01", 200), group(), linkedDemand("2022-08-01", 86)],
      }),
    );
    expect(short.map((r) => r.values)).to.deep.equal([[2000n, 1n, 0n, 1000n]]);
    const otherWeek = ok(
      parseBatch(capacitySchema, {
        format: "catenax",
        payload: [group(), linkedDemand("2022-08-08", 9999)],
      }),
    );
    expect(otherWeek.map((r) => r.values)).to.deep.equal([[2000n, 0n, 0n, 1000n]]);
  });

  it("reads JSON rows and CSV alike; covered iff actual ≥ demand", function () {
    const rows = [
      row({ demand: 1000 }),
      row({ week: "2022-08-08", demand: 1001 }),
      row({ week: "2022-08-15", demand: null }),
    ];
    const json = ok(parseBatch(capacitySchema, { format: "json", rows }));
    expect(json.map((r) => r.values)).to.deep.equal([
      [2000n, 1n, 1n, 1000n],
      [2000n, 1n, 0n, 1000n],
      [2000n, 0n, 0n, 1000n],
    ]);
    const csv = ok(
      parseBatch(capacitySchema, {
        format: "csv",
        csv: `partNumber,plant,week,actualCapacity,maximumCapacity,demand\n${GROUP},${SUPPLIER},2022-08-01,1000,2000,1000\n${GROUP},${SUPPLIER},2022-08-08,1000,2000,1001\n${GROUP},${SUPPLIER},2022-08-15,1000,2000,\n`,
      }),
    );
    expect(csv).to.deep.equal(json);
  });

  it("refuses mixed units: a group or a linked demand in another unit, at its position", function () {
    const g = group();
    g.unitOfMeasure = "unit:kilogram";
    const d = linkedDemand("2022-08-01", 10);
    d.unitOfMeasure = "unit:litre";
    const r = errs(parseBatch(capacitySchema, { format: "catenax", payload: [g, d] }));
    expect(r.map((e) => e.position)).to.deep.equal(["/1/unitOfMeasure", "/0/unitOfMeasure"]);
    const flat = errs(
      parseBatch(capacitySchema, { format: "json", rows: [row(), row({ unit: "unit:set" })] }),
    );
    expect(flat.map((e) => e.position)).to.deep.equal(["rows[1]"]);
  });

  it("reports each bad row class with its position: not a Monday, fractional capacity, bad demand, offset-less changedAt", function () {
    const r = errs(
      parseBatch(capacitySchema, {
        format: "json",
        rows: [
          row(),
          row({ week: "2022-08-02" }),
          row({ actualCapacity: 10.5 }),
          row({ demand: "many" }),
          row({ maximumCapacity: undefined }),
        ],
      }),
    );
    expect(r.map((e) => e.position)).to.deep.equal([
      "rows[1]",
      "rows[2].actualCapacity",
      "rows[3].demand",
      "rows[4].maximumCapacity",
    ]);
    const g = group();
    g.changedAt = "2023-03-10T12:27:11";
    g.capacities.push({ ...g.capacities[0], pointInTime: "2022-08-03" });
    const c = errs(parseBatch(capacitySchema, { format: "catenax", payload: g }));
    expect(c.map((e) => e.position)).to.deep.equal(["/changedAt"]);
    const g2 = group();
    g2.capacities.push({ ...g2.capacities[0], pointInTime: "2022-08-03" });
    const c2 = errs(parseBatch(capacitySchema, { format: "catenax", payload: g2 }));
    expect(c2).to.deep.equal([
      {
        position: "/capacities/1/pointInTime",
        reason:
          "pointInTime 2022-08-03 is not a Monday (a week-based series names each week by its Monday)",
      },
    ]);
  });
});
