/**
 * What a supplier (data owner) does: register assets, upload record batches to its gateway,
 * publish versions (relayed by the gateway or from its own account), grant, approve, reject and
 * revoke access, and see who asked what of its assets.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { AbiCoder, keccak256, toUtf8Bytes, type Signer } from "ethers";
import {
  GatewayError,
  GatewayRefusal,
  GatewayTimeout,
  type GatewayClient,
} from "../protocol/client.js";
import { uploadDataHash } from "../protocol/typed-data.js";
import type { LocalVersion } from "../protocol/api.js";
import { policyStruct } from "../protocol/contract.js";
import type { UploadData } from "../protocol/records/index.js";
import type { Policy } from "../circuits/lib/signals.js";
import { circuitId } from "../circuits/lib/signals.js";
import type { Groth16VerificationKey } from "../protocol/batch-verify.js";
import { loadVerificationKeys } from "../protocol/manifest.js";
import { checkAuditProofs } from "./auditor.js";
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

/** The owner's versions at the gateway (owner-signed read). */
export async function versionsOf(s: Session, owner: Signer, assetId: bigint) {
  return gatewayOf(s).versions(owner, assetId);
}

/** A page of the owner's records at the gateway (owner-signed read). */
export async function recordsPage(
  s: Session,
  owner: Signer,
  assetId: bigint,
  page: { localId?: number; offset: number; limit: number },
) {
  return gatewayOf(s).recordsPage(owner, assetId, page);
}

/** Uploads one batch (owner-signed) and returns the version the gateway built. */
export async function upload(s: Session, owner: Signer, assetId: bigint, data: UploadData) {
  return gatewayOf(s).upload(owner, assetId, data);
}

/** Bytes of a value as JSON. */
function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v));
}

/** Splits `items` into runs whose JSON stays under `maxBytes` (at least one item each). */
function pack<T>(items: readonly T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 2;
  for (const it of items) {
    const n = jsonBytes(it) + 1;
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 2;
    }
    cur.push(it);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The largest array member of a Catena-X aspect object (the records: manufacturedParts, …). */
function recordArray(o: Record<string, unknown>): string | undefined {
  let best: string | undefined;
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(v) && (best === undefined || v.length > (o[best] as unknown[]).length)) {
      best = k;
    }
  }
  return best;
}

/**
 * Splits upload data into pieces whose JSON is at most `maxBytes` each, in the same format and
 * order: JSON rows by rows, CSV by lines (the header repeated, a quoted line break kept
 * inside its row), a Catena-X payload by aspects of an array and by the records array of an
 * aspect (its other members repeated).
 */
export function splitUpload(data: UploadData, maxBytes: number): UploadData[] {
  if (jsonBytes(data) <= maxBytes) return [data];
  if (data.format === "json") {
    return pack(data.rows, maxBytes - 64).map((rows) => ({ format: "json", rows }));
  }
  if (data.format === "csv") {
    const lines = data.csv.split(/\r?\n/);
    const rows: string[] = [];
    let open = "";
    for (const l of lines) {
      open = open === "" ? l : `${open}\n${l}`;
      if ((open.match(/"/g)?.length ?? 0) % 2 === 0) {
        rows.push(open);
        open = "";
      }
    }
    if (open !== "") rows.push(open);
    const [header, ...body] = rows;
    const nonEmpty = body.filter((r) => r.trim() !== "");
    return pack(nonEmpty, maxBytes - 64 - jsonBytes(header)).map((part) => ({
      format: "csv",
      csv: [header, ...part].join("\n"),
    }));
  }
  const payload = data.payload;
  const pieces: unknown[] = [];
  for (const aspect of Array.isArray(payload) ? payload : [payload]) {
    const o = aspect as Record<string, unknown>;
    const key = o && typeof o === "object" ? recordArray(o) : undefined;
    if (jsonBytes(aspect) <= maxBytes - 64 || key === undefined) {
      pieces.push(aspect);
      continue;
    }
    const rest = jsonBytes({ ...o, [key]: [] });
    for (const part of pack(o[key] as unknown[], maxBytes - 64 - rest)) {
      pieces.push({ ...o, [key]: part });
    }
  }
  if (!Array.isArray(payload) && pieces.length === 1) return [data];
  // aspects of an array are packed into arrays again; a split single aspect stays single
  if (!Array.isArray(payload)) return pieces.map((p) => ({ format: "catenax", payload: p }));
  return pack(pieces, maxBytes - 64).map((part) => ({ format: "catenax", payload: part }));
}

/** Progress of an upload through a session. */
export interface UploadProgress {
  chunk: number;
  chunkCount: number;
  /** Chunks the gateway held before this run (resumed). */
  resumed: number;
  records: number;
  bytes: number;
  /** Megabytes per second sent in this run so far. */
  mbPerSec: number;
}

/** Options of {@link uploadPath}. */
export interface UploadOptions {
  /** Start a new data set instead of adding to the latest version. */
  replace?: boolean;
  /** Largest chunk body (default: 512 KiB, or 3/4 of the gateway's body limit if smaller). */
  chunkBytes?: number;
  /** Called after each chunk. */
  onProgress?: (p: UploadProgress) => void;
  /** Called each time the commit is asked again because the gateway is still building. */
  onCommitWaiting?: (attempt: number) => void;
  /** Called after each chunk sent (tests stop a gateway here). */
  afterChunk?: (index: number) => Promise<void> | void;
}

/**
 * Runs an idempotent commit again while the gateway is still building (the client's header
 * timeout ran out before the gateway answered), at most `attempts` times in all.
 */
export async function commitPatiently<T>(
  call: () => Promise<T>,
  opts: { attempts?: number; onWaiting?: (attempt: number) => void } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 12;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof GatewayTimeout) || attempt >= attempts) throw e;
      opts.onWaiting?.(attempt);
    }
  }
}

/** Runs a gateway call again while the gateway asks to slow down (429, 503 INGEST_BUSY). */
async function patiently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const retry =
        e instanceof GatewayRefusal &&
        (e.code === "RATE_LIMITED" || e.code === "INGEST_BUSY") &&
        attempt < 30;
      if (!retry) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 15_000)));
    }
  }
}

/**
 * Uploads a file or a folder as ONE upload and one new version: a small single file in one
 * request, anything else (a folder, a paginated export, a file above the chunk size, or
 * `replace`) through a resumable session. The session id is derived from the owner, the asset,
 * `replace` and the chunks' hashes, so running the same upload again after an interruption
 * resumes it: the gateway is asked which chunks it holds and only the others are sent.
 */
export async function uploadPath(
  s: Session,
  owner: Signer,
  assetId: bigint,
  p: string,
  opts: UploadOptions = {},
) {
  const gw = gatewayOf(s);
  const files = await uploadFiles(p);
  const datas = await Promise.all(files.map((f) => readUploadFile(f)));
  const limit =
    opts.chunkBytes ?? Math.min(Math.floor(((await bodyLimitOf(gw)) * 3) / 4), CHUNK_BYTES);
  const replace = opts.replace ?? false;
  if (!replace && datas.length === 1 && jsonBytes(datas[0]) + 512 <= limit) {
    const up = await patiently(() => gw.upload(owner, assetId, datas[0]!));
    return { ...up, files, chunks: 1, resumed: 0 };
  }
  // a chunk the gateway could not read within its time budget (a busy gateway): smaller chunks
  for (let size = limit; ; size = Math.floor(size / 2)) {
    const chunks = datas.flatMap((d) => splitUpload(d, size - 512));
    try {
      return await uploadChunks(gw, owner, assetId, chunks, replace, opts, files);
    } catch (e) {
      if (!(e instanceof ChunkTooSlow)) throw e;
      if (size < 32 * 1024) throw e.cause;
    }
  }
}

/** A chunk the gateway refused with WORK_BUDGET_EXCEEDED (smaller chunks may pass). */
class ChunkTooSlow extends Error {
  constructor(override readonly cause: GatewayRefusal) {
    super(cause.message);
  }
}

/** The default largest chunk (a chunk is read in the gateway's ingest budget). */
export const CHUNK_BYTES = 512 * 1024;

async function bodyLimitOf(gw: GatewayClient): Promise<number> {
  try {
    return (await gw.bodyLimitBytes()) ?? 2 * 1024 * 1024;
  } catch (e) {
    if (e instanceof GatewayError) throw new UserError(e.message);
    throw e;
  }
}

/** Sends `chunks` through a session (resuming one the gateway holds) and commits it. */
export async function uploadChunks(
  gw: GatewayClient,
  owner: Signer,
  assetId: bigint,
  chunks: readonly UploadData[],
  replace: boolean,
  opts: UploadOptions = {},
  files: string[] = [],
) {
  const hashes = chunks.map((c) => uploadDataHash(c));
  const sessionId = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "address", "uint256", "bool", "bytes32[]"],
      ["partproof:upload-session:v1", await owner.getAddress(), assetId, replace, hashes],
    ),
  );
  const terms = { assetId, sessionId, replace, chunkCount: chunks.length };
  const started = await patiently(() => gw.startUploadSession(owner, terms));
  const held = new Set(started.received);
  const t0 = performance.now();
  let bytes = 0;
  let records = started.records;
  if (started.localId === undefined) {
    for (let i = 0; i < chunks.length; i++) {
      if (held.has(i)) continue;
      const r = await patiently(() => gw.uploadChunk(owner, terms, i, chunks[i]!)).catch((e) => {
        throw e instanceof GatewayRefusal && e.code === "WORK_BUDGET_EXCEEDED"
          ? new ChunkTooSlow(e)
          : e;
      });
      bytes += jsonBytes(chunks[i]);
      records = r.session.records;
      const secs = Math.max((performance.now() - t0) / 1000, 1e-3);
      opts.onProgress?.({
        chunk: i + 1,
        chunkCount: chunks.length,
        resumed: held.size,
        records,
        bytes,
        mbPerSec: bytes / 1e6 / secs,
      });
      await opts.afterChunk?.(i);
    }
  }
  // A commit of 10^6 records builds the version for longer than Node's fetch waits for an answer
  // (300 s): the commit is idempotent (a repeated commit waits for the first under the session's
  // lock and answers with the version it made), so it is asked again rather than reported lost.
  const done = await commitPatiently(() => patiently(() => gw.commitUploadSession(owner, terms)), {
    onWaiting: opts.onCommitWaiting,
  });
  return {
    created: done.created,
    version: done.version,
    files,
    chunks: chunks.length,
    resumed: held.size,
    sessionId,
  };
}

/** Random leaves the supplier audits, besides the two boundary links, before signing a version. */
export const SIGN_CHECK_SAMPLES = 4;

/** A uniform random integer in [0, n) from the CSPRNG. */
function randomBelow(n: number): number {
  const buf = new Uint32Array(2);
  globalThis.crypto.getRandomValues(buf);
  return Number(((BigInt(buf[0]!) << 32n) | BigInt(buf[1]!)) % BigInt(n));
}

/**
 * Checks a version the gateway built before the owner signs it: the gateway must prove, on the
 * owner's own random challenge, AuditPath proofs of the first link (the low sentinel), the last
 * record's link (to the first padding leaf) and `samples` random links, each with the public
 * inputs (root, index, challenge, recordCount) the gateway reports for the version — so the
 * root's count is the count to be published, the stored records rebuild the root, and the
 * opened links are well formed. Throws a UserError naming the failed check and leaf.
 */
export async function checkBeforeSigning(
  s: Session,
  owner: Signer,
  v: Pick<LocalVersion, "assetId" | "localId" | "root" | "recordCount" | "treeDepth">,
  samples = SIGN_CHECK_SAMPLES,
): Promise<void> {
  const what = `local version ${v.localId} of asset ${v.assetId}`;
  const circuit = `audit_d${v.treeDepth}`;
  const vk = (await loadVerificationKeys()).get(circuitId(circuit).toLowerCase());
  if (!vk) {
    throw new UserError(
      `refusing to sign ${what}: no verification key of ${circuit} is built here to check it (npm run build:circuits)`,
    );
  }
  const links = Math.min(v.recordCount, 2 ** v.treeDepth - 2) + 1;
  const indices = [
    ...new Set([0, links - 1, ...Array.from({ length: samples }, () => randomBelow(links))]),
  ];
  const challenge = BigInt(
    `0x${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(31))).toString("hex")}`,
  );
  let answer;
  try {
    answer = await gatewayOf(s).auditCheck(owner, BigInt(v.assetId), v.localId, challenge, indices);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    throw new UserError(
      `refusing to sign ${what}: the gateway could not prove its tree (${e.message})`,
    );
  }
  const findings = await checkAuditProofs(
    { root: BigInt(v.root), recordCount: BigInt(v.recordCount), challenge, indices },
    answer,
    vk.vkey as Groth16VerificationKey,
  );
  if (findings.length > 0) {
    throw new UserError(
      `refusing to sign ${what}: its tree fails the owner's audit:\n${findings
        .map(
          (f) => `  ${f.check}${f.index === undefined ? "" : ` at leaf ${f.index}`}: ${f.detail}`,
        )
        .join("\n")}`,
    );
  }
}

/**
 * Publishes a gateway-built version on-chain: the owner first checks it
 * ({@link checkBeforeSigning}), then signs PublishVersion (EIP-712) and the gateway relays it,
 * so the owner needs no gas.
 */
export async function publishViaGateway(
  s: Session,
  owner: Signer,
  v: LocalVersion,
  ttlSec = 3600,
  checkLeaves = SIGN_CHECK_SAMPLES,
): Promise<{ versionId: bigint; txHash: string }> {
  await checkBeforeSigning(s, owner, v, checkLeaves);
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

/**
 * Publishes a gateway-built version from the owner's own account (the owner pays gas), after
 * checking it ({@link checkBeforeSigning}).
 */
export async function publishDirect(
  s: Session,
  owner: Signer,
  v: VersionToPublish & Pick<LocalVersion, "localId">,
  checkLeaves = SIGN_CHECK_SAMPLES,
) {
  await checkBeforeSigning(s, owner, v, checkLeaves);
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
