/**
 * What every command of the `partproof` program shares: where output goes, the session and
 * signer of the person at the keyboard, and the option parsers several commands use.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Signer } from "ethers";
import type { GrantTerms, PolicyInput } from "../policy.js";
import type { Session } from "../session.js";

/** Where a command's output goes (the CLI's stdout/stderr, or a test's buffer). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** What a command needs from the program: its session, its signer and how to print. */
export interface CommandContext {
  /** The session named by the global options (opened on first use of each command). */
  session(): Promise<Session>;
  /** The signing key named by the global options, connected to the session's provider. */
  signer(s: Session): Promise<Signer>;
  /** Prints `data` as JSON with --json, else the human lines. */
  print(data: unknown, human: string | string[]): void;
  /** A progress line on stderr (silent with --json). */
  progress(line: string): void;
}

/** Parses a date (YYYY-MM-DD), a unix time, or a duration from now (30d, 12h) into unix seconds. */
export function parseTime(v: string, now = Math.floor(Date.now() / 1000)): number {
  const d = /^(\d+)([smhd])$/.exec(v);
  if (d) {
    return now + Number(d[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[d[2] as "s" | "m" | "h" | "d"];
  }
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(`"${v}" is not a date, unix time or duration like 30d`);
  return Math.floor(ms / 1000);
}

/** An option parser for a positive integer named `name`. */
export function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
    }
    return Number(v);
  };
}

/** An id argument as a bigint. */
export function bigId(name: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
  return BigInt(v);
}

/** A comma-separated list option. */
export const list = (v: string) =>
  v
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** The options of a policy (grant, request-grant). */
export interface PolicyOpts {
  aggregates: string[];
  fields: string[];
  filters: string[];
  part: string;
  plant?: string;
  k: number;
  thresholds: string[];
  validFrom: string;
  validUntil: string;
  quota: number;
}

/** Adds the policy options to a command. */
export function policyOptions(c: Command): Command {
  return c
    .requiredOption(
      "--aggregates <list>",
      "allowed aggregates: count,sum,avg,min,max,ratio,threshold",
      list,
    )
    .requiredOption("--fields <list>", "fields that may be aggregated (names or indices)", list)
    .addOption(
      new Option("--filters <list>", "fields that may be filtered on")
        .argParser(list)
        .default([], "none"),
    )
    .requiredOption("--part <partNumber>", "the part the grant covers")
    .option("--plant <plant>", "restrict to one plant (default: every plant)")
    .requiredOption("--k <n>", "minimum cohort: no answer over fewer records", positiveInt("--k"))
    .addOption(
      new Option(
        "--thresholds <list>",
        "the PPM thresholds a threshold query may use (at most 4; needed for threshold)",
      )
        .argParser(list)
        .default([], "none"),
    )
    .addOption(
      new Option(
        "--valid-from <time>",
        "start of validity: date, unix time or duration from now",
      ).default("0", "at once"),
    )
    .addOption(
      new Option(
        "--valid-until <time>",
        "end of validity: date, unix time or duration from now",
      ).default("90d", "90 days from now"),
    )
    .addOption(
      new Option("--quota <n>", "maximum number of answers")
        .argParser(positiveInt("--quota"))
        .default(100, "100 answers"),
    );
}

/** The policy in words of the policy options. */
export function policyInputOf(o: PolicyOpts): PolicyInput {
  return { ...o, partNumber: o.part, minCohort: o.k };
}

/** The validity window and quota of the policy options. */
export function termsOf(o: PolicyOpts): GrantTerms {
  return { validFrom: parseTime(o.validFrom), validUntil: parseTime(o.validUntil), quota: o.quota };
}
