import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  dayNumber,
  demandSchema,
  indexKey,
  parseBatch,
  type ParseResult,
} from "../../protocol/records/index.js";

const sample = (): any =>
  JSON.parse(
    readFileSync(
      new URL(
        "../fixtures/catenax/io.catenax.week_based_material_demand_3.0.1.sample.json",
        import.meta.url,
      ),
      "utf8",
    ),
  );
const ok = (r: ParseResult) => {
  if (!r.ok) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.records;
};
const errs = (r: ParseResult) => {
  if (r.ok) throw new Error("expected the batch to be refused");
  return r.errors;
};
const MATERIAL = "urn:uuid:48878d48-6f1d-47f5-8ded-a441d0d879df";
const row = (over: Record<string, unknown> = {}) => ({
  partNumber: MATERIAL,
  plant: "BPNS8888888888XX",
  week: "2023-10-09",
  demand: 1000,
  ...over,
});

describe("demand schema (WeekBasedMaterialDemand 3.0.1)", function () {
  it("ingests the Catena-X sample unchanged: the inactive series' week under the material's global id", function () {
    const [r, ...rest] = ok(parseBatch(demandSchema, { format: "catenax", payload: sample() }));
    expect(rest).to.deep.equal([]);
    expect(r!.key).to.equal(indexKey(MATERIAL, "BPNS8888888888XX", dayNumber("2023-10-09")));
    // the sample's series is inactive: its demand is kept apart from active demand
    expect(r!.values).to.deep.equal([0n, 1n, 1000n, 1000n]);
  });

  it("keys by the customer's material number when the aspect has no global id; active demand in field 0", function () {
    const payload = sample();
    delete payload.materialGlobalAssetId;
    payload.materialDemandIsInactive = false;
    const [r] = ok(parseBatch(demandSchema, { format: "catenax", payload }));
    expect(r!.key).to.equal(
      indexKey("MNR-7307-AU340474.002", "BPNS8888888888XX", dayNumber("2023-10-09")),
    );
    expect(r!.values).to.deep.equal([1000n, 1n, 0n, 1000n]);
  });

  it("reads JSON rows and CSV alike", function () {
    const json = ok(
      parseBatch(demandSchema, {
        format: "json",
        rows: [row(), row({ week: "2023-10-16", demand: 5, inactive: true })],
      }),
    );
    const csv = ok(
      parseBatch(demandSchema, {
        format: "csv",
        csv: `partNumber,plant,week,demand,inactive\n${MATERIAL},BPNS8888888888XX,2023-10-09,1000,false\n${MATERIAL},BPNS8888888888XX,2023-10-16,5,true\n`,
      }),
    );
    expect(csv).to.deep.equal(json);
    expect(json.map((r) => r.values)).to.deep.equal([
      [1000n, 1n, 0n, 1000n],
      [0n, 1n, 5n, 5n],
    ]);
  });

  it("refuses mixed units: another unit, or an omitted one, at the aspect's unitOfMeasure; a flat row's unit at its row", function () {
    const kg = sample();
    kg.unitOfMeasure = "unit:kilogram";
    const omitted = sample();
    omitted.unitOfMeasureIsOmitted = true;
    const r = errs(
      parseBatch(demandSchema, { format: "catenax", payload: [sample(), kg, omitted] }),
    );
    expect(r.map((e) => e.position)).to.deep.equal(["/1/unitOfMeasure", "/2/unitOfMeasure"]);
    expect(r[0]!.reason).to.match(
      /^is "unit:kilogram": this schema adds up quantities in unit:piece only/,
    );
    expect(r[1]!.reason).to.match(/omitted/);
    const flat = errs(
      parseBatch(demandSchema, { format: "json", rows: [row(), row({ unit: "unit:kilogram" })] }),
    );
    expect(flat.map((e) => e.position)).to.deep.equal(["rows[1]"]);
  });

  it("reports each bad row class with its position: not a Monday, not a date, fractional or negative demand, unknown column", function () {
    const r = errs(
      parseBatch(demandSchema, {
        format: "json",
        rows: [
          row(),
          row({ week: "2023-10-10" }),
          row({ week: "2023-10-09T00:00:00" }),
          row({ demand: 1.5 }),
          row({ demand: -3 }),
          row({ colour: "red" }),
        ],
      }),
    );
    expect(r.map((e) => e.position)).to.deep.equal([
      "rows[1]",
      "rows[2].week",
      "rows[3].demand",
      "rows[4].demand",
      "rows[5]",
    ]);
    expect(r[0]!.reason).to.equal(
      "week 2023-10-10 is not a Monday (a week-based series names each week by its Monday)",
    );
  });

  it("refuses the aspect's non-Monday week and offset-less changedAt at their pointers", function () {
    const payload = sample();
    payload.changedAt = "2023-11-05T08:15:30";
    const r1 = errs(parseBatch(demandSchema, { format: "catenax", payload }));
    expect(r1.map((e) => e.position)).to.deep.equal(["/changedAt"]);
    const p2 = sample();
    p2.demandSeries[0].demands.push({ demand: 4, pointInTime: "2023-10-11" });
    const r2 = errs(parseBatch(demandSchema, { format: "catenax", payload: p2 }));
    expect(r2.map((e) => e.position)).to.deep.equal(["/demandSeries/0/demands/1/pointInTime"]);
  });
});
