/**
 * The periods of a series question (`automaker series`, the console's series form): the months
 * or quarters that meet a date window, clipped to it. Pure (no Node module), so that the CLI and
 * the browser console cut a window the same way.
 */
import { dayNumber, isoDateOfDay } from "./records/keys.js";

/** One period of a series: inclusive ISO dates. */
export interface Period {
  label: string;
  from: string;
  to: string;
}

/** Most periods one series may ask (each costs a proof and a unit of quota). */
export const MAX_PERIODS = 36;

/**
 * The months or quarters that meet [from, to], clipped to it: `2026-04` or `2026-Q2`. The first
 * and last period may be partial (their dates say so). A bad or reversed window, or one of more
 * than {@link MAX_PERIODS} periods, is a RangeError saying so.
 */
export function periodsIn(by: "month" | "quarter", from: string, to: string): Period[] {
  let lo: number;
  let hi: number;
  try {
    lo = dayNumber(from);
    hi = dayNumber(to);
  } catch (e) {
    throw new RangeError(`${(e as Error).message} (YYYY-MM-DD)`);
  }
  if (lo > hi) throw new RangeError(`from ${from} is after to ${to}`);
  const step = by === "month" ? 1 : 3;
  const start = new Date(lo * 86_400_000);
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth() - (start.getUTCMonth() % step);
  const out: Period[] = [];
  for (;;) {
    const first = Date.UTC(y, m, 1) / 86_400_000;
    if (first > hi) break;
    const last = Date.UTC(y, m + step, 1) / 86_400_000 - 1;
    out.push({
      label: by === "month" ? `${y}-${String(m + 1).padStart(2, "0")}` : `${y}-Q${m / 3 + 1}`,
      from: isoDateOfDay(Math.max(first, lo)),
      to: isoDateOfDay(Math.min(last, hi)),
    });
    if (out.length > MAX_PERIODS) {
      throw new RangeError(`a series asks at most ${MAX_PERIODS} periods; narrow from/to`);
    }
    m += step;
    if (m >= 12) {
      m -= 12;
      y += 1;
    }
  }
  return out;
}
