/**
 * The one sender of a gateway's relayer key. Every transaction the gateway sends — relayed
 * publications, logged answers, later attestations — goes through one `TxSender`, which gives
 * each its nonce in order, re-prices a transaction that stays pending too long (EIP-1559 fee
 * bump, same nonce and calldata), waits for the configured confirmations and checks, at that
 * depth, that the receipt's block is still the chain's block at its height.
 *
 * Reorganisations and dropped transactions have one detector, {@link TxSender.wait}, which
 * counts and reports each of them (stats, the `onEvent` hook, the wait's `onLost` hook) before
 * it decides what follows:
 *  - `reorged`: a hash the sender saw mined (in any wait of this sender, also one before an
 *    `adopt`) is no longer in that block. Counted once per (hash, block). If the node mines the
 *    same transaction again (it put it back in its pool, or it was included in the new blocks)
 *    the wait goes on and nothing is re-sent; if the node no longer knows it and its nonce is
 *    free, the wait throws `REORGED` and the caller checks the contract and sends again.
 *  - `dropped`: a transaction never seen mined that the node has not known for `stuckAfterMs`
 *    while its nonce stays free (evicted from the pool, or mined and reorganised away before the
 *    sender looked): the wait throws `DROPPED` and the caller checks the contract and sends again.
 * Re-pricing is only for a transaction the node still holds pending: re-pricing a vanished one
 * was a second, uncounted way of sending it again.
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
  /** Since when (ms) the node knows none of `hashes` (undefined while it knows one). */
  unknownSince?: number;
  /** Seen mined, then reorganised away (while it was waited for). */
  reorged?: boolean;
}

/** Where a transaction the sender watched was seen mined. */
export interface MinedAt {
  hash: string;
  blockNumber: number;
  blockHash: string;
}

/** What {@link TxSender.wait} found lost: a reorganisation, or a transaction the node dropped. */
export interface LostTx {
  /** `reorged`: seen mined, then its block left the chain. `dropped`: never seen mined, gone. */
  kind: "reorged" | "dropped";
  label: string;
  /** Its nonce (unknown for a lost transaction found by {@link TxSender.adopt}). */
  nonce?: number;
  hash: string;
  /** reorged: the block it was seen in. */
  from?: MinedAt;
  /** reorged: where it is now (mined again), or undefined (pending again, or gone). */
  to?: MinedAt;
}

/** Options of {@link TxSender.wait}. */
export interface WaitOptions {
  /** False: never re-price (e.g. another sender's transaction). */
  reprice?: boolean;
  /** Hears each new hash of a re-pricing. */
  onReplaced?: (hash: string) => Promise<void> | void;
  /** Hears each reorganisation or drop as it is detected. */
  onLost?: (lost: LostTx) => Promise<void> | void;
}

/** Why a wait ended without a confirmed receipt; `code` says what the caller should do. */
export class SendError extends Error {
  /**
   * `REORGED`: mined, then reorganised away and no longer known to the node — check the
   * contract and send again. `DROPPED`: never seen mined and no longer known to the node, its
   * nonce free — check the contract and send again. `NONCE_TAKEN`: another transaction of the key used the nonce.
   * `REVERTED`: mined and reverted (the receipt is attached). `TIMEOUT`: still not confirmed.
   */
  constructor(
    readonly code: "REORGED" | "DROPPED" | "NONCE_TAKEN" | "REVERTED" | "TIMEOUT",
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
  dropped: number;
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
  readonly stats: SenderStats = { sent: 0, repriced: 0, reorged: 0, dropped: 0, resynced: 0 };
  /** Hashes seen mined and not yet confirmed or given up, with their block (all waits share it). */
  private readonly minedSeen = new Map<string, MinedAt>();
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

  /**
   * Where the sender last saw `hash` mined, while it waits for its confirmations (undefined
   * before it saw a receipt, and once the wait ended).
   */
  seen(hash: string): MinedAt | undefined {
    const m = this.minedSeen.get(hash);
    return m && { ...m };
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
   * for and re-priced; undefined when the node does not know it. Such a loss is detected and
   * counted here as in {@link wait} (`reorged` when this sender saw it mined, else `dropped`)
   * and reported to `onLost`.
   */
  async adopt(
    hash: string,
    label = "adopted",
    onLost?: (lost: LostTx) => Promise<void> | void,
  ): Promise<SentTx | undefined> {
    const tx = await this.provider.getTransaction(hash);
    if (!tx) {
      const from = this.minedSeen.get(hash);
      this.minedSeen.delete(hash);
      this.resync();
      await this.reportLost({ kind: from ? "reorged" : "dropped", label, hash, from }, onLost);
      return undefined;
    }
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
   * is still the chain's block at that height; re-prices it while the node holds it pending
   * (unless `reprice` is false, e.g. for another sender's transaction). `onReplaced` hears each
   * new hash; `onLost` hears each reorganisation or drop as it is detected (see the module
   * comment: this is the one place both are found and counted). Throws {@link SendError} when the
   * transaction reverted, was reorganised away or dropped, lost its nonce to another
   * transaction, or timed out.
   */
  async wait(
    sent: SentTx,
    confirmations: number,
    opts: WaitOptions = {},
  ): Promise<TransactionReceipt> {
    try {
      const receipt = await this.waitLoop(sent, confirmations, opts);
      for (const h of sent.hashes) this.minedSeen.delete(h);
      return receipt;
    } catch (e) {
      // kept after a timeout or a node error: the next wait (an adopt) still knows it was mined
      if (e instanceof SendError && e.code !== "TIMEOUT")
        for (const h of sent.hashes) this.minedSeen.delete(h);
      throw e;
    }
  }

  private async waitLoop(
    sent: SentTx,
    confirmations: number,
    opts: WaitOptions,
  ): Promise<TransactionReceipt> {
    const { pollMs, confirmTimeoutMs } = this.options;
    const depth = Math.max(1, confirmations);
    const deadline = Date.now() + confirmTimeoutMs;
    const lost = (l: LostTx) => this.reportLost(l, opts.onLost);
    for (;;) {
      let receipt: TransactionReceipt | null = null;
      for (const hash of [...sent.hashes].reverse()) {
        receipt = await this.provider.getTransactionReceipt(hash);
        if (receipt) break;
      }
      // a hash seen mined that is no longer in its block: a reorganisation, counted once
      for (const hash of sent.hashes) {
        const was = this.minedSeen.get(hash);
        if (!was || (receipt?.hash === hash && receipt.blockHash === was.blockHash)) continue;
        this.minedSeen.delete(hash);
        const to =
          receipt?.hash === hash
            ? { hash, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash }
            : undefined;
        await lost({ kind: "reorged", label: sent.label, nonce: sent.nonce, hash, from: was, to });
        sent.reorged = true;
      }
      if (receipt) {
        sent.unknownSince = undefined;
        this.minedSeen.set(receipt.hash, {
          hash: receipt.hash,
          blockNumber: receipt.blockNumber,
          blockHash: receipt.blockHash,
        });
        if (receipt.status !== 1) {
          throw new SendError("REVERTED", `${sent.label} ${receipt.hash} reverted`, receipt);
        }
        const head = await this.provider.getBlockNumber();
        if (head - receipt.blockNumber + 1 >= depth) {
          // at the confirmation depth: is the receipt's block still the chain's block there?
          const block = await this.provider.getBlock(receipt.blockNumber);
          const again = await this.provider.getTransactionReceipt(receipt.hash);
          if (block?.hash === receipt.blockHash && again?.blockHash === receipt.blockHash)
            return receipt;
          // the node's receipt is behind its chain: the next poll sees where it is now
          this.onEvent?.("block-changed", { label: sent.label, hash: receipt.hash });
        }
      } else if (await this.anyKnown(sent.hashes)) {
        // pending (again): re-priced while it stays so
        sent.unknownSince = undefined;
        if (
          opts.reprice !== false &&
          Date.now() - sent.broadcastAt >= this.options.stuckAfterMs &&
          sent.bumps < this.options.maxFeeBumps
        ) {
          await this.reprice(sent, opts.onReplaced);
        }
      } else {
        const account = sent.request.from ?? (await this.from());
        const mined = await this.provider.getTransactionCount(account, "latest");
        if (mined > sent.nonce && !sent.reorged) {
          // the nonce went to a transaction that is not ours
          this.resync();
          this.onEvent?.("nonce_taken", { label: sent.label, nonce: sent.nonce });
          throw new SendError(
            "NONCE_TAKEN",
            `${sent.label}'s nonce ${sent.nonce} was used by another transaction`,
          );
        }
        if (sent.reorged) {
          // reorganised away (counted above) and gone from the node: the caller sends again
          this.resync();
          throw new SendError(
            "REORGED",
            `${sent.label} (nonce ${sent.nonce}) was reorganised away`,
          );
        }
        sent.unknownSince ??= Date.now();
        if (Date.now() - sent.unknownSince >= this.options.stuckAfterMs) {
          this.resync();
          const hash = sent.hashes.at(-1)!;
          await lost({ kind: "dropped", label: sent.label, nonce: sent.nonce, hash });
          throw new SendError(
            "DROPPED",
            `${sent.label} (nonce ${sent.nonce}) is no longer known to the node`,
          );
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

  /** The one place a reorganisation or a drop is counted and reported. */
  private async reportLost(
    l: LostTx,
    onLost?: (lost: LostTx) => Promise<void> | void,
  ): Promise<void> {
    if (l.kind === "reorged") this.stats.reorged++;
    else this.stats.dropped++;
    this.onEvent?.(l.kind, {
      label: l.label,
      hash: l.hash,
      ...(l.nonce !== undefined ? { nonce: l.nonce } : {}),
      ...(l.from ? { fromBlock: l.from.blockNumber } : {}),
      ...(l.to ? { toBlock: l.to.blockNumber } : {}),
    });
    await onLost?.(l);
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
