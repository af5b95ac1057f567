/**
 * The auditor's report in Markdown, as a pure function (no file, no Node import): the CLI writes
 * it to report.md (report.ts), the console offers it as a download.
 */
import type { AuditSample, FoundAttestation } from "../protocol/audit.js";
import type { AuditReport } from "./reconcile.js";

/**
 * A report, with the audit samples taken (`partproof auditor sample`), if any, and the on-chain
 * attestations of audited versions found in its block range, when they were looked for.
 */
export type ReportWithSamples = AuditReport & {
  samples?: AuditSample[];
  attestations?: FoundAttestation[];
};

/** Renders a report as Markdown. */
export function renderMarkdown(r: ReportWithSamples): string {
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
  if (r.samples && r.samples.length > 0) lines.push("", ...renderSamples(r.samples));
  if (r.attestations) lines.push("", ...renderAttestations(r.attestations));
  return lines.join("\n") + "\n";
}

/**
 * The section "Attestations on-chain": every AuditAttested event of the range. The contract
 * checked each one's seed (the hash of the block 5 after publication) and that t met its
 * minimum; the proofs are the attester's word, named by their digest.
 */
export function renderAttestations(found: readonly FoundAttestation[]): string[] {
  const lines = [
    "## Attestations on-chain",
    "",
    "Records that a version passed t audits (IAuditAttestations.attestAudit). The contract checked " +
      "that each seed is the hash of the block 5 blocks after the version's publication and that t " +
      "met its minimum; that the t proofs verified is the attester's claim, and the proofs digest " +
      "names the proofs it checked (the gateway keeps them per challenge: anyone can fetch them, " +
      "recompute the digest and verify them).",
    "",
  ];
  if (found.length === 0) return [...lines, "No version was attested in this block range."];
  lines.push(
    "| asset | version | attester | t | block | seed | proofs digest |",
    "|---|---|---|---|---|---|---|",
  );
  for (const a of found) {
    lines.push(
      `| ${a.assetId} | ${a.version} | ${a.attester} | ${a.t} | ${a.block} | ${a.seed} | ${a.proofsDigest} |`,
    );
  }
  return lines;
}

const pct = (f: number) => `${+(f * 100).toPrecision(3)}%`;
const prob = (p: number) => (p >= 0.001 ? p.toPrecision(3) : p.toExponential(2));

/**
 * The section "Audits by public randomness": each sampled version, its result and findings, the
 * bound (1 − f)^t in words with its table, and why a malformed subtree's harm is proportional to
 * its chance of being sampled.
 */
export function renderSamples(samples: readonly AuditSample[]): string[] {
  const lines = [
    "## Audits by public randomness",
    "",
    "A proof shows an answer is exact over the committed tree *given that the tree is well formed* " +
      "(keys sorted, each leaf's nextKey the next leaf's key, every node's count, sums and min/max " +
      "those of its children, the root's count the published record count). Each version below was " +
      "audited at t leaves drawn from the hash of the block 5 blocks after its publication — " +
      "randomness the gateway could not know when it built and published the tree — and the " +
      "auditor derived the draws itself. Each draw is a zero-knowledge AuditPath proof of one link " +
      "(a leaf and its successor) and of both root paths; it shows only the root, the leaf index, " +
      "the challenge and the record count.",
    "",
    "| asset | version | records | seed block | t | leaves opened | result |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const s of samples) {
    lines.push(
      `| ${s.assetId} | ${s.version} | ${s.recordCount} | ${s.seedBlock} | ${s.t} | ${s.distinct} | ${s.passed ? "passed" : `**failed** (${s.findings.length})`} |`,
    );
  }
  const failed = samples.filter((s) => !s.passed);
  if (failed.length > 0) {
    lines.push("", "| asset | version | check | leaf | detail |", "|---|---|---|---|---|");
    for (const s of failed) {
      for (const f of s.findings) {
        lines.push(`| ${s.assetId} | ${s.version} | ${f.check} | ${f.index ?? ""} | ${f.detail} |`);
      }
    }
  }
  const ts = [...new Set(samples.map((s) => s.t))].sort((a, b) => a - b);
  lines.push(
    "",
    "**The bound.** If a fraction f of a version's links were malformed (a record hidden behind a " +
      "fake sibling with count 0, a wrong nextKey, a sum or count that does not add up), each draw " +
      "would land on one with probability f, so a malformed tree survives t independent draws with " +
      "probability at most (1 − f)^t:",
    "",
    `| f (malformed fraction) | ${ts.map((t) => `survives t = ${t}`).join(" | ")} |`,
    `|---|${ts.map(() => "---").join("|")}|`,
    ...samples[0]!.bound.map(
      ({ f }) =>
        `| ${pct(f)} | ${ts.map((t) => prob(samples.find((s) => s.t === t)!.bound.find((b) => b.f === f)!.escape)).join(" | ")} |`,
    ),
    "",
    "**Why the harm is proportional to the chance of being caught.** A malformed node misleads only " +
      "the answers whose range crosses the records under it, and every link under it is a leaf " +
      "whose audit recomputes that node on its root path and fails. A node that hides or misplaces " +
      "a fraction f of the records therefore spoils at least a fraction f of the links, and is " +
      "sampled with probability 1 − (1 − f)^t: a malformation big enough to change many answers " +
      "is almost surely caught, and one that escapes with real probability can touch only a small " +
      "fraction of the records. (With a depth-d tree there are at most 2^d − 1 links; on a tree " +
      "with fewer links than t, the draws repeat leaves and the bound still holds per draw.)",
  );
  return lines;
}
