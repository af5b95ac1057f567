/**
 * The outbox relayer: submits each proved answer's `recordAnswer`, waits for the configured
 * confirmations, and only then marks the job logged and drops the outbox entry (one batch).
 * Only a logged job shows its answer (usecases/reads.ts `jobView`): a job the chain refuses for
 * good is marked failed with the reason and its answer never leaves the gateway.
 * It retries with exponential backoff, resumes after a restart (a sent transaction's hash is
 * stored before waiting, and the contract is asked whether the (grant, request id) is logged
 * before any send), and so never logs a request twice; the contract's RequestAlreadyLogged is
 * the last line of defence. Transactions go through the relayer key's one sender
 * (`sender.ts`): a stuck one is re-priced (its new hash stored), and one whose block is
 * reorganised away before its confirmations is found out and the answer sent again.
 *
 * Reorganisations and dropped transactions are detected by the sender only (its `wait` and
 * `adopt`), which hands each to {@link Relayer.noteLost}: the one place that counts it
 * (`partproof_relayer_reorgs_total` or `partproof_relayer_dropped_total`), logs it (REORGED /
 * DROPPED with the request id) and marks the job's timeline (the outbox entry's `lastError`).
 * What is counted: each time a block holding the answer's transaction left the chain while the
 * gateway watched it — whether the node then mines the same transaction again (nothing is
 * re-sent) or no longer knows it (the contract is checked and the answer sent again, once).
 * A transaction that vanished before the gateway saw it mined is counted as dropped.
 */
import { circuitId } from "../circuits/lib/signals.js";
import { decodeRevert } from "../protocol/contract.js";
import { toSolidityProof, type SnarkjsProof } from "../protocol/proof.js";
import type { GatewayContext } from "./context.js";
import { SendError, type LostTx, type SentTx } from "./sender.js";
import type { OutboxEntry } from "./store/index.js";

/** Contract errors that no retry can fix: the job is marked failed. */
const PERMANENT = new Set([
  "GrantExpired",
  "GrantNotYetValid",
  "GrantQuotaExhausted",
  "UnexpectedGrantStatus",
  "VersionNotOfAsset",
  "RootMismatch",
  "PolicyHashMismatch",
  "BindingMismatch",
  "InvalidProof",
  "InvalidConsent",
  "ConsentVersionMismatch",
  "VersionNotLatest",
  "UnknownCircuit",
  "CircuitIsRetired",
  "AssetIsRetired",
  "GrantNotFound",
  "VersionNotFound",
]);

/** Drives the outbox. */
export class Relayer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true; // until start()
  private again = false;

  /** Creates a relayer over the gateway's store and chain. */
  constructor(private readonly ctx: GatewayContext) {}

  /** Starts polling the outbox. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs a pass soon (e.g. after an answer was proved). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Stops polling and waits for the current pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        const next = this.again ? 0 : this.ctx.config.relayer.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, ms);
  }

  /** One pass over every due outbox entry. */
  async pass(): Promise<void> {
    const entries = await this.ctx.store.listOutbox().catch(() => [] as OutboxEntry[]);
    for (const e of entries) {
      if (this.stopped) return;
      if (e.nextAttemptAt > Date.now()) continue;
      await this.process(e);
    }
  }

  private async process(initial: OutboxEntry): Promise<void> {
    const { ctx } = this;
    const chain = ctx.chain;
    let entry = initial;
    try {
      const sender = chain.sender;
      if (!sender) throw new Error("no relayer key configured");
      // a transaction sent before (maybe before a restart): follow it to its confirmations
      if (entry.txHash) {
        const lostEntry = entry;
        const sent = await sender.adopt(entry.txHash, "recordAnswer", (l) =>
          this.noteLost(lostEntry, l),
        );
        if (sent && (await this.follow(entry, sent))) return;
        // dropped, reverted or reorganised away (counted by then): its hash is forgotten, so
        // that no later pass counts it again, and the contract is checked before sending again
        entry = { ...entry, txHash: undefined };
      }
      const job = await ctx.store.getJob(entry.jobId);
      const logged = job && (await chain.findAnswer(BigInt(job.grantId), entry.requestId));
      if (logged) {
        await this.completeIfOurs(entry, logged);
        return;
      }
      if (!job?.proof || !job.publicSignals || !job.consent) {
        await ctx.store.failOutbox(entry, {
          code: "INTERNAL",
          message: "the proved answer is missing",
        });
        return;
      }
      const sent = await chain.sendRecordAnswer({
        grantId: BigInt(job.grantId),
        versionId: BigInt(job.versionId),
        circuitId: circuitId(job.circuit),
        requestId: job.requestId,
        proof: toSolidityProof(job.proof as SnarkjsProof),
        publicSignals: job.publicSignals.map(BigInt),
        consent: { versionId: BigInt(job.consent.versionId), signature: job.consent.signature },
      });
      entry = { ...entry, txHash: sent.hashes[0], attempts: entry.attempts + 1 };
      await ctx.store.updateOutbox(entry);
      ctx.log.info({ requestId: entry.requestId, txHash: entry.txHash }, "recordAnswer sent");
      if (!(await this.follow(entry, sent))) {
        entry = { ...entry, txHash: undefined };
        throw Object.assign(new Error("the answer's transaction was lost"), { code: "LOST" });
      }
    } catch (e) {
      const name = decodeRevert(e)?.name;
      if (name === "RequestAlreadyLogged") {
        const job = await ctx.store.getJob(entry.jobId).catch(() => undefined);
        const logged =
          job &&
          (await chain.findAnswer(BigInt(job.grantId), entry.requestId).catch(() => undefined));
        if (logged) await this.completeIfOurs(entry, logged).catch(() => undefined);
        return;
      }
      if (name && PERMANENT.has(name)) {
        ctx.log.warn({ requestId: entry.requestId, error: name }, "recordAnswer refused for good");
        ctx.metrics.queries.inc({ status: "failed" });
        await ctx.store.failOutbox(entry, {
          code: "CHAIN_REFUSED",
          message: `the access log refused the answer (${name}); it can never be logged, so it is withheld`,
        });
        return;
      }
      const attempts = entry.attempts + 1;
      const { baseBackoffMs, maxBackoffMs } = ctx.config.relayer;
      const delay = Math.min(maxBackoffMs, baseBackoffMs * 2 ** Math.min(attempts - 1, 20));
      const code = name ?? (e as { code?: string })?.code ?? "ERROR";
      ctx.log.warn(
        { requestId: entry.requestId, attempts, delay, error: code },
        "recordAnswer failed, retrying",
      );
      await ctx.store
        .updateOutbox({
          ...entry,
          attempts,
          nextAttemptAt: Date.now() + delay,
          lastError: String(code),
        })
        .catch(() => undefined);
    }
  }

  /**
   * Waits for `sent`'s confirmations (re-priced while stuck; each new hash is stored before it
   * is waited for) and completes the entry. False when the transaction reverted, was
   * reorganised away or lost its nonce: the caller checks the contract and sends again.
   */
  private async follow(entry: OutboxEntry, sent: SentTx): Promise<boolean> {
    const { ctx } = this;
    try {
      const receipt = await ctx.chain.sender!.wait(sent, ctx.config.chain.confirmations, {
        onReplaced: (hash) => ctx.store.updateOutbox({ ...entry, txHash: hash }),
        onLost: (l) => this.noteLost(entry, l),
      });
      await this.complete(entry, { hash: receipt.hash, blockNumber: receipt.blockNumber });
      return true;
    } catch (e) {
      if (!(e instanceof SendError) || e.code === "TIMEOUT") throw e;
      ctx.log.warn(
        { requestId: entry.requestId, txHash: sent.hashes.at(-1), error: e.code },
        "recordAnswer transaction lost; checking the access log before sending again",
      );
      return false;
    }
  }

  /**
   * A reorganisation or drop of `entry`'s transaction, as the sender detected it: counted,
   * logged, and written to the outbox entry (`lastError` REORGED / DROPPED, which the job's
   * timeline shows). Nothing is re-sent here: the caller decides from how the wait ended.
   */
  private async noteLost(entry: OutboxEntry, lost: LostTx): Promise<void> {
    const { ctx } = this;
    if (lost.kind === "reorged") ctx.metrics.reorgs.inc({ label: lost.label });
    else ctx.metrics.dropped.inc({ label: lost.label });
    const code = lost.kind === "reorged" ? "REORGED" : "DROPPED";
    ctx.log.warn(
      {
        requestId: entry.requestId,
        txHash: lost.hash,
        error: code,
        ...(lost.from ? { fromBlock: lost.from.blockNumber } : {}),
        ...(lost.to ? { minedAgainIn: lost.to.blockNumber } : {}),
      },
      lost.kind === "reorged"
        ? `${lost.label} transaction reorganised away (${code})`
        : `${lost.label} transaction dropped by the node (${code})`,
    );
    await ctx.store.updateOutbox({ ...entry, lastError: code }).catch(() => undefined);
  }

  /** Completes the entry if the logged answer is this job's; else the request id was taken. */
  private async completeIfOurs(
    entry: OutboxEntry,
    logged: { hash: string; blockNumber: number; grantId?: bigint; consumer?: string },
  ): Promise<void> {
    const job = await this.ctx.store.getJob(entry.jobId);
    const ours =
      job !== undefined &&
      (logged.grantId === undefined || logged.grantId.toString() === job.grantId) &&
      (logged.consumer === undefined ||
        logged.consumer.toLowerCase() === job.consumer.toLowerCase());
    if (ours) {
      // found on-chain (e.g. after a restart, or sent by another gateway): released only once
      // it has the configured confirmations and its block is still the chain's
      const sender = this.ctx.chain.sender;
      const onLost = (l: LostTx) => this.noteLost(entry, l);
      const sent = logged.hash
        ? await sender?.adopt(logged.hash, "recordAnswer", onLost)
        : undefined;
      if (sent && sender) {
        try {
          const r = await sender.wait(sent, this.ctx.config.chain.confirmations, {
            reprice: false,
            onLost,
          });
          await this.complete(entry, { hash: r.hash, blockNumber: r.blockNumber });
        } catch (e) {
          if (!(e instanceof SendError)) throw e;
          // reorganised away meanwhile: the next pass finds it unlogged and sends it
          await this.ctx.store.updateOutbox({
            ...entry,
            nextAttemptAt: Date.now() + this.ctx.config.relayer.pollMs,
          });
        }
        return;
      }
      const confirmations = Math.max(1, this.ctx.config.chain.confirmations);
      const head = await this.ctx.chain.provider.getBlockNumber();
      if (head - logged.blockNumber + 1 < confirmations) {
        await this.ctx.store.updateOutbox({
          ...entry,
          nextAttemptAt: Date.now() + this.ctx.config.relayer.pollMs,
        });
        return;
      }
      await this.complete(entry, logged);
      return;
    }
    this.ctx.log.warn({ requestId: entry.requestId }, "request id logged by another answer");
    await this.ctx.store.failOutbox(entry, {
      code: "REQUEST_REUSED",
      message: "another answer was logged under this grant's request id; this one is withheld",
    });
  }

  /**
   * Counts the gas of this relayer's log transaction against the asset owner's relayed gas of
   * the day (config `limits.relayerGasPerOwnerPerDay`, as publications do). Counted before the
   * job is marked logged: a crash in between counts it twice, never not at all.
   */
  private async countGas(entry: OutboxEntry, txHash: string): Promise<void> {
    const { ctx } = this;
    try {
      const [job, receipt, relayer] = await Promise.all([
        ctx.store.getJob(entry.jobId),
        ctx.chain.provider.getTransactionReceipt(txHash),
        ctx.chain.relayer?.getAddress(),
      ]);
      if (!job || !receipt || receipt.from.toLowerCase() !== relayer?.toLowerCase()) return;
      const asset = await ctx.chain.getAsset(BigInt(job.assetId));
      if (!asset) return;
      const owner = asset.owner.toLowerCase();
      const day = Math.floor(Date.now() / 86_400_000);
      const gas = Number(receipt.gasUsed);
      await ctx.locks.run(`gas:${owner}`, () => ctx.store.addRelayedGas(owner, day, gas));
    } catch (e) {
      ctx.log.warn({ requestId: entry.requestId, error: (e as Error)?.name }, "gas not counted");
    }
  }

  private async complete(
    entry: OutboxEntry,
    tx: { hash: string; blockNumber: number },
  ): Promise<void> {
    await this.countGas(entry, tx.hash);
    await this.ctx.store.completeOutbox(entry, tx);
    this.ctx.metrics.queries.inc({ status: "logged" });
    this.ctx.log.info({ requestId: entry.requestId, txHash: tx.hash }, "answer logged");
  }
}
