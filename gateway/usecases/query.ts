/**
 * Query use-cases: accept a consumer's signed query after the checks of `query-checks.ts` (the
 * contract's own checks, in order; a refusal writes nothing), prove it in the worker pool, and
 * store the answer with its outbox entry.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { bindingOf, FIELD_MODULUS, type Policy } from "../../circuits/lib/signals.js";
import type { QueryBody } from "../../protocol/api.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import { recoverQuerySigner } from "../auth.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { scanWindow } from "../../circuits/lib/witness.js";
import type { Job, StoredVersion } from "../store/index.js";
import { circuitQuery, storePolicy, storeQuery } from "../store/job-codec.js";
import { loadTreeSlice, type TreeSlice } from "../store/tree-levels.js";
import { liveAsset, ownerGasLeft } from "./assets.js";
import {
  acceptAtomically,
  allowedByPolicy,
  checkDeadline,
  cohortOf,
  consentOf,
  differencingOf,
  keepAnswered,
  linkedAddresses,
  schemaCohortsGranted,
  servedVersion,
  usableGrant,
  type ServedVersion,
  type SignedQuery,
} from "./query-checks.js";

/** Recovers the signer of a query body (used before rate limiting, keyed by signer). */
export function querySigner(ctx: GatewayContext, body: QueryBody): string {
  return recoverQuerySigner(ctx.domain, body.query as unknown as QueryMessage, body.signature);
}

/**
 * Checks a signed query step by step (`query-checks.ts`) and, if everything holds, stores it
 * (nonce, request id, job) in one batch, after its record set for the differencing guard, and
 * queues its proof. Returns the job. Refusals throw AppError; only the data-dependent ones
 * (cohort, differencing) write anything: the charged refusal.
 */
export async function submitQuery(
  ctx: GatewayContext,
  body: QueryBody,
  signer: string,
): Promise<Job> {
  const q = body.query;
  checkDeadline(q);
  const grant = await usableGrant(ctx, q, signer);
  const consent = consentOf(ctx, body, signer);
  const asset = await liveAsset(ctx, q.assetId);
  await ownerGasLeft(ctx, asset); // the answer's log entry is relayed gas of the owner
  const policy = await ctx.chain.getGrantPolicy(q.grantId);
  const predicates = allowedByPolicy(ctx, policy, q);
  schemaCohortsGranted(policy, q, asset.schemaId);
  const version = await servedVersion(ctx, q, asset);
  const linked = await linkedAddresses(ctx, signer);
  // quota, refusal budget, nonce and request id first; then the data (a refusal is charged)
  const job = await acceptAtomically(ctx, q, signer, grant, version.versionId, async () => {
    const cohort = await cohortOf(ctx, q, policy, version.local, predicates);
    const answered = await differencingOf(ctx, q, policy, version, predicates, linked);
    const job = newJob(ctx, q, signer, {
      version,
      policy,
      cohort,
      scan: predicates.length > 0,
      consent,
    });
    await keepAnswered(ctx, q, signer, job.id, answered); // before the job: a crash only adds
    return job;
  });
  track(ctx, runJob(ctx, job));
  return job;
}

/** A queued job for a checked query: its binding to grant, consumer and request, and a blind. */
function newJob(
  ctx: GatewayContext,
  q: SignedQuery,
  signer: string,
  at: { version: ServedVersion; policy: Policy; cohort: number; scan: boolean; consent: string },
): Job {
  const binding = bindingOf(
    ctx.domain.chainId,
    ctx.domain.partProof,
    q.grantId,
    signer,
    q.requestId,
  );
  const blind = BigInt("0x" + randomBytes(32).toString("hex")) % FIELD_MODULUS;
  return {
    id: randomUUID(),
    status: "queued",
    requestId: q.requestId,
    consumer: signer,
    grantId: q.grantId.toString(),
    assetId: q.assetId.toString(),
    versionId: at.version.versionId.toString(),
    root: at.version.root.toString(),
    circuit: at.scan ? ctx.config.scanCircuit!.name : ctx.config.circuit.name,
    cohort: at.cohort,
    query: storeQuery(q),
    policy: storePolicy(at.policy),
    binding: binding.toString(),
    blind: blind.toString(),
    consent: { versionId: q.versionId.toString(), signature: at.consent },
    createdAt: Date.now(),
    updatedAt: Date.now(),
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
    if (!version) throw new AppError("VERSION_NOT_AVAILABLE", "the version's records are gone");
    const result = await ctx.pool.prove({
      root: job.root,
      ...(await jobTree(ctx, version, job)),
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
        provingSteps: {
          treeMs: Math.round(result.steps.treeMs),
          witnessMs: Math.round(result.steps.witnessMs),
          proveMs: Math.round(result.steps.proveMs),
        },
      },
      {
        grantId: job.grantId,
        requestId: job.requestId,
        jobId: job.id,
        attempts: 0,
        nextAttemptAt: 0,
        createdAt: Date.now(),
      },
    );
    ctx.metrics.queries.inc({ status: "proved" });
    ctx.log.info({ requestId: job.requestId, ms: Math.round(result.ms) }, "answer proved");
    ctx.kickRelayer();
  } catch (e) {
    if ((e as Error)?.message === "prover pool closed") return; // shutting down: resumes on restart
    const code = e instanceof AppError ? e.code : "INTERNAL";
    ctx.metrics.queries.inc({ status: "failed" });
    ctx.log.error({ requestId: job.requestId, code, err: e }, "proving failed");
    await ctx.store
      .updateJob(job.id, {
        status: "failed",
        error: { code, message: "the answer could not be proved" },
      })
      .catch(() => undefined);
  }
}

/**
 * What the prover reads of the version's tree for `job`: the slice its witness needs (the
 * boundary leaves of the range, or its scan window, with their paths) from the stored levels,
 * or, for a version stored without levels, every row (the worker rebuilds the tree).
 */
async function jobTree(
  ctx: GatewayContext,
  version: StoredVersion,
  job: Job,
): Promise<{ slice: TreeSlice } | { rows: Uint8Array }> {
  if (version.treeLevelsFrom === undefined) return { rows: await ctx.store.versionRows(version) };
  const q = circuitQuery(job.query);
  const a = await ctx.store.leafBelow(version, q.lo);
  const l = await ctx.store.leafBelow(version, q.hi + 1n);
  const leaves = [a, l];
  const scan = ctx.config.scanCircuit;
  if (scan && job.circuit === scan.name) {
    try {
      const first = scanWindow(version.depth, scan.h, a, l) * 2 ** scan.h;
      for (let i = 0; i < 2 * 2 ** scan.h; i++) leaves.push(first + i);
    } catch {
      // the range does not fit a window: the witness refuses it with the same error
    }
  }
  const m = ctx.config.circuit.minMaxField;
  const shape = { ...version, treeLevelsFrom: version.treeLevelsFrom };
  return { slice: await loadTreeSlice(shape, m, leaves, ctx.store.treeSource(version)) };
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
