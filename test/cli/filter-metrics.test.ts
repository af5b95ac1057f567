import { expect } from "chai";
import type { JobView } from "../../protocol/api.js";
import {
  decimalOf,
  describeMetric,
  FILTERS_NOTE,
  METRICS,
  metricFits,
  metricOf,
  pooledQuestions,
  pooledValue,
  valueOfAnswer,
} from "../../cli/metrics.js";
import { policyOf } from "../../cli/policy.js";
import { AggregateKind, answerCohort } from "../../circuits/lib/signals.js";
import { cohortFieldIndexes, findSchema, type DataSchema } from "../../protocol/records/index.js";

const answered = (resultValue: bigint) =>
  ({
    jobId: "j",
    answer: { resultValue: String(resultValue), resultAux: "0" },
  }) as unknown as JobView;
const schema = (name: string) => findSchema(name) as DataSchema;

describe("filtered metrics (indicator fields)", function () {
  it("reads every preset's fields from its schema, by name", function () {
    for (const m of METRICS) {
      const s = schema(m.schema);
      for (const f of [m.fieldA, m.fieldB, ...pooledQuestions(m)]) {
        if (f !== undefined) expect(s.fields, `${m.name} ${f}`).to.include(f);
      }
      expect(metricFits(m, schema(`${m.schema}-by-day`)), m.name).to.equal(true);
    }
  });

  it("fits a base metric to an indicator schema that has its fields, and no filtered metric to a base schema", function () {
    expect(metricFits(metricOf("rework-ppm"), schema("quality-eol3"))).to.equal(true);
    expect(metricFits(metricOf("delivered-qty"), schema("delivery-late-by-day"))).to.equal(true);
    expect(metricFits(metricOf("pcf-avg"), schema("pcf-primary50"))).to.equal(true);
    expect(metricFits(metricOf("lead-time"), schema("delivery-late"))).to.equal(false);
    expect(metricFits(metricOf("rework-ppm-eol3"), schema("quality"))).to.equal(false);
    expect(metricFits(metricOf("late-share-2d"), schema("delivery"))).to.equal(false);
    expect(metricFits(metricOf("late-share-2d"), schema("quality-eol3"))).to.equal(false);
  });

  it("says a filtered answer in words and units, exactly", function () {
    const late = metricOf("late-share-2d");
    // 10^6 · 3 / 8 = 375000 → 37.50 %
    expect(describeMetric(late, valueOfAnswer(late, answered(375_000n)))).to.equal(
      "share of arrived deliveries late by more than 2 days (after the due date, or without one): 37.50 %",
    );
    const pcf = metricOf("pcf-avg-primary50");
    // 10^6 · (12.5 + 10.25) kg in µkg / 2 footprints = 11.375 kg in 10^-12 kg
    const q = (1_000_000n * (12_500_000n + 10_250_000n)) / 2n;
    expect(describeMetric(pcf, valueOfAnswer(pcf, answered(q)))).to.equal(
      "average PCF per part among footprints with at least 50 % primary data: 11.375 kg CO2e per part",
    );
  });

  it("pools a filtered ratio as Σ numerators / Σ indicators, also at a scale above 10^6", function () {
    const pcf = metricOf("pcf-avg-primary50");
    const v = pooledValue(pcf, [
      { sums: { pcfPrimary50: 12_500_000n, primary50: 1n }, count: 4n },
      { sums: { pcfPrimary50: 30_000_000n, primary50: 3n }, count: 3n },
    ]);
    expect(decimalOf(v.num, v.den, 3)).to.equal("10.625");
    const ppm = metricOf("rework-ppm-eol3");
    const p = pooledValue(ppm, [
      { sums: { reworkedEolTests3: 1n, eolTests3: 4n }, count: 10n },
      { sums: { reworkedEolTests3: 0n, eolTests3: 4n }, count: 9n },
    ]);
    expect(decimalOf(p.num, p.den, 0)).to.equal("125000");
  });

  it("bounds every filtered preset by the records its denominator counts, in the grant the CLI makes", function () {
    const bounded: string[] = [];
    for (const m of METRICS) {
      const s = schema(m.schema);
      const [a, b] = [s.fields.indexOf(m.fieldA), s.fields.indexOf(m.fieldB ?? "")];
      const map = cohortFieldIndexes(s);
      if (map[a] === null && (b < 0 || map[b] === null)) continue;
      bounded.push(m.name);
      // the numerator is defined over the records the denominator counts
      expect(map[a], m.name).to.equal(b);
      const policy = policyOf(s, {
        aggregates: ["ratio", "sum"],
        fields: [...s.fields],
        partNumber: "P-1",
        minCohort: 3,
      });
      // 10 records in range, 2 selected (the denominator's sum): the answer's cohort is 2
      const sums = [5n, 5n, 5n, 5n];
      sums[b] = 2n;
      const ratio = { kind: AggregateKind.RatioPpm, fieldA: a, fieldB: b };
      expect(answerCohort(policy, ratio, 10n, sums), m.name).to.equal(2n);
      // and the sums a pooled (several suppliers') answer asks are bounded alike
      const sum = { kind: AggregateKind.Sum, fieldA: a, fieldB: 0 };
      expect(answerCohort(policy, sum, 10n, sums), m.name).to.equal(2n);
    }
    expect(bounded).to.deep.equal([
      "lead-time",
      "on-time-share",
      "rework-ppm-eol3",
      "late-share-2d",
      "late-share-5d",
      "pcf-avg-primary50",
    ]);
  });

  it("states the scan window's limit next to the filtered presets", function () {
    expect(FILTERS_NOTE).to.match(/rework-ppm-eol3, eol3-share, late-share-2d/);
    expect(FILTERS_NOTE).to.match(/at most 15 consecutive records/);
  });
});
