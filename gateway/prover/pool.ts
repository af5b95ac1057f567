/**
 * A pool of proving worker threads. `prove` queues a circuit input and resolves with the
 * proof when a worker is free; the HTTP loop never runs a prover.
 */
import { Worker } from "node:worker_threads";
import type { ProveRequest, ProveResponse } from "./worker.js";

/** A finished proof. */
export interface ProofResult {
  /** snarkjs proof object. */
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
  /** Public signals, decimal strings. */
  publicSignals: string[];
  /** Witness + proof wall time. */
  ms: number;
}

interface Task {
  id: number;
  input: Record<string, unknown>;
  resolve(r: ProofResult): void;
  reject(e: Error): void;
}

/** Converts bigints (also nested in arrays) to decimal strings for the witness calculator. */
export function stringifyInput(input: Record<string, unknown>): Record<string, unknown> {
  const conv = (v: unknown): unknown =>
    typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(conv) : v;
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, conv(v)]));
}

/** A fixed-size pool of proving workers for one circuit. */
export class ProverPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly running = new Map<Worker, Task>();
  private nextId = 1;
  private closed = false;

  /** Creates a pool of `size` workers proving with the given wasm and zkey. */
  constructor(
    private readonly size: number,
    private readonly artifacts: { wasm: string; zkey: string },
  ) {}

  /** Number of proofs waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Number of proofs being computed. */
  get busy(): number {
    return this.running.size;
  }

  /** Queues a proof; resolves when it is done. */
  prove(input: Record<string, unknown>): Promise<ProofResult> {
    if (this.closed) return Promise.reject(new Error("prover pool closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input: stringifyInput(input), resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./worker-entry.mjs", import.meta.url), {
      // `mod` keeps the `web-worker` package (loaded by ffjavascript inside the thread, where
      // it takes workerData as its own) from failing: it evaluates this empty script.
      workerData: { mod: "data:text/javascript,", name: "prover", ...this.artifacts },
    });
    w.on("message", (msg: ProveResponse | "closed") => {
      if (msg === "closed") return;
      const task = this.running.get(w);
      this.running.delete(w);
      this.idle.push(w);
      if (task) {
        if (msg.ok) {
          task.resolve({
            proof: msg.proof as ProofResult["proof"],
            publicSignals: msg.publicSignals,
            ms: msg.ms,
          });
        } else task.reject(new Error(msg.error));
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
      w.postMessage({ id: task.id, input: task.input } satisfies ProveRequest);
    }
  }

  /** Stops every worker; queued and running proofs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("prover pool closed"));
    for (const t of this.running.values()) t.reject(new Error("prover pool closed"));
    this.running.clear();
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}
