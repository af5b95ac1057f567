/**
 * The one place for PartProof's EIP-712 typed data. The domain is the same for every message:
 * name "PartProof", version "1", the chain id and the PartProof contract's address (the contract
 * that verifies publish signatures; the gateway checks query signatures off-chain against the
 * same domain).
 */
import type { TypedDataDomain, TypedDataField } from "ethers";

/** EIP-712 domain name. */
export const DOMAIN_NAME = "PartProof";
/** EIP-712 domain version. */
export const DOMAIN_VERSION = "1";

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
