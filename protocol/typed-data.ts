/**
 * The one place for PartProof's EIP-712 typed data: the domain, every message type (Upload,
 * Query, Read, PublishVersion), and the helpers that sign (suppliers, consumers, auditors, the
 * demo, tests) and recover (the gateway) them.
 *
 * The domain is the same for every message: name "PartProof", version "1", the chain id and the
 * PartProof contract's address (the contract verifies PublishVersion signatures on-chain; the
 * gateway checks the others off-chain against the same domain).
 *
 * - Upload(uint256 assetId, bytes32 dataHash, uint256 timestamp) — the asset owner's upload;
 *   `dataHash = keccak256(utf8(canonicalJson(data)))` of the upload's `data` member.
 * - Query(...) — a consumer's query (fields of {@link QueryMessage}).
 * - Read(address account, string action, uint256 assetId, string gateway, uint256 timestamp) —
 *   a signed read of the owner's records (`action = "records"`), the consumer's answers
 *   (`"answers"`, assetId 0) or an auditor's export (`"audit"`, assetId 0), for the one gateway
 *   whose id (`gatewayId` in its /health) it names, sent in the headers `x-partproof-gateway`,
 *   `x-partproof-timestamp` and `x-partproof-signature`. A gateway accepts it only for its own
 *   id and only within a short window (no future timestamps beyond a small clock skew).
 * - PublishVersion(...) — an owner's consent to publish a version, relayed by anyone through
 *   `publishVersionBySig` (ERC20Permit-style nonce and deadline).
 * - AnswerConsent(uint256 grantId, bytes32 requestId, uint256 versionId, uint256 queryHash) — a
 *   consumer's consent to log the answer to one query; `recordAnswer` checks it on-chain
 *   (ECDSA or ERC-1271) against the proof's queryHash signal. Sent with the Query (POST
 *   /queries, member `consent`); {@link answerConsentOf} derives it from the Query.
 */
import {
  keccak256,
  toUtf8Bytes,
  verifyTypedData,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import {
  packPredicate,
  queryHash,
  type Predicate,
  type PredicateOp,
} from "../circuits/lib/query.js";

/** EIP-712 domain name. */
export const DOMAIN_NAME = "PartProof";
/** EIP-712 domain version. */
export const DOMAIN_VERSION = "1";

/** The signing domain of one deployment. */
export interface Domain {
  /** Chain id. */
  chainId: bigint;
  /** PartProof contract address. */
  partProof: string;
}

/** Builds the EIP-712 domain of a PartProof deployment. */
export function partProofDomain(
  chainId: bigint | number,
  verifyingContract: string,
): TypedDataDomain {
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract,
  };
}

/** The EIP-712 domain of a {@link Domain}. */
export function typedDomain(d: Domain): TypedDataDomain {
  return partProofDomain(d.chainId, d.partProof);
}

/**
 * PublishVersion: an asset owner's consent to publish a version, relayed by anyone through
 * `publishVersionBySig`. `nonce` is the owner's current `nonces(owner)` on the contract.
 */
export const PUBLISH_VERSION_TYPES: Record<string, TypedDataField[]> = {
  PublishVersion: [
    { name: "assetId", type: "uint256" },
    { name: "root", type: "uint256" },
    { name: "recordCount", type: "uint64" },
    { name: "treeDepth", type: "uint32" },
    { name: "paramsHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The message of a PublishVersion signature. */
export interface PublishVersionMessage {
  /** The asset. */
  assetId: bigint;
  /** Commitment root (a non-zero BN254 field element). */
  root: bigint;
  /** Number of records committed. */
  recordCount: bigint;
  /** Depth of the commitment tree. */
  treeDepth: bigint;
  /** Hash of the index and schema parameters (0x-prefixed 32 bytes). */
  paramsHash: string;
  /** The owner's current nonce on the contract. */
  nonce: bigint;
  /** Last valid timestamp (seconds). */
  deadline: bigint;
}

/**
 * AnswerConsent: a consumer's consent to log the answer to one query under one grant. The
 * contract's `recordAnswer` accepts an entry only with it (IAccessLog.Consent).
 * versionId 0 = "the asset's latest version when the answer is logged", else that version.
 */
export const ANSWER_CONSENT_TYPES: Record<string, TypedDataField[]> = {
  AnswerConsent: [
    { name: "grantId", type: "uint256" },
    { name: "requestId", type: "bytes32" },
    { name: "versionId", type: "uint256" },
    { name: "queryHash", type: "uint256" },
  ],
};

/** The message of an AnswerConsent signature. */
export interface AnswerConsentMessage {
  /** The grant the query is made under. */
  grantId: bigint;
  /** The request id (bytes32 hex), unique per grant. */
  requestId: string;
  /** The version rule: 0 = the latest version when logged, else that version id. */
  versionId: bigint;
  /** The Poseidon query hash the proof must carry (circuits/lib/query.ts `queryHash`). */
  queryHash: bigint;
}

/** EIP-712 types of an upload. */
export const UPLOAD_TYPES: Record<string, TypedDataField[]> = {
  Upload: [
    { name: "assetId", type: "uint256" },
    { name: "dataHash", type: "bytes32" },
    { name: "timestamp", type: "uint256" },
  ],
};

/** EIP-712 types of a query. versionId 0 means the asset's latest version. */
export const QUERY_TYPES: Record<string, TypedDataField[]> = {
  Query: [
    { name: "grantId", type: "uint256" },
    { name: "assetId", type: "uint256" },
    { name: "versionId", type: "uint256" },
    { name: "kind", type: "uint8" },
    { name: "fieldA", type: "uint8" },
    { name: "fieldB", type: "uint8" },
    { name: "lo", type: "uint128" },
    { name: "hi", type: "uint128" },
    { name: "threshold", type: "uint64" },
    { name: "predicates", type: "uint256[3]" },
    { name: "requestId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** EIP-712 types of a signed read. */
export const READ_TYPES: Record<string, TypedDataField[]> = {
  Read: [
    { name: "account", type: "address" },
    { name: "action", type: "string" },
    { name: "assetId", type: "uint256" },
    { name: "gateway", type: "string" },
    { name: "timestamp", type: "uint256" },
  ],
};

/** What a signed read is for. */
export type ReadAction = "records" | "answers" | "audit" | "uploads";

/** A signed read's message. */
export interface ReadMessage {
  /** The account reading (must be the signer). */
  account: string;
  /** What is read. */
  action: string;
  /** The asset ("records"), else 0. */
  assetId: bigint;
  /** The id of the one gateway the read is for (its /health `gatewayId`). */
  gateway: string;
  /** Unix seconds; the gateway accepts it within its read window. */
  timestamp: bigint;
}

/** An upload's message. */
export interface UploadMessage {
  /** The asset uploaded to. */
  assetId: bigint;
  /** {@link uploadDataHash} of the upload's data. */
  dataHash: string;
  /** Unix seconds. */
  timestamp: bigint;
}

/** A query message as signed (all integers as bigint). */
export interface QueryMessage {
  /** Grant the query is made under. */
  grantId: bigint;
  /** Asset queried. */
  assetId: bigint;
  /** On-chain version id, or 0 for the latest. */
  versionId: bigint;
  /** Aggregate kind (PROOF_FORMAT.md). */
  kind: number;
  /** Field aggregated. */
  fieldA: number;
  /** Second field (ratios), else 0. */
  fieldB: number;
  /** Lowest index key. */
  lo: bigint;
  /** Highest index key. */
  hi: bigint;
  /** PPM threshold (THRESHOLD_PPM), else 0. */
  threshold: bigint;
  /**
   * Up to three AND-ed scan predicates, packed as the circuits do (field + 4·op + 16·value,
   * `packPredicates`); missing or 0 = unused. Any predicate makes the query a scan proof.
   */
  predicates?: readonly bigint[];
  /** Request id, bytes32 hex, unique per deployment. */
  requestId: string;
  /** Consumer's nonce, never reused. */
  nonce: bigint;
  /** Last valid unix time (seconds). */
  deadline: bigint;
}

/** JSON with object keys sorted at every level and no whitespace (the signed form). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** keccak256 of the canonical JSON of an upload's data: the value an Upload signs. */
export function uploadDataHash(data: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(data)));
}

/** The Query message as signed: predicates padded to three packed slots. */
export function queryTypedMessage(msg: QueryMessage): Record<string, unknown> {
  const predicates = [...(msg.predicates ?? [])];
  while (predicates.length < 3) predicates.push(0n);
  return { ...msg, predicates };
}

/**
 * The query hash (public signal `queryHash`) of a signed Query message, computed the way the
 * circuits do (circuits/lib/query.ts), from the consumer's own message.
 * @throws RangeError when a packed predicate is out of range.
 */
export function queryMessageHash(msg: QueryMessage): bigint {
  const predicates = (msg.predicates ?? [])
    .filter((x) => x !== 0n)
    .map((x) => ({
      field: Number(x & 3n),
      op: Number((x >> 2n) & 3n) as PredicateOp,
      value: x >> 4n,
    }));
  return queryHash({
    kind: msg.kind,
    fieldA: msg.fieldA,
    fieldB: msg.fieldB,
    lo: msg.lo,
    hi: msg.hi,
    threshold: msg.threshold,
    nonce: msg.nonce,
    predicates,
  });
}

/** The AnswerConsent that goes with a Query message (same grant, request id, version rule). */
export function answerConsentOf(msg: QueryMessage): AnswerConsentMessage {
  return {
    grantId: msg.grantId,
    requestId: msg.requestId,
    versionId: msg.versionId,
    queryHash: queryMessageHash(msg),
  };
}

/** Packs scan predicates (`{ field, op, value }`) into the Query message's three slots. */
export function packPredicates(preds: readonly Predicate[]): bigint[] {
  if (preds.length > 3) throw new RangeError("at most 3 predicates");
  const out = preds.map(packPredicate);
  while (out.length < 3) out.push(0n);
  return out;
}

/** A signature that is malformed or does not recover. */
export class SignatureError extends Error {
  override name = "SignatureError";
}

/**
 * The address that signed `message` of `types` in `domain`.
 * @throws SignatureError when the signature is malformed.
 */
export function recoverSigner(
  domain: Domain,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
  signature: string,
): string {
  try {
    return verifyTypedData(typedDomain(domain), types, message, signature);
  } catch {
    throw new SignatureError("the signature is malformed or does not match the message");
  }
}

/** The signer of a query. */
export function recoverQuerySigner(domain: Domain, msg: QueryMessage, signature: string): string {
  return recoverSigner(domain, QUERY_TYPES, queryTypedMessage(msg), signature);
}

/** The signer of an upload. */
export function recoverUploadSigner(domain: Domain, msg: UploadMessage, signature: string): string {
  return recoverSigner(domain, UPLOAD_TYPES, { ...msg }, signature);
}

/** The signer of a read. */
export function recoverReadSigner(domain: Domain, msg: ReadMessage, signature: string): string {
  return recoverSigner(domain, READ_TYPES, { ...msg }, signature);
}

/** The signer of an AnswerConsent (an EOA; a contract wallet's consent is checked on-chain). */
export function recoverAnswerConsentSigner(
  domain: Domain,
  msg: AnswerConsentMessage,
  signature: string,
): string {
  return recoverSigner(domain, ANSWER_CONSENT_TYPES, { ...msg }, signature);
}

/**
 * The consumer's AnswerConsent signature, passed to `recordAnswer` as
 * `{ versionId: msg.versionId, signature }`.
 */
export async function signAnswerConsent(
  consumer: Signer,
  domain: Domain,
  msg: AnswerConsentMessage,
): Promise<string> {
  return consumer.signTypedData(typedDomain(domain), ANSWER_CONSENT_TYPES, { ...msg });
}

/** Unix seconds now, as bigint. */
function nowSec(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

/** Body of POST /assets/:assetId/uploads, signed by the asset owner. */
export async function signUpload<D>(
  owner: Signer,
  domain: Domain,
  assetId: bigint,
  data: D,
  timestamp = nowSec(),
): Promise<{ data: D; timestamp: string; signature: string }> {
  const signature = await owner.signTypedData(typedDomain(domain), UPLOAD_TYPES, {
    assetId,
    dataHash: uploadDataHash(data),
    timestamp,
  });
  return { data, timestamp: timestamp.toString(), signature };
}

/**
 * Body of POST /queries, signed by the consumer: the Query, its signature, and the
 * AnswerConsent signature ({@link answerConsentOf} the query) the gateway's relayer needs to log
 * the answer on-chain.
 */
export async function signQuery(consumer: Signer, domain: Domain, query: QueryMessage) {
  const typed = queryTypedMessage(query);
  const signature = await consumer.signTypedData(typedDomain(domain), QUERY_TYPES, typed);
  const consent = await signAnswerConsent(consumer, domain, answerConsentOf(query));
  return {
    query: {
      grantId: query.grantId.toString(),
      assetId: query.assetId.toString(),
      versionId: query.versionId.toString(),
      kind: query.kind,
      fieldA: query.fieldA,
      fieldB: query.fieldB,
      lo: query.lo.toString(),
      hi: query.hi.toString(),
      threshold: query.threshold.toString(),
      predicates: (typed.predicates as bigint[]).map(String),
      requestId: query.requestId,
      nonce: query.nonce.toString(),
      deadline: query.deadline.toString(),
    },
    signature,
    consent,
  };
}

/**
 * Headers of a signed read (`action` "records" with the asset id; "answers" or "audit" with 0)
 * for the gateway whose id is `gatewayId` (its /health `gatewayId`).
 */
export async function signRead(
  account: Signer,
  domain: Domain,
  action: ReadAction,
  assetId: bigint,
  gatewayId: string,
  timestamp = nowSec(),
): Promise<Record<string, string>> {
  const signature = await account.signTypedData(typedDomain(domain), READ_TYPES, {
    account: await account.getAddress(),
    action,
    assetId,
    gateway: gatewayId,
    timestamp,
  });
  return {
    "x-partproof-gateway": gatewayId,
    "x-partproof-timestamp": timestamp.toString(),
    "x-partproof-signature": signature,
  };
}

/**
 * Body of POST /assets/:assetId/versions/:localId/publish: the owner's PublishVersion
 * signature over a version the gateway returned (`nonce` = the owner's `nonces(owner)`).
 */
export async function signPublish(
  owner: Signer,
  domain: Domain,
  v: { assetId: bigint; root: bigint; recordCount: bigint; treeDepth: bigint; paramsHash: string },
  nonce: bigint,
  deadline: bigint,
): Promise<{ deadline: string; signature: string }> {
  const signature = await owner.signTypedData(typedDomain(domain), PUBLISH_VERSION_TYPES, {
    ...v,
    nonce,
    deadline,
  });
  return { deadline: deadline.toString(), signature };
}

/**
 * EIP-712 types of the steps of a resumable upload session (`/assets/:id/upload-sessions`):
 * `step` "start" (index 0, dataHash 0), "chunk" (index = the chunk's number, dataHash =
 * {@link uploadDataHash} of its data) or "commit" (index = chunkCount, dataHash 0); `replace`
 * and `chunkCount` are the session's and are signed with every step.
 */
export const UPLOAD_SESSION_TYPES: Record<string, TypedDataField[]> = {
  UploadSession: [
    { name: "assetId", type: "uint256" },
    { name: "sessionId", type: "bytes32" },
    { name: "step", type: "string" },
    { name: "replace", type: "bool" },
    { name: "index", type: "uint32" },
    { name: "chunkCount", type: "uint32" },
    { name: "dataHash", type: "bytes32" },
    { name: "timestamp", type: "uint256" },
  ],
};

/** A step of an upload session. */
export type UploadStep = "start" | "chunk" | "commit";

/** An upload session step's message. */
export interface UploadSessionMessage {
  assetId: bigint;
  /** Chosen by the client (bytes32 hex). */
  sessionId: string;
  step: UploadStep;
  replace: boolean;
  index: number;
  chunkCount: number;
  /** {@link uploadDataHash} of a chunk's data; zero for start and commit. */
  dataHash: string;
  /** Unix seconds. */
  timestamp: bigint;
}

/** The signer of an upload session step. */
export function recoverUploadSessionSigner(
  domain: Domain,
  msg: UploadSessionMessage,
  signature: string,
): string {
  return recoverSigner(domain, UPLOAD_SESSION_TYPES, { ...msg }, signature);
}

/**
 * Body of a step of an upload session, signed by the asset owner: start and commit carry
 * `{ replace, chunkCount, timestamp, signature }`, a chunk carries its `data` too.
 */
export async function signUploadStep<D>(
  owner: Signer,
  domain: Domain,
  s: { assetId: bigint; sessionId: string; replace: boolean; chunkCount: number },
  step: UploadStep,
  index: number,
  data?: D,
  timestamp = nowSec(),
): Promise<{
  replace: boolean;
  chunkCount: number;
  timestamp: string;
  signature: string;
  data?: D;
}> {
  const dataHash = data === undefined ? "0x" + "00".repeat(32) : uploadDataHash(data);
  const signature = await owner.signTypedData(typedDomain(domain), UPLOAD_SESSION_TYPES, {
    ...s,
    step,
    index,
    dataHash,
    timestamp,
  });
  return {
    replace: s.replace,
    chunkCount: s.chunkCount,
    timestamp: timestamp.toString(),
    signature,
    ...(data === undefined ? {} : { data }),
  };
}
