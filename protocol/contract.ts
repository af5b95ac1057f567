/**
 * The PartProof contract as every app sees it: typed bindings generated from the compiled
 * contract at build time (typechain, `types/ethers-contracts`, made by `hardhat build`), the
 * read model (assets, versions, grants, policies), the one revert decoder, and the id helpers.
 */
import type { ContractRunner, Interface, Provider } from "ethers";
import { PartProof__factory, type PartProof } from "../types/ethers-contracts/index.js";
import { thresholdSlots, type Policy } from "../circuits/lib/signals.js";
import { auditSeedBlock, DEFAULT_AUDIT_DELAY_BLOCKS } from "./audit.js";

export type { PartProof };

/** PartProof's ABI, generated from the compiled contract. */
export const PART_PROOF_ABI = PartProof__factory.abi;

/** PartProof's ethers Interface (events, errors, call data). */
export const partProofInterface: Interface = PartProof__factory.createInterface();

/** The typed PartProof contract at `address`, connected to `runner`. */
export function partProofAt(address: string, runner: ContractRunner | null): PartProof {
  return PartProof__factory.connect(address, runner);
}

/** Grant life-cycle states (IAccessGrants.GrantStatus). */
export enum GrantStatus {
  None = 0,
  Requested = 1,
  Active = 2,
  Rejected = 3,
  Revoked = 4,
}

/** An asset as the chain holds it. */
export interface AssetInfo {
  /** Owner address. */
  owner: string;
  /** Number of published versions (the latest version's number). */
  versionCount: number;
  /** Retired assets take no new versions or answers. */
  retired: boolean;
  /** Schema URN. */
  schemaId: string;
  /** Gateway URL. */
  endpoint: string;
  /** Metadata hash. */
  metadataHash: string;
}

/** A published version. */
export interface VersionInfo {
  /** Commitment root. */
  root: bigint;
  /** Number of records. */
  recordCount: bigint;
  /** Tree depth. */
  treeDepth: number;
  /** Publication time (unix s). */
  publishedAt: number;
  /** Publication block (its audit seed is the hash of the block AUDIT_SEED_DELAY later). */
  publishedBlock: number;
  /** Index/schema parameters hash. */
  paramsHash: string;
}

/** One attester's on-chain record that a version passed t audits (IAuditAttestations). */
export interface AttestationInfo {
  /** Whose claim it is: the account that sent attestAudit. */
  attester: string;
  /** Draws whose proofs the attester verified. */
  t: number;
  /** Block of the (latest) attestation. */
  attestedBlock: number;
  /** protocol/audit.ts auditProofsDigest of the proofs checked. */
  proofsDigest: string;
}

/** A version's audit seed as the contract knows it. */
export interface AnchoredSeed {
  /** Publication block + AUDIT_SEED_DELAY. */
  seedBlock: number;
  /** The anchored seed, else the seed block's hash while the EVM knows it, else undefined. */
  seed?: string;
  /** Whether the seed is stored on-chain for good. */
  anchored: boolean;
}

/** What the chain says about the audits of a version. */
export interface VersionAttestations {
  /** The seed every attestation of the version is for. */
  seed: AnchoredSeed;
  /** Every attester's record, in order of first attestation. */
  attestations: AttestationInfo[];
  /** The contract's current minimum t (older attestations keep the t they were made with). */
  minT: number;
}

/** A grant. */
export interface GrantInfo {
  /** Asset granted. */
  assetId: bigint;
  /** Consumer address. */
  consumer: string;
  /** First valid second. */
  validFrom: number;
  /** Last valid second. */
  validUntil: number;
  /** Answers allowed. */
  quota: number;
  /** Answers logged. */
  used: number;
  /** Life-cycle state. */
  status: GrantStatus;
  /** Policy hash. */
  policyHash: bigint;
}

/** Version id of version `number` of an asset: (assetId << 64) | number. */
export function versionIdOf(assetId: bigint, number: number | bigint): bigint {
  return (assetId << 64n) | BigInt(number);
}

/** The policy as the contract's `Policy` struct (grantAccess, requestGrant). */
export function policyStruct(p: Policy) {
  return {
    aggregateMask: p.aggregateMask,
    fieldMask: p.fieldMask,
    filterMask: p.filterMask,
    minCohort: p.minCohort,
    keyLo: p.keyLo,
    keyHi: p.keyHi,
    thresholds: thresholdSlots(p),
  };
}

/** A decoded custom error of PartProof. */
export interface DecodedRevert {
  /** Error name, e.g. "GrantExpired". */
  name: string;
  /** Its arguments. */
  args: unknown[];
}

/**
 * The PartProof custom error a failed call or transaction reverted with, if it is one of
 * PartProof's (ethers may put the revert data in `revert`, `data` or `info.error.data`).
 */
export function decodeRevert(
  e: unknown,
  iface: Interface = partProofInterface,
): DecodedRevert | undefined {
  const err = e as {
    revert?: { name?: string; args?: unknown[] };
    data?: string;
    info?: { error?: { data?: string } };
    error?: { data?: string };
  };
  if (err?.revert?.name) return { name: err.revert.name, args: [...(err.revert.args ?? [])] };
  const data = err?.data ?? err?.info?.error?.data ?? err?.error?.data;
  if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A human-readable revert reason: `Name(arg, …)` for PartProof's errors, else the message. */
export function revertReason(e: unknown): string {
  const r = decodeRevert(e);
  if (r) return `${r.name}(${r.args.map(String).join(", ")})`;
  const m = (e as { shortMessage?: string; message?: string }) ?? {};
  return m.shortMessage ?? m.message ?? String(e);
}

/** Read access to one PartProof deployment, shared by the gateway, the CLI and the console. */
export class PartProofReader {
  /** The typed contract, connected to the provider. */
  readonly contract: PartProof;

  /** Reads `address` through `provider`. */
  constructor(
    readonly provider: Provider,
    readonly address: string,
  ) {
    this.contract = partProofAt(address, provider);
  }

  /** The asset, or undefined when it does not exist. */
  async getAsset(assetId: bigint): Promise<AssetInfo | undefined> {
    try {
      const a = await this.contract.getAsset(assetId);
      return {
        owner: a.owner,
        versionCount: Number(a.versionCount),
        retired: a.retired,
        schemaId: a.schemaId,
        endpoint: a.endpoint,
        metadataHash: a.metadataHash,
      };
    } catch (e) {
      if (decodeRevert(e)?.name === "AssetNotFound") return undefined;
      throw e;
    }
  }

  /** The block in which a version was published, or undefined when it does not exist. */
  async versionPublicationBlock(versionId: bigint): Promise<number | undefined> {
    return (await this.getVersion(versionId))?.publishedBlock;
  }

  /** The version's audit seed as the contract holds it, or undefined when no such version. */
  async anchoredSeed(versionId: bigint): Promise<AnchoredSeed | undefined> {
    try {
      const [seedBlock, seed, anchored] = await this.contract.auditSeedOf(versionId);
      return {
        seedBlock: Number(seedBlock),
        ...(BigInt(seed) === 0n ? {} : { seed }),
        anchored,
      };
    } catch (e) {
      if (decodeRevert(e)?.name === "VersionNotFound") return undefined;
      throw e;
    }
  }

  /**
   * The attestations of a version, its seed and the current minimum t, read from the chain
   * (never from a gateway); undefined when the version does not exist.
   */
  async versionAttestations(versionId: bigint): Promise<VersionAttestations | undefined> {
    const seed = await this.anchoredSeed(versionId);
    if (!seed) return undefined;
    const [list, minT] = await Promise.all([
      this.contract.getAuditAttestations(versionId),
      this.contract.minAuditSamples(),
    ]);
    return {
      seed,
      attestations: list.map((a) => ({
        attester: a.attester,
        t: Number(a.t),
        attestedBlock: Number(a.attestedBlock),
        proofsDigest: a.proofsDigest,
      })),
      minT: Number(minT),
    };
  }

  /**
   * The audit seed of a version (protocol/audit.ts): the hash of the block `delay` blocks after
   * its publication block. `seed` is undefined while that block is not mined yet.
   */
  async auditSeed(
    versionId: bigint,
    delay: number = DEFAULT_AUDIT_DELAY_BLOCKS,
  ): Promise<{ seedBlock: number; seed?: string } | undefined> {
    const published = await this.versionPublicationBlock(versionId);
    if (published === undefined) return undefined;
    const seedBlock = auditSeedBlock(published, delay);
    if ((await this.provider.getBlockNumber()) < seedBlock) return { seedBlock };
    const block = await this.provider.getBlock(seedBlock);
    return { seedBlock, seed: block?.hash ?? undefined };
  }

  /** The version, or undefined when it does not exist. */
  async getVersion(versionId: bigint): Promise<VersionInfo | undefined> {
    try {
      const v = await this.contract.getVersion(versionId);
      return {
        root: v.root,
        recordCount: v.recordCount,
        treeDepth: Number(v.treeDepth),
        publishedAt: Number(v.publishedAt),
        publishedBlock: Number(v.publishedBlock),
        paramsHash: v.paramsHash,
      };
    } catch (e) {
      if (decodeRevert(e)?.name === "VersionNotFound") return undefined;
      throw e;
    }
  }

  /** The grant, or undefined when it does not exist. */
  async getGrant(grantId: bigint): Promise<GrantInfo | undefined> {
    try {
      const g = await this.contract.getGrant(grantId);
      const status = Number(g.status) as GrantStatus;
      if (status === GrantStatus.None) return undefined;
      return {
        assetId: g.assetId,
        consumer: g.consumer,
        validFrom: Number(g.validFrom),
        validUntil: Number(g.validUntil),
        quota: Number(g.quota),
        used: Number(g.used),
        status,
        policyHash: g.policyHash,
      };
    } catch (e) {
      if (decodeRevert(e)?.name === "GrantNotFound") return undefined;
      throw e;
    }
  }

  /** The grant's policy. */
  async getGrantPolicy(grantId: bigint): Promise<Policy> {
    const p = await this.contract.getGrantPolicy(grantId);
    return {
      aggregateMask: Number(p.aggregateMask),
      fieldMask: Number(p.fieldMask),
      filterMask: Number(p.filterMask),
      minCohort: Number(p.minCohort),
      keyLo: p.keyLo,
      keyHi: p.keyHi,
      thresholds: [...p.thresholds].map(BigInt),
    };
  }

  /** Number of registered assets (ids 1..n). */
  async assetCount(): Promise<number> {
    return Number(await this.contract.assetCount());
  }

  /** Whether an answer to the request id has been logged under the grant. */
  async isRequestLogged(grantId: bigint, requestId: string): Promise<boolean> {
    return this.contract.isRequestLogged(grantId, requestId);
  }

  /** Timestamp of the latest block (grant windows are checked against chain time). */
  async now(): Promise<number> {
    const b = await this.provider.getBlock("latest");
    return b ? Number(b.timestamp) : Math.floor(Date.now() / 1000);
  }

  /** The transaction and block that logged a grant's request id, if logged. */
  async findAnswer(
    grantId: bigint,
    requestId: string,
  ): Promise<
    { hash: string; blockNumber: number; grantId?: bigint; consumer?: string } | undefined
  > {
    const block = Number(await this.contract.answerBlockOf(grantId, requestId));
    if (block === 0) return undefined;
    const logs = await this.contract.queryFilter(
      this.contract.filters.AnswerRecorded(grantId, undefined, requestId),
      block,
      block,
    );
    const log = logs[0];
    return log
      ? {
          hash: log.transactionHash,
          blockNumber: log.blockNumber,
          grantId: log.args.grantId,
          consumer: log.args.consumer,
        }
      : { hash: "", blockNumber: block };
  }
}
