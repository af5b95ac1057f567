/**
 * The outbox relayer: submits each proved answer's `recordAnswer`, waits for the configured
 * confirmations, and only then marks the job logged and drops the outbox entry (one batch).
 * Only a logged job shows its answer (usecases/reads.ts `jobView`): a job the chain refuses for
 * good is marked failed with the reason and its answer never leaves the gateway.
 * It retries with exponential backoff, resumes after a restart (a sent transaction's hash is
 * stored before waiting, and the contract is asked whether the (grant, request id) is logged
 * before any send), and so never logs a request twice; the contract's RequestAlreadyLogged is
 * the last line of defence.
 */
import { circuitId } from "../circuits/lib/signals.js";
import { decodeRevert } from "../protocol/contract.js";
import { toSolidityProof, type SnarkjsProof } from "../protocol/proof.js";
import type { GatewayContext } from "./context.js";
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

  private async process(entry: OutboxEntry): Promise<void> {
    const { ctx } = this;
    const chain = ctx.chain;
    try {
      // a transaction sent before (maybe before a restart): wait for it
      if (entry.txHash) {
        const receipt = await chain.provider.getTransactionReceipt(entry.txHash);
        if (receipt && receipt.status === 1) {
          await this.confirm(entry, entry.txHash, receipt.blockNumber);
          return;
        }
        if (!receipt) {
          const tx = await chain.provider.getTransaction(entry.txHash);
          if (tx) {
            await this.confirm(entry, entry.txHash); // still pending: wait for it
            return;
          }
        }
        // reverted or dropped: fall through and check the contract before resending
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
      const txHash = await chain.sendRecordAnswer({
        grantId: BigInt(job.grantId),
        versionId: BigInt(job.versionId),
        circuitId: circuitId(job.circuit),
        requestId: job.requestId,
        proof: toSolidityProof(job.proof as SnarkjsProof),
        publicSignals: job.publicSignals.map(BigInt),
        consent: { versionId: BigInt(job.consent.versionId), signature: job.consent.signature },
      });
      const sent = { ...entry, txHash, attempts: entry.attempts + 1 };
      await ctx.store.updateOutbox(sent);
      ctx.log.info({ requestId: entry.requestId, txHash }, "recordAnswer sent");
      await this.confirm(sent, txHash);
    } catch (e) {
      const name = decodeRevert(e)?.name;
      if (name === "RequestAlreadyLogged") {
        const job = await ctx.store.getJob(entry.jobId).catch(() => undefined);
        const logged =
          job &&
          (await chain.findAnswer(BigInt(job.grantId), entry.requestId).catch(() => undefined));
        if (logged) await this.completeIfOurs(entry, logged);
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

  private async confirm(entry: OutboxEntry, txHash: string, minedIn?: number): Promise<void> {
    const confirmations = Math.max(1, this.ctx.config.chain.confirmations);
    let blockNumber = minedIn;
    if (blockNumber === undefined || confirmations > 1) {
      const receipt = await this.ctx.chain.provider.waitForTransaction(
        txHash,
        confirmations,
        120_000,
      );
      if (!receipt) throw Object.assign(new Error("confirmation timed out"), { code: "TIMEOUT" });
      if (receipt.status !== 1)
        throw Object.assign(new Error("transaction reverted"), { code: "REVERTED" });
      blockNumber = receipt.blockNumber;
    }
    await this.complete(entry, { hash: txHash, blockNumber });
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
      // found on-chain (e.g. after a restart): released only with the configured confirmations
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
