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

/** Registers an asset of `schema` on the session's gateway (one transaction of `owner`). */
export async function registerRows(
  s: Session,
  owner: Signer,
  schema: string,
  metadata: string,
): Promise<bigint> {
  const { assetId } = await supplierCli.registerAsset(s, owner, {
    schema,
    endpoint: s.gatewayUrl!,
    metadata,
  });
  return assetId;
}

/**
 * Uploads the rows to a registered asset and publishes the version via the gateway, after the
 * gateway proves the version's first and last link and `checkLeaves` random leaves. Sends no
 * transaction of `owner` (the gateway relays), so several may run at once.
 */
export async function publishRows(
  s: Session,
  owner: Signer,
  assetId: bigint,
  rows: unknown[],
  checkLeaves = DEMO_CHECK_LEAVES,
): Promise<{ assetId: bigint; recordCount: number }> {
  const up = await supplierCli.upload(s, owner, assetId, { format: "json", rows });
  await supplierCli.publishViaGateway(s, owner, up.version, undefined, checkLeaves);
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
  /** Random leaves proved before each publication (default {@link DEMO_CHECK_LEAVES}). */
  checkLeaves?: number;
  say: (line: string) => void;
}

/**
 * Plays the act: the six-month series (files left in `outDir`), two delivery and two PCF
 * metrics of Gearworks, and the delivered quantity of both suppliers pooled. Returns the files
 * written.
 */
export async function playShapes(a: ShapesAct): Promise<{ csv: string; svg: string }> {
  const { say } = a;
  const checkLeaves = a.checkLeaves ?? DEMO_CHECK_LEAVES;
  const [gear, brake] = a.sessions;
  const [gearOwner, brakeOwner] = a.supplierSigners;
  const series = metricOf("rework-ppm");
  const periods = periodsOf("month", "2026-04-01", "2026-09-30");
  // the series' six proofs run on Gearworks' gateway while the new assets are published
  const seriesDone = runSeries(
    gear,
    a.automaker,
    series,
    { ...a.quality, partNumber: "GBX-3232455", plant: "4711" },
    periods,
  );
  seriesDone.catch(() => {}); // awaited below; a failed publication must not leave it unhandled

  // delivery and PCF data of both suppliers, half a year from April; the same deliveries in the
  // delivery-late schema and an end-of-line test log in quality-eol3 (filters at any size)
  const part = "GBX-3232455";
  const size = { from: "2026-04-01", days: 183, max: a.capacity };
  const deliveryRows = [
    generateDeliveries(a.suppliers[0], { ...size, everyDays: 2 }),
    // Brakeline is GBX-3232455's second source (dual sourcing): it delivers that part too
    generateDeliveries(
      { ...a.suppliers[1], parts: a.suppliers[0].parts.slice(0, 1) },
      { ...size, everyDays: 2 },
    ),
  ] as const;
  const pcfRows = generatePcf(a.suppliers[0], { ...size, everyDays: 2 });
  const eolRows = endOfLineLog(part, "4711", Math.min(a.capacity, 92));
  // each supplier's registrations are its own transactions, one after the other; the two
  // suppliers' at once
  const gearName = a.suppliers[0].name;
  const [gearIds, brakeDel] = await Promise.all([
    (async () => {
      const ids: bigint[] = [];
      for (const [schema, what] of [
        ["delivery", "deliveries"],
        ["pcf", "product carbon footprints"],
        ["delivery-late", "deliveries, late indicators"],
        ["quality-eol3", "end-of-line test log"],
      ] as const) {
        ids.push(await registerRows(gear, gearOwner, schema, `${gearName} ${what}`));
      }
      return ids as [bigint, bigint, bigint, bigint];
    })(),
    registerRows(brake, brakeOwner, "delivery", `${a.suppliers[1].name} deliveries`),
  ]);
  // uploads and publications: Gearworks' one after the other (its gateway proves one at a time
  // anyway, and four checks followed at once would pass its per-signer rate limit), Brakeline's
  // on its own gateway beside them
  const [[del, pcf, late, eol], delB] = await Promise.all([
    (async () => [
      await publishRows(gear, gearOwner, gearIds[0], deliveryRows[0], checkLeaves),
      await publishRows(gear, gearOwner, gearIds[1], pcfRows, checkLeaves),
      await publishRows(gear, gearOwner, gearIds[2], deliveryRows[0], checkLeaves),
      await publishRows(gear, gearOwner, gearIds[3], eolRows, checkLeaves),
    ])(),
    publishRows(brake, brakeOwner, brakeDel, deliveryRows[1], checkLeaves),
  ]);

  const points = await seriesDone;
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

  const sums = ["count", "sum", "avg", "ratio"];
  say(
    `Gearworks publishes ${del.recordCount} deliveries (asset ${del.assetId}) and ${pcf.recordCount} footprints (asset ${pcf.assetId}); Brakeline ${delB.recordCount} deliveries (asset ${delB.assetId}); each grants the automaker count/sum/avg/ratio with k = ${a.k}`,
  );
  say(
    `Filtered questions at any size: Gearworks also publishes its deliveries as delivery-late (asset ${late.assetId}) and an end-of-line test log as quality-eol3 (asset ${eol.assetId}); the indicators "late by more than 2 days" and "at least 3 end-of-line tests" are derived at ingest, so each filtered question is one range proof`,
  );
  const automakerAddr = await a.automaker.getAddress();
  const terms = {
    validFrom: 0,
    validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
    quota: 20,
  };
  const grantOn = async (i: 0 | 1, assetId: bigint, schema: string) =>
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
  // Gearworks' grants one after the other (its transactions), Brakeline's beside them
  const [[gDel, gPcf, gLate, gEol], gDelB] = await Promise.all([
    (async () => [
      await grantOn(0, del.assetId, "delivery"),
      await grantOn(0, pcf.assetId, "pcf"),
      await grantOn(0, late.assetId, "delivery-late"),
      await grantOn(0, eol.assetId, "quality-eol3"),
    ])(),
    grantOn(1, delB.assetId, "delivery"),
  ]);

  const Q3 = { from: "2026-07-01", to: "2026-09-30" };
  /** Asks one metric, waits for the logged answer, checks it; returns the line to show. */
  const ask = async (metricName: string, assetId: bigint, grantId: bigint, plant: string) => {
    const metric = metricOf(metricName);
    const job = await automakerCli.ask(gear, a.automaker, schemaOf(metric.schema), {
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
    const done = await automakerCli.waitJob(gear, job.jobId);
    automakerCli.requireAllChecks(done.jobId, await automakerCli.verifyAnswer(gear, done));
    return `${describeMetric(metric, valueOfAnswer(metric, done), `of ${part}, 2026-Q3`)}  [verified]`;
  };
  // one number from two suppliers: the delivered pieces of the dual-sourced part, pooled
  const qty = metricOf("delivered-qty");
  const pooled = (async () => {
    const targets = await resolveSuppliers(gear, [String(gDel), String(gDelB)], qty, automakerAddr);
    return askPooled(a.automaker, qty, targets, { partNumber: part, plant: AUTOMAKER_SITE, ...Q3 });
  })();
  pooled.catch(() => {}); // awaited below
  // every question in flight at once, shown in the order asked
  const lines = await Promise.all([
    ask("lead-time", del.assetId, gDel, AUTOMAKER_SITE),
    ask("on-time-share", del.assetId, gDel, AUTOMAKER_SITE),
    ask("pcf-avg", pcf.assetId, gPcf, a.suppliers[0].bpnl),
    ask("carbon-total", pcf.assetId, gPcf, a.suppliers[0].bpnl),
    ask("late-share-2d", late.assetId, gLate, AUTOMAKER_SITE),
    ask("rework-ppm-eol3", eol.assetId, gEol, "4711"),
  ]);
  for (const line of lines) say(line);
  const p = await pooled;
  say(
    `${describeMetric(qty, p.value, `of ${part} to ${AUTOMAKER_SITE} in 2026-Q3, both suppliers`)} (${p.parts.map((x) => `grant ${x.target.grantId}: ${x.sums.quantity}`).join(", ")}; every proof verified)`,
  );
  return { csv, svg };
}
