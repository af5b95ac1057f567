/**
 * `automaker series`: one question per month or quarter, all proofs in flight at once, every
 * point verified as `automaker verify` does; the result as a table, CSV and an SVG chart.
 */
import type { Signer } from "ethers";
import type { JobView } from "../protocol/api.js";
import { GatewayRefusal } from "../protocol/client.js";
import { periodsIn, type Period } from "../protocol/periods.js";
import { ask, failedChecks, verifyAnswer, waitJob, type AnswerCheck } from "./automaker.js";
import { UserError } from "./errors.js";
import {
  formatValue,
  metricFits,
  toNumber,
  valueOfAnswer,
  type Metric,
  type MetricValue,
} from "./metrics.js";
import { assetSchema } from "./policy.js";
import type { Session } from "./session.js";
import { lineChartSvg } from "./svg-chart.js";

export { MAX_PERIODS, type Period } from "../protocol/periods.js";

/**
 * The months or quarters that meet [from, to], clipped to it (protocol/periods.ts, shared with
 * the console); a bad window is a user error naming the options.
 */
export function periodsOf(by: "month" | "quarter", from: string, to: string): Period[] {
  try {
    return periodsIn(by, from, to);
  } catch (e) {
    throw new UserError(`--from/--to: ${(e as Error).message}`);
  }
}

/** One point of a series: its verified value, or why there is none. */
export interface SeriesPoint {
  period: Period;
  jobId?: string;
  value?: MetricValue;
  /** The gateway's refusal (e.g. COHORT_BELOW_K: the period holds fewer than k records). */
  refused?: { code: string; reason: string };
  check?: AnswerCheck;
  /** Names of the failed checks (empty: the point counts). */
  failed: string[];
  job?: JobView;
}

/** The question every point asks: a metric under one grant, one part, optionally one plant. */
export interface SeriesQuestion {
  grantId: bigint;
  assetId: bigint;
  partNumber: string;
  plant?: string;
}

/**
 * Asks one question per period (every query sent before any answer is awaited, so that all
 * proofs are in flight at once), waits for each answer and verifies it. A refused period is a
 * point without a value; any other error stops the series.
 */
export async function runSeries(
  s: Session,
  consumer: Signer,
  metric: Metric,
  q: SeriesQuestion,
  periods: readonly Period[],
  onProgress: (line: string) => void = () => {},
): Promise<SeriesPoint[]> {
  const schema = await assetSchema(s, q.assetId);
  if (!metricFits(metric, schema)) {
    throw new UserError(
      `asset ${q.assetId} holds ${schema.name} records; ${metric.name} reads ${metric.schema}`,
    );
  }
  const sent = await Promise.all(
    periods.map(async (period) => {
      try {
        const job = await ask(s, consumer, schema, {
          grantId: q.grantId,
          assetId: q.assetId,
          versionId: 0n,
          aggregate: metric.aggregate,
          fieldA: metric.fieldA,
          fieldB: metric.fieldB,
          partNumber: q.partNumber,
          plant: q.plant,
          from: period.from,
          to: period.to,
        });
        return { period, jobId: job.jobId };
      } catch (e) {
        if (e instanceof GatewayRefusal) {
          return { period, refused: { code: e.code, reason: e.reason } };
        }
        throw e;
      }
    }),
  );
  const inFlight = sent.filter((x) => x.jobId).length;
  onProgress(`${inFlight} of ${periods.length} questions accepted; proofs in flight …`);
  // The proofs run concurrently at the gateway; their jobs are followed one after the other,
  // so that polling many jobs at once does not run into the gateway's per-address rate limit.
  const points: SeriesPoint[] = [];
  for (const x of sent) {
    if (!x.jobId) {
      points.push({ period: x.period, refused: x.refused, failed: [] });
      continue;
    }
    const job = await waitJob(s, x.jobId);
    const check = await verifyAnswer(s, job);
    onProgress(`  ${x.period.label}: proved, logged and verified`);
    points.push({
      period: x.period,
      jobId: x.jobId,
      job,
      check,
      failed: failedChecks(check),
      value: valueOfAnswer(metric, job),
    });
  }
  return points;
}

/** The series as text lines: period, dates, value with unit, records, verification. */
export function seriesTable(metric: Metric, points: readonly SeriesPoint[]): string[] {
  const rows = points.map((p) => [
    p.period.label,
    `${p.period.from} … ${p.period.to}`,
    p.value ? `${formatValue(metric, p.value)} ${metric.unit}` : `refused (${p.refused?.code})`,
    p.value?.records === undefined ? "" : `${p.value.records} records`,
    p.value ? (p.failed.length ? `FAILED: ${p.failed.join(", ")}` : "verified") : "",
  ]);
  const head = ["period", "dates", metric.title, "", "check"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The series as CSV (one header line, one line per period). */
export function seriesCsv(metric: Metric, points: readonly SeriesPoint[]): string {
  const lines = [
    ["period", "from", "to", "metric", "value", "unit", "records", "status", "jobId"].join(","),
  ];
  for (const p of points) {
    lines.push(
      [
        p.period.label,
        p.period.from,
        p.period.to,
        metric.name,
        p.value ? formatValue(metric, p.value) : "",
        metric.unit,
        p.value?.records?.toString() ?? "",
        p.value
          ? p.failed.length
            ? `failed:${p.failed.join("|")}`
            : "verified"
          : `refused:${p.refused?.code}`,
        p.jobId ?? "",
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/** The series as an SVG line chart (refused periods are gaps). */
export function seriesSvg(metric: Metric, title: string, points: readonly SeriesPoint[]): string {
  return lineChartSvg({
    title,
    unit: metric.unit,
    points: points.map((p) => ({
      label: p.period.label,
      value: p.value && p.failed.length === 0 ? toNumber(p.value) : null,
      note: p.refused
        ? `refused: ${p.refused.code === "COHORT_BELOW_K" ? "< k" : p.refused.code}`
        : "failed",
    })),
  });
}
