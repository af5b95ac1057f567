import { expect } from "chai";
import type { JobView } from "../../protocol/api.js";
import { UserError } from "../../cli/errors.js";
import {
  decimalOf,
  describeMetric,
  metricOf,
  pooledQuestions,
  pooledValue,
  valueOfAnswer,
} from "../../cli/metrics.js";
import {
  periodsOf,
  seriesCsv,
  seriesSvg,
  seriesTable,
  type SeriesPoint,
} from "../../cli/series.js";
import { escapeXml, lineChartSvg, niceMax } from "../../cli/svg-chart.js";

/** A job as the gateway returns it, with only what the metrics read. */
const answered = (resultValue: bigint, resultAux: bigint) =>
  ({
    jobId: "j",
    answer: { resultValue: String(resultValue), resultAux: String(resultAux) },
  }) as unknown as JobView;

describe("periodsOf", function () {
  it("cuts a window into calendar months, clipping the first and last", function () {
    expect(periodsOf("month", "2026-04-15", "2026-06-03")).to.deep.equal([
      { label: "2026-04", from: "2026-04-15", to: "2026-04-30" },
      { label: "2026-05", from: "2026-05-01", to: "2026-05-31" },
      { label: "2026-06", from: "2026-06-01", to: "2026-06-03" },
    ]);
  });
  it("cuts a window into quarters across a year end", function () {
    expect(periodsOf("quarter", "2026-08-01", "2027-03-31").map((p) => p.label)).to.deep.equal([
      "2026-Q3",
      "2026-Q4",
      "2027-Q1",
    ]);
    expect(periodsOf("quarter", "2026-08-01", "2027-03-31")[0]).to.deep.equal({
      label: "2026-Q3",
      from: "2026-08-01",
      to: "2026-09-30",
    });
  });
  it("refuses a reversed window, a bad date and more than 36 periods", function () {
    expect(() => periodsOf("month", "2026-05-01", "2026-04-01")).to.throw(UserError, "after");
    expect(() => periodsOf("month", "2026-02-30", "2026-04-01")).to.throw(UserError, "calendar");
    expect(() => periodsOf("month", "2020-01-01", "2026-01-01")).to.throw(UserError, "at most 36");
  });
});

describe("metrics", function () {
  it("says a one-supplier answer in its unit: PPM, days, percent, kg CO2e per part", function () {
    expect(
      describeMetric(
        metricOf("rework-ppm"),
        valueOfAnswer(metricOf("rework-ppm"), answered(12_345n, 0n)),
      ),
    ).to.equal("rework rate: 12345 PPM");
    const lead = metricOf("lead-time");
    expect(describeMetric(lead, valueOfAnswer(lead, answered(4_256_789n, 0n)))).to.equal(
      "average lead time (deliveries with a known arrival): 4.25 days",
    );
    const share = metricOf("on-time-share");
    expect(describeMetric(share, valueOfAnswer(share, answered(666_666n, 0n)))).to.match(
      /: 66\.66 %$/,
    );
    const pcf = metricOf("pcf-avg");
    // Σ 30.5 kg over 4 parts = 7.625 kg per part
    expect(describeMetric(pcf, valueOfAnswer(pcf, answered(30_500_000n, 4n)))).to.equal(
      "average PCF per part (excluding biogenic uptake): 7.625 kg CO2e per part over 4 records",
    );
    const qty = metricOf("delivered-qty");
    expect(describeMetric(qty, valueOfAnswer(qty, answered(1234n, 7n)))).to.equal(
      "delivered quantity: 1234 pieces over 7 records",
    );
    expect(() => metricOf("speed")).to.throw(UserError, /rework-ppm, lead-time/);
  });

  it("pools suppliers' sums: a pooled ratio is Σ numerators / Σ denominators, not a mean of ratios", function () {
    const lead = metricOf("lead-time");
    expect(pooledQuestions(lead)).to.deep.equal(["leadTimeDays", "leadTimeKnown"]);
    const v = pooledValue(lead, [
      { sums: { leadTimeDays: 10n, leadTimeKnown: 2n }, count: 3n },
      { sums: { leadTimeDays: 30n, leadTimeKnown: 10n }, count: 12n },
    ]);
    // (10 + 30) / (2 + 10) = 3.333 days; the mean of 5 and 3 would be 4
    expect(decimalOf(v.num, v.den, 3)).to.equal("3.333");
    expect(v.records).to.equal(15n);
    const ppm = metricOf("rework-ppm");
    expect(pooledQuestions(ppm)).to.deep.equal(["reworked"]); // the count is the denominator
    const p = pooledValue(ppm, [
      { sums: { reworked: 1n }, count: 100n },
      { sums: { reworked: 3n }, count: 300n },
    ]);
    expect(decimalOf(p.num, p.den, 0)).to.equal("10000");
    const total = pooledValue(metricOf("carbon-total"), [
      { sums: { pcfMicroKgCo2e: 1_500_000n }, count: 1n },
      { sums: { pcfMicroKgCo2e: 2_250_001n }, count: 2n },
    ]);
    expect(decimalOf(total.num, total.den, 3)).to.equal("3.750");
  });

  it("writes n/a for a zero denominator", function () {
    expect(decimalOf(5n, 0n, 2)).to.equal("n/a");
    expect(decimalOf(5n, 1000n, 2)).to.equal("0.00");
  });
});

describe("series output", function () {
  const metric = metricOf("rework-ppm");
  const points: SeriesPoint[] = [
    {
      period: { label: "2026-07", from: "2026-07-01", to: "2026-07-31" },
      jobId: "a",
      value: { num: 12_000n, den: 1n },
      failed: [],
    },
    {
      period: { label: "2026-08", from: "2026-08-01", to: "2026-08-31" },
      refused: { code: "COHORT_BELOW_K", reason: "fewer than k" },
      failed: [],
    },
    {
      period: { label: "2026-09", from: "2026-09-01", to: "2026-09-30" },
      jobId: "c",
      value: { num: 9_000n, den: 1n },
      failed: ["rootRegistered"],
    },
  ];

  it("writes one CSV line per period with value, status and job", function () {
    expect(seriesCsv(metric, points).split("\n")).to.deep.equal([
      "period,from,to,metric,value,unit,records,status,jobId",
      "2026-07,2026-07-01,2026-07-31,rework-ppm,12000,PPM,,verified,a",
      "2026-08,2026-08-01,2026-08-31,rework-ppm,,PPM,,refused:COHORT_BELOW_K,",
      "2026-09,2026-09-01,2026-09-30,rework-ppm,9000,PPM,,failed:rootRegistered,c",
      "",
    ]);
  });

  it("prints a table that names refusals and failed checks", function () {
    const t = seriesTable(metric, points);
    expect(t[1]).to.match(/^2026-07 .*12000 PPM.*verified$/);
    expect(t[2]).to.match(/refused \(COHORT_BELOW_K\)/);
    expect(t[3]).to.match(/FAILED: rootRegistered$/);
  });

  it("charts only verified points; a refused or failed period is a gap with its reason", function () {
    const svg = seriesSvg(metric, "rework <GBX>", points);
    expect(svg.match(/<circle /g)).to.have.length(1);
    expect(svg).to.include("rework &#60;GBX&#62;");
    expect(svg).to.include("refused: &#60; k");
    expect(svg).to.include(">failed<");
  });

  it("scales the axis to a nice bound and escapes every label", function () {
    expect([niceMax(0), niceMax(7), niceMax(12_000), niceMax(2.4)]).to.deep.equal([
      1, 10, 20_000, 2.5,
    ]);
    expect(escapeXml(`a"<&>'`)).to.equal("a&#34;&#60;&#38;&#62;&#39;");
    const svg = lineChartSvg({
      title: "t",
      unit: "u",
      points: [
        { label: "a", value: 1 },
        { label: "b", value: 3 },
      ],
    });
    expect(svg.match(/<polyline [^>]*points="([^"]+)"/)![1]!.split(" ")).to.have.length(2);
  });
});
