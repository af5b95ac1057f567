/**
 * Job progress as it happens: each write of a job or of its outbox entry (store `onWritten`)
 * wakes the requests that wait on that job (GET /jobs/:id?wait=, so that a client follows a
 * job without polling) and stamps the job's timeline (when the gateway accepted, started
 * proving, proved, sent the log transaction, found it reorganised away or dropped, saw it
 * logged), kept in memory for the latest jobs.
 */
import type { GatewayStore, Job, OutboxEntry } from "./store/index.js";

/** When each step of a job happened (ms since the epoch, gateway clock). */
export interface JobTimeline {
  /** POST /queries accepted it (the job's creation). */
  accepted: number;
  /** The prover pool took it. */
  proving?: number;
  /** Proved and stored with its outbox entry (the relayer is woken). */
  proved?: number;
  /** The relayer sent recordAnswer (its hash is stored). */
  sent?: number;
  /** The transaction has the configured confirmations: the answer is released. */
  logged?: number;
  /** The job failed. */
  failed?: number;
  /** Where the proving time went, ms. */
  steps?: { treeMs: number; witnessMs: number; proveMs: number };
  /** The relayer found the log transaction reorganised away (the first time). */
  reorged?: number;
  /** The relayer found the log transaction dropped by the node (the first time). */
  dropped?: number;
}

/** Timelines kept (the oldest are dropped first). */
const KEEP = 10_000;
/** Requests that may wait at once; beyond it a wait returns at once (no unbounded listeners). */
export const MAX_WAITERS = 1_000;

/** Follows the store's job writes: wakes waiters, stamps timelines. */
export class JobEvents {
  private readonly timelines = new Map<string, JobTimeline>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private waiting = 0;
  private readonly stop: () => void;

  /** Starts following `store`. */
  constructor(store: GatewayStore) {
    this.stop = store.onWritten((w) => {
      const now = Date.now();
      if (w.sublevel === "jobs") {
        const job = w.value?.() as Job | undefined;
        if (job) this.stamp(job, now);
        this.wake(w.key);
      } else if (w.value) {
        const entry = w.value() as OutboxEntry;
        const t = this.timelines.get(entry.jobId);
        if (t && entry.txHash && t.sent === undefined) t.sent = now;
        // the relayer's note of a lost transaction (relayer.ts noteLost)
        if (t && entry.lastError === "REORGED") t.reorged ??= now;
        if (t && entry.lastError === "DROPPED") t.dropped ??= now;
      }
    });
  }

  /** The timeline of a job this gateway has seen change since it started, if any. */
  timeline(jobId: string): JobTimeline | undefined {
    const t = this.timelines.get(jobId);
    return t && { ...t, ...(t.steps ? { steps: { ...t.steps } } : {}) };
  }

  /**
   * Resolves with true at the next write of job `jobId`, or with false after `ms` or when
   * `signal` aborts, or at once when {@link MAX_WAITERS} requests already wait. Call it before
   * reading the job, so that a write in between is not missed.
   */
  nextWrite(jobId: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.waiting >= MAX_WAITERS || signal?.aborted || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let set = this.waiters.get(jobId);
      if (!set) this.waiters.set(jobId, (set = new Set()));
      this.waiting += 1;
      const done = (written: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (set.delete(wake)) this.waiting -= 1;
        if (set.size === 0 && this.waiters.get(jobId) === set) this.waiters.delete(jobId);
        resolve(written);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener("abort", onAbort, { once: true });
      set.add(wake);
    });
  }

  /** Stops following the store and releases every waiter. */
  close(): void {
    this.stop();
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }

  private wake(jobId: string): void {
    const set = this.waiters.get(jobId);
    if (set) for (const wake of [...set]) wake();
  }

  private stamp(job: Job, now: number): void {
    let t = this.timelines.get(job.id);
    if (!t) {
      t = { accepted: job.createdAt };
      this.timelines.set(job.id, t);
      if (this.timelines.size > KEEP) this.timelines.delete(this.timelines.keys().next().value!);
    }
    const step = job.status === "queued" ? undefined : job.status;
    if (step && t[step] === undefined) t[step] = now;
    if (job.provingSteps && !t.steps) {
      const { treeMs, witnessMs, proveMs } = job.provingSteps;
      t.steps = { treeMs, witnessMs, proveMs };
    }
  }
}
