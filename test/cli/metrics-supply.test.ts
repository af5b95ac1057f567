import { expect } from "chai";
import {
  formatSupply,
  partFits,
  SUPPLY_METRICS,
  supplyMetricOf,
} from "../../cli/metrics-supply.js";
import { findSchema } from "../../protocol/records/index.js";

const answers = (v: Record<string, bigint>) =>
  Object.fromEntries(Object.entries(v).map(([k, value]) => [k, { value, aux: 0n }]));

describe("supply-chain questions (cli/metrics-supply)", function () {
  it("reads every part's fields from its schema (names exist, the aggregate fits)", function () {
    for (const m of SUPPLY_METRICS) {
      for (const p of m.parts) {
        const schema = findSchema(p.schema)!;
        expect(schema, `${m.name}.${p.name}`).to.not.equal(undefined);
        for (const f of [p.fieldA, p.fieldB].filter((x) => x !== undefined)) {
          expect(schema.fields, `${m.name}.${p.name}`).to.include(f);
        }
        expect(p.aggregate === "ratio").to.equal(p.fieldB !== undefined);
        expect(partFits(p, findSchema(`${p.schema}-by-day`)!)).to.equal(true);
        expect(partFits(p, findSchema(p.schema === "quality" ? "pcf" : "quality")!)).to.equal(
          false,
        );
      }
    }
  });

  it("stock coverage: stock ÷ (demand ÷ weeks), exact, shown with the proven numbers", function () {
    const m = supplyMetricOf("stock-coverage");
    // 1,200 pieces; 5,600 pieces over 8 weeks = 700 a week → 1.71 weeks (rounded down)
    const v = m.value(answers({ stock: 1_200n, demand: 5_600n }), 56);
    expect(v.num * 7n * 5_600n).to.equal(1_200n * 56n * v.den);
    expect(formatSupply(m, v)).to.equal("1.71");
    expect(v.shown).to.equal("1200 pieces ÷ (5600 pieces ÷ 8.00 weeks)");
    expect(formatSupply(m, m.value(answers({ stock: 5n, demand: 0n }), 7))).to.equal("n/a");
  });

  it("replaced PPM: 10^6 × replaced ÷ delivered; shares: the ratio's PPM as %", function () {
    const ppm = supplyMetricOf("replaced-ppm");
    expect(formatSupply(ppm, ppm.value(answers({ claims: 7n, delivery: 41_000n }), 1))).to.equal(
      "170",
    );
    const share = supplyMetricOf("causal-share");
    expect(formatSupply(share, share.value(answers({ claims: 333_333n }), 1))).to.equal("33.33");
    const cap = supplyMetricOf("capacity-share");
    expect(formatSupply(cap, cap.value(answers({ capacity: 818_181n }), 1))).to.equal("81.81");
    expect(supplyMetricOf("claims-per-month").by).to.equal("month");
  });

  it("names the known questions when one is unknown", function () {
    expect(() => supplyMetricOf("stock-days")).to.throw(
      /unknown question "stock-days" \(stock-coverage, capacity-share, claims-per-month/,
    );
  });
});
