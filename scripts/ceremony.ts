/**
 * Phase-2 ceremony for one circuit instance: several parties each add a contribution to the
 * zkey, so that no single party knows the toxic waste. Each contribution is verified against the
 * r1cs and the powers-of-tau file before the next party takes over.
 *
 * Usage:
 *   tsx scripts/ceremony.ts contribute NAME --name "Party" [--entropy TEXT]
 *   tsx scripts/ceremony.ts beacon NAME --hash HEX [--iterations 10]
 *   tsx scripts/ceremony.ts verify NAME
 *
 * The zkey lives at circuits/build/NAME/NAME.zkey (built by `npm run build:circuits`); after a
 * contribution the verification key and the Solidity verifier are exported again.
 * The powers-of-tau file is the one the build used: PTAU=FILE, or the cached development file;
 * with the development file (its secret is known) a ceremony is only a rehearsal.
 */
import { randomBytes } from "node:crypto";
import { rename } from "node:fs/promises";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  circuitPaths,
  ensurePtau,
  exportVerificationKey,
  exportVerifier,
  readManifest,
  snarkLogger,
} from "./lib/circuit-build.js";
import { DEV_PTAU_WARNING } from "./lib/dev-ptau.js";
import { parseArgsOr, positiveIntArg, usageError } from "./lib/args.js";

const USAGE =
  'npm run ceremony -- contribute NAME --name "Party" [--entropy TEXT] | beacon NAME --hash HEX [--iterations N] | verify NAME';

const { values, positionals } = parseArgsOr(
  {
    allowPositionals: true,
    options: {
      name: { type: "string" },
      entropy: { type: "string" },
      hash: { type: "string" },
      iterations: { type: "string", default: "10" },
      help: { type: "boolean", short: "h", default: false },
    },
  },
  USAGE,
);
if (values.help) {
  console.log(`Usage: ${USAGE}`);
  process.exit(0);
}
// Checked up front, so that a mistyped command costs one line and not a moved zkey.
const [command, circuit] = positionals as [string, string];
{
  const rest = positionals.slice(2);
  if (!command || !["contribute", "beacon", "verify"].includes(command)) {
    usageError(command ? `unknown command "${command}"` : "no command", USAGE);
  }
  if (!circuit) usageError(`${command} needs the circuit NAME`, USAGE);
  if (rest.length) usageError(`unexpected argument "${rest[0]}"`, USAGE);
  if (command === "contribute" && !values.name) {
    usageError("contribute needs --name of the contributing party", USAGE);
  }
  if (command === "beacon" && !/^[0-9a-fA-F]{64}$/.test(values.hash ?? "")) {
    usageError("beacon needs --hash with 32 bytes of hex (e.g. a future block hash)", USAGE);
  }
  positiveIntArg("--iterations", values.iterations!, USAGE);
  const names: string[] = (await readManifest()).map((c) => c.name);
  if (!names.includes(circuit)) {
    usageError(`unknown circuit "${circuit}" (one of ${names.join(", ")})`, USAGE);
  }
}

const log = (m: string) => console.log(m);

async function main(): Promise<void> {
  const entry = (await readManifest()).find((c) => c.name === circuit)!;
  const p = circuitPaths(entry.name);
  const logger = snarkLogger(log, `[${entry.name}]`);
  if (command === "verify") {
    const ptau = await ensurePtau(entry.ptau, log);
    const ok = await snarkjs.zKey.verifyFromR1cs(p.r1cs, ptau.file, p.zkey, logger);
    if (!ok) throw new Error(`${p.zkey} does not verify against ${p.r1cs} and ${ptau.file}`);
    log(`[${entry.name}] zkey verified: every contribution is consistent`);
    return;
  }
  if (!process.env.PTAU) {
    // The build used a development ptau: its τ, α, β are known, so no phase-2 contribution can
    // make this key secure. The commands still work, to rehearse a ceremony.
    log(`[${entry.name}] WARNING: ${DEV_PTAU_WARNING}; contributions do not make it secure.`);
    log(`[${entry.name}] For a real ceremony, build with PTAU=<published ptau file> first.`);
  }
  const prev = `${p.zkey}.prev`;
  await rename(p.zkey, prev);
  try {
    if (command === "contribute") {
      const entropy = values.entropy ?? randomBytes(32).toString("hex");
      const hash = await snarkjs.zKey.contribute(prev, p.zkey, values.name!, entropy, logger);
      log(
        `[${entry.name}] contribution by ${values.name}; keep this hash to check the transcript:`,
      );
      log(Buffer.from(hash as Uint8Array).toString("hex"));
    } else {
      const iterations = Number(values.iterations);
      await snarkjs.zKey.beacon(prev, p.zkey, "final beacon", values.hash!, iterations, logger);
    }
  } catch (err) {
    await rename(prev, p.zkey);
    throw err;
  }
  await exportVerificationKey(entry.name, log);
  await exportVerifier(entry, log, true);
}

try {
  await main();
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
}
