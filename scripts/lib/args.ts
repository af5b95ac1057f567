/**
 * Command-line arguments of the scripts (demo, sandbox, bench, deploy, ceremony,
 * build:circuits): node:util's parseArgs, but whatever the user mistypes is answered in ONE
 * line naming the problem and the usage, with exit code 2 (parseArgs itself throws, and an
 * uncaught throw at the top of a module prints a stack trace).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Prints `error: <problem> — usage: <usage>` on stderr and exits with code 2. */
export function usageError(problem: string, usage: string): never {
  console.error(`error: ${problem} — usage: ${usage}`);
  process.exit(2);
}

/** parseArgs' message without its advice: "Unknown option '--x'. To specify…" → "unknown option '--x'". */
function problemOf(e: unknown): string {
  const m = (e as Error).message.split(/\.\s/)[0]!.replace(/\.$/, "");
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/** parseArgs(config), or one line and exit 2 on an unknown option or a missing value. */
export function parseArgsOr<T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    return usageError(problemOf(e), usage);
  }
}

/** A positive integer option value, or one line and exit 2. */
export function positiveIntArg(name: string, value: string, usage: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    usageError(`${name} must be a positive integer, got "${value}"`, usage);
  }
  return Number(value);
}
