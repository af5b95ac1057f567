/**
 * What a supplier (data owner) does: register assets, upload record batches to its gateway,
 * publish versions (relayed by the gateway or from its own account), grant, approve, reject and
 * revoke access, and see who asked what of its assets.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { keccak256, toUtf8Bytes, type Signer } from "ethers";
import type { LocalVersion } from "../protocol/api.js";
import { policyStruct } from "../protocol/contract.js";
import type { UploadData } from "../protocol/records/index.js";
import type { Policy } from "../circuits/lib/signals.js";
import { readChainLog } from "./chain-log.js";
import { UserError } from "./errors.js";
import { schemaOf, type GrantTerms } from "./policy.js";
import { eventOf, gatewayOf, send, type Session } from "./session.js";

export type { LocalVersion };

/** Registers a data asset on-chain; returns its id. */
export async function registerAsset(
  s: Session,
  owner: Signer,
  opts: { schema: string; endpoint: string; metadata?: string },
): Promise<{ assetId: bigint; tx: string }> {
  const schema = schemaOf(opts.schema);
  const metadataHash = keccak256(
    toUtf8Bytes(opts.metadata ?? JSON.stringify({ schema: schema.id })),
  );
  const sent = await send(s, "registerAsset", () =>
    s.partProof.connect(owner).registerAsset(schema.id, metadataHash, opts.endpoint),
  );
  return { assetId: eventOf(sent, "AssetRegistered").assetId as bigint, tx: sent.hash };
}

/** Reads upload data from a file: .csv, or .json holding rows or a Catena-X aspect payload. */
export async function readUploadFile(file: string): Promise<UploadData> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UserError(`${file} cannot be read`);
  }
  if (file.toLowerCase().endsWith(".csv")) return { format: "csv", csv: text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(json)) return { format: "json", rows: json };
  if (json && typeof json === "object" && Array.isArray((json as { rows?: unknown }).rows)) {
    return { format: "json", rows: (json as { rows: unknown[] }).rows };
  }
  return { format: "catenax", payload: json };
}

/** The upload files of a path: the file itself, or every .json/.csv file of a folder. */
export async function uploadFiles(p: string): Promise<string[]> {
  const st = await stat(p).catch(() => undefined);
  if (!st) throw new UserError(`${p} does not exist`);
  if (st.isFile()) return [p];
  const names = (await readdir(p)).filter((n) => /\.(json|csv)$/i.test(n)).sort();
  if (names.length === 0) throw new UserError(`${p} holds no .json or .csv files`);
  return names.map((n) => path.join(p, n));
}

/** Uploads one batch (owner-signed) and returns the version the gateway built. */
export async function upload(s: Session, owner: Signer, assetId: bigint, data: UploadData) {
  return gatewayOf(s).upload(owner, assetId, data);
}

/**
 * Publishes a gateway-built version on-chain: the owner signs PublishVersion (EIP-712) and the
 * gateway relays it, so the owner needs no gas.
 */
export async function publishViaGateway(
  s: Session,
  owner: Signer,
  v: LocalVersion,
  ttlSec = 3600,
): Promise<{ versionId: bigint; txHash: string }> {
  const nonce = await s.partProof.nonces(await owner.getAddress());
  const deadline = BigInt(Math.floor(Date.now() / 1000) + ttlSec);
  const r = await gatewayOf(s).publish(owner, v, nonce, deadline);
  return { versionId: BigInt(r.versionId), txHash: r.txHash };
}

/** The fields of a version that publishing it needs. */
export type VersionToPublish = Pick<
  LocalVersion,
  "assetId" | "root" | "recordCount" | "treeDepth" | "paramsHash"
>;

/** Publishes a gateway-built version from the owner's own account (the owner pays gas). */
export async function publishDirect(s: Session, owner: Signer, v: VersionToPublish) {
  const sent = await send(s, "publishVersion", () =>
    s.partProof
      .connect(owner)
      .publishVersion(
        BigInt(v.assetId),
        BigInt(v.root),
        BigInt(v.recordCount),
        v.treeDepth,
        v.paramsHash,
      ),
  );
  return {
    versionId: eventOf(sent, "VersionPublished").versionId as bigint,
    txHash: sent.hash,
  };
}

/** Grants a consumer access to an asset under a policy; returns the grant id. */
export async function grantAccess(
  s: Session,
  owner: Signer,
  assetId: bigint,
  consumer: string,
  policy: Policy,
  terms: GrantTerms,
) {
  const sent = await send(s, "grantAccess", () =>
    s.partProof
      .connect(owner)
      .grantAccess(
        assetId,
        consumer,
        policyStruct(policy),
        terms.validFrom,
        terms.validUntil,
        terms.quota,
      ),
  );
  return { grantId: eventOf(sent, "GrantIssued").grantId as bigint, tx: sent.hash };
}

/** What an owner can do to an existing grant. */
export type GrantAction = "approve" | "reject" | "revoke" | "quota" | "expiry";

/** Owner actions on a grant; `quota` and `expiry` take the new value. */
export async function grantAction(
  s: Session,
  owner: Signer,
  action: GrantAction,
  grantId: bigint,
  value?: number,
) {
  if ((action === "quota" || action === "expiry") && value === undefined) {
    throw new UserError(`${action} needs a value`);
  }
  const c = s.partProof.connect(owner);
  const v = value ?? 0;
  const [fn, call] = (
    {
      approve: ["approveGrant", () => c.approveGrant(grantId)],
      reject: ["rejectGrant", () => c.rejectGrant(grantId)],
      revoke: ["revokeGrant", () => c.revokeGrant(grantId)],
      quota: ["updateQuota", () => c.updateQuota(grantId, v)],
      expiry: ["updateExpiry", () => c.updateExpiry(grantId, v)],
    } as const
  )[action];
  const sent = await send(s, fn, call);
  return { tx: sent.hash };
}

/** One logged answer over one of the supplier's assets. */
export interface AskedRow {
  block: number;
  assetId: string;
  grantId: bigint;
  consumer: string;
  requestId: string;
  queryHash: bigint;
}

/** Who asked what of the assets `owner` owns: the access log from `fromBlock` on. */
export async function askedOf(s: Session, owner: string, fromBlock: number): Promise<AskedRow[]> {
  const me = owner.toLowerCase();
  const log = await readChainLog(s, fromBlock, "latest");
  const assets = new Map<string, string>(); // grant id → asset id
  for (const gr of log.grants) {
    if ("assetId" in gr) assets.set(gr.grantId.toString(), gr.assetId.toString());
  }
  const owners = new Map<string, string | undefined>(); // asset id → owner, read once per asset
  const ownerOf = async (assetId: string) => {
    if (!owners.has(assetId)) {
      owners.set(assetId, (await s.reader.getAsset(BigInt(assetId)))?.owner.toLowerCase());
    }
    return owners.get(assetId);
  };
  const rows: AskedRow[] = [];
  for (const a of log.answers) {
    const assetId = assets.get(a.grantId.toString());
    if (!assetId || (await ownerOf(assetId)) !== me) continue;
    const { block, grantId, consumer, requestId, queryHash } = a;
    rows.push({ block, assetId, grantId, consumer, requestId, queryHash });
  }
  return rows;
}
