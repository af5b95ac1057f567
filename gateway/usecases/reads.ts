/**
 * Reads for the other roles: the asset catalogue (chain + schema description), an owner's own
 * records (owner-signed), a consumer's own answers (consumer-signed), one job (by its id), and
 * the auditor's export of served answers (public signals and proofs, no results or blinds).
 */
import { circuitId } from "../../circuits/lib/signals.js";
import { verifyRead } from "../auth.js";
import { assetCount, versionIdOf } from "../chain.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { registeredAsset } from "./assets.js";
import { describeSchema, findSchema, unpackKey } from "../../protocol/records/index.js";
import type { Job } from "../store/index.js";
import { readRow, rowCount } from "../store/rows.js";
import { describeVersion } from "./ingest.js";
import { sessionView } from "./uploads.js";

/** One asset as the catalogue shows it. */
export async function describeAsset(ctx: GatewayContext, assetId: bigint) {
  const asset = await registeredAsset(ctx, assetId);
  const schema = findSchema(asset.schemaId);
  const local = await ctx.store.listVersions(assetId.toString());
  const published = [];
  for (let n = 1; n <= asset.versionCount; n++) {
    const id = versionIdOf(assetId, n);
    const v = await ctx.chain.getVersion(id);
    if (!v) continue;
    const here = local.find((l) => l.root === v.root.toString());
    // the chain's attestations of the version, as a convenience: consumers read them from the
    // chain themselves (`automaker assets`, `verify`)
    const audits = await ctx.chain.versionAttestations(id);
    published.push({
      versionId: id.toString(),
      number: n,
      root: v.root.toString(),
      recordCount: v.recordCount.toString(),
      treeDepth: v.treeDepth,
      publishedAt: new Date(v.publishedAt * 1000).toISOString(),
      servedHere: here !== undefined,
      localId: here?.localId,
      attestations: (audits?.attestations ?? []).map((a) => ({
        attester: a.attester,
        t: a.t,
        attestedBlock: a.attestedBlock,
      })),
    });
  }
  return {
    assetId: assetId.toString(),
    owner: asset.owner,
    schemaId: asset.schemaId,
    endpoint: asset.endpoint,
    retired: asset.retired,
    schema: schema ? describeSchema(schema) : null,
    circuit: {
      name: ctx.config.circuit.name,
      circuitId: circuitId(ctx.config.circuit.name),
      depth: ctx.config.circuit.depth,
      minMaxField: ctx.config.circuit.minMaxField,
    },
    // local versions that are not published, and every batchHash, are the owner's to see
    versions: published,
  };
}

/** Every registered asset whose schema this gateway serves. */
export async function catalogue(ctx: GatewayContext) {
  const n = await assetCount(ctx.chain);
  const out = [];
  for (let id = 1; id <= n; id++) {
    const a = await ctx.chain.getAsset(BigInt(id));
    if (!a || !findSchema(a.schemaId)) continue;
    out.push({
      assetId: String(id),
      owner: a.owner,
      schemaId: a.schemaId,
      endpoint: a.endpoint,
      retired: a.retired,
      versionCount: a.versionCount,
    });
  }
  return { assets: out };
}

/** A signed read's proof of identity (headers). */
export interface ReadAuth {
  /** Unix seconds. */
  timestamp: bigint;
  /** EIP-712 Read signature. */
  signature: string;
  /** The gateway id the client says it signed for, if it says. */
  gateway?: string;
}

/** Checks a signed read of `account` for `action` on `assetId` at this gateway. */
function checkRead(
  ctx: GatewayContext,
  account: string,
  action: string,
  assetId: bigint,
  auth: ReadAuth,
): void {
  verifyRead(
    ctx.domain,
    { account, action, assetId, gateway: ctx.gatewayId, timestamp: auth.timestamp },
    auth.signature,
    { maxAgeSec: ctx.config.readMaxAgeSec, skewSec: ctx.config.clockSkewSec },
    auth.gateway,
  );
}

/** Records per page of the owner's records when the read names no limit. */
export const RECORDS_PAGE_DEFAULT = 1000;
/** The largest page of the owner's records. */
export const RECORDS_PAGE_MAX = 10_000;

/**
 * The owner's local versions, newest last, each with its record count and what it changed
 * (no records). Owner-signed (action "records").
 */
export async function ownerVersions(ctx: GatewayContext, assetId: bigint, auth: ReadAuth) {
  const asset = await registeredAsset(ctx, assetId);
  checkRead(ctx, asset.owner, "records", assetId, auth);
  const m = ctx.config.circuit.minMaxField;
  return {
    versions: (await ctx.store.listVersions(assetId.toString())).map((v) => describeVersion(v, m)),
  };
}

/** An upload session of the owner's, for its signed read (action "uploads"). */
export async function ownerSession(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  auth: ReadAuth,
) {
  const asset = await registeredAsset(ctx, assetId);
  checkRead(ctx, asset.owner, "uploads", assetId, auth);
  const s = await ctx.store.getSession(assetId.toString(), sessionId);
  if (!s) {
    throw new AppError("UNKNOWN_UPLOAD", `no upload session ${sessionId} for asset ${assetId}`);
  }
  return sessionView(ctx, s);
}

/** A page of the owner's own records of a local version (no salts). Owner-signed. */
export async function ownerRecords(
  ctx: GatewayContext,
  assetId: bigint,
  localId: number | undefined,
  auth: ReadAuth,
  page: { offset?: number; limit?: number } = {},
) {
  const asset = await registeredAsset(ctx, assetId);
  checkRead(ctx, asset.owner, "records", assetId, auth);
  const key = assetId.toString();
  const v =
    localId === undefined
      ? await ctx.store.latestVersion(key)
      : await ctx.store.getVersion(key, localId);
  if (!v) throw new AppError("UNKNOWN_VERSION", `no local version of asset ${assetId} matches`);
  const schema = findSchema(v.schemaId);
  const names = schema?.fields ?? ["v0", "v1", "v2", "v3"];
  const offset = page.offset ?? 0;
  const limit = Math.min(page.limit ?? RECORDS_PAGE_DEFAULT, RECORDS_PAGE_MAX);
  // only the chunks of rows of this page are read
  const rows = await ctx.store.versionRows(v, offset, offset + limit);
  const records = [];
  for (let i = 0; i < rowCount(rows); i++) {
    const r = readRow(rows, i);
    const k = unpackKey(r.key);
    records.push({
      key: r.key.toString(),
      partCode: k.part.toString(),
      plantCode: k.plant.toString(),
      day: k.day,
      values: Object.fromEntries(names.map((n, f) => [n, r.values[f]!.toString()])),
    });
  }
  return {
    version: describeVersion(v, ctx.config.circuit.minMaxField),
    records,
    page: { offset, limit, total: v.recordCount },
  };
}

/**
 * What a consumer (or the holder of a job id) sees of a job. The answer and its blind leave the
 * gateway only once the job is `logged` (its log entry has the configured confirmations): a
 * proved job that waits for the relayer, or one the chain refused for good, shows its status
 * (and, when failed, why) but not its answer. Proof and public signals reveal no answer (the
 * result is hidden in a commitment whose blind only the logged job shows).
 */
export function jobView(job: Job) {
  const released = job.status === "logged" && job.answer !== undefined;
  return {
    jobId: job.id,
    status: job.status,
    requestId: job.requestId,
    consumer: job.consumer,
    grantId: job.grantId,
    assetId: job.assetId,
    versionId: job.versionId,
    circuit: job.circuit,
    circuitId: circuitId(job.circuit),
    query: job.query,
    answer: released ? job.answer! : null,
    blind: released ? job.blind : null,
    proof: job.proof ?? null,
    publicSignals: job.publicSignals ?? null,
    provingMs: job.provingMs ?? null,
    logTx: job.logTx ?? null,
    error: job.error ?? null,
    createdAt: new Date(job.createdAt).toISOString(),
    updatedAt: new Date(job.updatedAt).toISOString(),
  };
}

/** A job by id (the id is the capability). */
export async function getJob(ctx: GatewayContext, id: string) {
  const job = await ctx.store.getJob(id);
  if (!job) throw new AppError("UNKNOWN_JOB", "no job with this id");
  return jobView(job);
}

/** A consumer's own answers. Consumer-signed. */
export async function consumerAnswers(ctx: GatewayContext, consumer: string, auth: ReadAuth) {
  checkRead(ctx, consumer, "answers", 0n, auth);
  return { answers: (await ctx.store.jobsOfConsumer(consumer)).map(jobView) };
}

/**
 * Every job that computed an answer, whatever became of it (proved and waiting for the log,
 * logged, or failed after proving: e.g. the chain refused it), for auditors: what was asked, over
 * how many records, what was proved, where it was logged or why not. No result, no blind. A
 * signed read by one of the configured auditors.
 */
export async function auditExport(ctx: GatewayContext, auditor: string, auth: ReadAuth) {
  checkRead(ctx, auditor, "audit", 0n, auth);
  if (!ctx.config.auditors.some((a) => a.toLowerCase() === auditor.toLowerCase())) {
    throw new AppError("NOT_AUDITOR", "this account is not one of the gateway's auditors");
  }
  const jobs = await ctx.store.allJobs();
  const refusals = await ctx.store.allRefusals();
  const refusalsPerGrant: Record<string, number> = {};
  for (const r of refusals) refusalsPerGrant[r.grantId] = (refusalsPerGrant[r.grantId] ?? 0) + 1;
  return {
    partProof: ctx.domain.partProof,
    chainId: ctx.domain.chainId.toString(),
    exportedAt: new Date().toISOString(),
    answers: jobs
      .filter((j) => j.proof !== undefined && j.publicSignals !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((j) => ({
        requestId: j.requestId,
        grantId: j.grantId,
        consumer: j.consumer,
        assetId: j.assetId,
        versionId: j.versionId,
        circuitId: circuitId(j.circuit),
        status: j.status,
        // what was asked and over how many records: the auditor looks for differencing pairs
        query: {
          kind: j.query.kind,
          fieldA: j.query.fieldA,
          fieldB: j.query.fieldB,
          lo: j.query.lo,
          hi: j.query.hi,
          predicates: j.query.predicates,
        },
        cohort: j.cohort ?? null,
        publicSignals: j.publicSignals,
        proof: j.proof,
        logTx: j.logTx ?? null,
        error: j.error ?? null,
      })),
    // refusals that depended on the data: each was charged to its grant (no result in them)
    refusals: refusals.map((r) => ({
      requestId: r.requestId,
      grantId: r.grantId,
      consumer: r.consumer,
      assetId: r.assetId,
      versionId: r.versionId,
      query: {
        kind: r.query.kind!,
        fieldA: r.query.fieldA!,
        fieldB: r.query.fieldB!,
        lo: String(r.query.lo),
        hi: String(r.query.hi),
        predicates: String(r.query.predicates),
      },
      code: r.code,
      refusedAt: new Date(r.at).toISOString(),
    })),
    refusalsPerGrant,
  };
}
