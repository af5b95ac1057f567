/**
 * The questions automakers ask, through the `partproof` CLI, against three real gateways (one
 * per supplier, port 0, LevelDB in temp folders) on Hardhat's in-process chain with the real
 * range_d4 verifier: a monthly rework-PPM series (CSV and SVG written, every point verified),
 * two delivery metrics (average lead time, on-time share), two PCF metrics (average PCF per
 * part, total carbon), a three-supplier delivered-quantity total and every plant × a quarter
 * (a day-ordered asset of the same records). Every answer is compared
 * with plain TypeScript over the same generated records, and k still refuses per shape: a
 * month below k is a refused point, a one-day delivery window is refused, and a supplier whose
 * grant has a higher k refuses the pooled question.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Session } from "../../cli/session.js";
import { DemoRandom } from "../../scripts/lib/demo-data.js";
import { startCliWorld, type CliWorld } from "./cli-world.js";

const PART = "GBX-3232455";
const K = 3;
/** The automaker's receiving plant (deliveries' destination) and the suppliers' quality plant. */
const SITE = "BPNS000000000AUT";
const PLANT = "4711";
const Q3 = ["--from", "2026-07-01", "--to", "2026-09-30"];

interface QualityRow {
  partNumber: string;
  plant: string;
  productionDate: string;
  hasBeenReworked: boolean;
  numberOfConductedEndOfLineTests: number;
}
interface DeliveryRow {
  partNumber: string;
  plant: string;
  departureDate: string;
  quantity: number;
  leadTimeDays: number | null;
  dueDate: string | null;
}
interface PcfRow {
  partNumber: string;
  plant: string;
  referencePeriodEnd: string;
  pcfExcludingBiogenicUptake: number;
  productMassPerDeclaredUnit: number;
  primaryDataShare: number;
}

const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** Quality: July 6 parts, August 5, September 2 (below k = 3), then one of another plant. */
function qualityRows(rnd: DemoRandom): QualityRow[] {
  const rows: QualityRow[] = [];
  const month = (first: string, n: number) => {
    for (let i = 0; i < n; i++) {
      rows.push({
        partNumber: PART,
        plant: PLANT,
        productionDate: addDays(first, i * 3),
        hasBeenReworked: rnd.next() < 0.35,
        numberOfConductedEndOfLineTests: rnd.int(1, 4),
      });
    }
  };
  month("2026-07-02", 6);
  month("2026-08-01", 5);
  month("2026-09-10", 2);
  rows.push({ ...rows[0]!, plant: "4712" });
  return rows;
}

/** Deliveries in Q3 to the automaker's site: lead times (some unknown) and due dates (some none). */
function deliveryRows(rnd: DemoRandom, n: number): DeliveryRow[] {
  return Array.from({ length: n }, (_, i) => {
    const departureDate = addDays("2026-07-03", i * 9);
    const lead = rnd.next() < 0.2 ? null : rnd.int(1, 9);
    const due = rnd.next() < 0.15 ? null : addDays(departureDate, rnd.int(3, 7));
    return {
      partNumber: PART,
      plant: SITE,
      departureDate,
      quantity: rnd.int(50, 400),
      leadTimeDays: lead,
      dueDate: due,
    };
  });
}

/** Footprints of the part, one per two weeks of Q3, µkg precision. */
function pcfRows(rnd: DemoRandom): PcfRow[] {
  return Array.from({ length: 6 }, (_, i) => ({
    partNumber: PART,
    plant: "BPNL00000000GEAR",
    referencePeriodEnd: addDays("2026-07-05", i * 14),
    pcfExcludingBiogenicUptake: rnd.int(8_000_000, 15_000_000) / 1_000_000,
    productMassPerDeclaredUnit: 1.25,
    primaryDataShare: rnd.int(10, 90),
  }));
}

const inQ3 = (d: string) => d >= "2026-07-01" && d <= "2026-09-30";
const µ = (x: number) => BigInt(Math.round(x * 1_000_000));
describe("e2e: the shapes of automakers' questions through the CLI", function () {
  let world: CliWorld;
  let sessions: Session[];
  let gws: CliWorld["gateways"];
  let work: string;
  let quality: QualityRow[];
  let deliveries: DeliveryRow[][];
  let pcf: PcfRow[];
  const assets: Record<string, string> = {};
  const grants: Record<string, string> = {};

  const cli = (who: "automaker" | number, session: Session, ...argv: string[]) =>
    world.cli(who, session, ...argv);

  /** Registers an asset at supplier `i`'s gateway, uploads rows, grants the automaker. */
  async function publish(
    i: number,
    name: string,
    schema: string,
    rows: unknown[],
    policy: string[],
    k = K,
  ) {
    const r = await world.publish(i, schema, rows, [
      ...policy,
      "--part",
      PART,
      "--k",
      String(k),
      "--quota",
      "20",
      "--valid-until",
      "30d",
    ]);
    assets[name] = r.assetId;
    grants[name] = r.grantId;
  }

  before(async function () {
    world = await startCliWorld("SHAPES", 3);
    ({ sessions, gateways: gws, work } = world);
    const rnd = new DemoRandom("shapes-e2e");
    quality = qualityRows(rnd);
    deliveries = [deliveryRows(rnd, 10), deliveryRows(rnd, 6), deliveryRows(rnd, 7)];
    pcf = pcfRows(rnd);
    const sums = ["--aggregates", "count,sum,avg,ratio"];
    await publish(0, "quality", "quality", quality, [...sums, "--fields", "quantity,reworked"]);
    await publish(0, "pcf", "pcf", pcf, [...sums, "--fields", "footprints,pcfMicroKgCo2e"]);
    // the same quality records keyed part, day, plant: every plant × a window is one range
    await publish(0, "qualityByDay", "quality-by-day", quality, [
      ...sums,
      "--fields",
      "quantity,reworked",
    ]);
    const delFields = ["--fields", "quantity,leadTimeKnown,onTime,leadTimeDays"];
    await publish(0, "delivery0", "delivery", deliveries[0]!, [...sums, ...delFields]);
    await publish(1, "delivery1", "delivery", deliveries[1]!, [...sums, ...delFields]);
    await publish(2, "delivery2", "delivery", deliveries[2]!, [...sums, ...delFields]);
    // a second grant of supplier 2 with a k above its cohort: the pooled question is refused
    const g = await cli(
      2,
      sessions[2]!,
      "supplier",
      "grant",
      assets.delivery2!,
      world.automaker,
      ...sums,
      ...delFields,
      "--part",
      PART,
      "--k",
      "50",
    );
    expect(g.code, g.err).to.equal(0);
    grants.delivery2HighK = String(g.json().grantId);
  });

  after(async function () {
    await world?.close();
  });

  it("a monthly rework-PPM series: one verified proof per month, the month below k refused, CSV and SVG written", async function () {
    const csv = path.join(work, "series.csv");
    const svg = path.join(work, "series.svg");
    const r = await cli(
      "automaker",
      sessions[0]!,
      "automaker",
      "series",
      "--asset",
      assets.quality!,
      "--grant",
      grants.quality!,
      "--metric",
      "rework-ppm",
      "--by",
      "month",
      "--part",
      PART,
      "--plant",
      PLANT,
      ...Q3,
      "--csv",
      csv,
      "--svg",
      svg,
    );
    expect(r.code, r.err).to.equal(0);
    const points = r.json().points as any[];
    expect(points.map((p) => p.period.label)).to.deep.equal(["2026-07", "2026-08", "2026-09"]);
    for (const [i, month] of ["2026-07", "2026-08"].entries()) {
      const sel = quality.filter((q) => q.plant === PLANT && q.productionDate.startsWith(month));
      const reworked = sel.filter((q) => q.hasBeenReworked).length;
      expect(points[i].value.num, month).to.equal(
        String(Math.floor((reworked * 1e6) / sel.length)),
      );
      expect(points[i].failed).to.deep.equal([]);
      expect(Object.values(points[i].check).every(Boolean)).to.equal(true);
    }
    expect(points[2].refused.code).to.equal("COHORT_BELOW_K");
    expect(points[2].value).to.equal(undefined);
    const lines = (await readFile(csv, "utf8")).trim().split("\n");
    expect(lines).to.have.length(4);
    expect(lines[3]).to.match(
      /^2026-09,2026-09-01,2026-09-30,rework-ppm,,PPM,,refused:COHORT_BELOW_K,$/,
    );
    expect(lines[1]).to.include(`,${points[0].value.num},PPM,,verified,${points[0].jobId}`);
    const chart = await readFile(svg, "utf8");
    expect(chart).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(chart.match(/<circle /g)).to.have.length(2);
    expect(chart).to.include("refused: &#60; k");
  });

  /** What the delivery metrics should be over supplier 0's Q3 deliveries. */
  function deliveryTruth(rows: DeliveryRow[]) {
    const sel = rows.filter((d) => d.plant === SITE && inQ3(d.departureDate));
    const arrived = sel.filter((d) => d.leadTimeDays !== null);
    const lead = arrived.reduce((s, d) => s + BigInt(d.leadTimeDays!), 0n);
    const onTime = arrived.filter(
      (d) => d.dueDate !== null && addDays(d.departureDate, d.leadTimeDays!) <= d.dueDate,
    ).length;
    const qty = sel.reduce((s, d) => s + BigInt(d.quantity), 0n);
    return {
      arrived: BigInt(arrived.length),
      lead,
      onTime: BigInt(onTime),
      qty,
      count: sel.length,
    };
  }

  const metricQuery = (i: number, name: string, metric: string, ...window: string[]) =>
    cli(
      "automaker",
      sessions[i]!,
      "automaker",
      "query",
      "--asset",
      assets[name]!,
      "--grant",
      grants[name]!,
      "--metric",
      metric,
      "--part",
      PART,
      ...window,
    );

  it("delivery metrics: average lead time and on-time share over a quarter, in days and percent", async function () {
    const t = deliveryTruth(deliveries[0]!);
    expect(t.arrived > 0n && t.onTime > 0n && t.onTime < t.arrived).to.equal(true);
    const lead = await metricQuery(0, "delivery0", "lead-time", "--plant", SITE, ...Q3);
    expect(lead.code, lead.err).to.equal(0);
    expect(lead.json().job.answer.resultValue).to.equal(String((1_000_000n * t.lead) / t.arrived));
    expect(Object.values(lead.json().check).every(Boolean)).to.equal(true);
    const share = await metricQuery(0, "delivery0", "on-time-share", "--plant", SITE, ...Q3);
    expect(share.code, share.err).to.equal(0);
    expect(share.json().job.answer.resultValue).to.equal(
      String((1_000_000n * t.onTime) / t.arrived),
    );
    // verified again later, from the question this machine signed
    const words = await cli(
      "automaker",
      sessions[0]!,
      "automaker",
      "verify",
      lead.json().job.jobId,
    );
    expect(words.code, words.err).to.equal(0);
  });

  it("refuses a delivery metric over a window below k", async function () {
    const first = deliveries[0]![0]!.departureDate;
    const r = await metricQuery(
      0,
      "delivery0",
      "lead-time",
      "--plant",
      SITE,
      "--from",
      first,
      "--to",
      first,
    );
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/COHORT_BELOW_K/);
  });

  it("PCF metrics: average PCF per part and total carbon over a quarter, in kg CO2e", async function () {
    const sel = pcf.filter((p) => inQ3(p.referencePeriodEnd));
    const total = sel.reduce((s, p) => s + µ(p.pcfExcludingBiogenicUptake), 0n);
    const window = ["--plant", "BPNL00000000GEAR", ...Q3];
    const avg = await metricQuery(0, "pcf", "pcf-avg", ...window);
    expect(avg.code, avg.err).to.equal(0);
    expect(avg.json().job.answer).to.deep.include({
      resultValue: String(total),
      resultAux: String(sel.length),
    });
    const sum = await metricQuery(0, "pcf", "carbon-total", ...window);
    expect(sum.code, sum.err).to.equal(0);
    expect(sum.json().job.answer.resultValue).to.equal(String(total));
  });

  it("every plant × a quarter in one proof (the day-ordered asset), equal to plain TypeScript", async function () {
    const sel = quality.filter((q) => inQ3(q.productionDate));
    expect(new Set(sel.map((q) => q.plant)).size).to.equal(2);
    const reworked = sel.filter((q) => q.hasBeenReworked).length;
    const r = await metricQuery(0, "qualityByDay", "rework-ppm", ...Q3);
    expect(r.code, r.err).to.equal(0);
    expect(r.json().job.answer.resultValue).to.equal(
      String(Math.floor((reworked * 1e6) / sel.length)),
    );
    expect(Object.values(r.json().check).every(Boolean)).to.equal(true);
  });

  it("refuses a plant on the day-ordered asset, and a window below k", async function () {
    const plant = await metricQuery(0, "qualityByDay", "rework-ppm", "--plant", PLANT, ...Q3);
    expect(plant.code).to.equal(2);
    expect(plant.err).to.match(/answers every plant at once/);
    const day = quality[0]!.productionDate;
    const small = await metricQuery(0, "qualityByDay", "rework-ppm", "--from", day, "--to", day);
    expect(small.code).to.equal(2);
    expect(small.err).to.match(/COHORT_BELOW_K/);
  });

  /** The delivered quantity of PART to SITE in Q3, pooled under these grants. */
  const pooledQuantity = (...grantIds: string[]) =>
    cli(
      "automaker",
      sessions[0]!,
      "automaker",
      "query",
      "--metric",
      "delivered-qty",
      "--suppliers",
      grantIds.join(","),
      "--part",
      PART,
      "--plant",
      SITE,
      ...Q3,
    );

  it("three suppliers, one number: the delivered quantity pooled over three gateways, every proof verified", async function () {
    const truths = deliveries.map(deliveryTruth);
    const r = await pooledQuantity(grants.delivery0!, grants.delivery1!, grants.delivery2!);
    expect(r.code, r.err).to.equal(0);
    const j = r.json();
    const qty = truths.reduce((s, t) => s + t.qty, 0n);
    expect(j.value).to.equal(String(qty));
    expect(j.records).to.equal(String(truths.reduce((s, t) => s + t.count, 0)));
    expect(j.suppliers.map((s: any) => s.gateway)).to.deep.equal(gws.map((g) => g.url));
    expect(j.suppliers.map((s: any) => s.sums.quantity)).to.deep.equal(
      truths.map((t) => String(t.qty)),
    );
    for (const s of j.suppliers) {
      expect(Object.values(s.checks.quantity).every(Boolean)).to.equal(true);
    }
  });

  it("refuses the pooled question when one supplier's cohort is below its own k, naming it", async function () {
    const r = await pooledQuantity(grants.delivery2HighK!, grants.delivery0!);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(new RegExp(`grant ${grants.delivery2HighK} .*COHORT_BELOW_K`));
  });
});
