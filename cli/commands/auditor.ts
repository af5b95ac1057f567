/**
 * `partproof auditor report`: re-verify every logged proof, reconcile grants, quotas and versions,
 * match a gateway's export, and write the report (cli/auditor.ts, cli/reconcile.ts, cli/report.ts).
 */
import { Option, type Command } from "commander";
import * as auditor from "../auditor.js";
import { describeAudit } from "../format.js";
import { servedAnswers } from "../reconcile.js";
import { writeReport } from "../report.js";
import type { CommandContext } from "./context.js";

/** The options of `auditor report`. */
interface ReportOpts {
  fromBlock?: string;
  toBlock?: string;
  export?: string;
  out: string;
}

/** Adds the `auditor` command group to the program. */
export function addAuditorCommands(program: Command, ctx: CommandContext): void {
  const group = program.command("auditor").description("reconcile the on-chain access log");
  group
    .command("report")
    .description(
      "re-verify every logged proof, reconcile grants, quotas and versions, and match a gateway's export",
    )
    .option("--from-block <n>", "first block (default: the deployment block)")
    .option("--to-block <n>", "last block (default: the latest block)")
    .option(
      "--export <file>",
      "a gateway's export of served answers (default: fetch it from --gateway, signed with your key)",
    )
    .addOption(
      new Option("--out <dir>", "where to write report.md and report.json").default(
        "reports",
        "reports/",
      ),
    )
    .action(async (o: ReportOpts) => {
      const s = await ctx.session();
      const exp = o.export
        ? await auditor.readExport(s, { file: o.export })
        : s.gatewayUrl
          ? await auditor.readExport(s, { auditor: await ctx.signer(s) })
          : undefined;
      ctx.progress("re-verifying every logged proof …");
      const report = await auditor.audit(s, {
        fromBlock: o.fromBlock === undefined ? undefined : Number(o.fromBlock),
        toBlock: o.toBlock === undefined ? "latest" : Number(o.toBlock),
        served: exp ? servedAnswers(exp) : undefined,
      });
      const files = await writeReport(report, o.out);
      ctx.print(report, [
        describeAudit(report),
        ...report.anomalies.map((a) => `  ${a.type}: ${a.detail}`),
        `report: ${files.markdown}, ${files.json}`,
      ]);
    });
}
