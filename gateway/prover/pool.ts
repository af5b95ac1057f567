/**
 * A pool of worker threads for the heavy work: building version trees and proving answers.
 * Requests queue until a worker is free; the HTTP loop never builds a tree or runs a prover.
 */
import { Worker } from "node:worker_threads";
import type { VersionPayload, WorkerRequest, WorkerResponse } from "./worker.js";

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
}

/** What to prove: the version's data and root, the query, policy, blind and binding. */
export type ProveTask = Omit<Extract<WorkerRequest, { kind: "prove" }>, "id" | "kind">;

type Pending = { msg: WorkerRequest; resolve(r: WorkerResponse): void; reject(e: Error): void };

/** A fixed-size pool of workers for one circuit. */
export class ProverPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 1;
  private closed = false;

  /** Creates a pool of `size` workers proving with the given wasm and zkey. */
  constructor(
    private readonly size: number,
    private readonly artifacts: {
      range: { wasm: string; zkey: string };
      scan?: { wasm: string; zkey: string };
    },
  ) {}

  /** Number of tasks waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Number of tasks being worked on. */
  get busy(): number {
    return this.running.size;
  }

  /** Builds a version's tree in a worker; resolves with its root. */
  async buildRoot(v: VersionPayload): Promise<bigint> {
    const r = await this.run({ id: 0, kind: "build", ...v });
    if (!r.ok || !("root" in r)) throw new Error("tree build returned no root");
    return BigInt(r.root);
  }

  /** Proves a range answer in a worker. */
  async prove(task: ProveTask): Promise<ProofResult> {
    const r = await this.run({ id: 0, kind: "prove", ...task });
    if (!r.ok || !("proof" in r)) throw new Error("prover returned no proof");
    return {
      proof: r.proof as ProofResult["proof"],
      publicSignals: r.publicSignals,
      answer: r.answer,
      ms: r.ms,
    };
  }

  private run(msg: WorkerRequest): Promise<WorkerResponse> {
    if (this.closed) return Promise.reject(new Error("prover pool closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ msg: { ...msg, id: this.nextId++ }, resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./worker-entry.mjs", import.meta.url), {
      // `mod` keeps the `web-worker` package (loaded by ffjavascript inside the thread, where
      // it takes workerData as its own) from failing: it evaluates this empty script.
      workerData: { mod: "data:text/javascript,", name: "prover", ...this.artifacts },
    });
    w.on("message", (msg: WorkerResponse) => {
      const task = this.running.get(w);
      this.running.delete(w);
      this.idle.push(w);
      if (task) {
        if (msg.ok) task.resolve(msg);
        else task.reject(new Error(msg.error));
      }
      this.dispatch();
    });
    w.on("error", (e) => {
      const task = this.running.get(w);
      this.running.delete(w);
      this.all.splice(this.all.indexOf(w), 1);
      task?.reject(e instanceof Error ? e : new Error(String(e)));
      this.dispatch();
    });
    this.all.push(w);
    return w;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let w = this.idle.pop();
      if (!w && this.all.length < this.size) w = this.spawn();
      if (!w) return;
      const task = this.queue.shift()!;
      this.running.set(w, task);
      w.postMessage(task.msg);
    }
  }

  /**
   * Stops every worker: queued tasks are rejected, idle workers are asked to exit between
   * tasks, and a worker still busy (or not exiting within 5 s) is terminated.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("prover pool closed"));
    const busy = new Set(this.running.keys());
    for (const t of this.running.values()) t.reject(new Error("prover pool closed"));
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
