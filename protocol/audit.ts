/**
 * Audits by public randomness (issue 15): which leaves of a published version are audited is
 * decided by a block hash that did not exist when the tree was built and published, so a
 * gateway cannot build a tree that is malformed only where nobody looks.
 *
 * The seed of version V is the hash of block `publicationBlock + delay` (default
 * {@link DEFAULT_AUDIT_DELAY_BLOCKS}); it is expanded to t audit indices by
 * `index_j = keccak256(abi.encode(versionId, seed, j)) mod (recordCount + 1)`: the links from
 * the low sentinel (leaf 0) through the last record (leaf recordCount) to the first padding leaf,
 * drawn uniformly with replacement. The gateway and every auditor compute the same indices.
 *
 * The bound: if a fraction f of these links is malformed, t independent uniform draws all miss
 * them with probability (1 - f)^t ({@link escapeProbability}).
 */
import { AbiCoder, keccak256 } from "ethers";

/** Blocks between a version's publication and the block whose hash seeds its audit. */
export const DEFAULT_AUDIT_DELAY_BLOCKS = 5;
/** Default number of audited links. */
export const DEFAULT_AUDIT_SAMPLES = 300;

const coder = AbiCoder.defaultAbiCoder();
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** The block whose hash seeds the audit of a version published in `publicationBlock`. */
export function auditSeedBlock(
  publicationBlock: number,
  delay: number = DEFAULT_AUDIT_DELAY_BLOCKS,
): number {
  if (!Number.isSafeInteger(publicationBlock) || publicationBlock < 0) {
    throw new RangeError(`publication block must be a block number, got ${publicationBlock}`);
  }
  if (!Number.isSafeInteger(delay) || delay < 1) {
    throw new RangeError(`audit delay must be at least 1 block, got ${delay}`);
  }
  return publicationBlock + delay;
}

/**
 * The t audit indices of a version: leaf indices in [0, min(recordCount, 2^depth - 2)], each
 * audited with its successor, drawn from the seed (see the module comment).
 */
export function auditIndices(
  versionId: bigint,
  seed: string,
  recordCount: bigint,
  depth: number,
  t: number,
): number[] {
  if (!BYTES32.test(seed)) throw new RangeError(`audit seed must be a bytes32 hex string`);
  if (!Number.isSafeInteger(t) || t < 1) throw new RangeError(`t must be a positive integer`);
  if (recordCount < 0n) throw new RangeError("recordCount must not be negative");
  const lastLink = BigInt(2 ** depth - 2);
  const span = (recordCount < lastLink ? recordCount : lastLink) + 1n;
  return Array.from({ length: t }, (_, j) => {
    const h = keccak256(coder.encode(["uint256", "bytes32", "uint256"], [versionId, seed, j]));
    return Number(BigInt(h) % span);
  });
}

/**
 * The public `challenge` of every audit proof for this version and seed: binds the proofs to
 * the seed (a proof made for another seed or version does not verify with it). < 2^248.
 */
export function auditChallenge(versionId: bigint, seed: string): bigint {
  if (!BYTES32.test(seed)) throw new RangeError(`audit seed must be a bytes32 hex string`);
  const h = keccak256(
    coder.encode(["string", "uint256", "bytes32"], ["PartProof audit", versionId, seed]),
  );
  return BigInt(h) >> 8n;
}

/**
 * The probability that t uniform audits all miss a malformed fraction f of the audited links:
 * (1 - f)^t.
 */
export function escapeProbability(f: number, t: number): number {
  if (!(f >= 0 && f <= 1)) throw new RangeError(`f must be in [0, 1], got ${f}`);
  return Math.pow(1 - f, t);
}

/** The fractions of malformed links the reports tabulate the bound for. */
export const AUDIT_BOUND_FRACTIONS: readonly number[] = [0.1, 0.01, 0.001];

/** The bound (1 - f)^t for each of {@link AUDIT_BOUND_FRACTIONS} at t draws. */
export function boundTable(t: number): { f: number; escape: number }[] {
  return AUDIT_BOUND_FRACTIONS.map((f) => ({ f, escape: escapeProbability(f, t) }));
}

/** One check an audit sample failed, and where. */
export interface AuditFinding {
  /**
   * Which check: "missing-proof" (no proof for a challenged index), "public-inputs" (a proof
   * claims another root, index, challenge or record count), "invalid-proof" (does not verify),
   * "gateway-refused" (the gateway could not prove the audit), "no-vkey".
   */
  check: "missing-proof" | "public-inputs" | "invalid-proof" | "gateway-refused" | "no-vkey";
  /** The challenged leaf index, when the finding is about one. */
  index?: number;
  /** What was wrong, in words. */
  detail: string;
}

/** The result of sampling one published version (`partproof auditor sample`). */
export interface AuditSample {
  assetId: string;
  /** Version number of the asset. */
  version: number;
  versionId: string;
  root: string;
  recordCount: string;
  treeDepth: number;
  /** The block whose hash seeded the challenge, and that hash. */
  seedBlock: number;
  seed: string;
  /** Draws, and distinct leaves they opened. */
  t: number;
  distinct: number;
  /** The audit circuit whose verification key checked the proofs. */
  circuit: string;
  /** Whether every challenged index had a proof with the right public inputs that verifies. */
  passed: boolean;
  findings: AuditFinding[];
  /** (1 - f)^t for f = 10%, 1%, 0.1%. */
  bound: { f: number; escape: number }[];
  /** When the sample was taken (ISO). */
  sampledAt: string;
  /** auditProofsDigest of the proofs checked (one per opened leaf), when the sample passed. */
  proofsDigest?: string;
  /** The on-chain attestation recorded for this sample (`auditor sample --attest`). */
  attestation?: { attester: string; tx: string; block: number };
}

/** An AuditAttested event as an auditor's report lists it. */
export interface FoundAttestation {
  assetId: string;
  /** Version number of the asset. */
  version: number;
  versionId: string;
  attester: string;
  seed: string;
  t: number;
  proofsDigest: string;
  block: number;
  tx: string;
}

/** One audit proof as the gateway returns it (protocol/api.ts AuditDone's proofs). */
export interface AuditProofItem {
  index: number;
  /** [root, index, challenge, recordCount] as decimal strings. */
  publicSignals: readonly string[];
  proof: { pi_a: readonly string[]; pi_b: readonly (readonly string[])[]; pi_c: readonly string[] };
}

/**
 * The digest an attestation names (IAuditAttestations `proofsDigest`): the proofs an attester
 * checked, ordered by leaf index, as
 * `keccak256(abi.encode((uint256 index, uint256[] publicSignals, uint256[8] proof)[]))` with
 * `proof = [pi_a0, pi_a1, pi_b00, pi_b01, pi_b10, pi_b11, pi_c0, pi_c1]` in snarkjs' order.
 * Whoever holds the same proofs (the gateway keeps them per version and challenge) recomputes it
 * and re-verifies them, so an attestation is a checkable claim, not a bare word.
 */
export function auditProofsDigest(proofs: readonly AuditProofItem[]): string {
  const rows = [...proofs]
    .sort((a, b) => a.index - b.index)
    .map((p) => {
      const { pi_a: a, pi_b: b, pi_c: c } = p.proof;
      const point = [a[0], a[1], b[0]?.[0], b[0]?.[1], b[1]?.[0], b[1]?.[1], c[0], c[1]];
      if (point.some((x) => x === undefined)) {
        throw new RangeError(`the proof of leaf ${p.index} lacks a coordinate`);
      }
      return [p.index, p.publicSignals.map(BigInt), point.map((x) => BigInt(x!))];
    });
  return keccak256(coder.encode(["tuple(uint256,uint256[],uint256[8])[]"], [rows]));
}
