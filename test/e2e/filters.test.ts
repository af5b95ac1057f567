/**
 * Filters at any size through the `partproof` CLI (issue 14): assets of the indicator schemas
 * (protocol/records/indicators.ts) answer "share of deliveries late by more than 2 days per plant
 * and quarter", "rework PPM among parts with at least 3 end-of-line tests" and "average PCF among
 * footprints with at least 50 % primary data" as one range proof each, on real gateways over
 * Hardhat's chain with the real range_d4 verifier. Every answer is compared with plain
 * TypeScript over the generated rows (dates and counts, not the indicator code); k still refuses
 * a filtered question over a window of fewer than k records, and over a window of k or more
 * records of which fewer than k are selected (the grant's cohort map); a grant whose field mask
 * lacks the indicator fields is refused (POLICY_VIOLATION).
 */
import { expect } from "chai";
import path from "node:path";
import { DemoRandom, type QualityRow } from "../../scripts/lib/demo-data.js";
import type { DeliveryRow, PcfRow } from "../../scripts/lib/demo-shapes.js";
import { startCliWorld, type CliWorld } from "./cli-world.js";

const PART = "GBX-3232455";
const K = 3;
const SITES = ["BPNS000000000AUT", "BPNS000000000BUT"];
const PLANT = "4711";
const GEAR = "BPNL00000000GEAR";
const QUARTERS = [
  { label: "2026-Q3", from: "2026-07-01", to: "2026-09-30" },
  { label: "2026-Q4", from: "2026-10-01", to: "2026-12-31" },
];

const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const within = (d: string, q: { from: string; to: string }) => d >= q.from && d <= q.to;

/**
 * Deliveries to two sites over two quarters (4 + 3 each: a depth-4 tree holds 14): lead times
 * 1–9 days (unknown for the last Q3 delivery of each site: 3 of 4 arrived, k = 3 exactly), due
 * dates 2–4 days after departure (one in eight none), and one delivery per site and quarter
 * exactly 2 days late (the boundary).
 */
function deliveryRows(rnd: DemoRandom): DeliveryRow[] {
  const rows: DeliveryRow[] = [];
  for (const plant of SITES) {
    for (const [q, n] of [
      [QUARTERS[0]!, 4],
      [QUARTERS[1]!, 3],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const departureDate = addDays(q.from, 5 + i * 17);
        const due = i === 0 ? 3 : rnd.int(2, 4);
        const lead = i === 0 ? due + 2 : q === QUARTERS[0] && i === 3 ? null : rnd.int(1, 9);
        rows.push({
          partNumber: PART,
          plant,
          departureDate,
          quantity: rnd.int(20, 300),
          leadTimeDays: lead,
          dueDate: i !== 0 && rnd.next() < 0.125 ? null : addDays(departureDate, due),
        });
      }
    }
  }
  return rows;
}

/** Late by more than 2 days, in dates: arrived after due + 2 days, or arrived with no due date. */
function lateTruth(rows: DeliveryRow[], plant: string, q: { from: string; to: string }) {
  const arrived = rows.filter(
    (d) => d.plant === plant && within(d.departureDate, q) && d.leadTimeDays !== null,
  );
  const late = arrived.filter(
    (d) => d.dueDate === null || addDays(d.departureDate, d.leadTimeDays!) > addDays(d.dueDate, 2),
  );
  return { arrived: BigInt(arrived.length), late: BigInt(late.length) };
}

/**
 * 12 parts in Q3 with 1–5 end-of-line tests; the first two have exactly 3 (one reworked), the
 * next three 1–2 (so parts 1–4, July 9–30, are 4 parts of which 1 is selected).
 */
function qualityRows(rnd: DemoRandom): QualityRow[] {
  return Array.from({ length: 12 }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: addDays("2026-07-02", i * 7),
    hasBeenReworked: i === 0 ? true : i === 1 ? false : rnd.next() < 0.4,
    numberOfConductedEndOfLineTests: i < 2 ? 3 : i < 5 ? rnd.int(1, 2) : rnd.int(1, 5),
  }));
}
/** July 9–30: parts 1–4 of {@link qualityRows}. */
const FEW_SELECTED = ["--from", "2026-07-09", "--to", "2026-07-30"];

/**
 * 8 footprints in Q3, µkg precision; shares 20–80 %, one exactly 50 %, one at 49.99 % and one
 * at 65 % (so at least k = 3 are selected with the random ones).
 */
function pcfRows(rnd: DemoRandom): PcfRow[] {
  return Array.from({ length: 8 }, (_, i) => ({
    partNumber: PART,
    plant: GEAR,
    referencePeriodEnd: addDays("2026-07-05", i * 10),
    pcfExcludingBiogenicUptake: rnd.int(8_000_000, 15_000_000) / 1_000_000,
    productMassPerDeclaredUnit: 1.25,
    primaryDataShare: i === 0 ? 50 : i === 1 ? 49.99 : i === 2 ? 65 : rnd.int(20, 80),
  }));
}

const µ = (x: number) => BigInt(Math.round(x * 1_000_000));

describe("e2e: filtered questions at any size (indicator schemas) through the CLI", function () {
  let world: CliWorld;
  let deliveries: DeliveryRow[];
  let quality: QualityRow[];
  let pcf: PcfRow[];
  const assets: Record<string, string> = {};
  const grants: Record<string, string> = {};
  const sums = ["--aggregates", "count,sum,avg,ratio"];
  const terms = ["--part", PART, "--k", String(K), "--quota", "20", "--valid-until", "30d"];

  before(async function () {
    world = await startCliWorld("FILTERS", 1);
    const rnd = new DemoRandom("filters-e2e");
    deliveries = deliveryRows(rnd);
    quality = qualityRows(rnd);
    pcf = pcfRows(rnd);
    const put = async (name: string, schema: string, rows: unknown[], fields: string) => {
      const r = await world.publish(0, schema, rows, [...sums, "--fields", fields, ...terms]);
      assets[name] = r.assetId;
      grants[name] = r.grantId;
    };
    await put("late", "delivery-late", deliveries, "quantity,leadTimeKnown,late2d,late5d");
    await put("eol3", "quality-eol3", quality, "quantity,reworked,eolTests3,reworkedEolTests3");
    await put("pcf", "pcf-primary50", pcf, "pcfPrimary50,primary50,footprints,pcfMicroKgCo2e");
    // a second grant on the same quality asset without the indicator fields
    const g = await world.cli(
      0,
      world.sessions[0]!,
      "supplier",
      "grant",
      assets.eol3!,
      world.automaker,
      ...sums,
      "--fields",
      "quantity,reworked",
      ...terms,
    );
    expect(g.code, g.err).to.equal(0);
    grants.eol3NoIndicator = String(g.json().grantId);
  });

  after(async function () {
    await world?.close();
  });

  const query = (grant: string, asset: string, metric: string, ...window: string[]) =>
    world.cli(
      "automaker",
      world.sessions[0]!,
      "automaker",
      "query",
      "--asset",
      asset,
      "--grant",
      grant,
      "--metric",
      metric,
      "--part",
      PART,
      ...window,
    );

  it("share of deliveries late by more than 2 days per plant and quarter: every point verified and equal to plain TypeScript", async function () {
    let lateSomewhere = 0n;
    for (const plant of SITES) {
      const r = await world.cli(
        "automaker",
        world.sessions[0]!,
        "automaker",
        "series",
        "--asset",
        assets.late!,
        "--grant",
        grants.late!,
        "--metric",
        "late-share-2d",
        "--by",
        "quarter",
        "--part",
        PART,
        "--plant",
        plant,
        "--from",
        QUARTERS[0]!.from,
        "--to",
        QUARTERS[1]!.to,
        "--csv",
        path.join(world.work, `late-${plant}.csv`),
        "--svg",
        path.join(world.work, `late-${plant}.svg`),
      );
      expect(r.code, r.err).to.equal(0);
      const points = r.json().points as any[];
      expect(points.map((p) => p.period.label)).to.deep.equal(["2026-Q3", "2026-Q4"]);
      for (const [i, q] of QUARTERS.entries()) {
        const t = lateTruth(deliveries, plant, q);
        expect(t.arrived >= BigInt(K), `${plant} ${q.label} has k arrivals`).to.equal(true);
        lateSomewhere += t.late;
        expect(points[i].value.num, `${plant} ${q.label}`).to.equal(
          String((1_000_000n * t.late) / t.arrived),
        );
        expect(points[i].failed).to.deep.equal([]);
        expect(Object.values(points[i].check).every(Boolean)).to.equal(true);
      }
    }
    expect(lateSomewhere > 0n).to.equal(true);
  });

  it("rework PPM among parts with at least 3 end-of-line tests, and their share, equal to plain TypeScript", async function () {
    const q3 = ["--plant", PLANT, "--from", QUARTERS[0]!.from, "--to", QUARTERS[0]!.to];
    const selected = quality.filter((q) => q.numberOfConductedEndOfLineTests >= 3);
    const reworked = selected.filter((q) => q.hasBeenReworked).length;
    expect(selected.length).to.be.within(K, quality.length - 1);
    const r = await query(grants.eol3!, assets.eol3!, "rework-ppm-eol3", ...q3);
    expect(r.code, r.err).to.equal(0);
    expect(r.json().job.answer.resultValue).to.equal(
      String(Math.floor((reworked * 1e6) / selected.length)),
    );
    expect(Object.values(r.json().check).every(Boolean)).to.equal(true);
    const share = await query(grants.eol3!, assets.eol3!, "eol3-share", ...q3);
    expect(share.code, share.err).to.equal(0);
    expect(share.json().job.answer.resultValue).to.equal(
      String(Math.floor((selected.length * 1e6) / quality.length)),
    );
  });

  it("average PCF among footprints with at least 50 % primary data, equal to plain TypeScript", async function () {
    const selected = pcf.filter((p) => µ(p.primaryDataShare) >= 50_000_000n);
    expect(selected.length).to.be.within(K, pcf.length - 1);
    const total = selected.reduce((s, p) => s + µ(p.pcfExcludingBiogenicUptake), 0n);
    const r = await query(
      grants.pcf!,
      assets.pcf!,
      "pcf-avg-primary50",
      "--plant",
      GEAR,
      "--from",
      QUARTERS[0]!.from,
      "--to",
      QUARTERS[0]!.to,
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.json().job.answer.resultValue).to.equal(
      String((1_000_000n * total) / BigInt(selected.length)),
    );
    expect(Object.values(r.json().check).every(Boolean)).to.equal(true);
  });

  it("refuses a filtered question over a window of fewer than k records", async function () {
    const first = deliveries[0]!.departureDate;
    const r = await query(
      grants.late!,
      assets.late!,
      "late-share-2d",
      "--plant",
      SITES[0]!,
      "--from",
      first,
      "--to",
      addDays(first, 20),
    );
    expect(
      deliveries.filter(
        (d) =>
          d.plant === SITES[0] && d.departureDate >= first && d.departureDate <= addDays(first, 20),
      ),
    ).to.have.length.below(K);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/COHORT_BELOW_K/);
  });

  it("refuses a filtered question over >= k records of which fewer than k are selected, in the same words", async function () {
    // July 9–30: 4 parts (>= k), 1 with >= 3 end-of-line tests
    const window = quality.filter(
      (q) => q.productionDate >= "2026-07-09" && q.productionDate <= "2026-07-30",
    );
    expect(window).to.have.length.at.least(K);
    expect(window.filter((q) => q.numberOfConductedEndOfLineTests >= 3)).to.have.length.below(K);
    const filtered = await query(
      grants.eol3!,
      assets.eol3!,
      "rework-ppm-eol3",
      "--plant",
      PLANT,
      ...FEW_SELECTED,
    );
    expect(filtered.code).to.equal(2);
    expect(filtered.err).to.match(/COHORT_BELOW_K/);
    // the range's k refusal of a window of fewer than k parts says the same
    const short = await query(
      grants.eol3!,
      assets.eol3!,
      "rework-ppm",
      "--plant",
      PLANT,
      "--from",
      "2026-07-09",
      "--to",
      "2026-07-16",
    );
    expect(short.code).to.equal(2);
    const reason = (err: string) => /COHORT_BELOW_K[^\n]*/.exec(err)?.[0];
    expect(reason(filtered.err)).to.equal(reason(short.err)).and.to.not.equal(undefined);
    // the unfiltered question over the same window is answered: its cohort is the range
    const plain = await query(
      grants.eol3!,
      assets.eol3!,
      "rework-ppm",
      "--plant",
      PLANT,
      ...FEW_SELECTED,
    );
    expect(plain.code, plain.err).to.equal(0);
    const reworked = window.filter((q) => q.hasBeenReworked).length;
    expect(plain.json().job.answer.resultValue).to.equal(
      String(Math.floor((reworked * 1e6) / window.length)),
    );
  });

  it("refuses a filtered question under a grant whose policy lacks the indicator fields (POLICY_VIOLATION)", async function () {
    const r = await query(
      grants.eol3NoIndicator!,
      assets.eol3!,
      "rework-ppm-eol3",
      "--plant",
      PLANT,
    );
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/POLICY_VIOLATION/);
    // the same grant answers the unfiltered question over the same asset
    const plain = await query(
      grants.eol3NoIndicator!,
      assets.eol3!,
      "rework-ppm",
      "--plant",
      PLANT,
    );
    expect(plain.code, plain.err).to.equal(0);
    const reworked = quality.filter((q) => q.hasBeenReworked).length;
    expect(plain.json().job.answer.resultValue).to.equal(
      String(Math.floor((reworked * 1e6) / quality.length)),
    );
  });
});
