/**
 * Circuit test helpers: compile a main on demand, calculate witnesses, check them against the
 * R1CS with snarkjs (edited witnesses included), and read signal names from the .sym file.
 * Not used by the gateway.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
// @ts-expect-error circom_runtime ships no type declarations
import { WitnessCalculatorBuilder } from "circom_runtime";
// @ts-expect-error binfileutils ships no type declarations
import * as binFileUtils from "@iden3/binfileutils";
import { FIELD_MODULUS } from "./signals.js";
import { REPO_ROOT, circuitFiles, type CircuitFiles } from "./paths.js";

export { REPO_ROOT, circuitFiles, type CircuitFiles } from "./paths.js";

function newestSource(main: string): number {
  const dir = path.join(REPO_ROOT, "circuits");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".circom"))
    .map((f) => path.join(dir, f));
  files.push(path.join(REPO_ROOT, main));
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/**
 * Compiles circuits/main/<name>.circom (r1cs, wasm, sym; --O2) into circuits/build/<name>
 * unless the outputs exist and are newer than every template. Returns the paths.
 */
export function ensureCompiled(name: string): CircuitFiles {
  const files = circuitFiles(name);
  const main = `circuits/main/${name}.circom`;
  if (!existsSync(path.join(REPO_ROOT, main))) throw new Error(`no main ${main}`);
  const fresh =
    existsSync(files.r1cs) &&
    existsSync(files.wasm) &&
    existsSync(files.sym) &&
    statSync(files.r1cs).mtimeMs >= newestSource(main);
  if (!fresh) {
    mkdirSync(files.dir, { recursive: true });
    execFileSync(
      "npx",
      [
        "circom2",
        main,
        "--r1cs",
        "--wasm",
        "--sym",
        "--O2",
        "-l",
        "node_modules",
        "-l",
        "circuits",
        "-o",
        path.relative(REPO_ROOT, files.dir),
      ],
      { cwd: REPO_ROOT, stdio: "pipe" },
    );
  }
  return files;
}

/** The header numbers of a compiled circuit's R1CS. */
export interface R1csInfo {
  nConstraints: number;
  nPubInputs: number;
  nOutputs: number;
  nPrvInputs: number;
  nVars: number;
}

/** Reads constraint and signal counts from circuits/build/<name>/<name>.r1cs. */
export async function r1csInfo(name: string): Promise<R1csInfo> {
  const info = await snarkjs.r1cs.info(circuitFiles(name).r1cs, undefined);
  return {
    nConstraints: Number(info.nConstraints),
    nPubInputs: Number(info.nPubInputs),
    nOutputs: Number(info.nOutputs),
    nPrvInputs: Number(info.nPrvInputs),
    nVars: Number(info.nVars),
  };
}

/** Witness index → signal name ("main.root", ...) from the .sym file (kept signals only). */
export function signalNames(name: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of readFileSync(circuitFiles(name).sym, "utf8").split("\n")) {
    const [, varIdx, , sig] = line.split(",");
    if (sig === undefined) continue;
    const idx = Number(varIdx);
    if (idx >= 0 && !out.has(idx)) out.set(idx, sig);
  }
  return out;
}

/** Witness index of the signal called `signal` (e.g. "main.answer.q"); throws if optimised away. */
export function signalIndex(name: string, signal: string): number {
  for (const [idx, sig] of signalNames(name)) if (sig === signal) return idx;
  throw new Error(`signal ${signal} not found (or optimised away) in ${name}`);
}

const quiet = { info() {}, warn() {}, debug() {}, error() {} };

/**
 * Calculates the full witness of circuit `name` for `input` with its compiled WASM witness
 * generator (throws when an assertion of the
 * circuit fails, i.e. the input is unsatisfiable for the honest witness generator).
 */
export async function calculateWitness(
  name: string,
  input: Record<string, unknown>,
): Promise<bigint[]> {
  const files = ensureCompiled(name);
  const wc = await WitnessCalculatorBuilder(readFileSync(files.wasm));
  const w = (await wc.calculateWitness(input, true)) as unknown[];
  return w.map((v) => BigInt(v as bigint));
}

/**
 * Checks a (possibly edited) witness against circuit `name`'s R1CS with snarkjs.wtns.check:
 * true iff every constraint holds.
 */
export async function checkWitness(name: string, witness: readonly bigint[]): Promise<boolean> {
  const files = ensureCompiled(name);
  const tmp = mkdtempSync(path.join(tmpdir(), "pp-wtns-"));
  try {
    const file = path.join(tmp, "w.wtns");
    const fd = await binFileUtils.createBinFile(file, "wtns", 2, 2);
    await binFileUtils.startWriteSection(fd, 1);
    await fd.writeULE32(32);
    await binFileUtils.writeBigInt(fd, FIELD_MODULUS, 32);
    await fd.writeULE32(witness.length);
    await binFileUtils.endWriteSection(fd);
    await binFileUtils.startWriteSection(fd, 2);
    for (const v of witness) {
      await binFileUtils.writeBigInt(fd, ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS, 32);
    }
    await binFileUtils.endWriteSection(fd);
    await fd.close();
    return Boolean(await snarkjs.wtns.check(files.r1cs, file, quiet));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
