/**
 * Resumable upload sessions: an owner starts a session (its id chosen by the client, with the
 * number of chunks and whether it replaces the data set), sends numbered chunks within the body
 * limit in any order and as often as needed, asks which chunks the gateway holds, and commits.
 * Each chunk is read and validated when it arrives (in an ingest worker) and stored, parsed,
 * in a synced LevelDB write before the 2xx; the commit applies the chunks in order as ONE
 * upload (`commitUpload`), so nothing partial ever becomes a version and a gateway killed in
 * between resumes where it stopped.
 */
import { concat, getBytes, keccak256 } from "ethers";
import { z } from "zod";
import {
  recoverUploadSessionSigner,
  SignatureError,
  type UploadStep,
} from "../../protocol/typed-data.js";
import { uploadChunkBodySchema, uploadStepBodySchema } from "../../protocol/api.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import type { UploadSession } from "../store/index.js";
import { ROW_BYTES, decodeBatch, encodeBatch, sharedBytes } from "../store/rows.js";
import {
  commitUpload,
  describeVersion,
  ingestHasRoom,
  ownedAsset,
  readBatch,
  recordsIn,
  schemaOf,
  withinBudget,
} from "./ingest.js";

type StepBody = z.infer<typeof uploadStepBodySchema>;
type ChunkBody = z.infer<typeof uploadChunkBodySchema>;

const ZERO = "0x" + "00".repeat(32);

/** When an uncommitted session expires unless a chunk arrives before (ms since epoch). */
export function sessionExpiresAt(ctx: GatewayContext, s: UploadSession): number {
  return s.updatedAt + ctx.config.uploads.sessionLifetimeSec * 1000;
}

/** True when `s` is not committed and expired (swept or not yet) at `now`. */
export function sessionExpired(ctx: GatewayContext, s: UploadSession, now = Date.now()): boolean {
  return s.localId === undefined && (s.expiredAt !== undefined || now >= sessionExpiresAt(ctx, s));
}

/** What the owner sees of a session. */
export async function sessionView(ctx: GatewayContext, s: UploadSession) {
  const expired = sessionExpired(ctx, s);
  return {
    assetId: s.assetId,
    sessionId: s.sessionId,
    replace: s.replace,
    chunkCount: s.chunkCount,
    received:
      s.localId || expired ? [] : await ctx.store.sessionChunkIndexes(s.assetId, s.sessionId),
    records: expired ? 0 : s.records,
    bytes: expired ? 0 : s.bytes,
    ...(s.localId === undefined ? {} : { localId: s.localId }),
    ...(s.localId === undefined
      ? { expiresAt: new Date(sessionExpiresAt(ctx, s)).toISOString(), expired }
      : {}),
  };
}

/** How long an expired session is remembered (its chunks and commit answered 410), at least. */
const TOMBSTONE_MS = 7 * 86_400_000;

/** What {@link sweepUploadSessions} did. */
export interface SweepResult {
  /** Sessions that expired now (their chunks deleted). */
  expired: number;
  /** Expired sessions forgotten (a week, or a lifetime if longer, after they expired). */
  forgotten: number;
}

/**
 * Expires every uncommitted session that received nothing for the configured lifetime: its
 * chunks are deleted and it stays as a tombstone (its chunks and commit get UPLOAD_EXPIRED)
 * for a week (or one more lifetime, if longer), then it is forgotten. Each session under its upload lock, so a chunk
 * or commit in progress finishes first. Committed sessions are kept (a commit sent again
 * returns its version).
 */
export async function sweepUploadSessions(
  ctx: GatewayContext,
  now = Date.now(),
): Promise<SweepResult> {
  const out: SweepResult = { expired: 0, forgotten: 0 };
  const lifetimeMs = ctx.config.uploads.sessionLifetimeSec * 1000;
  const due: UploadSession[] = [];
  for await (const s of ctx.store.allSessions()) if (sessionExpired(ctx, s, now)) due.push(s);
  for (const first of due) {
    await ctx.locks.run(`upload:${first.assetId}:${first.sessionId}`, async () => {
      const s = await ctx.store.getSession(first.assetId, first.sessionId);
      if (!s || !sessionExpired(ctx, s, now)) return;
      if (s.expiredAt === undefined) {
        await ctx.store.expireSession(s, now);
        out.expired += 1;
      } else if (now >= s.expiredAt + Math.max(lifetimeMs, TOMBSTONE_MS)) {
        await ctx.store.forgetSession(s.assetId, s.sessionId);
        out.forgotten += 1;
      } else await ctx.store.dropSessionChunks(s.assetId, s.sessionId); // after a crash
    });
  }
  if (out.expired + out.forgotten > 0) ctx.log.info(out, "upload sessions expired");
  return out;
}

/**
 * Sweeps expired upload sessions now and then every `uploads.sweepIntervalSec` (or the
 * lifetime, if shorter) until `stop()`, which waits for a sweep in progress.
 */
export async function startSessionSweeper(ctx: GatewayContext): Promise<{ stop(): Promise<void> }> {
  let running: Promise<unknown> = sweepUploadSessions(ctx);
  await running;
  const { sessionLifetimeSec, sweepIntervalSec } = ctx.config.uploads;
  const timer = setInterval(
    () => {
      running = running.then(() =>
        sweepUploadSessions(ctx).catch((e: unknown) =>
          ctx.log.error({ error: (e as Error)?.name }, "upload session sweep failed"),
        ),
      );
    },
    Math.min(sweepIntervalSec, sessionLifetimeSec) * 1000,
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The signer of a session step (signature over the step, the session's terms, the chunk's
 * data hash computed in an ingest worker, and a fresh timestamp).
 */
export async function uploadStepSigner(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  step: UploadStep,
  index: number,
  body: StepBody | ChunkBody,
): Promise<string> {
  // the queue's bound holds before an (unsigned) chunk waits in it to be hashed
  if ("data" in body) ingestHasRoom(ctx);
  const dataHash =
    "data" in body
      ? await withinBudget(
          "hashing the chunk",
          ctx.ingest.dataHash(body.data),
          recordsIn(body.data),
        )
      : ZERO;
  let signer: string;
  try {
    signer = recoverUploadSessionSigner(
      ctx.domain,
      {
        assetId,
        sessionId,
        step,
        replace: body.replace,
        index,
        chunkCount: body.chunkCount,
        dataHash,
        timestamp: body.timestamp,
      },
      body.signature,
    );
  } catch (e) {
    if (e instanceof SignatureError) {
      throw new AppError(
        "BAD_SIGNATURE",
        "the signature is malformed or does not match the message",
      );
    }
    throw e;
  }
  const now = Math.floor(Date.now() / 1000);
  const t = Number(body.timestamp);
  if (t > now + ctx.config.clockSkewSec || now - t > ctx.config.signatureMaxAgeSec) {
    throw new AppError(
      "DEADLINE_EXPIRED",
      `the signed timestamp must be at most ${ctx.config.signatureMaxAgeSec} s old and not in the future; sign again`,
    );
  }
  return signer;
}

/** The session, which must exist, belong to `signer` and have the terms the step signed. */
async function ownSession(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  signer: string,
  body: StepBody,
): Promise<UploadSession> {
  const s = await ctx.store.getSession(assetId.toString(), sessionId);
  if (!s) {
    throw new AppError(
      "UNKNOWN_UPLOAD",
      `no upload session ${sessionId} for asset ${assetId}; start it first`,
    );
  }
  if (s.owner !== signer.toLowerCase()) {
    throw new AppError("NOT_OWNER", `upload session ${sessionId} is not the signer's`);
  }
  if (sessionExpired(ctx, s)) {
    throw new AppError(
      "UPLOAD_EXPIRED",
      `upload session ${sessionId} expired (no chunk for ${ctx.config.uploads.sessionLifetimeSec} s) and its chunks were deleted; start it again and send every chunk`,
    );
  }
  if (s.replace !== body.replace || s.chunkCount !== body.chunkCount) {
    throw new AppError(
      "UPLOAD_MISMATCH",
      `upload session ${sessionId} was started with replace=${s.replace} and ${s.chunkCount} chunks`,
    );
  }
  return s;
}

/** Starts a session (201), or returns the one started before with the same terms (200). */
export async function startSession(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  body: StepBody,
  signer: string,
): Promise<{ created: boolean; session: Awaited<ReturnType<typeof sessionView>> }> {
  const asset = await ownedAsset(ctx, assetId, signer);
  schemaOf(assetId, asset.schemaId);
  return ctx.locks.run(`upload:${assetId}:${sessionId}`, async () => {
    const existing = await ctx.store.getSession(assetId.toString(), sessionId);
    if (existing && sessionExpired(ctx, existing)) {
      // an expired session starts again from nothing (its id is derived from the data)
      await ctx.store.dropSessionChunks(existing.assetId, existing.sessionId);
    } else if (existing) {
      const s = await ownSession(ctx, assetId, sessionId, signer, body);
      return { created: false, session: await sessionView(ctx, s) };
    }
    const now = Date.now();
    const s: UploadSession = {
      assetId: assetId.toString(),
      sessionId: sessionId.toLowerCase(),
      owner: asset.owner.toLowerCase(),
      replace: body.replace,
      chunkCount: body.chunkCount,
      records: 0,
      bytes: 0,
      createdAt: now,
      updatedAt: now,
    };
    await ctx.store.putSession(s);
    return { created: true, session: await sessionView(ctx, s) };
  });
}

/**
 * Reads, validates and stores chunk `index` of a session (a chunk stored before is not read
 * again). Its row errors refuse the chunk only; the session keeps its other chunks.
 */
export async function receiveChunk(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  index: number,
  body: ChunkBody,
  signer: string,
) {
  const asset = await ownedAsset(ctx, assetId, signer);
  const schema = schemaOf(assetId, asset.schemaId);
  const first = await ownSession(ctx, assetId, sessionId, signer, body);
  if (index >= first.chunkCount) {
    throw new AppError(
      "VALIDATION_FAILED",
      `chunk ${index} is beyond the session's ${first.chunkCount} chunks (numbered from 0)`,
    );
  }
  if (first.localId !== undefined) {
    throw new AppError(
      "UPLOAD_MISMATCH",
      `upload session ${sessionId} is committed (local version ${first.localId})`,
    );
  }
  const held = await ctx.store.sessionChunkIndexes(first.assetId, first.sessionId);
  if (held.includes(index)) {
    return { session: await sessionView(ctx, first), index, records: 0, stored: false };
  }
  const parsed = await readBatch(ctx, schema, body.data, `chunk ${index}`);
  // bytes, not a hex string (a chunk's rows are ~0.7 MB)
  const value = Buffer.concat([getBytes(parsed.batchHash), encodeBatch(parsed.batch)]);
  const bytes = Buffer.byteLength(JSON.stringify(body.data));
  return ctx.locks.run(`upload:${assetId}:${sessionId}`, async () => {
    const s = await ownSession(ctx, assetId, sessionId, signer, body);
    const next = await ctx.store.putSessionChunk(s, index, value, parsed.records, bytes);
    return { session: await sessionView(ctx, next), index, records: parsed.records, stored: true };
  });
}

/**
 * Commits a session: every chunk must be held (UPLOAD_INCOMPLETE names the missing ones); the
 * chunks, in order, make one version (`commitUpload`), stored with the session's committed
 * state in one synced batch; a commit sent again returns that version.
 */
export async function commitSession(
  ctx: GatewayContext,
  assetId: bigint,
  sessionId: string,
  body: StepBody,
  signer: string,
) {
  const asset = await ownedAsset(ctx, assetId, signer);
  const schema = schemaOf(assetId, asset.schemaId);
  return ctx.locks.run(`upload:${assetId}:${sessionId}`, async () => {
    const s = await ownSession(ctx, assetId, sessionId, signer, body);
    const m = ctx.config.circuit.minMaxField;
    if (s.localId !== undefined) {
      const v = await ctx.store.getVersion(s.assetId, s.localId);
      if (v) {
        return {
          created: false,
          version: describeVersion(v, m),
          session: await sessionView(ctx, s),
        };
      }
    }
    const held = await ctx.store.sessionChunkIndexes(s.assetId, s.sessionId);
    if (held.length !== s.chunkCount) {
      const have = new Set(held);
      const missing = Array.from({ length: s.chunkCount }, (_, i) => i).filter((i) => !have.has(i));
      throw new AppError(
        "UPLOAD_INCOMPLETE",
        `upload session ${sessionId} lacks ${missing.length} of ${s.chunkCount} chunks (first missing: ${missing.slice(0, 5).join(", ")}); send them, then commit`,
      );
    }
    // the chunks' rows go into one shared buffer that the ingest worker reads without a copy
    const hashes: string[] = [];
    const batches = [];
    const shared = sharedBytes(s.records * ROW_BYTES);
    let at = 0;
    for await (const v of ctx.store.sessionChunkValues(s.assetId, s.sessionId)) {
      hashes.push("0x" + Buffer.from(v.subarray(0, 32)).toString("hex"));
      const b = decodeBatch(v.subarray(32), shared.subarray(at));
      at += b.rows.length;
      batches.push(b);
    }
    const result = await commitUpload(ctx, {
      assetId,
      owner: s.owner,
      schema,
      replace: s.replace,
      batches,
      batchHash: hashes.length === 1 ? hashes[0]! : keccak256(concat(hashes)),
      session: s,
    });
    const committed = { ...s, localId: result.version.localId };
    if (!result.created) await ctx.store.putSession(committed);
    await ctx.store.dropSessionChunks(s.assetId, s.sessionId);
    ctx.log.info(
      { assetId: s.assetId, localId: result.version.localId, chunks: s.chunkCount },
      "upload session committed",
    );
    return { ...result, session: await sessionView(ctx, committed) };
  });
}
