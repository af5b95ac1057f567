/**
 * Upload use-cases: validate a supplier's batch, commit it as a new local version (records,
 * salts and tree root in one LevelDB batch; the same batch twice gives the same version), and
 * relay the owner-signed on-chain publication of a version.
 */
import { AbiCoder, keccak256 } from "ethers";
import { z } from "zod";
import { DEFAULT_MINMAX_FIELD } from "../../circuits/lib/tree.js";
import { decodeRevert, versionIdOf } from "../../protocol/contract.js";
import { recoverUploadSigner } from "../auth.js";
import type { Logger } from "pino";
import { DEFAULT_VERSIONS_PER_OWNER, type GatewayConfig } from "../config.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { KeyedMutex } from "../locks.js";
import { BudgetExceededError, WorkerOutOfMemoryError, WorkerStartError } from "../prover/pool.js";
import { liveAsset, registeredAsset } from "./assets.js";
import { findSchema, type DataSchema, type UploadData } from "../../protocol/records/index.js";
import type { GatewayStore, StoredVersion, UploadSession } from "../store/index.js";
import { ROW_BYTES, sharedBytes, type PackedBatch } from "../store/rows.js";
import type { IngestPool, ReadBatch } from "../prover/ingest-pool.js";
import { defaultSalt } from "../context.js";
import { publishBodySchema, uploadBodySchema } from "../../protocol/api.js";

/** The key mapping version the gateway's schemas implement (part of paramsHash). */
export const KEY_MAPPING = "partproof:key:v1";

/**
 * paramsHash of a version: keccak256(abi.encode(schemaId, "partproof:key:v1", depth,
 * minMaxField)) — what the index and field mapping were when the tree was built.
 */
export function versionParamsHash(schemaId: string, depth: number, minMaxField: number): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "string", "uint32", "uint8"],
      [schemaId, KEY_MAPPING, depth, minMaxField],
    ),
  );
}

/**
 * The owner's description of a local version (no records, no salts). Its `batchHash` is a
 * hash of the plain records, which a small batch lets anyone brute-force: show it to the
 * owner only (upload answers, the owner's signed reads).
 */
export function describeVersion(v: StoredVersion, minMaxField: number) {
  return {
    assetId: v.assetId,
    localId: v.localId,
    schemaId: v.schemaId,
    root: v.root,
    recordCount: v.recordCount,
    treeDepth: v.depth,
    paramsHash: versionParamsHash(v.schemaId, v.depth, minMaxField),
    batchHash: v.batchHash,
    createdAt: new Date(v.createdAt).toISOString(),
    base: v.base ?? 0,
    changes: v.changes ?? { added: v.recordCount, replaced: 0, removed: 0 },
  };
}

/** Checks that the asset exists and is live and that `signer` owns it. */
export async function ownedAsset(ctx: GatewayContext, assetId: bigint, signer: string) {
  const asset = await liveAsset(ctx, assetId);
  if (asset.owner.toLowerCase() !== signer.toLowerCase()) {
    throw new AppError("NOT_OWNER", `the upload is not signed by the owner of asset ${assetId}`);
  }
  return asset;
}

/**
 * The signer of an upload (its Upload signature over the data's hash and a fresh timestamp).
 * The hash (keccak over up to the body limit, ~0.5 s for 2 MiB on a busy machine) is computed
 * in an ingest worker, not on the HTTP loop, and before anything else looks at the data.
 */
export async function uploadSigner(
  ctx: GatewayContext,
  assetId: bigint,
  body: z.infer<typeof uploadBodySchema>,
): Promise<string> {
  // before the hash: an unsigned body waits in the ingest queue while it is hashed, so the
  // queue's bound must hold here too or anyone could queue bodies without limit
  ingestHasRoom(ctx);
  const dataHash = await withinBudget(
    "hashing the upload",
    ctx.ingest.dataHash(body.data),
    recordsIn(body.data),
  );
  return recoverUploadSigner(
    ctx.domain,
    { assetId, dataHash, timestamp: body.timestamp },
    body.signature,
    { maxAgeSec: ctx.config.signatureMaxAgeSec, skewSec: ctx.config.clockSkewSec },
  );
}

/**
 * Runs worker work within its budget and memory: an overrun becomes WORK_BUDGET_EXCEEDED; a
 * worker that outgrew its heap (`ingest.heapMb`) INGEST_MEMORY_EXCEEDED (413: the upload is too
 * big for this gateway's configured ingest memory, which retrying does not change; 507 would
 * say the server is short of storage for now), naming the cap and `records` when known; workers
 * that keep dying while they load INGEST_UNAVAILABLE (503: the gateway's fault, for its operator).
 */
export async function withinBudget<T>(
  what: string,
  work: Promise<T>,
  records?: number,
): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof BudgetExceededError) {
      throw new AppError(
        "WORK_BUDGET_EXCEEDED",
        `${what} took longer than ${e.budgetMs} ms and was stopped; send smaller batches`,
      );
    }
    if (e instanceof WorkerOutOfMemoryError) {
      const of = records === undefined ? "" : ` (${records} records)`;
      throw new AppError(
        "INGEST_MEMORY_EXCEEDED",
        `${what}${of} needed more memory than this gateway's ingest workers have (ingest.heapMb = ${e.heapMb} MiB; INGEST_HEAP_MB, 384 MiB, by default) and was stopped; nothing was stored. Send the records in smaller chunks, or ask the gateway's operator to raise ingest.heapMb`,
      );
    }
    if (e instanceof WorkerStartError) {
      throw new AppError(
        "INGEST_UNAVAILABLE",
        `${what} could not run: ${e.message}; nothing was stored. The gateway's operator must look at its log; the same request may be sent again later`,
      );
    }
    throw e;
  }
}

/**
 * About how many records an upload's data holds, counted without parsing it (for messages):
 * JSON rows, CSV lines after the header, the longest array at the top of a Catena-X payload.
 */
export function recordsIn(data: unknown): number | undefined {
  const d = data as { format?: string; rows?: unknown; csv?: unknown; payload?: unknown };
  if (d?.format === "json" && Array.isArray(d.rows)) return d.rows.length;
  if (d?.format === "csv" && typeof d.csv === "string") {
    return d.csv.split("\n").filter((l) => l.trim() !== "").length - 1;
  }
  if (d?.format === "catenax" && d.payload && typeof d.payload === "object") {
    const arrays = Object.values(d.payload).filter(Array.isArray);
    return arrays.length > 0 ? Math.max(...arrays.map((a) => a.length)) : undefined;
  }
  return undefined;
}

/** Uploads waiting for an ingest worker beyond which a new one is refused (INGEST_BUSY). */
export const INGEST_QUEUE_MAX = 16;

/** Refuses new ingest work while the ingest workers' queue is full (bounded memory). */
export function ingestHasRoom(ctx: Pick<GatewayContext, "ingest">): void {
  if (ctx.ingest.waiting >= INGEST_QUEUE_MAX) {
    throw new AppError(
      "INGEST_BUSY",
      `${ctx.ingest.waiting} uploads are waiting for this gateway's ingest workers; try again shortly`,
    );
  }
}

/** The asset's schema, or UNSUPPORTED_SCHEMA. */
export function schemaOf(assetId: bigint, schemaId: string): DataSchema {
  const schema = findSchema(schemaId);
  if (!schema) {
    throw new AppError(
      "UNSUPPORTED_SCHEMA",
      `asset ${assetId} uses a schema this gateway does not serve`,
    );
  }
  return schema;
}

/** Reads a batch in an ingest worker; INVALID_RECORDS with every row error. */
export async function readBatch(
  ctx: GatewayContext,
  schema: DataSchema,
  data: UploadData,
  what = "the batch",
): Promise<Extract<ReadBatch, { ok: true }>> {
  ingestHasRoom(ctx);
  const parsed = await withinBudget(
    `reading ${what}`,
    ctx.ingest.read(schema.id, data),
    recordsIn(data),
  );
  if (!parsed.ok) {
    throw new AppError(
      "INVALID_RECORDS",
      `${what} was refused: ${parsed.errors.length} problem(s); nothing was stored`,
      parsed.errors,
    );
  }
  return parsed;
}

/** What {@link commitUpload} makes a version of. */
export interface UploadToCommit {
  assetId: bigint;
  /** The asset's owner (lower case), who signed the upload. */
  owner: string;
  schema: DataSchema;
  /** Start a new data set instead of adding to the latest version. */
  replace: boolean;
  /** The batches in upload order (a folder's pages, a session's chunks). */
  batches: PackedBatch[];
  /** keccak256 of what the batches are (their batch hashes in order). */
  batchHash: string;
  /** The session the upload came through, marked committed in the version's batch. */
  session?: UploadSession;
}

/** What {@link commitUpload} uses of a gateway: a gateway's whole context is one. */
export type CommitContext = Pick<GatewayContext, "store" | "ingest" | "locks" | "salt" | "log"> & {
  config: {
    circuit: Pick<GatewayConfig["circuit"], "depth" | "minMaxField">;
    limits: Pick<GatewayConfig["limits"], "versionsPerOwner">;
  };
};

/**
 * The context {@link commitUpload} needs, around a store and an ingest pool alone (no chain, no
 * prover), with a gateway's defaults: for what makes versions outside a running gateway (the
 * uploads bench) and tests of the commit path.
 */
export function commitContext(
  store: GatewayStore,
  ingest: IngestPool,
  opts: { depth: number; log: Logger; minMaxField?: number; salt?: () => bigint },
): CommitContext {
  return {
    config: {
      circuit: { depth: opts.depth, minMaxField: opts.minMaxField ?? DEFAULT_MINMAX_FIELD },
      limits: { versionsPerOwner: DEFAULT_VERSIONS_PER_OWNER },
    },
    store,
    ingest,
    locks: new KeyedMutex(),
    salt: opts.salt ?? defaultSalt,
    log: opts.log,
  };
}

/**
 * Makes a version of an upload: the latest version's records (unless `replace`) with the
 * upload's batches applied in order (a record whose identity is seen again replaces the
 * earlier one, `recordStatus` deleted removes it), its tree built in an ingest worker with the
 * base's tree reused, and everything stored in one synced LevelDB batch. The same upload again
 * returns the version it made; an upload that changes nothing returns the base version.
 */
export async function commitUpload(
  ctx: CommitContext,
  u: UploadToCommit,
): Promise<{ created: boolean; version: ReturnType<typeof describeVersion> }> {
  const key = u.assetId.toString();
  const m = ctx.config.circuit.minMaxField;
  const depth = ctx.config.circuit.depth;
  const capacity = 2 ** depth - 2;
  const batchKey = u.replace ? `replace!${u.batchHash}` : u.batchHash;
  // one owner's ingests in turn: the per-owner version cap is counted exactly, and each upload
  // adds to the version the previous one made
  return ctx.locks.run(`owner:${u.owner}`, async () => {
    if (u.session) {
      const s = await ctx.store.getSession(key, u.session.sessionId);
      if (s?.localId !== undefined) {
        const v = await ctx.store.getVersion(key, s.localId);
        if (v) return { created: false, version: describeVersion(v, m) };
      }
    }
    const existing = await ctx.store.findVersionByBatch(key, batchKey);
    if (existing) return { created: false, version: describeVersion(existing, m) };
    const cap = ctx.config.limits.versionsPerOwner;
    if ((await ctx.store.versionsOfOwner(u.owner)) >= cap) {
      throw new AppError(
        "OWNER_CAP_REACHED",
        `the owner of asset ${u.assetId} has ${cap} stored versions, this gateway's cap; ask its operator`,
      );
    }
    const base = u.replace ? undefined : await ctx.store.latestVersion(key);
    const incoming = u.batches.reduce((n, b) => n + b.rows.length / ROW_BYTES, 0);
    if (!base && incoming > capacity) {
      throw new AppError(
        "TOO_MANY_RECORDS",
        `a version holds at most ${capacity} records (tree depth ${depth}); got ${incoming}`,
      );
    }
    ingestHasRoom(ctx);
    const salts = ctx.salt === defaultSalt ? undefined : Array.from({ length: incoming }, ctx.salt);
    // shared with the worker, not copied (a 10^6-record base is 96 MB): the base's rows, then
    // the upload's, in one buffer
    let whole: Uint8Array = new Uint8Array(0);
    const baseRows = base
      ? await ctx.store.versionRows(base, 0, base.recordCount, (bytes) => {
          whole = sharedBytes(bytes + incoming * ROW_BYTES);
          return whole.subarray(0, bytes);
        })
      : new Uint8Array(0);
    let at = baseRows.length;
    const batches = base
      ? u.batches.map((b) => {
          const rows = whole.subarray(at, (at += b.rows.length));
          rows.set(b.rows);
          return { ...b, rows };
        })
      : u.batches;
    // a version hashed from its rows copies the nodes of the base's stored levels that lie
    // before its first changed row (a smaller one too, when the worker kept no tree of the base)
    const baseTree = base ? await ctx.store.versionTreeLevels(base) : undefined;
    const built = await withinBudget(
      "building the version",
      ctx.ingest.apply({
        base: baseRows,
        baseRoot: base?.root ?? "",
        batches,
        ...(salts ? { salts } : {}),
        depth,
        minMaxField: m,
        ...(baseTree ? { baseTree } : {}),
      }),
      (base?.recordCount ?? 0) + incoming,
    );
    if ("tooMany" in built) {
      throw new AppError(
        "TOO_MANY_RECORDS",
        `a version holds at most ${capacity} records (tree depth ${depth}); this upload would make ${built.tooMany}`,
      );
    }
    const count = built.rows.length / ROW_BYTES;
    if (base && built.root.toString() === base.root) {
      // nothing changed (records kept as they were): the base is the version of this upload
      return { created: false, version: describeVersion(base, m) };
    }
    const stored = await ctx.store.putVersion(
      {
        assetId: key,
        schemaId: u.schema.id,
        batchHash: u.batchHash,
        root: built.root.toString(),
        depth,
        recordCount: count,
        rows: built.rows,
        tree: built.tree,
        createdAt: Date.now(),
        base: base?.localId ?? 0,
        changes: built.changes,
      },
      u.owner,
      { batchKey, ...(u.session ? { session: u.session } : {}) },
    );
    ctx.log.info(
      {
        assetId: key,
        localId: stored.localId,
        records: count,
        reusedTree: built.reusedPrevious,
        sharedLeaves: built.sharedLeaves,
      },
      "version built",
    );
    return { created: true, version: describeVersion(stored, m) };
  });
}

/**
 * Validates and stores an upload that `signer` (recovered by the route from the Upload
 * signature) signed, as a new version that adds the batch to the asset's latest version.
 * Returns the version and whether it is new; the same batch again returns the version it
 * made. Reading the batch and building its tree run in the ingest workers, each within the
 * configured budget.
 */
export async function ingest(
  ctx: GatewayContext,
  assetId: bigint,
  body: z.infer<typeof uploadBodySchema>,
  signer: string,
): Promise<{ created: boolean; version: ReturnType<typeof describeVersion> }> {
  const asset = await ownedAsset(ctx, assetId, signer);
  const schema = schemaOf(assetId, asset.schemaId);
  const parsed = await readBatch(ctx, schema, body.data);
  return commitUpload(ctx, {
    assetId,
    owner: asset.owner.toLowerCase(),
    schema,
    replace: false,
    batches: [parsed.batch],
    batchHash: parsed.batchHash,
  });
}

/**
 * Refuses (ROOT_ALREADY_PUBLISHED) a version whose root this gateway already relayed or that
 * is the asset's latest on-chain version: a second version with the same records would only
 * spend gas and the owner's nonce, and make "latest" ambiguous for the auditor.
 */
async function notYetPublished(
  ctx: GatewayContext,
  assetId: bigint,
  v: StoredVersion,
  versionCount: number,
): Promise<void> {
  let published = await ctx.store.isPublished(v.root);
  if (!published && versionCount > 0) {
    const latest = await ctx.chain.getVersion(versionIdOf(assetId, versionCount));
    published = latest?.root.toString() === v.root;
  }
  if (published) {
    throw new AppError(
      "ROOT_ALREADY_PUBLISHED",
      `local version ${v.localId} of asset ${assetId} has a root that is already published; its records are already on-chain`,
    );
  }
}

/** Relays the owner's PublishVersion signature for a local version; returns the version id. */
export async function publish(
  ctx: GatewayContext,
  assetId: bigint,
  localId: number,
  body: z.infer<typeof publishBodySchema>,
): Promise<{ versionId: string; txHash: string }> {
  const v = await ctx.store.getVersion(assetId.toString(), localId);
  if (!v) throw new AppError("UNKNOWN_VERSION", `no local version ${localId} of asset ${assetId}`);
  const asset = await registeredAsset(ctx, assetId);
  // the contract's deadline check first (as the chain would refuse it), then the duplicate
  const block = await ctx.chain.provider.getBlock("latest");
  if (block && body.deadline < BigInt(block.timestamp)) {
    throw new AppError("DEADLINE_EXPIRED", "the publish signature's deadline has passed");
  }
  await notYetPublished(ctx, assetId, v, asset.versionCount);
  const owner = asset.owner.toLowerCase();
  const day = Math.floor(Date.now() / 86_400_000);
  const gasCap = ctx.config.limits.relayerGasPerOwnerPerDay;
  if ((await ctx.store.relayedGas(owner, day)) >= gasCap) {
    throw new AppError(
      "OWNER_CAP_REACHED",
      `the relayer spent its daily gas cap (${gasCap}) for the owner of asset ${assetId}; publish again tomorrow or call publishVersion yourself`,
    );
  }
  try {
    const r = await ctx.chain.publishVersionBySig(
      {
        assetId,
        root: BigInt(v.root),
        recordCount: BigInt(v.recordCount),
        treeDepth: v.depth,
        paramsHash: versionParamsHash(v.schemaId, v.depth, ctx.config.circuit.minMaxField),
        deadline: body.deadline,
        signature: body.signature,
      },
      ctx.config.chain.confirmations,
    );
    await ctx.locks.run(`gas:${owner}`, () => ctx.store.addRelayedGas(owner, day, r.gasUsed));
    await ctx.store.markPublished(v.root, r.versionId.toString());
    return { versionId: r.versionId.toString(), txHash: r.txHash };
  } catch (e) {
    const name = decodeRevert(e)?.name;
    if (name === "InvalidPublishSignature") {
      throw new AppError("BAD_SIGNATURE", "the publish signature is not the asset owner's");
    }
    if (name === "ExpiredSignature") {
      throw new AppError("DEADLINE_EXPIRED", "the publish signature's deadline has passed");
    }
    if (name === "AssetIsRetired")
      throw new AppError("ASSET_RETIRED", `asset ${assetId} is retired`);
    throw new AppError(
      "PUBLISH_FAILED",
      `the chain refused the publication${name ? ` (${name})` : ""}`,
    );
  }
}
