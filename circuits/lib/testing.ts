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
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
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
  const idx = signalIndexMap(name).get(signal);
  if (idx === undefined)
    throw new Error(`signal ${signal} not found (or optimised away) in ${name}`);
  return idx;
}

/** Every kept signal name of circuit `name` (aliases included) → its witness index. */
export function signalIndexMap(name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(circuitFiles(name).sym, "utf8").split("\n")) {
    const [, varIdx, , sig] = line.split(",");
    if (sig !== undefined && Number(varIdx) >= 0) out.set(sig, Number(varIdx));
  }
  return out;
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
  return checkWitnessFile(ensureCompiled(name).r1cs, witness);
}

async function checkWitnessFile(r1cs: string, witness: readonly bigint[]): Promise<boolean> {
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
    return Boolean(await snarkjs.wtns.check(r1cs, file, quiet));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * One edit of a circuit's source for {@link relaxedWitness}: in `circuits/<file>`, the text
 * `remove` (which must occur exactly once) is replaced by `insert` (default: nothing), on the
 * same lines (the replacement must not change the number of lines, so that the names circom
 * gives anonymous components stay the same).
 */
export interface SourceEdit {
  file: string;
  remove: string;
  insert?: string;
}

/** Signal name without circom's character offsets in anonymous component names. */
function normalName(signal: string): string {
  return signal.replace(/(_\d+)_\d+(?=[.[]|$)/g, "$1");
}

/**
 * Compiles (once; cached under circuits/build/<name>/relaxed-<hash>) a copy of circuit `name`
 * with `edits` applied, without optimisation, and returns its files.
 */
function ensureRelaxed(name: string, edits: readonly SourceEdit[]): CircuitFiles {
  const main = `circuits/main/${name}.circom`;
  const hash = createHash("sha256")
    .update(JSON.stringify(edits))
    .update(String(newestSource(main)))
    .digest("hex")
    .slice(0, 16);
  const base = circuitFiles(name).dir;
  const dir = path.join(base, `relaxed-${hash}`);
  const src = path.join(dir, "src");
  const r1cs = path.join(dir, `${name}.r1cs`);
  const wasm = path.join(dir, `${name}_js`, `${name}.wasm`);
  const sym = path.join(dir, `${name}.sym`);
  if (!(existsSync(r1cs) && existsSync(wasm) && existsSync(sym))) {
    mkdirSync(src, { recursive: true });
    const circuitsDir = path.join(REPO_ROOT, "circuits");
    for (const f of readdirSync(circuitsDir).filter((f) => f.endsWith(".circom"))) {
      writeFileSync(path.join(src, f), readFileSync(path.join(circuitsDir, f), "utf8"));
    }
    writeFileSync(
      path.join(src, `${name}.circom`),
      readFileSync(path.join(REPO_ROOT, main), "utf8"),
    );
    for (const e of edits) {
      const file = path.join(src, e.file);
      const text = readFileSync(file, "utf8");
      const at = text.indexOf(e.remove);
      if (at < 0 || text.indexOf(e.remove, at + 1) >= 0) {
        throw new Error(`${e.file}: "${e.remove}" must occur exactly once`);
      }
      const insert = e.insert ?? "";
      if (insert.split("\n").length !== e.remove.split("\n").length) {
        throw new Error(`${e.file}: an edit must keep the number of lines`);
      }
      writeFileSync(file, text.slice(0, at) + insert + text.slice(at + e.remove.length));
    }
    execFileSync(
      "npx",
      [
        "circom2",
        path.relative(REPO_ROOT, path.join(src, `${name}.circom`)),
        "--r1cs",
        "--wasm",
        "--sym",
        "--O0",
        "-l",
        "node_modules",
        "-o",
        path.relative(REPO_ROOT, dir),
      ],
      { cwd: REPO_ROOT, stdio: "pipe" },
    );
  }
  return { ...circuitFiles(name), dir, r1cs, wasm, sym };
}

/**
 * Builds a witness of circuit `name` that violates only what `edits` remove. The witness is
 * calculated by the honest generator of a copy of the circuit with `edits` applied (e.g. one
 * `===` line deleted, or a `<--` hint that would divide by zero made total), checked against
 * that copy's R1CS (so every other constraint is known to hold), and returned in `name`'s own
 * witness layout. Checking it against `name` then shows whether the removed constraint alone
 * rejects the forgery. Throws when the copy's generator refuses the input (another assertion
 * fails) or its witness does not satisfy the copy.
 */
export async function relaxedWitness(
  name: string,
  edits: readonly SourceEdit[],
  input: Record<string, unknown>,
): Promise<bigint[]> {
  const files = ensureRelaxed(name, edits);
  const wc = await WitnessCalculatorBuilder(readFileSync(files.wasm));
  const relaxed = ((await wc.calculateWitness(input, true)) as unknown[]).map((v) =>
    BigInt(v as bigint),
  );
  if (!(await checkWitnessFile(files.r1cs, relaxed))) {
    throw new Error(`the relaxed copy of ${name} rejects its own witness`);
  }
  const byName = new Map<string, number>();
  for (const line of readFileSync(files.sym, "utf8").split("\n")) {
    const [, varIdx, , sig] = line.split(",");
    if (sig !== undefined && Number(varIdx) >= 0) byName.set(normalName(sig), Number(varIdx));
  }
  const original = signalNames(name);
  const size = (await r1csInfo(name)).nVars;
  const out: bigint[] = [1n];
  for (let i = 1; i < size; i++) {
    const sig = original.get(i);
    const j = sig === undefined ? undefined : byName.get(normalName(sig));
    if (j === undefined) throw new Error(`signal #${i} (${sig}) of ${name} has no counterpart`);
    out.push(relaxed[j]!);
  }
  return out;
}
