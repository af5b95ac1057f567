/**
 * How the CLI (and the demo) say things: an answer and its verification in plain words, an
 * audit in one summary, and JSON with big integers as decimal strings.
 */
import type { JobView } from "../protocol/api.js";
import type { AnswerCheck } from "./automaker.js";
import type { AuditReport } from "./reconcile.js";

/** JSON.stringify replacer that writes bigints as decimal strings. */
export const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** A value as indented JSON, bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2);
}

/** One line describing an answer in plain words. */
export function describeAnswer(job: JobView, aggregate: string): string {
  const v = job.answer?.resultValue ?? "?";
  const aux = job.answer?.resultAux ?? "?";
  switch (aggregate.toLowerCase()) {
    case "count":
      return `answer: ${v} records`;
    case "sum":
      return `answer: sum ${v} over ${aux} records`;
    case "avg":
      return `answer: average ${Number(aux) > 0 ? (Number(v) / Number(aux)).toFixed(3) : "n/a"} (${v} / ${aux} records)`;
    case "min":
    case "max":
      return `answer: ${aggregate} ${v} over ${aux} records`;
    case "ratio":
      return `answer: ${v} PPM`;
    case "threshold":
      return `answer: ${v === "1" ? "yes" : "no"} (only this bit is revealed)`;
    default:
      return `answer: ${v} (${aux})`;
  }
}

/** One line describing what was verified. */
export function describeCheck(c: AnswerCheck): string {
  const mark = (b: boolean) => (b ? "ok" : "FAILED");
  return `verified: proof ${mark(c.proofValid)}, answer opens the commitment ${mark(c.commitmentOpens)}, root on-chain ${mark(c.rootRegistered)}, logged ${mark(c.loggedOnChain && c.logMatches)}`;
}

/** The first line of an audit's summary: what was read and what was found. */
export function describeAudit(r: AuditReport): string {
  return `${r.counts.logEntries} log entries, ${r.counts.proofsVerified} proofs re-verified, ${r.counts.anomalies} anomalies`;
}

/** Whether an answer's version is attested on-chain, in one line (`automaker verify`, `query`). */
export function describeAttestation(a: {
  versionId: string;
  attested: boolean;
  minT: number;
  attestations: readonly { attester: string; t: number; attestedBlock: number }[];
}): string {
  const v = BigInt(a.versionId);
  const which = `version ${v & 0xffffffffffffffffn} of asset ${v >> 64n}`;
  if (a.attestations.length === 0) {
    return `${which}: not attested (no on-chain record of audits by public randomness; \`auditor sample --attest\` records one)`;
  }
  const by = a.attestations
    .map(
      (x) =>
        `${x.attester} (t = ${x.t}${x.t < a.minT ? `, below today's minimum ${a.minT}` : ""}, block ${x.attestedBlock})`,
    )
    .join(", ");
  return `${which}: ${a.attested ? "attested" : "attested only below the minimum t"} by ${by}`;
}
