/**
 * The auditor's report in Markdown, as a pure function (no file, no Node import): the CLI writes
 * it to report.md (report.ts), the console offers it as a download.
 */
import type { AuditReport } from "./reconcile.js";

/** Renders a report as Markdown. */
export function renderMarkdown(r: AuditReport): string {
  const lines = [
    `# PartProof access-log audit`,
    "",
    `Chain ${r.chainId}, contract \`${r.contract}\`, blocks ${r.fromBlock}–${r.toBlock}, generated ${r.generatedAt}.`,
    "",
    "| what | count |",
    "|---|---|",
    `| log entries | ${r.counts.logEntries} |`,
    `| proofs re-verified off-chain | ${r.counts.proofsVerified} |`,
    `| grants | ${r.counts.grants} |`,
    `| versions | ${r.counts.versions} |`,
    ...(r.counts.served !== undefined
      ? [
          `| answers computed (gateway export) | ${r.counts.computed ?? r.counts.served} |`,
          `| answers served: logged, released (gateway export) | ${r.counts.served} |`,
          `| computed but not logged (withheld; of them failed: ${r.counts.failed ?? 0}) | ${r.counts.computedNotLogged ?? 0} |`,
        ]
      : []),
    `| anomalies | ${r.counts.anomalies} |`,
    "",
    "## Anomalies",
    "",
  ];
  if (r.anomalies.length === 0) lines.push("None.");
  else {
    lines.push("| type | request | grant | consumer | detail |", "|---|---|---|---|---|");
    for (const a of r.anomalies) {
      const cells = [a.type, a.requestId ?? "", a.grantId ?? "", a.consumer ?? "", a.detail];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  lines.push("", "## Per consumer", "");
  lines.push("| consumer | grants | answers | anomalies |", "|---|---|---|---|");
  for (const c of r.perConsumer) {
    lines.push(`| ${c.consumer} | ${c.grants} | ${c.answers} | ${c.anomalies} |`);
  }
  lines.push("", "## Per asset", "");
  lines.push("| asset | versions | answers | anomalies |", "|---|---|---|---|");
  for (const a of r.perAsset) {
    lines.push(`| ${a.assetId} | ${a.versions} | ${a.answers} | ${a.anomalies} |`);
  }
  return lines.join("\n") + "\n";
}
