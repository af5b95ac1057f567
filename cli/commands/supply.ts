/**
 * `partproof consumer ask <question>` (also `automaker ask`): a supply-chain question of
 * cli/metrics-supply.ts — stock coverage, capacity cover, field-claim rates — made of one or two
 * proven answers, each under its own grant, every one verified, combined in the open.
 */
import type { Command } from "commander";
import { UserError } from "../errors.js";
import { SUPPLY_METRICS, supplyMetricOf } from "../metrics-supply.js";
import { askSupply, resolveParts, supplyLines } from "../supply.js";
import type { CommandContext } from "./context.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Adds `ask` to a consumer's command group. */
export function addSupplyAsk(group: Command, ctx: CommandContext): void {
  group
    .command("ask")
    .description(
      `ask a supply-chain question made of proven answers (every proof verified, the combination shown): ${SUPPLY_METRICS.map((m) => `${m.name} (${m.asks}: ${m.title}, ${m.unit}; needs --grant ${m.parts.map((p) => `${p.name}=ID`).join(" --grant ")})`).join("; ")}`,
    )
    .argument("<question>", SUPPLY_METRICS.map((m) => m.name).join(", "))
    .option(
      "--grant <name=id>",
      "the grant for one proven part: NAME=GRANT or NAME=GRANT@gateway-URL (the gateway defaults to the asset's registered endpoint); repeat per part",
      collect,
    )
    .requiredOption("--part <partNumber>", "the part / material / capacity group asked about")
    .option(
      "--plant <name=plant>",
      "only this plant (site, country, supplier) for one part: NAME=PLANT; repeat per part (default: every plant, on a …-by-day asset)",
      collect,
    )
    .requiredOption("--from <date>", "first day of the window, YYYY-MM-DD")
    .requiredOption("--to <date>", "last day of the window, YYYY-MM-DD")
    .option("--at <date>", "the day of a snapshot part (stock), YYYY-MM-DD (default: --to)")
    .option("--by <period>", "month: one answer per calendar month of the window")
    .action(
      async (
        question: string,
        o: {
          grant?: string[];
          part: string;
          plant?: string[];
          from: string;
          to: string;
          at?: string;
          by?: string;
        },
      ) => {
        const metric = supplyMetricOf(question);
        if (o.by !== undefined && o.by !== "month") {
          throw new UserError(`--by must be month, got "${o.by}"`);
        }
        const s = await ctx.session();
        const signer = await ctx.signer(s);
        const targets = await resolveParts(
          s,
          metric,
          o.grant ?? [],
          o.plant ?? [],
          await signer.getAddress(),
        );
        const points = await askSupply(
          signer,
          metric,
          targets,
          { partNumber: o.part, from: o.from, to: o.to, at: o.at, by: o.by as "month" | undefined },
          ctx.progress,
        );
        const refused = points.find((p) => p.refused)?.refused;
        if (refused && points.every((p) => !p.value)) {
          throw new UserError(
            `grant ${refused.grantId} (${refused.part}) refused the question: ${refused.code} — ${refused.reason}`,
          );
        }
        ctx.print(
          {
            question: metric.name,
            title: metric.title,
            unit: metric.unit,
            combination: metric.combination,
            points: points.map((p) => ({
              period: p.period,
              value: p.formatted,
              numerator: p.value?.num,
              denominator: p.value?.den,
              shown: p.value?.shown,
              refused: p.refused,
              parts: p.parts.map(({ job, check, ...a }) => ({ ...a, jobId: job.jobId, check })),
            })),
          },
          supplyLines(metric, points),
        );
      },
    );
}
