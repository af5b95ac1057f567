/**
 * `partproof automaker …`: assets, request-grant, query, verify. Each command parses its options
 * and calls the automaker's operations (cli/automaker.ts).
 */
import { Option, type Command } from "commander";
import * as automaker from "../automaker.js";
import { UserError } from "../errors.js";
import { describeAnswer, describeAttestation, describeCheck } from "../format.js";
import {
  describeMetric,
  FILTERS_NOTE,
  formatValue,
  METRICS,
  metricFits,
  metricOf,
  valueOfAnswer,
} from "../metrics.js";
import { askPooled, resolveSuppliers } from "../multi-supplier.js";
import { assetSchema, policyOf } from "../policy.js";
import { addSeries } from "./automaker-series.js";
import { addSupplyAsk } from "./supply.js";
import {
  bigId,
  list,
  policyInputOf,
  policyOptions,
  termsOf,
  type CommandContext,
  type PolicyOpts,
} from "./context.js";

/** Adds the `automaker` command group to the program. */
export function addAutomakerCommands(program: Command, ctx: CommandContext): void {
  const group = program
    .command("automaker")
    .alias("consumer")
    .description("discover assets, ask questions, verify answers (a consumer of others' data)");
  group
    .command("assets")
    .description(
      "list the gateway's assets (what the chain says and the schema description) and whether each published version is attested on-chain",
    )
    .action(async () => {
      const r = await automaker.listAssets(await ctx.session());
      ctx.print(
        r,
        r.assets.flatMap((a) => [
          `asset ${a.assetId}: ${a.schemaId} owner ${a.owner}`,
          ...a.versions.map((v) => `  ${describeAttestation(v)}`),
        ]),
      );
    });
  policyOptions(
    group
      .command("request-grant")
      .description("ask an asset's owner for a grant")
      .argument("<assetId>", "the asset (see `automaker assets`)"),
  ).action(async (assetId: string, o: PolicyOpts) => {
    const s = await ctx.session();
    const id = bigId("assetId", assetId);
    const policy = policyOf(await assetSchema(s, id), policyInputOf(o));
    const r = await automaker.requestGrant(s, await ctx.signer(s), id, policy, termsOf(o));
    ctx.print(r, `grant ${r.grantId} requested; the owner approves or rejects it, tx ${r.tx}`);
  });
  addQuery(group, ctx);
  addSeries(group, ctx);
  addSupplyAsk(group, ctx);
  group
    .command("verify")
    .description(
      "verify a job's answer against the question this machine signed for it (kept by `query`): proof (the chain's verifier), commitment, root, log entry, query hash, grant, asset, version, request id; exits 1 when a check fails. Also shows whether the version answered over is attested on-chain (audits by public randomness), by whom and with which t",
    )
    .argument("<jobId>", "the job id `query --no-wait` printed")
    .action(async (jobId: string) => {
      const s = await ctx.session();
      const job = await automaker.waitJob(s, jobId, { until: "proved", timeoutMs: 1 });
      const check = await automaker.verifyAnswer(s, job);
      const attestation = await automaker.versionAttestation(s, BigInt(job.versionId));
      ctx.print({ ...check, attestation }, [
        ...checkLines(check),
        describeAttestation(attestation),
      ]);
      automaker.requireAllChecks(jobId, check);
    });
}

/** The options of `automaker query`. */
interface QueryOpts {
  asset?: string;
  grant?: string;
  version: string;
  aggregate?: string;
  metric?: string;
  suppliers?: string[];
  field: string;
  of?: string;
  part: string;
  plant?: string;
  from?: string;
  to?: string;
  threshold?: string;
  wait: boolean;
}

function addQuery(group: Command, ctx: CommandContext) {
  group
    .command("query")
    .description(
      "ask an aggregate question (or a named metric, of one supplier or pooled over several), wait for the proved and logged answer, and verify it",
    )
    .option("--asset <id>", "the asset to ask (see `automaker assets`; not with --suppliers)")
    .option("--grant <id>", "your grant on that asset (not with --suppliers)")
    .option(
      "--metric <name>",
      `a named question instead of --aggregate/--field/--of: ${METRICS.map((m) => `${m.name} (${m.schema}: ${m.title}, ${m.unit})`).join("; ")}. ${FILTERS_NOTE}`,
    )
    .option(
      "--suppliers <grants>",
      "with --metric: ask the same question under each of these grants (GRANT or GRANT@gateway-URL, comma-separated; the gateway defaults to the asset's registered endpoint), verify every proof and pool the sums; each grant must allow sum on the metric's fields",
      list,
    )
    .addOption(
      new Option("--version <id>", "the published version to ask").default(
        "0",
        "the latest version",
      ),
    )
    .option("--aggregate <name>", "count, sum, avg, min, max, ratio or threshold")
    .addOption(
      new Option("--field <name>", "field to aggregate (ratio: the numerator)").default(
        "0",
        "the schema's first field",
      ),
    )
    .option("--of <name>", "ratio/threshold denominator field")
    .requiredOption("--part <partNumber>", "the part number the question is about")
    .option("--plant <plant>", "only this plant (default: every plant)")
    .option("--from <date>", "first production date, YYYY-MM-DD (needs --plant)")
    .option("--to <date>", "last production date, YYYY-MM-DD (needs --plant)")
    .option("--threshold <ppm>", "threshold: is the ratio in PPM at most this?")
    .option("--no-wait", "print the job id at once instead of waiting for the proved answer")
    .action(async (o: QueryOpts) => {
      const s = await ctx.session();
      const metric = o.metric === undefined ? undefined : metricOf(o.metric);
      if (metric && (o.aggregate !== undefined || o.of !== undefined)) {
        throw new UserError("--metric names the aggregate and fields: drop --aggregate/--of");
      }
      if (o.suppliers !== undefined) {
        if (!metric) throw new UserError("--suppliers needs --metric (the question to pool)");
        if (o.asset !== undefined || o.grant !== undefined) {
          throw new UserError(
            "--suppliers names the grants (and so the assets): drop --asset/--grant",
          );
        }
        const signer = await ctx.signer(s);
        const targets = await resolveSuppliers(s, o.suppliers, metric, await signer.getAddress());
        const window = { partNumber: o.part, plant: o.plant, from: o.from, to: o.to };
        const pooled = await askPooled(signer, metric, targets, window, ctx.progress);
        ctx.print(
          {
            metric: metric.name,
            unit: metric.unit,
            value: formatValue(metric, pooled.value),
            numerator: pooled.value.num,
            denominator: pooled.value.den,
            records: pooled.value.records,
            suppliers: pooled.parts.map((p) => ({
              grantId: p.target.grantId,
              assetId: p.target.assetId,
              gateway: p.target.gatewayUrl,
              count: p.count,
              sums: p.sums,
              jobs: Object.fromEntries(Object.entries(p.jobs).map(([f, j]) => [f, j.jobId])),
              checks: p.checks,
            })),
          },
          [
            describeMetric(metric, pooled.value, `pooled over ${targets.length} suppliers`),
            ...pooled.parts.map(
              (p) =>
                `  grant ${p.target.grantId} (asset ${p.target.assetId}, ${p.target.gatewayUrl}): ${p.count} records, ${Object.entries(
                  p.sums,
                )
                  .map(([f, v]) => `Σ ${f} = ${v}`)
                  .join(", ")}; every proof verified`,
            ),
          ],
        );
        return;
      }
      if (o.asset === undefined || o.grant === undefined) {
        throw new UserError("--asset and --grant are required (or --suppliers with --metric)");
      }
      const aggregate = metric?.aggregate ?? o.aggregate;
      if (aggregate === undefined) throw new UserError("give --aggregate or --metric");
      const assetId = bigId("--asset", o.asset);
      const schema = await assetSchema(s, assetId);
      if (metric && !metricFits(metric, schema)) {
        throw new UserError(
          `asset ${assetId} holds ${schema.name} records; ${metric.name} reads ${metric.schema}`,
        );
      }
      const job = await automaker.ask(s, await ctx.signer(s), schema, {
        grantId: bigId("--grant", o.grant),
        assetId,
        versionId: bigId("--version", o.version),
        aggregate,
        fieldA: metric?.fieldA ?? o.field,
        fieldB: metric ? metric.fieldB : o.of,
        partNumber: o.part,
        plant: o.plant,
        from: o.from,
        to: o.to,
        threshold: o.threshold === undefined ? undefined : bigId("--threshold", o.threshold),
      });
      if (!o.wait) {
        ctx.print(job, `job ${job.jobId} accepted (request ${job.requestId})`);
        return;
      }
      ctx.progress(`job ${job.jobId} accepted; waiting for the proof …`);
      const onStatus = (st: string) => ctx.progress(`  ${st}`);
      const done = await automaker.waitJob(s, job.jobId, { onStatus });
      const check = await automaker.verifyAnswer(s, done);
      const attestation = await automaker.versionAttestation(s, BigInt(done.versionId));
      const said = metric
        ? describeMetric(metric, valueOfAnswer(metric, done))
        : describeAnswer(done, aggregate);
      ctx.print({ job: done, check, attestation }, [
        said,
        ...checkLines(check),
        describeAttestation(attestation),
      ]);
      automaker.requireAllChecks(done.jobId, check);
    });
}

/** The verification in words, and the name of every failed check. */
export function checkLines(check: automaker.AnswerCheck): string[] {
  const failed = automaker.failedChecks(check);
  return [describeCheck(check), failed.length ? `FAILED: ${failed.join(", ")}` : "all checks ok"];
}
