/**
 * Upload use-cases: validate a supplier's batch, commit it as a new local version (records,
 * salts and tree root in one LevelDB batch; the same batch twice gives the same version), and
 * relay the owner-signed on-chain publication of a version.
 */
import { AbiCoder, keccak256 } from "ethers";
import { z } from "zod";
import { decodeRevert } from "../../protocol/contract.js";
import { recoverUploadSigner } from "../auth.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { BudgetExceededError } from "../prover/pool.js";
import { liveAsset, registeredAsset } from "./assets.js";
import { findSchema } from "../../protocol/records/index.js";
import { encodeRecords, type StoredVersion } from "../store/index.js";
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
  };
}

/** Checks that the asset exists and is live and that `signer` owns it. */
async function ownedAsset(ctx: GatewayContext, assetId: bigint, signer: string) {
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
  const dataHash = await withinBudget("hashing the upload", ctx.ingest.dataHash(body.data));
  return recoverUploadSigner(
    ctx.domain,
    { assetId, dataHash, timestamp: body.timestamp },
    body.signature,
    { maxAgeSec: ctx.config.signatureMaxAgeSec, skewSec: ctx.config.clockSkewSec },
  );
}

/** Runs worker work within its budget; an overrun becomes WORK_BUDGET_EXCEEDED. */
async function withinBudget<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof BudgetExceededError) {
      throw new AppError(
        "WORK_BUDGET_EXCEEDED",
        `${what} took longer than ${e.budgetMs} ms and was stopped; send smaller batches`,
      );
    }
    throw e;
  }
}

/**
 * Validates and stores an upload that `signer` (recovered by the route from the Upload
 * signature) signed. Returns the version and whether it is new; a batch with the same records
 * as an earlier one returns that version. Reading the batch and building its tree run in the
 * ingest workers, each within the configured budget.
 */
export async function ingest(
  ctx: GatewayContext,
  assetId: bigint,
  body: z.infer<typeof uploadBodySchema>,
  signer: string,
): Promise<{ created: boolean; version: ReturnType<typeof describeVersion> }> {
  const asset = await ownedAsset(ctx, assetId, signer);
  const schema = findSchema(asset.schemaId);
  if (!schema) {
    throw new AppError(
      "UNSUPPORTED_SCHEMA",
      `asset ${assetId} uses a schema this gateway does not serve`,
    );
  }
  const parsed = await withinBudget("reading the batch", ctx.ingest.read(schema.id, body.data));
  if (!parsed.ok) {
    throw new AppError(
      "INVALID_RECORDS",
      `the batch was refused: ${parsed.errors.length} problem(s); nothing was stored`,
      parsed.errors,
    );
  }
  const depth = ctx.config.circuit.depth;
  const capacity = 2 ** depth - 2;
  if (parsed.records.length > capacity) {
    throw new AppError(
      "TOO_MANY_RECORDS",
      `a version holds at most ${capacity} records (tree depth ${depth}); got ${parsed.records.length}`,
    );
  }
  const hash = parsed.batchHash;
  const key = assetId.toString();
  const m = ctx.config.circuit.minMaxField;
  const owner = asset.owner.toLowerCase();
  // one owner's ingests in turn: the per-owner version cap is counted exactly
  return ctx.locks.run(`owner:${owner}`, async () => {
    const existing = await ctx.store.findVersionByBatch(key, hash);
    if (existing) return { created: false, version: describeVersion(existing, m) };
    const cap = ctx.config.limits.versionsPerOwner;
    if ((await ctx.store.versionsOfOwner(owner)) >= cap) {
      throw new AppError(
        "OWNER_CAP_REACHED",
        `the owner of asset ${assetId} has ${cap} stored versions, this gateway's cap; ask its operator`,
      );
    }
    const salts = parsed.records.map(() => ctx.salt().toString());
    const records = encodeRecords(parsed.records);
    const root = await withinBudget(
      "building the tree",
      ctx.ingest.buildRoot({ records, salts, depth, minMaxField: m }),
    );
    const stored = await ctx.store.putVersion(
      {
        assetId: key,
        schemaId: schema.id,
        batchHash: hash,
        root: root.toString(),
        depth,
        recordCount: parsed.records.length,
        records,
        salts,
        createdAt: Date.now(),
      },
      owner,
    );
    return { created: true, version: describeVersion(stored, m) };
  });
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
