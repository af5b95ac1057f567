/**
 * Small test utilities shared by every test folder: bounded waits that fail with a message
 * naming what was awaited (instead of hanging until mocha's 20-minute timeout), and env
 * variables set for a test and restored afterwards.
 */

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Give up after this long (default 2 min: far beyond any expected wait, far below mocha's timeout). */
  timeoutMs?: number;
  /** Pause between checks (default 50 ms). */
  pollMs?: number;
}

/**
 * Calls `check` until it returns a value other than `undefined`, and returns that value. Throws
 * `waitUntil: <what> did not happen within N s (last seen: …)` when the time runs out; `describe`
 * (optional) says what was last seen, for that message.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: WaitUntilOptions & { describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 2 * 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const last = opts.describe ? ` (last seen: ${await opts.describe()})` : "";
      throw new Error(`waitUntil: ${what} did not happen within ${timeoutMs / 1000} s${last}`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
  }
}

/**
 * Sets env variables (`undefined` deletes one) and returns a function that puts every one of
 * them back as it was, for `after()` / `finally`.
 */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
