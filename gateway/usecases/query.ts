/**
 * Query use-cases: accept a consumer's signed query (signature, deadline, grant on-chain,
 * policy, k, nonce — in that order; a refusal writes nothing), prove it in the worker pool,
 * and store the answer with its outbox entry.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import {
  circuitId,
  AggregateKind,
  bindingOf,
  FIELD_MODULUS,
  type Policy,
} from "../../circuits/lib/signals.js";
import {
  matchesPredicates,
  PredicateOp,
  type Predicate,
  type Query,
} from "../../circuits/lib/query.js";
import { scanWindow } from "../../circuits/lib/witness.js";
import {
  answerConsentOf,
  recoverAnswerConsentSigner,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import { recoverQuerySigner } from "../auth.js";
import { GrantStatus, versionIdOf } from "../chain.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import type { Job } from "../store/index.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import type { QueryBody } from "../../protocol/api.js";

/** Recovers the signer of a query body (used before rate limiting, keyed by signer). */
export function querySigner(ctx: GatewayContext, body: QueryBody): string {
  return recoverQuerySigner(ctx.domain, body.query as unknown as QueryMessage, body.signature);
}

function isBit(mask: number, bit: number): boolean {
  return ((mask >>> bit) & 1) === 1;
}

/** A packed predicate slot (field + 4·op + 16·value) read back; 0 is an unused slot. */
export function unpackPredicate(x: bigint): Predicate {
  const p = { field: Number(x & 3n), op: Number((x >> 2n) & 3n) as PredicateOp, value: x >> 4n };
  if (p.value > (1n << 64n) - 1n) {
    throw new AppError(
      422,
      "UNSUPPORTED_QUERY",
      "a predicate's value must be an unsigned 64-bit integer",
    );
  }
  return p;
}

/**
 * Records with lo <= key <= hi (in key-sorted records) that match the predicates: their count
 * and field sums, and the leaf indexes bounding the range (a = last leaf below it, l = last
 * leaf in it; leaf i holds record i − 1).
 */
export function rangeStats(
  records: readonly MappedRecord[],
  lo: bigint,
  hi: bigint,
  predicates: readonly Predicate[] = [],
): { count: number; sums: bigint[]; a: number; l: number } {
  const lowerBound = (k: bigint) => {
    let a = 0;
    let b = records.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (records[mid]!.key < k) a = mid + 1;
      else b = mid;
    }
    return a;
  };
  const a = lowerBound(lo);
  const b = lowerBound(hi + 1n);
  const sums = [0n, 0n, 0n, 0n];
  const q = { kind: 0, fieldA: 0, fieldB: 0, lo, hi, threshold: 0n, nonce: 0n, predicates };
  let count = 0;
  for (let i = a; i < b; i++) {
    if (!matchesPredicates(q, records[i]!.values)) continue;
    count += 1;
    for (let f = 0; f < 4; f++) sums[f]! += records[i]!.values[f]!;
  }
  return { count, sums, a, l: b };
}

function checkPolicy(policy: Policy, q: QueryBody["query"], minMaxField: number): void {
  if (!isBit(policy.aggregateMask, q.kind)) {
    throw new AppError(
      403,
      "POLICY_VIOLATION",
      `the grant does not allow aggregate kind ${q.kind}`,
    );
  }
  if (q.kind !== AggregateKind.Count && !isBit(policy.fieldMask, q.fieldA)) {
    throw new AppError(
      403,
      "POLICY_VIOLATION",
      `the grant does not allow aggregating field ${q.fieldA}`,
    );
  }
  const ratio = q.kind === AggregateKind.RatioPpm || q.kind === AggregateKind.ThresholdPpm;
  if (ratio && !isBit(policy.fieldMask, q.fieldB)) {
    throw new AppError(403, "POLICY_VIOLATION", `the grant does not allow field ${q.fieldB}`);
  }
  if (q.lo < policy.keyLo || q.hi > policy.keyHi) {
    throw new AppError(403, "POLICY_VIOLATION", "the key range lies outside the grant's key range");
  }
  if ((q.kind === AggregateKind.Min || q.kind === AggregateKind.Max) && q.fieldA !== minMaxField) {
    throw new AppError(422, "UNSUPPORTED_QUERY", `MIN/MAX are proved on field ${minMaxField} only`);
  }
  if (q.lo < 1n || q.hi < q.lo || q.hi >= (1n << 128n) - 1n) {
    throw new AppError(
      422,
      "UNSUPPORTED_QUERY",
      "the key range must satisfy 1 <= lo <= hi <= 2^128 - 2",
    );
  }
}

/**
 * The query's AnswerConsent signature, checked to be the signer's over this query (the access
 * log refuses the answer without it, so the gateway does not prove one it cannot log).
 */
function checkConsent(ctx: GatewayContext, body: QueryBody, signer: string): string {
  if (!body.consent) {
    throw new AppError(
      400,
      "VALIDATION_FAILED",
      "consent: the consumer's AnswerConsent signature is required to log the answer on-chain",
    );
  }
  let consentSigner: string | undefined;
  try {
    const msg = answerConsentOf(body.query as unknown as QueryMessage);
    consentSigner = recoverAnswerConsentSigner(ctx.domain, msg, body.consent);
  } catch {
    consentSigner = undefined;
  }
  if (consentSigner?.toLowerCase() !== signer.toLowerCase()) {
    throw new AppError(
      401,
      "BAD_SIGNATURE",
      "consent: not the query signer's AnswerConsent for this grant, request id, version and query",
    );
  }
  return body.consent;
}

/**
 * Checks a signed query and, if everything holds, stores it (nonce, request id, job) in one
 * batch and queues its proof. Returns the job. Refusals throw AppError and write nothing.
 */
export async function submitQuery(
  ctx: GatewayContext,
  body: QueryBody,
  signer: string,
): Promise<Job> {
  const q = body.query;
  const now = Math.floor(Date.now() / 1000);
  if (q.deadline < BigInt(now)) {
    throw new AppError(
      401,
      "DEADLINE_EXPIRED",
      "the query's deadline has passed; sign a new query",
    );
  }
  const grant = await ctx.chain.getGrant(q.grantId);
  if (
    !grant ||
    grant.consumer.toLowerCase() !== signer.toLowerCase() ||
    grant.assetId !== q.assetId
  ) {
    throw new AppError(
      403,
      "NO_GRANT",
      `grant ${q.grantId} does not let the signer query asset ${q.assetId}`,
    );
  }
  const consent = checkConsent(ctx, body, signer);
  if (grant.status === GrantStatus.Revoked) {
    throw new AppError(403, "GRANT_REVOKED", `grant ${q.grantId} has been revoked`);
  }
  if (grant.status !== GrantStatus.Active) {
    throw new AppError(403, "NO_GRANT", `grant ${q.grantId} is not active`);
  }
  const chainNow = await ctx.chain.now();
  if (chainNow > grant.validUntil) {
    throw new AppError(403, "GRANT_EXPIRED", `grant ${q.grantId} expired`);
  }
  if (chainNow < grant.validFrom) {
    throw new AppError(403, "GRANT_NOT_YET_VALID", `grant ${q.grantId} is not valid yet`);
  }
  const asset = await ctx.chain.getAsset(q.assetId);
  if (!asset)
    throw new AppError(404, "UNKNOWN_ASSET", `asset ${q.assetId} is not registered on-chain`);
  if (asset.retired) throw new AppError(409, "ASSET_RETIRED", `asset ${q.assetId} is retired`);
  const policy = await ctx.chain.getGrantPolicy(q.grantId);
  const m = ctx.config.circuit.minMaxField;
  checkPolicy(policy, q, m);
  const predicates = (q.predicates ?? []).filter((x) => x !== 0n).map(unpackPredicate);
  const scan = predicates.length > 0;
  for (const p of predicates) {
    if (!isBit(policy.filterMask, p.field)) {
      throw new AppError(
        403,
        "POLICY_VIOLATION",
        `the grant does not allow filters on field ${p.field}`,
      );
    }
  }
  const scanCircuit = ctx.config.scanCircuit;
  if (scan && !scanCircuit) {
    throw new AppError(422, "UNSUPPORTED_QUERY", "this gateway answers no queries with predicates");
  }

  let versionId = q.versionId;
  if (versionId === 0n) {
    if (asset.versionCount === 0) {
      throw new AppError(404, "UNKNOWN_VERSION", `asset ${q.assetId} has no published version`);
    }
    versionId = versionIdOf(q.assetId, asset.versionCount);
  }
  if (versionId >> 64n !== q.assetId) {
    throw new AppError(
      404,
      "UNKNOWN_VERSION",
      `version ${versionId} is not a version of asset ${q.assetId}`,
    );
  }
  const chainVersion = await ctx.chain.getVersion(versionId);
  if (!chainVersion)
    throw new AppError(404, "UNKNOWN_VERSION", `version ${versionId} is not published`);
  const local = await ctx.store.getVersionByRoot(chainVersion.root);
  if (!local || local.assetId !== q.assetId.toString()) {
    throw new AppError(
      409,
      "VERSION_NOT_AVAILABLE",
      `this gateway holds no records for version ${versionId}`,
    );
  }
  if (local.depth !== ctx.config.circuit.depth) {
    throw new AppError(
      409,
      "VERSION_NOT_AVAILABLE",
      `version ${versionId} was built for another circuit depth`,
    );
  }

  const stats = rangeStats(ctx.records.get(local), q.lo, q.hi, predicates);
  if (scan) {
    try {
      scanWindow(local.depth, scanCircuit!.h, stats.a, stats.l);
    } catch {
      throw new AppError(
        422,
        "UNSUPPORTED_QUERY",
        `a query with predicates must cover at most ${2 * 2 ** scanCircuit!.h - 1} consecutive records (one scan window); narrow the key range`,
      );
    }
  }
  if (stats.count < Math.max(1, policy.minCohort)) {
    throw new AppError(
      422,
      "COHORT_BELOW_K",
      `the range holds fewer records than the grant's minimum cohort (k = ${policy.minCohort})`,
    );
  }
  if (
    (q.kind === AggregateKind.RatioPpm || q.kind === AggregateKind.ThresholdPpm) &&
    stats.sums[q.fieldB] === 0n
  ) {
    throw new AppError(422, "UNSUPPORTED_QUERY", "the ratio's denominator is zero over this range");
  }

  const binding = bindingOf(
    ctx.domain.chainId,
    ctx.domain.partProof,
    q.grantId,
    signer,
    q.requestId,
  );
  const blind = BigInt("0x" + randomBytes(32).toString("hex")) % FIELD_MODULUS;
  const job: Job = {
    id: randomUUID(),
    status: "queued",
    requestId: q.requestId,
    consumer: signer,
    grantId: q.grantId.toString(),
    assetId: q.assetId.toString(),
    versionId: versionId.toString(),
    root: chainVersion.root.toString(),
    circuit: scan ? scanCircuit!.name : ctx.config.circuit.name,
    cohort: stats.count,
    query: {
      kind: q.kind,
      fieldA: q.fieldA,
      fieldB: q.fieldB,
      lo: q.lo.toString(),
      hi: q.hi.toString(),
      threshold: q.threshold.toString(),
      nonce: q.nonce.toString(),
      deadline: q.deadline.toString(),
      predicates: [0, 1, 2].map((i) => (q.predicates?.[i] ?? 0n).toString()).join(","),
    },
    policy: {
      aggregateMask: policy.aggregateMask,
      fieldMask: policy.fieldMask,
      filterMask: policy.filterMask,
      minCohort: policy.minCohort,
      keyLo: policy.keyLo.toString(),
      keyHi: policy.keyHi.toString(),
    },
    binding: binding.toString(),
    blind: blind.toString(),
    consent: { versionId: q.versionId.toString(), signature: consent },
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };

  // One critical section for every acceptance: nonce, request id and quota are checked and
  // the job stored without another acceptance in between (so two copies, two requests with
  // one id, or two queries racing for the last unit of quota cannot both pass).
  await ctx.locks.run("accept", async () => {
    const inflight = (await ctx.store.jobsWithStatus("queued", "proving", "proved")).filter(
      (j) => j.grantId === q.grantId.toString(),
    ).length;
    if (grant.used + inflight >= grant.quota) {
      throw new AppError(403, "QUOTA_EXCEEDED", `grant ${q.grantId} has no quota left`);
    }
    if (await ctx.store.isNonceUsed(signer, q.nonce)) {
      throw new AppError(409, "NONCE_REUSED", `nonce ${q.nonce} was already used by this signer`);
    }
    if (
      (await ctx.store.jobOfRequest(q.requestId)) ||
      (await ctx.chain.isRequestLogged(q.grantId, q.requestId))
    ) {
      throw new AppError(409, "REQUEST_REUSED", `request id ${q.requestId} was already answered`);
    }
    await ctx.store.acceptQuery(job, q.nonce);
  });
  track(ctx, runJob(ctx, job));
  return job;
}

/** The circuit-side Query of a stored job. */
export function jobQuery(job: Job): Query {
  return {
    kind: Number(job.query.kind) as AggregateKind,
    fieldA: Number(job.query.fieldA),
    fieldB: Number(job.query.fieldB),
    lo: BigInt(job.query.lo!),
    hi: BigInt(job.query.hi!),
    threshold: BigInt(job.query.threshold!),
    nonce: BigInt(job.query.nonce!),
    predicates: String(job.query.predicates ?? "")
      .split(",")
      .filter((x) => x !== "" && x !== "0")
      .map((x) => unpackPredicate(BigInt(x))),
  };
}

/** The stored policy of a job. */
export function jobPolicy(job: Job): Policy {
  return {
    aggregateMask: Number(job.policy.aggregateMask),
    fieldMask: Number(job.policy.fieldMask),
    filterMask: Number(job.policy.filterMask),
    minCohort: Number(job.policy.minCohort),
    keyLo: BigInt(job.policy.keyLo!),
    keyHi: BigInt(job.policy.keyHi!),
  };
}

/**
 * Proves a queued job in the worker pool, then stores the answer with its outbox entry in one
 * batch and wakes the relayer. Failures mark the job failed (no record data in the error).
 */
export async function runJob(ctx: GatewayContext, job: Job): Promise<void> {
  try {
    await ctx.store.updateJob(job.id, { status: "proving" });
    const version = await ctx.store.getVersionByRoot(job.root);
    if (!version)
      throw new AppError(409, "VERSION_NOT_AVAILABLE", "the version's records are gone");
    const result = await ctx.pool.prove({
      root: job.root,
      records: version.records,
      salts: version.salts,
      depth: version.depth,
      minMaxField: ctx.config.circuit.minMaxField,
      query: job.query,
      policy: job.policy,
      blind: job.blind,
      binding: job.binding,
      ...(ctx.config.scanCircuit && job.circuit === ctx.config.scanCircuit.name
        ? { scan: { h: ctx.config.scanCircuit.h } }
        : {}),
    });
    ctx.metrics.provingSeconds.observe(result.ms / 1000);
    await ctx.store.storeProved(
      job.id,
      {
        answer: result.answer,
        proof: result.proof,
        publicSignals: result.publicSignals,
        provingMs: Math.round(result.ms),
      },
      {
        requestId: job.requestId,
        jobId: job.id,
        attempts: 0,
        nextAttemptAt: 0,
        createdAt: Date.now(),
      },
    );
    ctx.metrics.queries.inc({ status: "proved" });
    ctx.log.info(
      { jobId: job.id, requestId: job.requestId, ms: Math.round(result.ms) },
      "answer proved",
    );
    ctx.kickRelayer();
  } catch (e) {
    if ((e as Error)?.message === "prover pool closed") return; // shutting down: resumes on restart
    const code = e instanceof AppError ? e.code : "INTERNAL";
    ctx.metrics.queries.inc({ status: "failed" });
    ctx.log.error({ jobId: job.id, code }, "proving failed");
    await ctx.store
      .updateJob(job.id, {
        status: "failed",
        error: { code, message: "the answer could not be proved" },
      })
      .catch(() => undefined);
  }
}

/** Re-queues jobs that were accepted or proving when the gateway stopped. */
export async function resumeJobs(ctx: GatewayContext): Promise<number> {
  const jobs = await ctx.store.jobsWithStatus("queued", "proving");
  for (const j of jobs) track(ctx, runJob(ctx, j));
  return jobs.length;
}

function track(ctx: GatewayContext, p: Promise<void>): void {
  ctx.inflight.add(p);
  void p.finally(() => ctx.inflight.delete(p));
}

/** keccak256(bytes(name)) of the configured circuit. */
export function configuredCircuitId(ctx: GatewayContext): string {
  return circuitId(ctx.config.circuit.name);
}
