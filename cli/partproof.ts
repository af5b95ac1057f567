/**
 * `partproof`: the command line of each role.
 *
 *   partproof supplier register|upload|publish|grant|approve|reject|revoke|quota|expiry|asked
 *   partproof automaker assets|request-grant|query|verify
 *   partproof auditor report
 *
 * The groups are also named by what a party does with the data: `publisher` is `supplier` and
 * `consumer` is `automaker` (an automaker publishing field claims is a publisher; a supplier
 * asking about them, e.g. `partproof consumer ask causal-share …`, a consumer).
 *
 * Common options: --rpc URL, --deployment FILE, --gateway URL, --key-env VAR | --keystore FILE,
 * --json. Run any command with --help for its options.
 *
 * This file only builds the program and runs it; the commands are in cli/commands/, what each
 * role does in cli/supplier.ts, cli/automaker.ts and cli/auditor.ts.
 */
import path from "node:path";
import { Command, Option } from "commander";
import { addAuditorCommands } from "./commands/auditor.js";
import { addAutomakerCommands } from "./commands/automaker.js";
import type { CommandContext, Io } from "./commands/context.js";
import { addSupplierCommands } from "./commands/supplier.js";
import { isUserFacing } from "./errors.js";
import { toJson } from "./format.js";
import { loadWallet } from "./keys.js";
import { openSession, type Session } from "./session.js";

export type { Io };

/** Global options every command accepts. */
interface GlobalOpts {
  rpc: string;
  deployment?: string;
  gateway?: string;
  keyEnv: string;
  keystore?: string;
  passwordEnv: string;
  json: boolean;
}

/** Builds the program; `io` receives all output; `overrides.session` replaces the global options' session. */
export function buildProgram(io: Io, overrides: { session?: Session } = {}): Command {
  const program = new Command("partproof")
    .description("PartProof: usable-but-invisible supply-chain data, one command line per role")
    .addOption(
      new Option("--rpc <url>", "JSON-RPC URL of the chain")
        .env("PARTPROOF_RPC_URL")
        .default("http://127.0.0.1:8545", "http://127.0.0.1:8545, a local node"),
    )
    .addOption(
      new Option("--deployment <file>", "deployment file written by `npm run deploy`").env(
        "PARTPROOF_DEPLOYMENT",
      ),
    )
    .addOption(
      new Option(
        "--gateway <url>",
        "the supplier's gateway (commands that upload, ask or read an export)",
      ).env("PARTPROOF_GATEWAY"),
    )
    .addOption(
      new Option("--key-env <var>", "environment variable holding your private key").default(
        "PARTPROOF_KEY",
        "PARTPROOF_KEY",
      ),
    )
    .option("--keystore <file>", "encrypted JSON keystore holding your key (instead of --key-env)")
    .addOption(
      new Option(
        "--password-env <var>",
        "environment variable holding the keystore password",
      ).default("PARTPROOF_KEYSTORE_PASSWORD", "PARTPROOF_KEYSTORE_PASSWORD"),
    )
    .option("--json", "print machine-readable JSON instead of sentences")
    .helpOption("-h, --help", "show this help")
    .helpCommand("help [command]", "show the help of a command")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // Commander's own errors are reported by runCli in one line with the usage.
      outputError: () => {},
    });

  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const ctx: CommandContext = {
    session: async () =>
      overrides.session ??
      openSession({ rpcUrl: g().rpc, deploymentFile: g().deployment, gatewayUrl: g().gateway }),
    signer: async (s) =>
      loadWallet(
        { keyEnv: g().keyEnv, keystore: g().keystore, passwordEnv: g().passwordEnv },
        s.provider,
      ),
    print: (data, human) => {
      if (g().json) io.out(toJson(data));
      else for (const line of Array.isArray(human) ? human : [human]) io.out(line);
    },
    progress: (line) => {
      if (!g().json) io.err(line);
    },
  };
  addSupplierCommands(program, ctx);
  addAutomakerCommands(program, ctx);
  addAuditorCommands(program, ctx);
  return program;
}

/** The command `argv` names (the deepest subcommand its words reach). */
function commandOf(program: Command, argv: string[]): Command {
  let c = program;
  for (const word of argv) {
    const sub = c.commands.find((x) => x.name() === word || x.aliases().includes(word));
    if (sub) c = sub;
    else if (!word.startsWith("-") && c.commands.length > 0) break;
  }
  return c;
}

/** The names from the program down to `c`: "partproof automaker query". */
function pathOf(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(" ");
}

/**
 * The first option in `argv` that `c` and its parents do not know. Commander reports a missing
 * required option before an unknown one; a user who mistyped an option should hear about that.
 */
function unknownOptionIn(c: Command, argv: string[]): string | undefined {
  const known = new Set<string>();
  for (let x: Command | null = c; x; x = x.parent) {
    for (const o of [...x.options, x.createHelp().visibleOptions(x)].flat()) {
      if (o.long) known.add(o.long);
      if (o.short) known.add(o.short);
      if (o.negate && o.long) known.add(o.long.replace(/^--no-/, "--"));
    }
  }
  for (const a of argv) {
    if (a === "--") return undefined;
    if (a.startsWith("-") && a !== "-" && !/^-\d/.test(a) && !known.has(a.split("=")[0]!)) {
      return a.split("=")[0];
    }
  }
  return undefined;
}

/** Runs the CLI with argv; returns the exit code (2: the user can fix it; 1: anything else). */
export async function runCli(
  argv: string[],
  io: Io,
  overrides: { session?: Session } = {},
): Promise<number> {
  const program = buildProgram(io, overrides);
  /** One line: the problem, the command's usage and where its help is. */
  const oneLine = (problem: string) => {
    const c = commandOf(program, argv);
    const unknown = unknownOptionIn(c, argv);
    const what = unknown ? `unknown option '${unknown}'` : problem.replace(/^error: /, "");
    io.err(
      `error: ${what.split("\n")[0]} — usage: ${pathOf(c)} ${c.usage()} (more: ${pathOf(c)} --help)`,
    );
  };
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    const { exitCode, code } = e as { exitCode?: number; code?: string };
    if (code === "commander.helpDisplayed" || code === "commander.version") return 0;
    // `partproof` or `partproof supplier` alone: the help was printed, no command was run.
    if (code === "commander.help") return 2;
    if (typeof exitCode === "number" && code?.startsWith("commander.")) {
      oneLine((e as Error).message);
      return 2;
    }
    io.err(`error: ${(e as Error).message}`);
    return isUserFacing(e) ? 2 : 1;
  }
}

/** Runs `partproof` on this process's arguments and exits (the package's bin, `bin/partproof.js`). */
export async function main(argv = process.argv.slice(2)): Promise<never> {
  const code = await runCli(argv, {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  });
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  process.exit(code);
}

const isMain =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, "") ===
    path.resolve(import.meta.filename ?? "").replace(/\.ts$/, "");
if (isMain) await main();
