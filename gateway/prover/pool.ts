/**
 * Pools of workers for the heavy work, each with its own queue: proving answers (`ProverPool`,
 * child processes) and reading uploads and building their trees (`IngestPool`, ingest-pool.ts,
 * worker threads), so that a flood of uploads never starves proofs. The HTTP loop never parses
 * a batch, builds a tree or runs a prover.
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { Worker, type ResourceLimits } from "node:worker_threads";
import { loadNativeProver, nativeProverUnavailableReason } from "../../circuits/native/groth16.js";
import type {
  AuditRequest,
  AuditResponse,
  ProofSteps,
  ProverEngine,
  WorkerRequest,
  WorkerResponse,
} from "./worker.js";

/** A finished proof. */
export interface ProofResult {
  /** snarkjs proof object. */
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
  /** Public signals, decimal strings. */
  publicSignals: string[];
  /** The answer the proof commits to. */
  answer: { resultValue: string; resultAux: string };
  /** Tree (if not cached), witness and proof wall time. */
  ms: number;
  /** Of which each step, ms. */
  steps: ProofSteps;
}

/** What to prove: the version's data and root, the query, policy, blind and binding. */
export type ProveTask = Omit<Extract<WorkerRequest, { kind: "prove" }>, "id" | "kind">;

/** Which AuditPath proofs to make: the version's data and root, indices, challenge, count. */
export type AuditTask = Omit<AuditRequest, "id" | "kind">;

/** A task that ran past its time budget; its worker was stopped. */
export class BudgetExceededError extends Error {
  override name = "BudgetExceededError";
  /** Creates the error for a budget of `budgetMs`. */
  constructor(readonly budgetMs: number) {
    super(`the task ran longer than its budget of ${budgetMs} ms`);
  }
}

/**
 * A task whose worker thread outgrew its heap limit (V8's old generation, `resourceLimits`):
 * the worker was stopped (a new one takes the next task) and the task failed.
 */
export class WorkerOutOfMemoryError extends Error {
  override name = "WorkerOutOfMemoryError";
  /** Creates the error for a worker whose old generation was limited to `heapMb` MiB. */
  constructor(readonly heapMb: number | undefined) {
    super(`the worker ran out of its ${heapMb ?? "default"} MiB heap and was stopped`);
  }
}

/** Failed starts in a row after which a pool fails its waiting tasks (see {@link WorkerStartError}). */
export const MAX_START_FAILURES = 3;

/**
 * Tasks failed because the pool's workers died while loading {@link MAX_START_FAILURES} times
 * in a row (a broken module, a heap cap too small for the code, a process that exits at start):
 * respawning again would loop while the request waits. The next task tries again.
 */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
  /** Creates the error for the `name` pool whose last start failed with `cause`. */
  constructor(
    name: string,
    readonly attempts: number,
    cause: Error,
  ) {
    super(`the ${name} worker failed to start ${attempts} times in a row: ${cause.message}`);
  }
}

type Message = { id: number };
/** `Omit<T, K>` applied to each member of a union. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Reply = { id: number; ok: boolean; error?: string };
/** What a pool needs of a worker, thread or process. */
interface PoolWorker {
  postMessage(msg: unknown): void;
  terminate(): Promise<unknown>;
  // the listener type of both Worker and EventEmitter
  on(event: "message" | "error", fn: (...args: any[]) => void): unknown;
  once(event: "exit", fn: () => void): unknown;
}

/** How a pool runs its workers. */
export type WorkerKind = "thread" | "process";

/**
 * A worker in a child process (`fork`), with a worker thread's interface. A process of its own
 * lets snarkjs start its thread pool (one thread per core), which it cannot inside a worker
 * thread; `nice` lowers the process's priority so that its threads yield to the HTTP loop.
 * The child's unexpected exit (a crash, the OOM killer) is an `error`.
 */
class ProcessWorker extends EventEmitter implements PoolWorker {
  private readonly child: ChildProcess;
  private exited = false;
  private terminating = false;

  constructor(entry: URL, data: Record<string, unknown>) {
    super();
    this.child = fork(entry, [], {
      serialization: "advanced", // structured clone, as between threads
      env: { ...process.env, PARTPROOF_WORKER_DATA: JSON.stringify(data) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (m) => this.emit("message", m));
    this.child.on("error", (e) => this.emit("error", e));
    this.child.once("exit", (code, signal) => {
      this.exited = true;
      if (code !== 0 && !this.terminating) {
        this.emit("error", new Error(`worker process exited (${signal ?? `code ${code}`})`));
      }
      this.emit("exit");
    });
  }

  postMessage(msg: unknown): void {
    this.child.send(msg as never);
  }

  async terminate(): Promise<void> {
    if (this.exited) return;
    this.terminating = true;
    const gone = new Promise<void>((resolve) => this.once("exit", () => resolve()));
    this.child.kill("SIGKILL");
    await gone;
  }
}

type Pending<Req, Res> = {
  msg: Req;
  budgetMs?: number;
  resolve(r: Res): void;
  reject(e: Error): void;
};

/**
 * A fixed-size pool of workers (threads, or child processes) with its own FIFO queue. A task
 * may carry a time budget:
 * a worker still busy with it when the budget runs out is terminated (a new one is spawned for
 * the next task) and the task fails with {@link BudgetExceededError}.
 */
export class WorkerPool<Req extends Message, Res extends Reply> {
  private readonly idle: PoolWorker[] = [];
  private readonly all: PoolWorker[] = [];
  private readonly queue: Pending<Req, Res>[] = [];
  private readonly running = new Map<PoolWorker, Pending<Req, Res> & { timer?: NodeJS.Timeout }>();
  private nextId = 1;
  private closed = false;
  /** Workers in a row that died before they said "ready" (reset by one that does). */
  private startFailures = 0;
  /** The back-off before the next start after a failed one; no worker starts meanwhile. */
  private restartTimer: NodeJS.Timeout | undefined;

  /**
   * Creates a pool of `size` workers running `script` (a module beside worker-entry.mjs), as
   * worker threads or as child processes (`kind`).
   */
  constructor(
    private readonly size: number,
    private readonly script: string,
    private readonly data: Record<string, unknown> = {},
    private readonly kind: WorkerKind = "thread",
    /** V8 heap limits of each worker thread (a smaller old generation is collected sooner). */
    private readonly limits?: ResourceLimits,
  ) {}

  /** Number of tasks waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** The error of a task the closing pool drops: "<name> pool closed" (e.g. "prover pool closed"). */
  private closedError(): Error {
    return new Error(`${String(this.data.name ?? "worker")} pool closed`);
  }

  /** Number of tasks being worked on. */
  get busy(): number {
    return this.running.size;
  }

  /** Queues a task; resolves with the worker's reply, rejects on its error or budget. */
  protected run(msg: OmitEach<Req, "id">, budgetMs?: number): Promise<Res> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const full = { ...msg, id: this.nextId++ } as unknown as Req;
      this.queue.push({ msg: full, ...(budgetMs ? { budgetMs } : {}), resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): PoolWorker {
    const entry = new URL("./worker-entry.mjs", import.meta.url);
    const w: PoolWorker =
      this.kind === "process"
        ? new ProcessWorker(entry, { script: this.script, ...this.data })
        : new Worker(entry, {
            // `mod` keeps the `web-worker` package (loaded by ffjavascript inside the thread,
            // where it takes workerData as its own) from failing: it evaluates this empty script.
            workerData: { mod: "data:text/javascript,", script: this.script, ...this.data },
            ...(this.limits ? { resourceLimits: this.limits } : {}),
          });
    let ready = false;
    let failedStart = false;
    // A worker that dies before it is ready (a broken module, a heap cap too small for the
    // code, a process exiting at start) took no task: it is forgotten and another started after
    // a back-off, and after MAX_START_FAILURES in a row the waiting tasks fail instead of
    // waiting on a loop of respawns.
    const startFailed = (cause: Error) => {
      if (ready || failedStart) return;
      failedStart = true;
      this.forget(w);
      if (this.closed) return;
      this.startFailures++;
      if (this.startFailures >= MAX_START_FAILURES) {
        const err = new WorkerStartError(
          String(this.data.name ?? "pool"),
          this.startFailures,
          cause,
        );
        this.startFailures = 0;
        for (const t of this.queue.splice(0)) t.reject(err);
        return;
      }
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(
        () => {
          this.restartTimer = undefined;
          this.dispatch();
        },
        100 * 2 ** (this.startFailures - 1),
      );
    };
    w.once("exit", () => startFailed(new Error("the worker exited while loading")));
    w.on("message", (msg: Res | { ready: true }) => {
      if ("ready" in msg) {
        ready = true;
        this.startFailures = 0;
        this.idle.push(w);
        this.dispatch();
        return;
      }
      const task = this.running.get(w);
      clearTimeout(task?.timer);
      this.running.delete(w);
      if (this.retires(msg)) {
        // stopped before it can take another task; the next task starts a fresh one
        this.forget(w);
        void w.terminate();
      } else this.idle.push(w);
      if (task) {
        if (msg.ok) task.resolve(msg);
        else task.reject(new Error(msg.error));
      }
      this.dispatch();
    });
    w.on("error", (e) => {
      // a thread over its heap limit is stopped by Node with this code: name the cause
      const oom = (e as { code?: string })?.code === "ERR_WORKER_OUT_OF_MEMORY";
      const cause = oom
        ? new WorkerOutOfMemoryError(this.limits?.maxOldGenerationSizeMb)
        : e instanceof Error
          ? e
          : new Error(String(e));
      if (!ready) {
        startFailed(cause);
        return;
      }
      const task = this.running.get(w);
      clearTimeout(task?.timer);
      this.running.delete(w);
      this.forget(w);
      task?.reject(cause);
      this.dispatch();
    });
    this.all.push(w);
    return w;
  }

  /**
   * Whether the worker that sent `reply` is to be stopped instead of taking another task (a
   * stopped thread gives back its whole heap and buffers at once). None by default.
   */
  protected retires(_reply: Res): boolean {
    return false;
  }

  private forget(w: PoolWorker): void {
    const i = this.all.indexOf(w);
    if (i >= 0) this.all.splice(i, 1);
    const j = this.idle.indexOf(w);
    if (j >= 0) this.idle.splice(j, 1);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const w = this.idle.pop();
      if (!w) {
        // a new worker takes a task once it has loaded (it says "ready")
        const loading = this.all.length - this.running.size - this.idle.length;
        const backingOff = this.restartTimer !== undefined;
        if (!backingOff && this.all.length < this.size && loading < this.queue.length) this.spawn();
        return;
      }
      const task = this.queue.shift()!;
      const worker = w;
      const timer =
        task.budgetMs === undefined
          ? undefined
          : setTimeout(() => {
              if (this.running.get(worker) !== entry) return;
              this.running.delete(worker);
              this.forget(worker);
              void worker.terminate();
              task.reject(new BudgetExceededError(task.budgetMs!));
              this.dispatch();
            }, task.budgetMs);
      const entry = { ...task, timer };
      this.running.set(worker, entry);
      worker.postMessage(task.msg);
    }
  }

  /**
   * Stops every worker: queued tasks are rejected, idle workers are asked to exit between
   * tasks, and a worker still busy (or not exiting within 5 s) is terminated.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    for (const t of this.queue.splice(0)) t.reject(this.closedError());
    const busy = new Set(this.running.keys());
    for (const t of this.running.values()) {
      clearTimeout(t.timer);
      t.reject(this.closedError());
    }
    this.running.clear();
    await Promise.all(
      this.all.map(async (w) => {
        if (busy.has(w)) {
          await w.terminate();
          return;
        }
        const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
        w.postMessage({ kind: "close" });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), 5000);
        });
        if ((await Promise.race([exited, timeout])) === "timeout") await w.terminate();
        clearTimeout(timer);
      }),
    );
    this.all.length = 0;
    this.idle.length = 0;
  }
}

/**
 * Niceness of the prover processes: their threads take every idle core, and yield to the
 * gateway's HTTP loop and relayer when those have work.
 */
export const PROVER_NICE = 5;

/**
 * A pool of proving workers for one circuit (and its scan instance). Each is a child process
 * that proves on all cores (the native prover's threads, or snarkjs' own thread pool), so
 * `size` is the number of proofs in parallel, not of cores used.
 */
export class ProverPool extends WorkerPool<
  WorkerRequest | AuditRequest,
  WorkerResponse | AuditResponse
> {
  /** Creates a pool of `size` workers proving with the given wasm and zkey. */
  constructor(
    size: number,
    artifacts: {
      range: { wasm: string; zkey: string };
      scan?: { wasm: string; zkey: string };
      audit?: { wasm: string; zkey: string };
    },
    opts: { kind?: WorkerKind; nice?: number; prover?: "auto" | "snarkjs" } = {},
  ) {
    const prover = opts.prover ?? "auto";
    super(
      size,
      "./worker.ts",
      { name: "prover", nice: opts.nice ?? PROVER_NICE, prover, ...artifacts },
      opts.kind ?? "process",
    );
    const native = prover !== "snarkjs" && loadNativeProver() !== null;
    this.engine = native ? "native" : "snarkjs";
    this.engineNote = native
      ? "native Groth16 prover (circuits/native)"
      : `snarkjs (${prover === "snarkjs" ? "asked for" : `native prover: ${nativeProverUnavailableReason()}`})`;
  }

  /**
   * The prover the workers use: "native" when its addon is built and loads (and neither the
   * pool's `prover: "snarkjs"` nor PARTPROOF_PROVER=snarkjs asks for snarkjs), else "snarkjs".
   */
  readonly engine: ProverEngine;
  /** {@link engine} and why, for the start-up log. */
  readonly engineNote: string;

  /** Proves a range answer in a worker. */
  async prove(task: ProveTask): Promise<ProofResult> {
    const r = (await this.run({ kind: "prove", ...task })) as WorkerResponse;
    if (!r.ok || !("proof" in r)) throw new Error("prover returned no proof");
    return {
      proof: r.proof as ProofResult["proof"],
      publicSignals: r.publicSignals,
      answer: r.answer,
      ms: r.ms,
      steps: r.steps,
    };
  }

  /** Proves AuditPath proofs of some leaves of a version in a worker (random path audits). */
  async proveAudit(
    task: AuditTask,
  ): Promise<{ index: number; proof: unknown; publicSignals: string[] }[]> {
    const r = (await this.run({ kind: "audit", ...task })) as AuditResponse;
    if (!r.ok) throw new Error("prover returned no audit proofs");
    return r.proofs;
  }
}
