/**
 * Circuit test helpers: compile a main on demand, calculate witnesses, check them against the
 * R1CS with snarkjs (edited witnesses included), and read signal names from the .sym file.
 * Not used by the gateway.
 */
import { execFile, execFileSync, type ChildProcess } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { availableParallelism, homedir, tmpdir } from "node:os";
import path from "node:path";
import pLimit from "p-limit";
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

/** The circom2 compiler's command line (node + its cli.js): a direct child, so it can be ended. */
const CIRCOM2_CLI = createRequire(import.meta.url).resolve("circom2/cli.js");

/**
 * At most this many relaxed copies compile at once (one per core, at most 2): circom2 is
 * WebAssembly on one thread, so two compiles take the time of one on two free cores.
 */
const compileSlots = pLimit(Math.min(2, availableParallelism()));

/** Relaxed copies compiling or compiled in this process, by cache folder. */
const relaxedCopies = new Map<string, Promise<CircuitFiles>>();

/** Compiles still running; ended if the process exits first (their output is never used then). */
const running = new Set<ChildProcess>();
let endsRunningAtExit = false;

/** Runs `node circom2/cli.js args` from the repository root; rejects with its stderr on failure. */
function circom2(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [CIRCOM2_CLI, ...args],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        running.delete(child);
        if (error)
          reject(new Error(`circom2 ${args.join(" ")} failed: ${error.message}\n${stderr}`));
        else resolve();
      },
    );
    running.add(child);
    if (!endsRunningAtExit) {
      endsRunningAtExit = true;
      process.once("exit", () => {
        for (const c of running) c.kill();
      });
    }
  });
}

/**
 * Where relaxed copies are kept between runs and checkouts: PARTPROOF_RELAXED_CACHE, or
 * ~/.cache/partproof/relaxed (beside the development ptau files). An entry is named by the
 * circuit, the edits and the content of every source it is compiled from, so it is never stale
 * and never changes once written; entries unused for {@link RELAXED_KEEP_DAYS} days are removed.
 */
function relaxedCacheDir(): string {
  return (
    process.env.PARTPROOF_RELAXED_CACHE ?? path.join(homedir(), ".cache", "partproof", "relaxed")
  );
}
const RELAXED_KEEP_DAYS = 14;

/** The cache key of `name` with `edits`: the edits, every source and the compiler's version. */
function relaxedKey(name: string, edits: readonly SourceEdit[]): string {
  const hash = createHash("sha256").update(JSON.stringify([name, edits]));
  const circuitsDir = path.join(REPO_ROOT, "circuits");
  const sources = readdirSync(circuitsDir)
    .filter((f) => f.endsWith(".circom"))
    .sort()
    .map((f) => path.join(circuitsDir, f));
  sources.push(path.join(REPO_ROOT, `circuits/main/${name}.circom`));
  for (const f of sources) hash.update(`\0${path.basename(f)}\0`).update(readFileSync(f));
  for (const pkg of ["circom2", "circomlib"]) {
    hash.update(readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json")));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The cached copy of circuit `name` with `edits` applied, compiled without optimisation if it
 * is not in the cache yet. The same copy is compiled once per process however often it is asked
 * for; at most two compile at a time. A copy is compiled into a temporary folder and renamed into
 * place when complete, so a stopped run or another process compiling the same copy never leaves
 * a half-written entry.
 */
function ensureRelaxed(name: string, edits: readonly SourceEdit[]): Promise<CircuitFiles> {
  const key = relaxedKey(name, edits);
  const entry = path.join(relaxedCacheDir(), `${name}-${key}`);
  let copy = relaxedCopies.get(entry);
  if (copy === undefined) {
    copy = compileSlots(() => compileRelaxed(name, edits, key, entry));
    relaxedCopies.set(entry, copy);
  }
  return copy;
}

/** The files of the relaxed copy of `name` in cache entry `dir`. */
function relaxedFiles(name: string, dir: string): CircuitFiles {
  return {
    ...circuitFiles(name),
    dir,
    r1cs: path.join(dir, `${name}.r1cs`),
    wasm: path.join(dir, `${name}.wasm`),
    sym: path.join(dir, `${name}.sym`),
  };
}

async function compileRelaxed(
  name: string,
  edits: readonly SourceEdit[],
  key: string,
  entry: string,
): Promise<CircuitFiles> {
  const files = relaxedFiles(name, entry);
  if (existsSync(files.r1cs) && existsSync(files.wasm) && existsSync(files.sym)) {
    const now = new Date();
    utimesSync(entry, now, now); // in use: kept by the pruning below
    return files;
  }
  const main = `circuits/main/${name}.circom`;
  // circom2 (WASI) sees only the working directory: it compiles inside the checkout
  const work = path.join(circuitFiles(name).dir, `relaxed-${key}.tmp-${process.pid}`);
  const staged = `${entry}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  rmSync(staged, { recursive: true, force: true });
  const src = path.join(work, "src");
  mkdirSync(src, { recursive: true });
  try {
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
    await circom2([
      path.relative(REPO_ROOT, path.join(src, `${name}.circom`)),
      "--r1cs",
      "--wasm",
      "--sym",
      "--O0",
      "-l",
      "node_modules",
      "-o",
      path.relative(REPO_ROOT, work),
    ]);
    mkdirSync(staged, { recursive: true });
    copyFileSync(path.join(work, `${name}.r1cs`), path.join(staged, `${name}.r1cs`));
    copyFileSync(path.join(work, `${name}.sym`), path.join(staged, `${name}.sym`));
    copyFileSync(path.join(work, `${name}_js`, `${name}.wasm`), path.join(staged, `${name}.wasm`));
    try {
      renameSync(staged, entry);
    } catch (e) {
      // another process put the same copy in place meanwhile: keep that one
      if (!existsSync(files.r1cs)) throw e;
    }
    pruneRelaxedCache();
    return files;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staged, { recursive: true, force: true });
  }
}

let pruned = false;
/** Removes (once per process) cache entries and leftovers unused for RELAXED_KEEP_DAYS days. */
function pruneRelaxedCache(): void {
  if (pruned) return;
  pruned = true;
  const dir = relaxedCacheDir();
  const before = Date.now() - RELAXED_KEEP_DAYS * 86_400_000;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    try {
      if (statSync(p).mtimeMs < before) rmSync(p, { recursive: true, force: true });
    } catch {
      // removed meanwhile by another process's pruning: nothing left to do
    }
  }
}

/**
 * Starts compiling, in the background, the relaxed copies of circuit `name` that
 * {@link relaxedWitness} will be asked for with each of `editLists`, and returns at once. A
 * test file calls it when it is loaded, so its copies compile (two at a time) while the files
 * before it run, instead of one after the other inside its tests. A compile that fails is
 * reported by the relaxedWitness call that needs it.
 */
export function prepareRelaxed(name: string, editLists: readonly (readonly SourceEdit[])[]): void {
  for (const edits of editLists) {
    // handled here so that a failure waits for its test instead of crashing the run
    ensureRelaxed(name, edits).catch(() => undefined);
  }
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
  const files = await ensureRelaxed(name, edits);
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
