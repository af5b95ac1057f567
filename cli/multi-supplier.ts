/**
 * Several suppliers, one number: the automaker asks the same question of several suppliers'
 * gateways, each under its own grant, verifies every proof exactly as `automaker verify` does,
 * and pools the verified sums (total count, sum, pooled ratio). Each supplier's proof holds only
 * if its own cohort reaches its own grant's k (the circuit enforces it per proof).
 *
 * This is the plain combination: the automaker learns each supplier's sums too. The masked
 * mode, in which it would learn only the combined value, is designed (not built) in
 * circuits/README.md ("Several suppliers, one number").
 */
import type { Signer } from "ethers";
import type { JobView } from "../protocol/api.js";
import { GatewayRefusal } from "../protocol/client.js";
import {
  ask,
  failedChecks,
  verifyAnswer,
  waitJob,
  VerificationFailed,
  type AnswerCheck,
} from "./automaker.js";
import { UserError } from "./errors.js";
import {
  metricFits,
  pooledQuestions,
  pooledValue,
  type Metric,
  type MetricValue,
} from "./metrics.js";
import { assetSchema } from "./policy.js";
import type { Session } from "./session.js";

/** One supplier asked: its grant, asset and gateway. */
export interface SupplierTarget {
  grantId: bigint;
  assetId: bigint;
  /** The gateway asked: `GRANT@URL`, else the endpoint the asset registered on-chain. */
  gatewayUrl: string;
  /** The session on that gateway. */
  session: Session;
}

/**
 * Reads `--suppliers` items, each `GRANT` or `GRANT@URL`: the grant names the asset (on-chain),
 * the asset its gateway unless a URL is given. Every grant must be the signer's and on an asset
 * of the metric's schema.
 */
export async function resolveSuppliers(
  s: Session,
  specs: readonly string[],
  metric: Metric,
  consumer: string,
): Promise<SupplierTarget[]> {
  if (specs.length === 0) throw new UserError("--suppliers needs at least one grant id");
  const seen = new Set<string>();
  const out: SupplierTarget[] = [];
  for (const spec of specs) {
    const m = /^(\d+)(?:@(.+))?$/.exec(spec.trim());
    if (!m) {
      throw new UserError(
        `--suppliers: "${spec}" is not a grant id (GRANT or GRANT@https://gateway)`,
      );
    }
    const grantId = BigInt(m[1]!);
    if (seen.has(grantId.toString())) throw new UserError(`--suppliers: grant ${grantId} twice`);
    seen.add(grantId.toString());
    const grant = await s.reader.getGrant(grantId);
    if (!grant) throw new UserError(`--suppliers: grant ${grantId} does not exist on-chain`);
    if (grant.consumer.toLowerCase() !== consumer.toLowerCase()) {
      throw new UserError(
        `--suppliers: grant ${grantId} is not yours (consumer ${grant.consumer})`,
      );
    }
    const asset = await s.reader.getAsset(grant.assetId);
    if (!asset) throw new UserError(`--suppliers: asset ${grant.assetId} is not registered`);
    const gatewayUrl = (m[2] ?? asset.endpoint).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(gatewayUrl)) {
      throw new UserError(
        `--suppliers: grant ${grantId}'s asset names no http(s) gateway ("${asset.endpoint}"); give GRANT@URL`,
      );
    }
    const session: Session = { ...s, gatewayUrl };
    const schema = await assetSchema(session, grant.assetId);
    if (!metricFits(metric, schema)) {
      throw new UserError(
        `--suppliers: grant ${grantId} is on a ${schema.name} asset; ${metric.name} reads ${metric.schema} assets`,
      );
    }
    out.push({ grantId, assetId: grant.assetId, gatewayUrl, session });
  }
  return out;
}

/** The question's window: a part, optionally a plant and a date window. */
export interface Window {
  partNumber: string;
  plant?: string;
  from?: string;
  to?: string;
}

/** One supplier's verified part of a pooled answer. */
export interface SupplierPart {
  target: SupplierTarget;
  /** The field summed → its verified job. */
  jobs: Record<string, JobView>;
  checks: Record<string, AnswerCheck>;
  sums: Record<string, bigint>;
  count: bigint;
}

/** A pooled answer: the combined value and each supplier's verified part. */
export interface PooledAnswer {
  value: MetricValue;
  parts: SupplierPart[];
}

/**
 * Asks every supplier the sums `metric` pools (all proofs in flight at once), verifies every
 * answer, and pools them. A refusal by any supplier (e.g. its cohort is below its k) refuses the
 * whole question with that supplier named; a failed check throws VerificationFailed.
 */
export async function askPooled(
  consumer: Signer,
  metric: Metric,
  targets: readonly SupplierTarget[],
  window: Window,
  onProgress: (line: string) => void = () => {},
): Promise<PooledAnswer> {
  const fields = pooledQuestions(metric);
  // Sent one after the other (each POST returns at once; the proofs then run concurrently at
  // every gateway): a refusal stops before the later suppliers are asked and charged.
  const asked: { t: SupplierTarget; field: string; job: { jobId: string } }[] = [];
  for (const t of targets) {
    const schema = await assetSchema(t.session, t.assetId);
    for (const field of fields) {
      try {
        const job = await ask(t.session, consumer, schema, {
          grantId: t.grantId,
          assetId: t.assetId,
          versionId: 0n,
          aggregate: "sum",
          fieldA: field,
          ...window,
        });
        asked.push({ t, field, job });
      } catch (e) {
        if (e instanceof GatewayRefusal) {
          const sent = asked.length
            ? ` (${asked.length} earlier questions were accepted and will be logged)`
            : "";
          throw new UserError(
            `grant ${t.grantId} (${t.gatewayUrl}) refused SUM(${field}): ${e.code} — ${e.reason}${sent}`,
          );
        }
        throw e;
      }
    }
  }
  onProgress(`${asked.length} proofs in flight at ${targets.length} gateways …`);
  // proofs run concurrently at the gateways; jobs are followed one at a time (rate limits)
  const done: { t: SupplierTarget; field: string; job: JobView; check: AnswerCheck }[] = [];
  for (const a of asked) {
    const job = await waitJob(a.t.session, a.job.jobId);
    const check = await verifyAnswer(a.t.session, job);
    onProgress(`  grant ${a.t.grantId}: SUM(${a.field}) proved, logged and verified`);
    done.push({ ...a, job, check });
  }
  const parts: SupplierPart[] = targets.map((target) => {
    const mine = done.filter((d) => d.t === target);
    const part: SupplierPart = { target, jobs: {}, checks: {}, sums: {}, count: 0n };
    for (const d of mine) {
      const failed = failedChecks(d.check);
      if (failed.length > 0) throw new VerificationFailed(d.job.jobId, failed);
      part.jobs[d.field] = d.job;
      part.checks[d.field] = d.check;
      part.sums[d.field] = BigInt(d.job.answer!.resultValue);
      const count = BigInt(d.job.answer!.resultAux);
      if (d !== mine[0] && (count !== part.count || d.job.versionId !== mine[0]!.job.versionId)) {
        throw new UserError(
          `grant ${target.grantId}: the sums were proved over different versions or records (${part.count} and ${count}); ask again`,
        );
      }
      part.count = count;
    }
    return part;
  });
  return { value: pooledValue(metric, parts), parts };
}
