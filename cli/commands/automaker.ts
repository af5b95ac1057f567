/**
 * `partproof automaker …`: assets, request-grant, query, verify. Each command parses its options
 * and calls the automaker's operations (cli/automaker.ts).
 */
import { Option, type Command } from "commander";
import * as automaker from "../automaker.js";
import { describeAnswer, describeCheck } from "../format.js";
import { assetSchema, policyOf } from "../policy.js";
import {
  bigId,
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
    .description("discover assets, ask questions, verify answers");
  group
    .command("assets")
    .description("list the gateway's assets (what the chain says and the schema description)")
    .action(async () => {
      const r = await automaker.listAssets(await ctx.session());
      ctx.print(
        r,
        r.assets.map((a) => `asset ${a.assetId}: ${a.schemaId} owner ${a.owner}`),
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
  group
    .command("verify")
    .description(
      "verify a job's answer against the question this machine signed for it (kept by `query`): proof (the chain's verifier), commitment, root, log entry, query hash, grant, asset, version, request id; exits 1 when a check fails",
    )
    .argument("<jobId>", "the job id `query --no-wait` printed")
    .action(async (jobId: string) => {
      const s = await ctx.session();
      const job = await automaker.waitJob(s, jobId, { until: "proved", timeoutMs: 1 });
      const check = await automaker.verifyAnswer(s, job);
      ctx.print(check, checkLines(check));
      automaker.requireAllChecks(jobId, check);
    });
}

/** The options of `automaker query`. */
interface QueryOpts {
  asset: string;
  grant: string;
  version: string;
  aggregate: string;
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
    .description("ask an aggregate question, wait for the proved and logged answer, and verify it")
    .requiredOption("--asset <id>", "the asset to ask (see `automaker assets`)")
    .requiredOption("--grant <id>", "your grant on that asset")
    .addOption(
      new Option("--version <id>", "the published version to ask").default(
        "0",
        "the latest version",
      ),
    )
    .requiredOption("--aggregate <name>", "count, sum, avg, min, max, ratio or threshold")
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
      const assetId = bigId("--asset", o.asset);
      const schema = await assetSchema(s, assetId);
      const job = await automaker.ask(s, await ctx.signer(s), schema, {
        grantId: bigId("--grant", o.grant),
        assetId,
        versionId: bigId("--version", o.version),
        aggregate: o.aggregate,
        fieldA: o.field,
        fieldB: o.of,
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
      ctx.print({ job: done, check }, [describeAnswer(done, o.aggregate), ...checkLines(check)]);
      automaker.requireAllChecks(done.jobId, check);
    });
}

/** The verification in words, and the name of every failed check. */
function checkLines(check: automaker.AnswerCheck): string[] {
  const failed = automaker.failedChecks(check);
  return [describeCheck(check), failed.length ? `FAILED: ${failed.join(", ")}` : "all checks ok"];
}
