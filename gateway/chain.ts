/**
 * The gateway's view of the PartProof contract: reads of assets, versions and grants, and the
 * relayer's transactions (recordAnswer, publishVersionBySig). The ABI is written out here
 * (human-readable) so that the gateway runs without the contracts' build output.
 */
import { Contract, type ContractRunner, type Provider, type Signer } from "ethers";
import type { Policy } from "../circuits/lib/signals.js";

/** The part of the PartProof ABI the gateway uses. */
export const PART_PROOF_ABI = [
  "function getAsset(uint256 assetId) view returns (tuple(address owner, uint48 registeredAt, uint32 versionCount, bool retired, bytes32 metadataHash, string schemaId, string endpoint))",
  "function getVersion(uint256 versionId) view returns (tuple(uint256 root, uint64 recordCount, uint48 publishedAt, uint32 treeDepth, bytes32 paramsHash))",
  "function getGrant(uint256 grantId) view returns (tuple(uint256 assetId, address consumer, uint48 validFrom, uint48 validUntil, uint32 quota, uint32 used, uint8 status, uint256 policyHash))",
  "function getGrantPolicy(uint256 grantId) view returns (tuple(uint32 aggregateMask, uint32 fieldMask, uint32 filterMask, uint32 minCohort, uint128 keyLo, uint128 keyHi))",
  "function isRequestLogged(bytes32 requestId) view returns (bool)",
  "function answerBlockOf(bytes32 requestId) view returns (uint256)",
  "function nonces(address owner) view returns (uint256)",
  "function paused() view returns (bool)",
  "function assetCount() view returns (uint256)",
  "function recordAnswer(uint256 grantId, uint256 versionId, bytes32 circuitId, bytes32 requestId, tuple(uint256[2] a, uint256[2][2] b, uint256[2] c) proof, uint256[5] publicSignals)",
  "function publishVersionBySig(uint256 assetId, uint256 root, uint64 recordCount, uint32 treeDepth, bytes32 paramsHash, uint256 deadline, bytes signature) returns (uint256)",
  "event AnswerRecorded(uint256 indexed grantId, address indexed consumer, bytes32 indexed requestId, uint256 versionId, bytes32 circuitId, uint256 queryHash, uint256 resultCommitment, uint32 used, address relayer, uint48 timestamp)",
  "event VersionPublished(uint256 indexed assetId, uint256 indexed versionId, uint32 number, uint256 root, uint64 recordCount, uint32 treeDepth, bytes32 paramsHash, address publisher)",
  "error AssetNotFound(uint256 assetId)",
  "error VersionNotFound(uint256 versionId)",
  "error GrantNotFound(uint256 grantId)",
  "error RequestAlreadyLogged(bytes32 requestId)",
  "error GrantNotYetValid(uint256 grantId, uint48 validFrom)",
  "error GrantExpired(uint256 grantId, uint48 validUntil)",
  "error GrantQuotaExhausted(uint256 grantId, uint32 quota)",
  "error VersionNotOfAsset(uint256 versionId, uint256 assetId)",
  "error RootMismatch(uint256 versionId, uint256 expected, uint256 actual)",
  "error PolicyHashMismatch(uint256 grantId, uint256 expected, uint256 actual)",
  "error BindingMismatch(uint256 expected, uint256 actual)",
  "error InvalidProof(bytes32 circuitId)",
  "error UnknownCircuit(bytes32 circuitId)",
  "error CircuitIsRetired(bytes32 circuitId)",
  "error AssetIsRetired(uint256 assetId)",
  "error UnexpectedGrantStatus(uint256 grantId, uint8 current, uint8 expected)",
  "error ExpiredSignature(uint256 deadline)",
  "error InvalidPublishSignature(uint256 assetId, address owner)",
  "error InvalidRoot(uint256 root)",
  "error EnforcedPause()",
];

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
  /** Index/schema parameters hash. */
  paramsHash: string;
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

/** A Groth16 proof in the contract's call-data order. */
export interface SolidityProof {
  /** pi_a. */
  a: [bigint, bigint];
  /** pi_b with each pair swapped (snarkjs' Solidity order). */
  b: [[bigint, bigint], [bigint, bigint]];
  /** pi_c. */
  c: [bigint, bigint];
}

/** Converts a snarkjs proof object to the contract's call-data order. */
export function toSolidityProof(proof: {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}): SolidityProof {
  const b = (i: number, j: number) => BigInt(proof.pi_b[i]![j]!);
  return {
    a: [BigInt(proof.pi_a[0]!), BigInt(proof.pi_a[1]!)],
    b: [
      [b(0, 1), b(0, 0)],
      [b(1, 1), b(1, 0)],
    ],
    c: [BigInt(proof.pi_c[0]!), BigInt(proof.pi_c[1]!)],
  };
}

/** Version id of version `number` of an asset: (assetId << 64) | number. */
export function versionIdOf(assetId: bigint, number: number | bigint): bigint {
  return (assetId << 64n) | BigInt(number);
}

/** Name of a custom error in a revert, if the error is one of PART_PROOF_ABI's. */
export function revertName(contract: Contract, e: unknown): string | undefined {
  const err = e as {
    revert?: { name?: string };
    data?: string;
    info?: { error?: { data?: string } };
  };
  if (err?.revert?.name) return err.revert.name;
  const data = err?.data ?? err?.info?.error?.data;
  if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
    try {
      return contract.interface.parseError(data)?.name;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Reads and writes of one PartProof deployment. */
export class ChainClient {
  /** The contract, connected to the provider (reads). */
  readonly contract: Contract;
  /** The contract, connected to the relayer (writes); undefined without a relayer. */
  readonly writer?: Contract;

  /** Connects to `address` through `provider`; `relayer` signs transactions. */
  constructor(
    readonly provider: Provider,
    readonly address: string,
    readonly chainId: bigint,
    readonly relayer?: Signer,
  ) {
    this.contract = new Contract(address, PART_PROOF_ABI, provider as ContractRunner);
    if (relayer) this.writer = new Contract(address, PART_PROOF_ABI, relayer);
  }

  /** Connects and reads the chain id. */
  static async connect(
    provider: Provider,
    address: string,
    relayer?: Signer,
  ): Promise<ChainClient> {
    const { chainId } = await provider.getNetwork();
    const code = await provider.getCode(address);
    if (code === "0x") throw new Error(`no contract at ${address} on chain ${chainId}`);
    return new ChainClient(provider, address, chainId, relayer);
  }

  /** The asset, or undefined when it does not exist. */
  async getAsset(assetId: bigint): Promise<AssetInfo | undefined> {
    try {
      const a = await this.contract.getAsset!(assetId);
      return {
        owner: a.owner,
        versionCount: Number(a.versionCount),
        retired: a.retired,
        schemaId: a.schemaId,
        endpoint: a.endpoint,
        metadataHash: a.metadataHash,
      };
    } catch (e) {
      if (revertName(this.contract, e) === "AssetNotFound") return undefined;
      throw e;
    }
  }

  /** The version, or undefined when it does not exist. */
  async getVersion(versionId: bigint): Promise<VersionInfo | undefined> {
    try {
      const v = await this.contract.getVersion!(versionId);
      return {
        root: v.root,
        recordCount: v.recordCount,
        treeDepth: Number(v.treeDepth),
        publishedAt: Number(v.publishedAt),
        paramsHash: v.paramsHash,
      };
    } catch (e) {
      if (revertName(this.contract, e) === "VersionNotFound") return undefined;
      throw e;
    }
  }

  /** The grant, or undefined when it does not exist. */
  async getGrant(grantId: bigint): Promise<GrantInfo | undefined> {
    try {
      const g = await this.contract.getGrant!(grantId);
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
      if (revertName(this.contract, e) === "GrantNotFound") return undefined;
      throw e;
    }
  }

  /** The grant's policy. */
  async getGrantPolicy(grantId: bigint): Promise<Policy> {
    const p = await this.contract.getGrantPolicy!(grantId);
    return {
      aggregateMask: Number(p.aggregateMask),
      fieldMask: Number(p.fieldMask),
      filterMask: Number(p.filterMask),
      minCohort: Number(p.minCohort),
      keyLo: p.keyLo,
      keyHi: p.keyHi,
    };
  }

  /** Whether the request id has been logged. */
  async isRequestLogged(requestId: string): Promise<boolean> {
    return this.contract.isRequestLogged!(requestId);
  }

  /** Timestamp of the latest block (grant windows are checked against chain time). */
  async now(): Promise<number> {
    const b = await this.provider.getBlock("latest");
    return b ? Number(b.timestamp) : Math.floor(Date.now() / 1000);
  }

  /** The transaction and block that logged a request id, if logged. */
  async findAnswer(
    requestId: string,
  ): Promise<
    { hash: string; blockNumber: number; grantId?: bigint; consumer?: string } | undefined
  > {
    const block = Number(await this.contract.answerBlockOf!(requestId));
    if (block === 0) return undefined;
    const logs = await this.contract.queryFilter(
      this.contract.filters.AnswerRecorded!(null, null, requestId),
      block,
      block,
    );
    const log = logs[0] as (typeof logs)[0] & { args?: { grantId: bigint; consumer: string } };
    return log
      ? {
          hash: log.transactionHash,
          blockNumber: log.blockNumber,
          grantId: log.args?.grantId,
          consumer: log.args?.consumer,
        }
      : { hash: "", blockNumber: block };
  }

  /** Sends recordAnswer; returns the transaction hash (not yet confirmed). */
  async sendRecordAnswer(args: {
    grantId: bigint;
    versionId: bigint;
    circuitId: string;
    requestId: string;
    proof: SolidityProof;
    publicSignals: bigint[];
  }): Promise<string> {
    if (!this.writer) throw new Error("no relayer key configured");
    const tx = await this.writer.recordAnswer!(
      args.grantId,
      args.versionId,
      args.circuitId,
      args.requestId,
      args.proof,
      args.publicSignals,
    );
    return tx.hash as string;
  }

  /** Relays an owner-signed version publication; returns the new version id and tx hash. */
  async publishVersionBySig(args: {
    assetId: bigint;
    root: bigint;
    recordCount: bigint;
    treeDepth: number;
    paramsHash: string;
    deadline: bigint;
    signature: string;
  }): Promise<{ versionId: bigint; txHash: string }> {
    if (!this.writer) throw new Error("no relayer key configured");
    const tx = await this.writer.publishVersionBySig!(
      args.assetId,
      args.root,
      args.recordCount,
      args.treeDepth,
      args.paramsHash,
      args.deadline,
      args.signature,
    );
    const receipt = await tx.wait();
    for (const log of receipt.logs) {
      try {
        const parsed = this.contract.interface.parseLog(log);
        if (parsed?.name === "VersionPublished")
          return { versionId: parsed.args.versionId, txHash: tx.hash };
      } catch {
        // not ours
      }
    }
    throw new Error("publishVersionBySig emitted no VersionPublished event");
  }
}

/** Number of registered assets (ids 1..n). */
export async function assetCount(chain: ChainClient): Promise<number> {
  return Number(await chain.contract.assetCount!());
}
