/**
 * The one sender of a gateway's relayer key. Every transaction the gateway sends — relayed
 * publications, logged answers, later attestations — goes through one `TxSender`, which gives
 * each its nonce in order, re-prices a transaction that stays pending too long (EIP-1559 fee
 * bump, same nonce and calldata), waits for the configured confirmations and checks, at that
 * depth, that the receipt's block is still the chain's block at its height (a reorganised-away
 * transaction is reported as `REORGED`, so that the caller can check the contract and send
 * again).
 *
 * Why an explicit queue rather than ethers' `NonceManager`: `NonceManager` counts a nonce as used
 * before the transaction is even populated and never gives it back, so one send whose gas
 * estimate reverts (a bad publish signature, `RequestAlreadyLogged`) leaves a gap that stalls
 * every later transaction of the key; it does not re-price a stuck transaction, nor re-read the
 * account after another process used the key. Here the gas is estimated first (a revert costs
 * no nonce), a nonce is given only to a transaction about to be broadcast, and the account's
 * pending nonce is read again after any failed broadcast.
 */
import type {
  Provider,
  Signer,
  TransactionReceipt,
  TransactionRequest,
  TransactionLike,
} from "ethers";

/** How the sender re-prices and waits (config `sender`). */
export interface SenderOptions {
  /** A transaction still pending this long after its last broadcast is re-priced. */
  stuckAfterMs: number;
  /** Fee increase of each re-pricing, in percent (nodes want at least 10). */
  feeBumpPercent: number;
  /** Re-pricings of one transaction at most (then it is only waited for). */
  maxFeeBumps: number;
  /** How often receipts and the head are polled while waiting. */
  pollMs: number;
  /** Longest wait for a transaction's confirmations. */
  confirmTimeoutMs: number;
}

/** Defaults of {@link SenderOptions}. */
export const SENDER_DEFAULTS: SenderOptions = {
  stuckAfterMs: 60_000,
  feeBumpPercent: 25,
  maxFeeBumps: 5,
  pollMs: 250,
  confirmTimeoutMs: 600_000,
};

/** A transaction the sender broadcast: its nonce, and every hash it was broadcast under. */
export interface SentTx {
  /** What it is (for logs): "recordAnswer", "publishVersionBySig", … */
  label: string;
  /** The nonce it holds. */
  nonce: number;
  /** The hashes of each pricing, oldest first (any one of them may be mined). */
  hashes: string[];
  /** The populated request of the latest pricing (re-pricing starts from it). */
  request: TransactionLike<string>;
  /** When it was last broadcast (ms since epoch). */
  broadcastAt: number;
  /** Re-pricings so far. */
  bumps: number;
}

/** Why a wait ended without a confirmed receipt; `code` says what the caller should do. */
export class SendError extends Error {
  /**
   * `REORGED`: mined, then reorganised away and no longer known to the node — check the
   * contract and send again. `NONCE_TAKEN`: another transaction of the key used the nonce.
   * `REVERTED`: mined and reverted (the receipt is attached). `TIMEOUT`: still not confirmed.
   */
  constructor(
    readonly code: "REORGED" | "NONCE_TAKEN" | "REVERTED" | "TIMEOUT",
    message: string,
    readonly receipt?: TransactionReceipt,
  ) {
    super(message);
    this.name = "SendError";
  }
}

/** Counts of what the sender did, read by the metrics. */
export interface SenderStats {
  sent: number;
  repriced: number;
  reorged: number;
  resynced: number;
}

/** Whether a node's error says the nonce is already used (by a mined or pending transaction). */
export function isNonceUsed(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  if (code === "NONCE_EXPIRED") return true;
  const text = `${(e as Error)?.message ?? ""} ${JSON.stringify((e as { info?: unknown })?.info ?? "")}`;
  return /nonce too low|nonce has already been used|nonce.*already used|already known/i.test(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One key's transaction queue. */
export class TxSender {
  /** What this sender did so far. */
  readonly stats: SenderStats = { sent: 0, repriced: 0, reorged: 0, resynced: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private nextNonce?: number;
  private address?: Promise<string>;

  /** A sender for `signer` (connected to `provider`). */
  constructor(
    readonly signer: Signer,
    readonly provider: Provider,
    readonly options: SenderOptions = SENDER_DEFAULTS,
    private readonly onEvent?: (event: string, info: Record<string, unknown>) => void,
  ) {}

  /** The key's address. */
  from(): Promise<string> {
    this.address ??= this.signer.getAddress();
    return this.address;
  }

  /**
   * Queues `tx` behind every earlier send of this key: estimates its gas (a revert throws here
   * and uses no nonce), gives it the next nonce and broadcasts it. Resolves once broadcast.
   */
  send(label: string, tx: TransactionRequest): Promise<SentTx> {
    const run = this.tail.then(() => this.sendNow(label, tx));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Forgets the local nonce; the next send reads the account's pending nonce. */
  resync(): void {
    this.nextNonce = undefined;
    this.stats.resynced++;
  }

  private async sendNow(label: string, tx: TransactionRequest): Promise<SentTx> {
    const from = await this.from();
    for (let attempt = 0; ; attempt++) {
      this.nextNonce ??= await this.provider.getTransactionCount(from, "pending");
      const nonce = this.nextNonce;
      const request = (await this.signer.populateTransaction({
        ...tx,
        from,
        nonce,
      })) as TransactionLike<string>;
      try {
        const response = await this.signer.sendTransaction(request);
        this.nextNonce = nonce + 1;
        this.stats.sent++;
        return {
          label,
          nonce,
          hashes: [response.hash],
          request,
          broadcastAt: Date.now(),
          bumps: 0,
        };
      } catch (e) {
        // whatever went wrong, the node's count is the truth from here on
        this.resync();
        if (isNonceUsed(e) && attempt < 5) {
          this.onEvent?.("nonce-resync", { label, nonce });
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * A transaction broadcast before (e.g. before a restart), by hash, so that it can be waited
   * for and re-priced; undefined when the node does not know it (dropped, or reorganised away).
   */
  async adopt(hash: string, label = "adopted"): Promise<SentTx | undefined> {
    const tx = await this.provider.getTransaction(hash);
    if (!tx) return undefined;
    const request: TransactionLike<string> = {
      type: tx.type,
      to: tx.to,
      from: tx.from,
      nonce: tx.nonce,
      data: tx.data,
      value: tx.value,
      gasLimit: tx.gasLimit,
      chainId: tx.chainId,
      ...(tx.maxFeePerGas != null
        ? { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }
        : { gasPrice: tx.gasPrice }),
    };
    return { label, nonce: tx.nonce, hashes: [hash], request, broadcastAt: Date.now(), bumps: 0 };
  }

  /**
   * Waits until one of `sent`'s hashes is mined, successful, `confirmations` deep, and its block
   * is still the chain's block at that height; re-prices it while it is pending (unless
   * `reprice` is false, e.g. for another sender's transaction). `onReplaced` hears each new hash.
   * Throws {@link SendError} when the transaction reverted, was reorganised away, lost its nonce
   * to another transaction, or timed out.
   */
  async wait(
    sent: SentTx,
    confirmations: number,
    opts: { reprice?: boolean; onReplaced?: (hash: string) => Promise<void> | void } = {},
  ): Promise<TransactionReceipt> {
    const { pollMs, confirmTimeoutMs } = this.options;
    const depth = Math.max(1, confirmations);
    const deadline = Date.now() + confirmTimeoutMs;
    let wasMined = false;
    for (;;) {
      let receipt: TransactionReceipt | null = null;
      for (const hash of [...sent.hashes].reverse()) {
        receipt = await this.provider.getTransactionReceipt(hash);
        if (receipt) break;
      }
      if (receipt) {
        if (receipt.status !== 1) {
          throw new SendError("REVERTED", `${sent.label} ${receipt.hash} reverted`, receipt);
        }
        wasMined = true;
        const head = await this.provider.getBlockNumber();
        if (head - receipt.blockNumber + 1 >= depth) {
          // at the confirmation depth: is the receipt's block still the chain's block there?
          const block = await this.provider.getBlock(receipt.blockNumber);
          const again = await this.provider.getTransactionReceipt(receipt.hash);
          if (block?.hash === receipt.blockHash && again?.blockHash === receipt.blockHash)
            return receipt;
          this.onEvent?.("block-changed", { label: sent.label, hash: receipt.hash });
        }
      } else {
        const known = await this.anyKnown(sent.hashes);
        if (!known) {
          const account = sent.request.from ?? (await this.from());
          const mined = await this.provider.getTransactionCount(account, "latest");
          if (wasMined || mined > sent.nonce) {
            // mined and reorganised away, or the nonce went to a transaction that is not ours
            this.resync();
            const code = wasMined ? "REORGED" : "NONCE_TAKEN";
            if (wasMined) this.stats.reorged++;
            this.onEvent?.(code.toLowerCase(), { label: sent.label, nonce: sent.nonce });
            throw new SendError(
              code,
              wasMined
                ? `${sent.label} (nonce ${sent.nonce}) was reorganised away`
                : `${sent.label}'s nonce ${sent.nonce} was used by another transaction`,
            );
          }
        }
        if (
          opts.reprice !== false &&
          Date.now() - sent.broadcastAt >= this.options.stuckAfterMs &&
          sent.bumps < this.options.maxFeeBumps
        ) {
          await this.reprice(sent, opts.onReplaced);
        }
      }
      if (Date.now() > deadline) {
        throw new SendError(
          "TIMEOUT",
          `${sent.label} ${sent.hashes.at(-1)} has no ${depth} confirmations after ${confirmTimeoutMs} ms`,
        );
      }
      await sleep(pollMs);
    }
  }

  private async anyKnown(hashes: string[]): Promise<boolean> {
    for (const h of hashes) if (await this.provider.getTransaction(h)) return true;
    return false;
  }

  /** Broadcasts `sent` again with the same nonce and calldata and higher fees. */
  private async reprice(
    sent: SentTx,
    onReplaced?: (hash: string) => Promise<void> | void,
  ): Promise<void> {
    const pct = BigInt(100 + this.options.feeBumpPercent);
    const up = (v: bigint | null | undefined) => ((v ?? 0n) * pct + 99n) / 100n;
    const max = (a: bigint, b: bigint | null | undefined) => (b != null && b > a ? b : a);
    const fee = await this.provider.getFeeData();
    const old = sent.request;
    const request: TransactionLike<string> = { ...old };
    if (old.maxFeePerGas != null) {
      const tip = max(up(BigInt(old.maxPriorityFeePerGas ?? 0n)), fee.maxPriorityFeePerGas);
      request.maxPriorityFeePerGas = tip;
      request.maxFeePerGas = max(max(up(BigInt(old.maxFeePerGas)), fee.maxFeePerGas), tip);
    } else {
      request.gasPrice = max(up(BigInt(old.gasPrice ?? 0n)), fee.gasPrice);
    }
    try {
      const response = await this.signer.sendTransaction(request);
      sent.hashes.push(response.hash);
      sent.request = request;
      sent.bumps++;
      sent.broadcastAt = Date.now();
      this.stats.repriced++;
      this.onEvent?.("repriced", { label: sent.label, nonce: sent.nonce, hash: response.hash });
      await onReplaced?.(response.hash);
    } catch (e) {
      // mined meanwhile (nonce used) or the node keeps the old pricing: the next poll tells
      sent.broadcastAt = Date.now();
      if (!isNonceUsed(e))
        this.onEvent?.("reprice-failed", {
          label: sent.label,
          error: String((e as { code?: string })?.code ?? "ERROR"),
        });
    }
  }
}
