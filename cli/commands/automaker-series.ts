/**
 * `partproof automaker series`: a named metric per month or quarter, all proofs in flight at
 * once, every point verified; prints a table and writes CSV and an SVG chart (cli/series.ts).
 */
import { writeFile } from "node:fs/promises";
import { InvalidArgumentError, Option, type Command } from "commander";
import { VerificationFailed } from "../automaker.js";
import { METRICS, metricOf } from "../metrics.js";
import { periodsOf, runSeries, seriesCsv, seriesSvg, seriesTable } from "../series.js";
import { bigId, type CommandContext } from "./context.js";

/** The options of `automaker series`. */
interface SeriesOpts {
  asset: string;
  grant: string;
  metric: string;
  by: "month" | "quarter";
  part: string;
  plant?: string;
  from: string;
  to: string;
  csv: string;
  svg: string;
}

/** Adds `automaker series` to the automaker's command group. */
export function addSeries(group: Command, ctx: CommandContext): void {
  group
    .command("series")
    .description(
      "ask a named metric once per month or quarter (all proofs in flight at once), verify every point, print a table and write CSV and an SVG chart; exits 1 when a point fails verification",
    )
    .requiredOption("--asset <id>", "the asset to ask (see `automaker assets`)")
    .requiredOption("--grant <id>", "your grant on that asset")
    .requiredOption(
      "--metric <name>",
      `the question: ${METRICS.map((m) => `${m.name} (${m.schema})`).join(", ")}`,
    )
    .addOption(
      new Option("--by <period>", "month or quarter")
        .choices(["month", "quarter"])
        .default("month", "by month"),
    )
    .requiredOption("--part <partNumber>", "the part number the question is about")
    .option(
      "--plant <plant>",
      "only this plant (needed on an asset keyed part, plant, day; not allowed on a …-by-day asset, which answers every plant)",
    )
    .requiredOption("--from <date>", "first day, YYYY-MM-DD", isoDate("--from"))
    .requiredOption("--to <date>", "last day, YYYY-MM-DD", isoDate("--to"))
    .addOption(
      new Option("--csv <file>", "where the CSV goes").default("series.csv", "series.csv here"),
    )
    .addOption(
      new Option("--svg <file>", "where the SVG chart goes").default(
        "series.svg",
        "series.svg here",
      ),
    )
    .action(async (o: SeriesOpts) => {
      const s = await ctx.session();
      const metric = metricOf(o.metric);
      const periods = periodsOf(o.by, o.from, o.to);
      const points = await runSeries(
        s,
        await ctx.signer(s),
        metric,
        {
          grantId: bigId("--grant", o.grant),
          assetId: bigId("--asset", o.asset),
          partNumber: o.part,
          plant: o.plant,
        },
        periods,
        ctx.progress,
      );
      const title = `${metric.title}, ${o.part}${o.plant ? ` plant ${o.plant}` : ""}, by ${o.by}`;
      await writeFile(o.csv, seriesCsv(metric, points));
      await writeFile(o.svg, seriesSvg(metric, title, points));
      const failed = points.filter((p) => p.failed.length > 0);
      ctx.print(
        {
          metric: metric.name,
          unit: metric.unit,
          csv: o.csv,
          svg: o.svg,
          points: points.map((p) => ({
            period: p.period,
            jobId: p.jobId,
            value: p.value,
            refused: p.refused,
            check: p.check,
            failed: p.failed,
          })),
        },
        [
          title,
          ...seriesTable(metric, points),
          `wrote ${o.csv} and ${o.svg}`,
          failed.length
            ? `FAILED verification: ${failed.map((p) => p.period.label).join(", ")}`
            : "every answered point verified",
        ],
      );
      // a point that fails a check: exit 1 as `automaker verify` does
      const first = failed[0];
      if (first) throw new VerificationFailed(first.jobId!, first.failed as never);
    });
}

/** An option parser for an ISO date. */
function isoDate(name: string) {
  return (v: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) {
      throw new InvalidArgumentError(`${name} must be a date YYYY-MM-DD, got "${v}"`);
    }
    return v;
  };
}
