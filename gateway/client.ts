/**
 * Signing helpers for the gateway's clients (suppliers, consumers, the demo and tests): build
 * and sign the EIP-712 messages the gateway expects, in the PartProof domain.
 */
import type { Signer, TypedDataDomain } from "ethers";
import { partProofDomain, PUBLISH_VERSION_TYPES } from "../contracts/typed-data.js";
import {
  QUERY_TYPES,
  READ_TYPES,
  UPLOAD_TYPES,
  queryTypedMessage,
  uploadDataHash,
  type Domain,
  type QueryMessage,
} from "./auth.js";
import type { UploadData } from "./schemas/index.js";
import { packPredicate, type Predicate } from "../circuits/lib/query.js";

function domainOf(d: Domain): TypedDataDomain {
  return partProofDomain(d.chainId, d.partProof);
}

/** Body of POST /assets/:assetId/uploads, signed by the asset owner. */
export async function signUpload(
  owner: Signer,
  domain: Domain,
  assetId: bigint,
  data: UploadData,
  timestamp = BigInt(Math.floor(Date.now() / 1000)),
) {
  const signature = await owner.signTypedData(domainOf(domain), UPLOAD_TYPES, {
    assetId,
    dataHash: uploadDataHash(data),
    timestamp,
  });
  return { data, timestamp: timestamp.toString(), signature };
}

/** Body of POST /queries, signed by the consumer. */
export async function signQuery(consumer: Signer, domain: Domain, query: QueryMessage) {
  const signature = await consumer.signTypedData(
    domainOf(domain),
    QUERY_TYPES,
    queryTypedMessage(query),
  );
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
      predicates: (queryTypedMessage(query).predicates as bigint[]).map(String),
      requestId: query.requestId,
      nonce: query.nonce.toString(),
      deadline: query.deadline.toString(),
    },
    signature,
  };
}

/**
 * Headers of a signed read (`action` "records" with the asset id; "answers" or "audit" with 0).
 */
export async function signRead(
  account: Signer,
  domain: Domain,
  action: "records" | "answers" | "audit",
  assetId: bigint,
  timestamp = BigInt(Math.floor(Date.now() / 1000)),
): Promise<Record<string, string>> {
  const signature = await account.signTypedData(domainOf(domain), READ_TYPES, {
    account: await account.getAddress(),
    action,
    assetId,
    timestamp,
  });
  return { "x-partproof-timestamp": timestamp.toString(), "x-partproof-signature": signature };
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
) {
  const signature = await owner.signTypedData(domainOf(domain), PUBLISH_VERSION_TYPES, {
    ...v,
    nonce,
    deadline,
  });
  return { deadline: deadline.toString(), signature };
}

/** Packs scan predicates (`{ field, op, value }`) into the Query message's three slots. */
export function packPredicates(preds: readonly Predicate[]): bigint[] {
  if (preds.length > 3) throw new RangeError("at most 3 predicates");
  const out = preds.map(packPredicate);
  while (out.length < 3) out.push(0n);
  return out;
}
