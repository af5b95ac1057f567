/**
 * The gateway's view of the PartProof contract: the protocol's reads (assets, versions, grants)
 * plus the relayer's transactions (recordAnswer, publishVersionBySig). The ABI and its typed
 * bindings are the protocol's (`protocol/contract.ts`, generated from the compiled contract).
 */
import type { Provider, Signer } from "ethers";
import { PartProofReader, partProofAt, type PartProof } from "../protocol/contract.js";
import type { SolidityProof } from "../protocol/proof.js";

export {
  GrantStatus,
  decodeRevert,
  versionIdOf,
  type AssetInfo,
  type GrantInfo,
  type VersionInfo,
} from "../protocol/contract.js";

/** Reads and writes of one PartProof deployment. */
export class ChainClient extends PartProofReader {
  /** The contract, connected to the relayer (writes); undefined without a relayer. */
  readonly writer?: PartProof;

  /** Connects to `address` through `provider`; `relayer` signs transactions. */
  constructor(
    provider: Provider,
    address: string,
    readonly chainId: bigint,
    readonly relayer?: Signer,
  ) {
    super(provider, address);
    if (relayer) this.writer = partProofAt(address, relayer);
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

  /** Sends recordAnswer; returns the transaction hash (not yet confirmed). */
  async sendRecordAnswer(args: {
    grantId: bigint;
    versionId: bigint;
    circuitId: string;
    requestId: string;
    proof: SolidityProof;
    publicSignals: bigint[];
    consent: { versionId: bigint; signature: string };
  }): Promise<string> {
    if (!this.writer) throw new Error("no relayer key configured");
    const tx = await this.writer.recordAnswer(
      args.grantId,
      args.versionId,
      args.circuitId,
      args.requestId,
      args.proof,
      args.publicSignals as [bigint, bigint, bigint, bigint, bigint],
      args.consent,
    );
    return tx.hash;
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
  }): Promise<{ versionId: bigint; txHash: string; gasUsed: number }> {
    if (!this.writer) throw new Error("no relayer key configured");
    const tx = await this.writer.publishVersionBySig(
      args.assetId,
      args.root,
      args.recordCount,
      args.treeDepth,
      args.paramsHash,
      args.deadline,
      args.signature,
    );
    const receipt = await tx.wait();
    if (!receipt) throw new Error(`publishVersionBySig: transaction ${tx.hash} was dropped`);
    for (const log of receipt.logs) {
      try {
        const parsed = this.contract.interface.parseLog(log);
        if (parsed?.name === "VersionPublished")
          return {
            versionId: parsed.args.versionId,
            txHash: tx.hash,
            gasUsed: Number(receipt.gasUsed),
          };
      } catch {
        // not ours
      }
    }
    throw new Error("publishVersionBySig emitted no VersionPublished event");
  }
}

/** Number of registered assets (ids 1..n). */
export async function assetCount(chain: ChainClient): Promise<number> {
  return chain.assetCount();
}
