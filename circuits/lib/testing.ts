/**
 * Circuit test helpers: compile a main on demand, calculate witnesses, check them against the
 * R1CS (edited witnesses included; the same verdict as snarkjs' `wtns check`, on a file parsed
 * once), and read signal names from the .sym file.
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
  return parsedR1cs(circuitFiles(name).r1cs).info;
}

/** A linear combination of an R1CS constraint: Σ coefs[i]·w[signals[i]]. */
interface LinearCombination {
  signals: number[];
  coefs: bigint[];
}

/** An r1cs file as the witness check needs it. */
interface ParsedR1cs {
  prime: bigint;
  info: R1csInfo;
  /** Per constraint: A, B, C with A·B − C = 0. */
  constraints: [LinearCombination, LinearCombination, LinearCombination][];
}

/** Parsed r1cs files by path, each with the size and mtime it was read at. */
const r1csCache = new Map<string, { stamp: string; parsed: ParsedR1cs }>();

/**
 * The header and constraints of an r1cs file (iden3's binary format: "r1cs", version, sections;
 * section 1 the header, section 2 the constraints, coefficients little-endian in standard form),
 * read once per version of the file: the circuit tests check hundreds of witnesses against the
 * same few files, and snarkjs' `wtns check` reads and converts the whole file every time
 * (1.4–3.5 s a check of range_d4 at load 11, where evaluating the constraints takes ~50 ms).
 */
function parsedR1cs(file: string): ParsedR1cs {
  const stamp = fileStamp(file);
  const hit = r1csCache.get(file);
  if (hit?.stamp === stamp) return hit.parsed;
  const buf = readFileSync(file);
  if (buf.toString("ascii", 0, 4) !== "r1cs") throw new Error(`${file} is not an r1cs file`);
  const sections = new Map<number, { at: number; size: number }>();
  let pos = 12;
  for (let i = 0; i < buf.readUInt32LE(8); i++) {
    const size = Number(buf.readBigUInt64LE(pos + 4));
    sections.set(buf.readUInt32LE(pos), { at: pos + 12, size });
    pos += 12 + size;
  }
  const head = sections.get(1);
  const body = sections.get(2);
  if (!head || !body) throw new Error(`${file} has no header or no constraints section`);
  const n8 = buf.readUInt32LE(head.at);
  const le = (at: number): bigint => {
    let v = 0n;
    for (let k = n8 - 8; k >= 0; k -= 8) v = (v << 64n) | buf.readBigUInt64LE(at + k);
    return v;
  };
  const h = head.at + 4 + n8;
  const info: R1csInfo = {
    nVars: buf.readUInt32LE(h),
    nOutputs: buf.readUInt32LE(h + 4),
    nPubInputs: buf.readUInt32LE(h + 8),
    nPrvInputs: buf.readUInt32LE(h + 12),
    nConstraints: buf.readUInt32LE(h + 24), // after the u64 label count
  };
  const constraints: ParsedR1cs["constraints"] = [];
  pos = body.at;
  const readLc = (): LinearCombination => {
    const n = buf.readUInt32LE(pos);
    pos += 4;
    const lc: LinearCombination = { signals: [], coefs: [] };
    for (let t = 0; t < n; t++) {
      lc.signals.push(buf.readUInt32LE(pos));
      lc.coefs.push(le(pos + 4));
      pos += 4 + n8;
    }
    return lc;
  };
  for (let c = 0; c < info.nConstraints; c++) constraints.push([readLc(), readLc(), readLc()]);
  if (pos !== body.at + body.size) throw new Error(`${file}: constraints section size mismatch`);
  const parsed = { prime: le(head.at + 4), info, constraints };
  r1csCache.set(file, { stamp, parsed });
  return parsed;
}

/** A file's version for the caches below: its size and mtime. */
function fileStamp(file: string): string {
  const st = statSync(file);
  return `${st.size}:${st.mtimeMs}`;
}

/** The lines of a .sym file (megabytes at depth 4), read once per version of the file. */
const symCache = new Map<string, { stamp: string; lines: string[] }>();
function symLines(file: string): string[] {
  const stamp = fileStamp(file);
  const hit = symCache.get(file);
  if (hit?.stamp === stamp) return hit.lines;
  const lines = readFileSync(file, "utf8").split("\n");
  symCache.set(file, { stamp, lines });
  return lines;
}

/** Witness index → signal name ("main.root", ...) from the .sym file (kept signals only). */
export function signalNames(name: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of symLines(circuitFiles(name).sym)) {
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
  for (const line of symLines(circuitFiles(name).sym)) {
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
  return witnessOf(ensureCompiled(name).wasm, input);
}

/** Witness calculators by wasm path, each with the size and mtime it was compiled from. */
const calculators = new Map<
  string,
  { stamp: string; run: (input: Record<string, unknown>) => Promise<bigint[]> }
>();

/**
 * The witness of `input` from the generator `wasm`, compiled once per version of the file and
 * reused after every successful calculation (each starts by resetting the instance, as
 * circom_tester reuses one; after a failed one it is dropped); calls on one generator run one
 * after another, so two never share its memory.
 */
function witnessOf(wasm: string, input: Record<string, unknown>): Promise<bigint[]> {
  const stamp = fileStamp(wasm);
  let c = calculators.get(wasm);
  if (c?.stamp !== stamp) {
    const wc = WitnessCalculatorBuilder(readFileSync(wasm)) as Promise<{
      calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<unknown[]>;
    }>;
    let queue: Promise<unknown> = Promise.resolve();
    const entry = {
      stamp,
      run: (input: Record<string, unknown>) => {
        const out = queue.then(async () =>
          ((await (await wc).calculateWitness(input, true)) as unknown[]).map((v) =>
            BigInt(v as bigint),
          ),
        );
        // an instance whose calculation failed keeps that failure's messages: a fresh one next
        out.catch(() => {
          if (calculators.get(wasm) === entry) calculators.delete(wasm);
        });
        queue = out.catch(() => undefined);
        return out;
      },
    };
    c = entry;
    calculators.set(wasm, c);
  }
  return c.run(input);
}

/**
 * Checks a (possibly edited) witness against circuit `name`'s R1CS: true iff every constraint
 * holds, as snarkjs' `wtns check` decides ({@link checkWitnessWithSnarkjs}).
 */
export async function checkWitness(name: string, witness: readonly bigint[]): Promise<boolean> {
  return checkWitnessFile(ensureCompiled(name).r1cs, witness);
}

/**
 * True iff every constraint A·B − C = 0 (mod p) of the r1cs file holds for `witness` (values
 * reduced mod p), as snarkjs' `wtns check` decides it (test/circuits/witness-check.test.ts
 * compares the two), on the file parsed once ({@link parsedR1cs}).
 */
async function checkWitnessFile(r1cs: string, witness: readonly bigint[]): Promise<boolean> {
  const { prime, info, constraints } = parsedR1cs(r1cs);
  if (prime !== FIELD_MODULUS) throw new Error(`${r1cs} is not over BN254's scalar field`);
  if (witness.length < info.nVars) {
    throw new Error(`the witness has ${witness.length} values, ${r1cs} has ${info.nVars} signals`);
  }
  const w = witness.map((v) => ((v % prime) + prime) % prime);
  const evaluate = (lc: LinearCombination) => {
    let sum = 0n;
    for (let i = 0; i < lc.signals.length; i++) sum += lc.coefs[i]! * w[lc.signals[i]!]!;
    return sum % prime;
  };
  for (const [a, b, c] of constraints) {
    if ((evaluate(a) * evaluate(b) - evaluate(c)) % prime !== 0n) return false;
  }
  return true;
}

/**
 * snarkjs' own `wtns check` of `witness` against circuit `name` (the witness written to a
 * temporary .wtns file): the reference {@link checkWitness} is compared with.
 */
export async function checkWitnessWithSnarkjs(
  name: string,
  witness: readonly bigint[],
): Promise<boolean> {
  const r1cs = ensureCompiled(name).r1cs;
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
  const relaxed = await witnessOf(files.wasm, input);
  if (!(await checkWitnessFile(files.r1cs, relaxed))) {
    throw new Error(`the relaxed copy of ${name} rejects its own witness`);
  }
  const byName = new Map<string, number>();
  for (const line of symLines(files.sym)) {
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
