/**
 * `partproof`: the command line of each role.
 *
 *   partproof supplier register|upload|publish|grant|approve|reject|revoke|quota|expiry|asked
 *   partproof automaker assets|request-grant|query|verify
 *   partproof auditor report
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
        .default("http://127.0.0.1:8545"),
    )
    .addOption(
      new Option("--deployment <file>", "deployment file written by scripts/deploy.ts").env(
        "PARTPROOF_DEPLOYMENT",
      ),
    )
    .addOption(new Option("--gateway <url>", "the supplier's gateway").env("PARTPROOF_GATEWAY"))
    .option("--key-env <var>", "environment variable holding your private key", "PARTPROOF_KEY")
    .option("--keystore <file>", "encrypted JSON keystore holding your key")
    .option(
      "--password-env <var>",
      "environment variable holding the keystore password",
      "PARTPROOF_KEYSTORE_PASSWORD",
    )
    .option("--json", "print machine-readable JSON", false)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
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

/** Runs the CLI with argv; returns the exit code (2: the user can fix it; 1: anything else). */
export async function runCli(
  argv: string[],
  io: Io,
  overrides: { session?: Session } = {},
): Promise<number> {
  const program = buildProgram(io, overrides);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    const { exitCode, code } = e as { exitCode?: number; code?: string };
    if (typeof exitCode === "number" && code?.startsWith("commander.")) return exitCode;
    io.err(`error: ${(e as Error).message}`);
    return isUserFacing(e) ? 2 : 1;
  }
}

const isMain =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, "") ===
    path.resolve(import.meta.filename ?? "").replace(/\.ts$/, "");
if (isMain) {
  const code = await runCli(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  });
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  process.exit(code);
}
