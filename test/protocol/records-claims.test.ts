import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  claimsSchema,
  dayNumber,
  findSchema,
  indexKey,
  parseBatch,
  recordIdentity,
  type ParseResult,
} from "../../protocol/records/index.js";

const sample = (): any =>
  JSON.parse(
    readFileSync(
      new URL("../fixtures/catenax/io.catenax.fleet.claim_data_3.0.0.sample.json", import.meta.url),
      "utf8",
    ),
  );
const ok = (r: ParseResult) => {
  if (!r.ok) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r;
};
const errs = (r: ParseResult) => {
  if (r.ok) throw new Error("expected the batch to be refused");
  return r.errors;
};
const row = (over: Record<string, unknown> = {}) => ({
  partNumber: "GBX-3232455",
  plant: "DEU",
  repairDate: "2022-02-04",
  isPartCausal: true,
  replacedParts: 1,
  ...over,
});

describe("claims schema (fleet ClaimData 3.0.0)", function () {
  it("ingests the Catena-X sample unchanged: one claimed part, causal, replaced, 10 months in service", function () {
    const { records } = ok(parseBatch(claimsSchema, { format: "catenax", payload: sample() }));
    expect(records).to.have.length(1);
    expect(records[0]!.key).to.equal(indexKey("GBX-3232455", "DEU", dayNumber("2022-02-04")));
    expect(records[0]!.values).to.deep.equal([1n, 1n, 1n, 10n]);
    expect(records[0]!.id).to.equal(
      recordIdentity(claimsSchema, "claim:a214-13d6|urn:uuid:580d3adf-1981-44a0-a214-13d6ceed9000"),
    );
  });

  it("reads JSON rows and CSV alike; a claim's recordStatus deleted removes its parts", function () {
    const json = ok(
      parseBatch(claimsSchema, {
        format: "json",
        rows: [row(), row({ isPartCausal: false, replacedParts: 0, monthInService: 3 })],
      }),
    );
    const csv = ok(
      parseBatch(claimsSchema, {
        format: "csv",
        csv: "partNumber,plant,repairDate,isPartCausal,replacedParts,monthInService\nGBX-3232455,DEU,2022-02-04,true,1,\nGBX-3232455,DEU,2022-02-04,false,0,3\n",
      }),
    );
    expect(csv.records).to.deep.equal(json.records);
    expect(json.records.map((r) => r.values)).to.have.deep.members([
      [1n, 1n, 1n, 0n],
      [1n, 0n, 0n, 3n],
    ]);
    const payload = sample();
    payload.claims[0].recordStatus = "deleted";
    const del = ok(parseBatch(claimsSchema, { format: "catenax", payload }));
    expect(del.records).to.deep.equal([]);
    expect(del.removed).to.have.length(1);
    expect(findSchema("claims-by-day")!.fields).to.deep.equal(claimsSchema.fields);
  });

  it("maps the aspect's flags: absent flags are false, a replaced part without an amount is one piece, a null country is UNKNOWN", function () {
    const payload = sample();
    const part = payload.claims[0].claimedParts[0];
    payload.claims[0].claimedParts.push(
      { partName: "x", partNumber: "GBX-3232455", isPartReplaced: true },
      { partName: "y", partNumber: "GBX-3232455" },
    );
    payload.claims.push({
      ...payload.claims[0],
      claimId: "b",
      countryCode: "null",
      claimedParts: [part],
    });
    const { records } = ok(parseBatch(claimsSchema, { format: "catenax", payload }));
    const unknown = indexKey("GBX-3232455", "UNKNOWN", dayNumber("2022-02-04"));
    expect(records.filter((r) => r.key === unknown)).to.have.length(1);
    expect(records.map((r) => r.values)).to.have.deep.members([
      [1n, 1n, 1n, 10n],
      [1n, 1n, 1n, 10n],
      [1n, 0n, 1n, 10n],
      [1n, 0n, 0n, 10n],
    ]);
  });

  it("reports each bad row class with its position: no part number, no repair date, contradictory amount, bad country, offset-less date", function () {
    const payload = sample();
    const c = payload.claims[0];
    payload.claims.push(
      { ...c, claimId: "2", claimedParts: [{ partName: "no number" }] },
      { ...c, claimId: "3", repairDate: undefined },
      {
        ...c,
        claimId: "4",
        claimedParts: [{ partName: "p", partNumber: "P-1", amountOfReplacedParts: 2 }],
      },
      { ...c, claimId: "5", repairDate: "2022-02-04T10:00:00" },
    );
    const r = errs(parseBatch(claimsSchema, { format: "catenax", payload }));
    expect(r.map((e) => e.position)).to.deep.equal([
      "/claims/1/claimedParts/0/partNumber",
      "/claims/2/repairDate",
      "/claims/3/claimedParts/0/amountOfReplacedParts",
      "/claims/4/claimedParts/0/repairDate",
    ]);
    const bad = sample();
    bad.claims[0].countryCode = "Germany";
    expect(errs(parseBatch(claimsSchema, { format: "catenax", payload: bad }))).to.deep.equal([
      { position: "/claims/0/countryCode", reason: "is not a country code" },
    ]);
    const rows = errs(
      parseBatch(claimsSchema, {
        format: "json",
        rows: [
          row(),
          row({ replacedParts: -1 }),
          row({ isPartCausal: "yes" }),
          row({ repairDate: "04.02.2022" }),
        ],
      }),
    );
    expect(rows.map((e) => e.position)).to.deep.equal([
      "rows[1].replacedParts",
      "rows[2].isPartCausal",
      "rows[3].repairDate",
    ]);
  });
});
