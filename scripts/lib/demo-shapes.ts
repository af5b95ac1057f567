/**
 * The demo's "questions automakers ask" act (scripts/demo.ts): a six-month rework-PPM series
 * whose CSV and SVG chart are left next to the auditor's report, delivery and carbon metrics in
 * plain words, two filtered questions (late by more than 2 days, rework among parts with at least
 * 3 end-of-line tests) over indicator schemas, and a delivered quantity pooled over both
 * suppliers' gateways. Also the reproducible delivery and PCF data it publishes (flat rows, the
 * shape the schemas read).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Signer } from "ethers";
import * as automakerCli from "../../cli/automaker.js";
import { describeMetric, metricOf, valueOfAnswer } from "../../cli/metrics.js";
import { askPooled, resolveSuppliers } from "../../cli/multi-supplier.js";
import { policyOf, schemaOf } from "../../cli/policy.js";
import { periodsOf, runSeries, seriesCsv, seriesSvg, seriesTable } from "../../cli/series.js";
import type { Session } from "../../cli/session.js";
import * as supplierCli from "../../cli/supplier.js";
import { DemoRandom, type DemoSupplier, type QualityRow } from "./demo-data.js";
import { DEMO_CHECK_LEAVES } from "./sandbox.js";

/** The automaker's receiving site: every delivery goes there. */
export const AUTOMAKER_SITE = "BPNS00000000AUTO";

/** A flat delivery row (protocol/records/delivery.ts). */
export interface DeliveryRow {
  partNumber: string;
  plant: string;
  departureDate: string;
  quantity: number;
  leadTimeDays: number | null;
  dueDate: string | null;
}

/** A flat PCF row (protocol/records/pcf.ts): the footprint of one part. */
export interface PcfRow {
  partNumber: string;
  plant: string;
  referencePeriodEnd: string;
  pcfExcludingBiogenicUptake: number;
  productMassPerDeclaredUnit: number;
  primaryDataShare: number;
}

const isoPlus = (from: string, days: number) =>
  new Date(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * One delivery of every part every `everyDays` days to the automaker's site, for `days` days:
 * lead times of 2–9 days (one in ten still in transit), a due date five days after departure
 * (one in eight without), quantities of 100–400 pieces.
 */
export function generateDeliveries(
  supplier: DemoSupplier,
  opts: { from: string; days: number; everyDays: number; max: number },
): DeliveryRow[] {
  const rnd = new DemoRandom(`partproof-demo-delivery:${supplier.bpnl}`);
  const rows: DeliveryRow[] = [];
  for (let d = 0; d < opts.days; d += opts.everyDays) {
    for (const part of supplier.parts) {
      if (rows.length >= opts.max) return rows;
      const departureDate = isoPlus(opts.from, d);
      rows.push({
        partNumber: part.partNumber,
        plant: AUTOMAKER_SITE,
        departureDate,
        quantity: rnd.int(100, 400),
        leadTimeDays: rnd.next() < 0.1 ? null : rnd.int(2, 9),
        dueDate: rnd.next() < 0.125 ? null : isoPlus(departureDate, 5),
      });
    }
  }
  return rows;
}

/** One footprint per part every `everyDays` days: 8–15 kg CO2e per part, µkg precision. */
export function generatePcf(
  supplier: DemoSupplier,
  opts: { from: string; days: number; everyDays: number; max: number },
): PcfRow[] {
  const rnd = new DemoRandom(`partproof-demo-pcf:${supplier.bpnl}`);
  const rows: PcfRow[] = [];
  for (let d = 0; d < opts.days; d += opts.everyDays) {
    for (const part of supplier.parts) {
      if (rows.length >= opts.max) return rows;
      rows.push({
        partNumber: part.partNumber,
        plant: supplier.bpnl,
        referencePeriodEnd: isoPlus(opts.from, d),
        pcfExcludingBiogenicUptake: rnd.int(8_000_000, 15_000_000) / 1_000_000,
        productMassPerDeclaredUnit: rnd.int(500, 3000) / 1000,
        primaryDataShare: rnd.int(20, 90),
      });
    }
  }
  return rows;
}

/** Registers an asset of `schema`, uploads the rows and publishes the version via the gateway. */
export async function publishRows(
  s: Session,
  owner: Signer,
  schema: string,
  rows: unknown[],
  metadata: string,
): Promise<{ assetId: bigint; recordCount: number }> {
  const { assetId } = await supplierCli.registerAsset(s, owner, {
    schema,
    endpoint: s.gatewayUrl!,
    metadata,
  });
  const up = await supplierCli.upload(s, owner, assetId, { format: "json", rows });
  await supplierCli.publishViaGateway(s, owner, up.version, undefined, DEMO_CHECK_LEAVES);
  return { assetId, recordCount: up.version.recordCount };
}

/**
 * One part a day from 2026-07-01 at one plant, for `n` days: 1–5 end-of-line tests each, and a
 * rework chance that rises with the tests (2 % + 1 % per test).
 */
export function endOfLineLog(partNumber: string, plant: string, n: number): QualityRow[] {
  const rnd = new DemoRandom(`partproof-demo-eol:${partNumber}:${plant}`);
  return Array.from({ length: n }, (_, d) => {
    const tests = rnd.int(1, 5);
    return {
      partNumber,
      plant,
      productionDate: isoPlus("2026-07-01", d),
      hasBeenReworked: rnd.next() < 0.02 + 0.01 * tests,
      numberOfConductedEndOfLineTests: tests,
    };
  });
}

/** What the shapes act needs from the demo. */
export interface ShapesAct {
  sessions: [Session, Session];
  suppliers: [DemoSupplier, DemoSupplier];
  supplierSigners: [Signer, Signer];
  automaker: Signer;
  /** Gearworks' quality asset and the automaker's grant on GBX-3232455. */
  quality: { assetId: bigint; grantId: bigint };
  /** Records per asset the circuit's tree holds (2^depth − 2). */
  capacity: number;
  k: number;
  /** Where the series CSV and SVG go (the report's folder). */
  outDir: string;
  say: (line: string) => void;
}

/**
 * Plays the act: the six-month series (files left in `outDir`), two delivery and two PCF
 * metrics of Gearworks, and the delivered quantity of both suppliers pooled. Returns the files
 * written.
 */
export async function playShapes(a: ShapesAct): Promise<{ csv: string; svg: string }> {
  const { say } = a;
  const series = metricOf("rework-ppm");
  const periods = periodsOf("month", "2026-04-01", "2026-09-30");
  const points = await runSeries(
    a.sessions[0],
    a.automaker,
    series,
    { ...a.quality, partNumber: "GBX-3232455", plant: "4711" },
    periods,
  );
  say("Rework PPM of GBX-3232455, plant 4711, per month (six proofs in flight at once):");
  for (const line of seriesTable(series, points)) say(`  ${line}`);
  const csv = path.join(a.outDir, "rework-ppm-series.csv");
  const svg = path.join(a.outDir, "rework-ppm-series.svg");
  await writeFile(csv, seriesCsv(series, points));
  await writeFile(
    svg,
    seriesSvg(series, "Rework PPM of GBX-3232455, plant 4711, by month (proved)", points),
  );
  const bad = points.filter((p) => p.failed.length > 0);
  if (bad.length)
    throw new Error(`series points failed verification: ${bad.map((p) => p.period.label)}`);

  // delivery and PCF data of both suppliers, half a year from April
  const size = { from: "2026-04-01", days: 183, max: a.capacity };
  const sums = ["count", "sum", "avg", "ratio"];
  const automakerAddr = await a.automaker.getAddress();
  const terms = {
    validFrom: 0,
    validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
    quota: 20,
  };
  const grantOn = async (i: 0 | 1, assetId: bigint, schema: string, part: string) =>
    (
      await supplierCli.grantAccess(
        a.sessions[i],
        a.supplierSigners[i],
        assetId,
        automakerAddr,
        policyOf(schemaOf(schema), {
          aggregates: sums,
          fields: [...schemaOf(schema).fields],
          partNumber: part,
          minCohort: a.k,
        }),
        terms,
      )
    ).grantId;
  const deliveries = await Promise.all(
    ([0, 1] as const).map(async (i) => {
      // Brakeline is GBX-3232455's second source (dual sourcing): it delivers that part too
      const sup =
        i === 0 ? a.suppliers[0] : { ...a.suppliers[1], parts: a.suppliers[0].parts.slice(0, 1) };
      const rows = generateDeliveries(sup, { ...size, everyDays: 2 });
      const asset = await publishRows(
        a.sessions[i],
        a.supplierSigners[i],
        "delivery",
        rows,
        `${a.suppliers[i].name} deliveries`,
      );
      return { ...asset, rows };
    }),
  );
  const pcfRows = generatePcf(a.suppliers[0], { ...size, everyDays: 2 });
  const pcf = await publishRows(
    a.sessions[0],
    a.supplierSigners[0],
    "pcf",
    pcfRows,
    `${a.suppliers[0].name} product carbon footprints`,
  );
  say(
    `Gearworks publishes ${deliveries[0]!.recordCount} deliveries (asset ${deliveries[0]!.assetId}) and ${pcf.recordCount} footprints (asset ${pcf.assetId}); Brakeline ${deliveries[1]!.recordCount} deliveries (asset ${deliveries[1]!.assetId}); each grants the automaker count/sum/avg/ratio with k = ${a.k}`,
  );
  const part = "GBX-3232455";
  const gDel = await grantOn(0, deliveries[0]!.assetId, "delivery", part);
  const gPcf = await grantOn(0, pcf.assetId, "pcf", part);
  const gDelB = await grantOn(1, deliveries[1]!.assetId, "delivery", part);

  const Q3 = { from: "2026-07-01", to: "2026-09-30" };
  const ask = async (metricName: string, assetId: bigint, grantId: bigint, plant: string) => {
    const metric = metricOf(metricName);
    const s = a.sessions[0];
    const job = await automakerCli.ask(s, a.automaker, schemaOf(metric.schema), {
      grantId,
      assetId,
      versionId: 0n,
      aggregate: metric.aggregate,
      fieldA: metric.fieldA,
      fieldB: metric.fieldB,
      partNumber: part,
      plant,
      ...Q3,
    });
    const done = await automakerCli.waitJob(s, job.jobId);
    automakerCli.requireAllChecks(done.jobId, await automakerCli.verifyAnswer(s, done));
    say(
      `${describeMetric(metric, valueOfAnswer(metric, done), `of ${part}, 2026-Q3`)}  [verified]`,
    );
  };
  await ask("lead-time", deliveries[0]!.assetId, gDel, AUTOMAKER_SITE);
  await ask("on-time-share", deliveries[0]!.assetId, gDel, AUTOMAKER_SITE);
  await ask("pcf-avg", pcf.assetId, gPcf, a.suppliers[0].bpnl);
  await ask("carbon-total", pcf.assetId, gPcf, a.suppliers[0].bpnl);

  // filters at any size: the same deliveries, and an end-of-line test log, in indicator schemas
  const late = await publishRows(
    a.sessions[0],
    a.supplierSigners[0],
    "delivery-late",
    deliveries[0]!.rows,
    `${a.suppliers[0].name} deliveries, late indicators`,
  );
  const eol = await publishRows(
    a.sessions[0],
    a.supplierSigners[0],
    "quality-eol3",
    endOfLineLog(part, "4711", Math.min(a.capacity, 92)),
    `${a.suppliers[0].name} end-of-line test log`,
  );
  say(
    `Filtered questions at any size: Gearworks also publishes its deliveries as delivery-late (asset ${late.assetId}) and an end-of-line test log as quality-eol3 (asset ${eol.assetId}); the indicators "late by more than 2 days" and "at least 3 end-of-line tests" are derived at ingest, so each filtered question is one range proof`,
  );
  await ask(
    "late-share-2d",
    late.assetId,
    await grantOn(0, late.assetId, "delivery-late", part),
    AUTOMAKER_SITE,
  );
  await ask(
    "rework-ppm-eol3",
    eol.assetId,
    await grantOn(0, eol.assetId, "quality-eol3", part),
    "4711",
  );

  // one number from two suppliers: the delivered pieces of the dual-sourced part, pooled
  const qty = metricOf("delivered-qty");
  const targets = await resolveSuppliers(
    a.sessions[0],
    [String(gDel), String(gDelB)],
    qty,
    automakerAddr,
  );
  const pooled = await askPooled(a.automaker, qty, targets, {
    partNumber: part,
    plant: AUTOMAKER_SITE,
    ...Q3,
  });
  say(
    `${describeMetric(qty, pooled.value, `of ${part} to ${AUTOMAKER_SITE} in 2026-Q3, both suppliers`)} (${pooled.parts.map((p) => `grant ${p.target.grantId}: ${p.sums.quantity}`).join(", ")}; every proof verified)`,
  );
  return { csv, svg };
}
