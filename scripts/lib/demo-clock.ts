/**
 * Where a demo run spends its time, shown to whoever runs it: each chapter's elapsed seconds and
 * the proofs the gateways made in it, counted from the gateways' own log lines ("answer proved":
 * one range proof; "audit proved": the AuditPath proofs of one audit so far), and a summary line
 * at the end.
 */
import { open } from "node:fs/promises";

/** One timed part of a run. */
export interface Lap {
  title: string;
  ms: number;
  /** Proofs the gateways made during it (undefined: not counted, e.g. the build). */
  proofs?: number;
}

/**
 * Counts the proofs in a gateway log (pino JSON lines, several gateways appending to one file):
 * each call to {@link ProofCounter.take} returns the proofs logged since the previous call.
 * An audit's line carries the number of its leaves proved so far, so only the growth counts.
 */
export class ProofCounter {
  #offset = 0;
  #partial = "";
  readonly #audits = new Map<string, number>();

  constructor(readonly logFile: string) {}

  /** The proofs of the lines `text` adds (exported for tests; {@link take} reads the file). */
  count(text: string): number {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    let n = 0;
    for (const line of lines) {
      if (!line.includes("proved")) continue;
      let entry: { msg?: unknown; key?: unknown; proofs?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // not a log entry (the file is the gateways' only)
      }
      if (entry.msg === "answer proved") n += 1;
      else if (entry.msg === "audit proved" && typeof entry.proofs === "number") {
        const key = String(entry.key);
        n += Math.max(0, entry.proofs - (this.#audits.get(key) ?? 0));
        this.#audits.set(key, Math.max(entry.proofs, this.#audits.get(key) ?? 0));
      }
    }
    return n;
  }

  /** Proofs logged since the last call (0 when the log does not exist yet). */
  async take(): Promise<number> {
    let fh;
    try {
      fh = await open(this.logFile, "r");
    } catch {
      return 0;
    }
    try {
      const { size } = await fh.stat();
      if (size <= this.#offset) return 0;
      const buf = Buffer.alloc(size - this.#offset);
      await fh.read(buf, 0, buf.length, this.#offset);
      this.#offset = size;
      return this.count(buf.toString("utf8"));
    } finally {
      await fh.close();
    }
  }
}

/** Seconds with one decimal, e.g. "12.3 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The line a chapter ends with: "… 12.3 s, 4 proofs". */
export function lapLine(lap: Lap): string {
  return `(${lap.title}: ${seconds(lap.ms)}${lap.proofs === undefined ? "" : `, ${plural(lap.proofs)}`})`;
}

const plural = (n: number) => `${n} proof${n === 1 ? "" : "s"}`;

/**
 * The run's summary: the total, then every lap with its time and proofs, e.g.
 * "demo: 41.2 s in all, 8 proofs — build 4.1 s · chain + deploy 6.0 s · publish 12.3 s (4 proofs) · …".
 */
export function summaryLine(label: string, totalMs: number, laps: readonly Lap[]): string {
  const proofs = laps.reduce((n, l) => n + (l.proofs ?? 0), 0);
  const parts = laps.map(
    (l) => `${l.title} ${seconds(l.ms)}${l.proofs ? ` (${plural(l.proofs)})` : ""}`,
  );
  return `${label}: ${seconds(totalMs)} in all, ${plural(proofs)} — ${parts.join(" · ")}`;
}
