/**
 * The gateway's view of the PartProof contract: the protocol's reads (assets, versions, grants)
 * plus the relayer's transactions (recordAnswer, publishVersionBySig). The ABI and its typed
 * bindings are the protocol's (`protocol/contract.ts`, generated from the compiled contract).
 * Every transaction goes through the one sender of the relayer key (`sender.ts`).
 */
import type { Provider, Signer } from "ethers";
import { PartProofReader, partProofAt, type PartProof } from "../protocol/contract.js";
import type { SolidityProof } from "../protocol/proof.js";
import { SENDER_DEFAULTS, TxSender, type SenderOptions, type SentTx } from "./sender.js";

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
  /** The one sender of the relayer key; undefined without a relayer. */
  readonly sender?: TxSender;

  /** Connects to `address` through `provider`; `relayer` signs transactions. */
  constructor(
    provider: Provider,
    address: string,
    readonly chainId: bigint,
    readonly relayer?: Signer,
    senderOptions: SenderOptions = SENDER_DEFAULTS,
    onSenderEvent?: (event: string, info: Record<string, unknown>) => void,
  ) {
    super(provider, address);
    if (relayer) {
      this.writer = partProofAt(address, relayer);
      this.sender = new TxSender(relayer, provider, senderOptions, onSenderEvent);
    }
  }

  /** Connects and reads the chain id. */
  static async connect(
    provider: Provider,
    address: string,
    relayer?: Signer,
    senderOptions?: SenderOptions,
    onSenderEvent?: (event: string, info: Record<string, unknown>) => void,
  ): Promise<ChainClient> {
    const { chainId } = await provider.getNetwork();
    const code = await provider.getCode(address);
    if (code === "0x") throw new Error(`no contract at ${address} on chain ${chainId}`);
    return new ChainClient(provider, address, chainId, relayer, senderOptions, onSenderEvent);
  }

  private requireSender(): { writer: PartProof; sender: TxSender } {
    if (!this.writer || !this.sender) throw new Error("no relayer key configured");
    return { writer: this.writer, sender: this.sender };
  }

  /** Queues recordAnswer on the relayer key's sender; resolves once broadcast (not confirmed). */
  async sendRecordAnswer(args: {
    grantId: bigint;
    versionId: bigint;
    circuitId: string;
    requestId: string;
    proof: SolidityProof;
    publicSignals: bigint[];
    consent: { versionId: bigint; signature: string };
  }): Promise<SentTx> {
    const { writer, sender } = this.requireSender();
    const tx = await writer.recordAnswer.populateTransaction(
      args.grantId,
      args.versionId,
      args.circuitId,
      args.requestId,
      args.proof,
      args.publicSignals as [bigint, bigint, bigint, bigint, bigint],
      args.consent,
    );
    return sender.send("recordAnswer", tx);
  }

  /**
   * Relays an owner-signed version publication through the relayer key's sender and waits for
   * `confirmations` (re-pricing it while it is stuck); returns the new version id and tx hash.
   */
  async publishVersionBySig(
    args: {
      assetId: bigint;
      root: bigint;
      recordCount: bigint;
      treeDepth: number;
      paramsHash: string;
      deadline: bigint;
      signature: string;
    },
    confirmations = 1,
  ): Promise<{ versionId: bigint; txHash: string; gasUsed: number }> {
    const { writer, sender } = this.requireSender();
    const tx = await writer.publishVersionBySig.populateTransaction(
      args.assetId,
      args.root,
      args.recordCount,
      args.treeDepth,
      args.paramsHash,
      args.deadline,
      args.signature,
    );
    const sent = await sender.send("publishVersionBySig", tx);
    const receipt = await sender.wait(sent, confirmations);
    for (const log of receipt.logs) {
      try {
        const parsed = this.contract.interface.parseLog(log);
        if (parsed?.name === "VersionPublished")
          return {
            versionId: parsed.args.versionId,
            txHash: receipt.hash,
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
