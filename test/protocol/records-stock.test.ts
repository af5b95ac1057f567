import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  dayNumber,
  findSchema,
  indexKey,
  parseBatch,
  stockSchema,
  type ParseResult,
} from "../../protocol/records/index.js";

const sample = (): any =>
  JSON.parse(
    readFileSync(
      new URL("../fixtures/catenax/io.catenax.item_stock_2.0.0.sample.json", import.meta.url),
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
  plant: "BPNS1234567890ZZ",
  stockDate: "2023-04-28",
  quantity: 20,
  direction: "INBOUND",
  isBlocked: false,
  ...over,
});

describe("stock schema (ItemStock 2.0.0)", function () {
  it("ingests the Catena-X sample unchanged: inbound pieces at the stock site on the UTC day", function () {
    const [r, ...rest] = ok(parseBatch(stockSchema, { format: "catenax", payload: sample() }));
    expect(rest).to.deep.equal([]);
    // 2023-04-28T14:23+14:00 is 2023-04-28T00:23Z
    expect(r!.key).to.equal(indexKey(MATERIAL, "BPNS1234567890ZZ", dayNumber("2023-04-28")));
    expect(r!.values).to.deep.equal([0n, 20n, 0n, 20n]);
    expect(r!.id).to.match(/^0x[0-9a-f]{32}$/);
  });

  it("maps JSON rows and CSV like the aspect: direction and blocked stock in their own fields", function () {
    const rows = [row(), row({ direction: "OUTBOUND", quantity: 7, isBlocked: true })];
    const json = ok(parseBatch(stockSchema, { format: "json", rows }));
    expect(json.map((r) => r.values)).to.have.deep.members([
      [0n, 20n, 0n, 20n],
      [7n, 0n, 7n, 7n],
    ]);
    const csv = ok(
      parseBatch(stockSchema, {
        format: "csv",
        csv: `partNumber,plant,stockDate,quantity,direction,isBlocked\n${MATERIAL},BPNS1234567890ZZ,2023-04-28,20,INBOUND,false\n${MATERIAL},BPNS1234567890ZZ,2023-04-28,7,OUTBOUND,true\n`,
      }),
    );
    expect(csv).to.deep.equal(json);
    expect(findSchema("stock-by-day")!.fields).to.deep.equal(stockSchema.fields);
  });

  it("refuses a batch that mixes units, at the position of the other unit", function () {
    const payload = sample();
    payload.positions[0].allocatedStocks.push({
      ...payload.positions[0].allocatedStocks[0],
      quantityOnAllocatedStock: { value: 3.5, unit: "unit:kilogram" },
    });
    expect(errs(parseBatch(stockSchema, { format: "catenax", payload }))).to.deep.equal([
      {
        position: "/positions/0/allocatedStocks/1/quantityOnAllocatedStock/unit",
        reason:
          'is "unit:kilogram": this schema adds up quantities in unit:piece only (units are never summed together; put other units in an asset of their own)',
      },
    ]);
    const flat = errs(
      parseBatch(stockSchema, {
        format: "json",
        rows: [row({ unit: "unit:piece" }), row({ unit: "unit:litre" })],
      }),
    );
    expect(flat).to.have.length(1);
    expect(flat[0]!.position).to.equal("rows[1]");
    expect(flat[0]!.reason).to.match(/^unit is "unit:litre"/);
  });

  it("reports each bad row class with its position, and takes none of the batch", function () {
    const r = errs(
      parseBatch(stockSchema, {
        format: "json",
        rows: [
          row(),
          row({ quantity: 2.5 }),
          row({ direction: "SIDEWAYS" }),
          row({ stockDate: "2023-02-30" }),
          row({ plant: "" }),
          row({ isBlocked: "no" }),
        ],
      }),
    );
    expect(r.map((e) => e.position)).to.deep.equal([
      "rows[1].quantity",
      "rows[2]",
      "rows[3].stockDate",
      "rows[4].plant",
      "rows[5].isBlocked",
    ]);
    expect(r[1]!.reason).to.equal("direction must be INBOUND or OUTBOUND");
  });

  it("refuses an offset-less date-time and a fractional quantity of the aspect at their positions", function () {
    const payload = sample();
    const s = payload.positions[0].allocatedStocks[0];
    payload.positions[0].allocatedStocks.push(
      { ...s, lastUpdatedOnDateTime: "2023-04-28T14:23:00" },
      { ...s, quantityOnAllocatedStock: { value: 1.5, unit: "unit:piece" } },
    );
    const r = errs(parseBatch(stockSchema, { format: "catenax", payload }));
    expect(r.map((e) => e.position)).to.deep.equal([
      "/positions/0/allocatedStocks/1/lastUpdatedOnDateTime",
      "/positions/0/allocatedStocks/2/quantity",
    ]);
    expect(r[0]!.reason).to.match(/has no UTC offset/);
  });

  it("refuses an aspect that breaks the schema (a bad BPNS, no direction) at the field's pointer", function () {
    const payload = sample();
    payload.positions[0].allocatedStocks[0].stockLocationBPNS = "BPNS12";
    delete payload.direction;
    const r = errs(parseBatch(stockSchema, { format: "catenax", payload }));
    expect(r.map((e) => e.position)).to.have.members([
      "/positions/0/allocatedStocks/0/stockLocationBPNS",
      "/direction",
    ]);
  });
});
