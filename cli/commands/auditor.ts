/**
 * `partproof auditor report`: re-verify every logged proof, reconcile grants, quotas and versions,
 * match a gateway's export, and write the report (cli/auditor.ts, cli/reconcile.ts, cli/report.ts).
 */
import { Option, type Command } from "commander";
import * as auditor from "../auditor.js";
import { describeAudit } from "../format.js";
import { servedAnswers } from "../reconcile.js";
import { readSamples, saveSample, writeReport } from "../report.js";
import { DEFAULT_AUDIT_SAMPLES } from "../../protocol/audit.js";
import { bigId, positiveInt } from "./context.js";
import type { CommandContext } from "./context.js";

/** The options of `auditor report`. */
interface ReportOpts {
  fromBlock?: string;
  toBlock?: string;
  export?: string;
  out: string;
}

/** The options of `auditor sample`. */
interface SampleOpts {
  asset: string;
  version: number;
  t?: number;
  attest?: boolean;
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
      const samples = await readSamples(o.out);
      const attestations = await auditor.readAttestations(
        s,
        o.fromBlock === undefined ? (s.deployment.deploymentBlock ?? 0) : Number(o.fromBlock),
        o.toBlock === undefined ? "latest" : Number(o.toBlock),
      );
      const files = await writeReport(
        { ...report, ...(samples.length > 0 ? { samples } : {}), attestations },
        o.out,
      );
      ctx.print({ ...report, attestations }, [
        describeAudit(report),
        ...report.anomalies.map((a) => `  ${a.type}: ${a.detail}`),
        ...attestations.map(
          (a) =>
            `  attested: asset ${a.assetId} version ${a.version} by ${a.attester} (t = ${a.t}, block ${a.block})`,
        ),
        `report: ${files.markdown}, ${files.json}`,
      ]);
    });
  group
    .command("sample")
    .description(
      "audit a published version at t leaves drawn from the chain (the block hash 5 blocks after publication): fetch the gateway's proofs and verify each",
    )
    .requiredOption("--asset <id>", "the asset")
    .requiredOption("--version <n>", "its version number (1, 2, …)", positiveInt("--version"))
    .option("--t <n>", `draws (default ${DEFAULT_AUDIT_SAMPLES})`, positiveInt("--t"))
    .option(
      "--attest",
      "when every proof verifies, record on-chain (signed with your key) that the version passed t audits for its seed; anchors the seed first when needed; t must meet the contract's minimum",
    )
    .addOption(
      new Option("--out <dir>", "the report folder the sample is kept in").default(
        "reports",
        "reports/",
      ),
    )
    .action(async (o: SampleOpts) => {
      const s = await ctx.session();
      const assetId = bigId("asset", o.asset);
      const t = o.t ?? DEFAULT_AUDIT_SAMPLES;
      const signer = o.attest ? await ctx.signer(s) : undefined;
      if (signer) {
        const prep = await auditor.prepareAttestation(s, signer, assetId, o.version, t);
        if (prep.anchoredNow)
          ctx.progress(`anchored the audit seed on-chain, tx ${prep.anchoredNow}`);
      }
      const sample = await auditor.sampleVersion(s, {
        assetId,
        version: o.version,
        t,
        onProgress: (done, total) => ctx.progress(`gateway proved ${done}/${total} leaves …`),
      });
      // never attest a failed sample: the failure below is thrown before
      if (signer && sample.passed)
        sample.attestation = await auditor.attestSample(s, signer, sample);
      const file = await saveSample(o.out, sample);
      ctx.print(sample, [
        `asset ${sample.assetId} version ${sample.version}: ${sample.passed ? "passed" : "FAILED"} ${sample.t} audits (${sample.distinct} leaves, seed block ${sample.seedBlock})`,
        ...sample.findings.map(
          (f) => `  ${f.check}${f.index === undefined ? "" : ` leaf ${f.index}`}: ${f.detail}`,
        ),
        ...sample.bound.map(
          (b) =>
            `  a tree with ${b.f * 100}% of its links malformed survives this with probability ≤ ${b.escape.toPrecision(3)}`,
        ),
        ...(sample.attestation
          ? [
              `attested on-chain by ${sample.attestation.attester} (t = ${sample.t}), tx ${sample.attestation.tx}`,
            ]
          : []),
        `kept in ${file}; \`auditor report --out ${o.out}\` shows it`,
      ]);
      if (!sample.passed) {
        throw new Error(
          `the audit of asset ${sample.assetId} version ${sample.version} failed ${sample.findings.length} check(s)${o.attest ? "; nothing was attested" : ""}`,
        );
      }
    });
}
