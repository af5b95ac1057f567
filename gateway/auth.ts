/**
 * Signed requests, all EIP-712 typed data in the PartProof domain (name "PartProof",
 * version "1", chain id, the PartProof contract) of `contracts/typed-data.ts`:
 *
 * - Upload(uint256 assetId, bytes32 dataHash, uint256 timestamp) — the asset owner's upload;
 *   `dataHash = keccak256(utf8(canonicalJson(data)))` of the upload's `data` member, the
 *   timestamp (unix seconds) must be within `signatureMaxAgeSec` of the gateway's clock.
 *   Replaying an upload is harmless: the same batch makes the same version.
 * - Query(...) — a consumer's query (fields below); nonce and deadline are checked by the
 *   gateway, the nonce is stored and a reused nonce is refused.
 * - Read(address account, string action, uint256 assetId, uint256 timestamp) — a signed read
 *   of the owner's records (`action = "records"`) or the consumer's answers
 *   (`action = "answers"`, assetId 0), sent in headers `x-partproof-timestamp` and
 *   `x-partproof-signature`.
 */
import { keccak256, toUtf8Bytes, verifyTypedData, type TypedDataField } from "ethers";
import { partProofDomain } from "../contracts/typed-data.js";
import { AppError } from "./errors.js";

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
    { name: "timestamp", type: "uint256" },
  ],
};

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

/** The signing domain of one deployment. */
export interface Domain {
  /** Chain id. */
  chainId: bigint;
  /** PartProof contract address. */
  partProof: string;
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

function recover(
  domain: Domain,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
  signature: string,
): string {
  try {
    return verifyTypedData(
      partProofDomain(domain.chainId, domain.partProof),
      types,
      message,
      signature,
    );
  } catch {
    throw new AppError(
      401,
      "BAD_SIGNATURE",
      "the signature is malformed or does not match the message",
    );
  }
}

function checkFresh(timestamp: bigint, maxAgeSec: number, now: number): void {
  const t = Number(timestamp);
  if (Math.abs(now - t) > maxAgeSec) {
    throw new AppError(
      401,
      "DEADLINE_EXPIRED",
      `the signed timestamp is more than ${maxAgeSec} s away from the gateway's clock; sign again`,
    );
  }
}

/** Recovers the signer of an upload and checks its timestamp. */
export function recoverUploadSigner(
  domain: Domain,
  msg: { assetId: bigint; dataHash: string; timestamp: bigint },
  signature: string,
  maxAgeSec: number,
  now = Math.floor(Date.now() / 1000),
): string {
  const signer = recover(domain, UPLOAD_TYPES, msg, signature);
  checkFresh(msg.timestamp, maxAgeSec, now);
  return signer;
}

/** Recovers the signer of a query (deadline is checked by the use-case). */
export function recoverQuerySigner(domain: Domain, msg: QueryMessage, signature: string): string {
  return recover(domain, QUERY_TYPES, queryTypedMessage(msg), signature);
}

/** The Query message as signed: predicates padded to three packed slots. */
export function queryTypedMessage(msg: QueryMessage): Record<string, unknown> {
  const predicates = [...(msg.predicates ?? [])];
  while (predicates.length < 3) predicates.push(0n);
  return { ...msg, predicates };
}

/** Checks a signed read: the signature must be `account`'s, over a fresh timestamp. */
export function verifyRead(
  domain: Domain,
  msg: { account: string; action: string; assetId: bigint; timestamp: bigint },
  signature: string,
  maxAgeSec: number,
  now = Math.floor(Date.now() / 1000),
): string {
  const signer = recover(domain, READ_TYPES, msg, signature);
  if (signer.toLowerCase() !== msg.account.toLowerCase()) {
    throw new AppError(401, "BAD_SIGNATURE", "the read is not signed by the account it names");
  }
  checkFresh(msg.timestamp, maxAgeSec, now);
  return signer;
}
