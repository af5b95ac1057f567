/**
 * The circuit build pipeline: compile (circom2, --inspect, warnings fail) → powers of tau →
 * Groth16 zkey → verification key → Solidity verifier. Every step is cached by a content hash
 * of its inputs, so an unchanged circuit is not rebuilt; compiles are also kept per machine
 * ({@link circuitCacheDir}), so another checkout of the same sources does not compile again.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  copyFile,
  link,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import {
  DEV_PTAU_WARNING,
  devPtauSecretFile,
  randomDevPtauSeed,
  readDevPtauSecret,
  writeDevPtau,
  writeDevPtauSecret,
} from "./dev-ptau.js";
import { DEV_ZKEY_WARNING, readR1csHeader, writeDevZkey, type DevPtauRef } from "./dev-zkey.js";
import { PROVER_ADDON, buildProver } from "../../circuits/native/build-prover.js";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";

import {
  BUILD_DIR,
  MANIFEST,
  REPO_ROOT as ROOT,
  VERIFIER_DIR,
  circuitPaths,
  readManifest,
  verifierName,
  type CircuitEntry,
  type CircuitPaths,
} from "../../protocol/manifest.js";

// The manifest and the artifact paths are the protocol's (protocol/manifest.ts): every app reads
// them from there. Re-exported for the build tools.
export {
  BUILD_DIR,
  MANIFEST,
  ROOT,
  VERIFIER_DIR,
  circuitPaths,
  readManifest,
  verifierName,
  type CircuitEntry,
  type CircuitPaths,
};

/** Logs a line with the elapsed time of the whole build. */
export type Log = (msg: string) => void;

/** Folder where powers-of-tau files are cached (outside the repository). */
export function ptauCacheDir(): string {
  return process.env.PARTPROOF_PTAU_DIR ?? path.join(homedir(), ".cache", "partproof", "ptau");
}

function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** Content hash of a file (cached per path+mtime+size for large files such as ptau). */
const fileHashCache = new Map<string, string>();
async function fileHash(file: string): Promise<string> {
  const s = await stat(file);
  const key = `${file}:${s.mtimeMs}:${s.size}`;
  const cached = fileHashCache.get(key);
  if (cached) return cached;
  const h = sha256(await readFile(file));
  fileHashCache.set(key, h);
  return h;
}

/**
 * All .circom sources a main file includes, transitively, resolved as circom does with
 * `-l circuits -l node_modules` (relative to the including file first).
 */
export async function circomSources(main: string): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (found.has(file)) return;
    found.add(file);
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/^\s*include\s+"([^"]+)"\s*;/gm)) {
      const inc = m[1] as string;
      const candidates = [
        path.resolve(path.dirname(file), inc),
        path.join(ROOT, "circuits", inc),
        path.join(ROOT, "node_modules", inc),
      ];
      const hit = candidates.find((c) => existsSync(c));
      if (!hit) throw new Error(`${path.relative(ROOT, file)}: include "${inc}" not found`);
      await visit(hit);
    }
  };
  await visit(path.join(ROOT, main));
  return [...found].sort();
}

type Stamps = Record<string, string>;

async function readStamps(p: CircuitPaths): Promise<Stamps> {
  try {
    return JSON.parse(await readFile(p.stamps, "utf8")) as Stamps;
  } catch {
    return {};
  }
}

async function writeStamps(p: CircuitPaths, s: Stamps): Promise<void> {
  await writeFile(p.stamps, JSON.stringify(s, null, 2) + "\n");
}

/** Runs a long step, printing a heartbeat with the elapsed time every `every` ms. */
export async function timed<T>(log: Log, label: string, fn: () => Promise<T>, every = 15_000) {
  const t0 = Date.now();
  log(`${label} …`);
  const timer = setInterval(
    () => log(`${label} … still running (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
    every,
  );
  try {
    const out = await fn();
    log(`${label} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  } finally {
    clearInterval(timer);
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<{ out: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ out, code: code ?? 1 }));
  });
}

/**
 * Compiler flags of an instance; part of the compile cache key. `--O2`: `--O1` compiles range_d20
 * about three times faster but leaves 104,755 constraints instead of 41,391 (slower proofs, a
 * 2^17 setup). Test instances keep their `.sym` (the circuit tests name signals from it,
 * circuits/lib/testing.ts); production ones skip it: nothing reads it, and writing range_d20's
 * (9 MB) is ~8 % of its compile.
 */
function circomFlags(entry: CircuitEntry): string[] {
  return entry.target === "test"
    ? ["--r1cs", "--wasm", "--sym", "--O2", "--inspect"]
    : ["--r1cs", "--wasm", "--O2", "--inspect"];
}

/**
 * Compiles a circuit instance with circom2 (WASI: paths relative to the repository root).
 * Any warning from `--inspect` fails the build. The same sources compiled before on this machine
 * (another checkout's build) are copied from {@link circuitCacheDir} instead, unless `force`.
 * Returns true when the build folder's output changed (compiled or copied), false when it was
 * up to date.
 */
export async function compileCircuit(entry: CircuitEntry, log: Log, force = false) {
  const p = circuitPaths(entry.name);
  const sources = await circomSources(entry.main);
  const circomVersion = JSON.parse(
    await readFile(path.join(ROOT, "node_modules", "circom2", "package.json"), "utf8"),
  ).version as string;
  const flags = circomFlags(entry);
  const parts: string[] = [circomVersion, flags.join(" ")];
  for (const s of sources) parts.push(path.relative(ROOT, s), await fileHash(s));
  const key = sha256(...parts);
  const stamps = await readStamps(p);
  if (!force && stamps.compile === key && existsSync(p.r1cs) && existsSync(p.wasm)) {
    return false;
  }
  await mkdir(p.dir, { recursive: true });
  const withSym = flags.includes("--sym");
  const kept = cacheEntry(entry.name, "compile", key);
  if (!force && (await restoreKept(kept, compiledFiles(entry.name, withSym)))) {
    if (!withSym) await rm(p.sym, { force: true }); // an earlier compile's
    await writeStamps(p, { compile: key });
    log(`[${entry.name}] compiled before on this machine: copied from ${kept}`);
    return true;
  }
  // not in the machine's cache (or --force): compile, then keep the output there
  const rel = path.relative(ROOT, p.dir);
  const circom2 = path.join(ROOT, "node_modules", ".bin", "circom2");
  const { out, code } = await timed(log, `[${entry.name}] compile`, () =>
    run(circom2, [entry.main, ...flags, "-l", "circuits", "-l", "node_modules", "-o", rel], ROOT),
  );
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const warnings = plain.split("\n").filter((l) => /^\s*warning\[/i.test(l));
  if (code !== 0 || warnings.length > 0 || /error\[/i.test(plain)) {
    throw new Error(
      `[${entry.name}] circom2 ${code !== 0 ? `failed (exit ${code})` : "reported warnings (--inspect must be clean)"}:\n${plain}`,
    );
  }
  // circom names outputs after the main file; rename to the instance name when they differ.
  const base = path.basename(entry.main, ".circom");
  if (base !== entry.name) {
    await rm(path.join(p.dir, `${entry.name}_js`), { recursive: true, force: true });
    await rename(path.join(p.dir, `${base}.r1cs`), p.r1cs);
    if (flags.includes("--sym")) await rename(path.join(p.dir, `${base}.sym`), p.sym);
    await rename(path.join(p.dir, `${base}_js`), path.join(p.dir, `${entry.name}_js`));
    await rename(path.join(p.dir, `${entry.name}_js`, `${base}.wasm`), p.wasm);
  }
  if (!withSym) await rm(p.sym, { force: true }); // an earlier compile's
  await writeStamps(p, { compile: key });
  const info = await r1csInfo(p.r1cs);
  log(
    `[${entry.name}] ${info.nConstraints} constraints, ${info.nPubInputs + info.nOutputs} public signals`,
  );
  await keep(kept, compiledFiles(entry.name, withSym), log);
  return true;
}

/**
 * Where compiled circuits are kept between checkouts: PARTPROOF_CIRCUIT_CACHE, or
 * ~/.cache/partproof/circuits (beside the development ptau files); `off` keeps none. circom2's
 * compile is most of a first build (range_d20: ~55 s of CPU, and its output is a function of
 * circom's version, the flags and the sources alone), so a second checkout on the same machine
 * (a fresh clone, CI, a worktree) copies it instead. Hand-written like the relaxed copies' cache
 * of circuits/lib/testing.ts, which it mirrors.
 */
export function circuitCacheDir(): string | undefined {
  const dir = process.env.PARTPROOF_CIRCUIT_CACHE;
  if (dir === "off") return undefined;
  return dir || path.join(homedir(), ".cache", "partproof", "circuits");
}

/** Entries of the circuit cache unused for this many days are removed. */
const CIRCUIT_CACHE_KEEP_DAYS = 14;

/**
 * A cache entry is named by the instance, what it holds and its key (a compile: circom's version,
 * the flags and the content of every source; a development zkey: the r1cs, the setup's power and
 * seed), so it is never stale and never changes once written.
 */
function cacheEntry(name: string, kind: "compile" | "zkey", key: string): string | undefined {
  const dir = circuitCacheDir();
  if (dir === undefined) return undefined;
  return path.join(dir, `${name}-${kind === "compile" ? "" : "zkey-"}${key.slice(0, 32)}`);
}

/** A file of a cache entry and where it goes in the build folder. */
type KeptFile = { kept: string; built: string };

/** The files a compile leaves, as kept in a cache entry and as laid out in the build folder. */
function compiledFiles(name: string, withSym: boolean) {
  const p = circuitPaths(name);
  return (entry: string): KeptFile[] => [
    { kept: path.join(entry, `${name}.r1cs`), built: p.r1cs },
    { kept: path.join(entry, `${name}.wasm`), built: p.wasm },
    ...(withSym ? [{ kept: path.join(entry, `${name}.sym`), built: p.sym }] : []),
  ];
}

/** The development zkey of an instance, as kept in a cache entry and in the build folder. */
function zkeyFiles(name: string) {
  return (entry: string): KeptFile[] => [
    { kept: path.join(entry, `${name}.zkey`), built: circuitPaths(name).zkey },
  ];
}

/**
 * Copies the files of cache entry `entry` into the build folder. Returns false (and the caller
 * builds them) when there is no complete entry.
 */
async function restoreKept(
  entry: string | undefined,
  files: (dir: string) => KeptFile[],
): Promise<boolean> {
  if (entry === undefined) return false;
  const list = files(entry);
  if (!list.every((f) => existsSync(f.kept))) return false;
  for (const f of list) {
    await mkdir(path.dirname(f.built), { recursive: true });
    // copied under a temporary name and renamed: a stopped copy never looks complete
    const tmp = `${f.built}.tmp-${process.pid}`;
    try {
      await copyFile(f.kept, tmp);
      await rename(tmp, f.built);
    } catch {
      // the entry went away under the copy (pruned, or replaced by another build): build instead
      await rm(tmp, { force: true });
      return false;
    }
  }
  const now = new Date();
  await utimes(entry, now, now).catch(() => undefined); // in use: kept by the pruning
  return true;
}

/**
 * Keeps built files in the machine's cache entry `entry`. Staged in a temporary folder and
 * renamed into place, so another build never reads a half-written entry. A failure only warns:
 * the build itself is complete.
 */
async function keep(
  entry: string | undefined,
  files: (dir: string) => KeptFile[],
  log: Log,
): Promise<void> {
  if (entry === undefined) return;
  const complete = (dir: string) => files(dir).every((f) => existsSync(f.kept));
  if (complete(entry)) return;
  const staged = `${entry}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(staged, { recursive: true });
    for (const f of files(staged)) await copyFile(f.built, f.kept);
    // an incomplete entry (a file removed by hand) is replaced; entries are named by content, so
    // a build putting the same one in place meanwhile wrote the same files: keep either
    if (!complete(entry)) await rm(entry, { recursive: true, force: true });
    await rename(staged, entry).catch((e: NodeJS.ErrnoException) => {
      if (!complete(entry)) throw e;
    });
    await pruneCircuitCache(path.dirname(entry));
  } catch (e) {
    log(
      `warning: could not keep ${path.basename(entry)} in the circuit cache: ${(e as Error).message}`,
    );
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/** Entries kept per instance and kind (compile, zkey, addon): the most recently used ones. */
const CIRCUIT_CACHE_KEEP_PER_KIND = 3;

/**
 * Removes cache entries (and leftovers of stopped builds) unused for CIRCUIT_CACHE_KEEP_DAYS,
 * and all but the CIRCUIT_CACHE_KEEP_PER_KIND most recently used of each instance and kind
 * (range_d20's compile and zkey are ~80 MB: editing a circuit would otherwise pile them up).
 */
export async function pruneCircuitCache(dir: string): Promise<void> {
  const before = Date.now() - CIRCUIT_CACHE_KEEP_DAYS * 86_400_000;
  const kinds = new Map<string, { p: string; mtime: number }[]>();
  for (const e of await readdir(dir)) {
    const p = path.join(dir, e);
    try {
      const mtime = (await stat(p)).mtimeMs;
      if (mtime < before) await rm(p, { recursive: true, force: true });
      const kind = /^(.*)-[0-9a-f]{32}(\.node)?$/.exec(e)?.[1];
      if (mtime >= before && kind !== undefined) {
        kinds.set(kind, [...(kinds.get(kind) ?? []), { p, mtime }]);
      }
    } catch {
      // removed meanwhile by another build's pruning
    }
  }
  for (const entries of kinds.values()) {
    entries.sort((a, b) => b.mtime - a.mtime);
    for (const old of entries.slice(CIRCUIT_CACHE_KEEP_PER_KIND)) {
      await rm(old.p, { recursive: true, force: true });
    }
  }
}

/** Constraint and signal counts of a compiled circuit (its header only: dev-zkey.ts). */
export async function r1csInfo(
  r1cs: string,
): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nVars: number }> {
  return readR1csHeader(r1cs);
}

/** The power snarkjs' Groth16 setup needs: bit length of constraints + public signals. */
export function requiredPower(info: {
  nConstraints: number;
  nPubInputs: number;
  nOutputs: number;
}) {
  const n = info.nConstraints + info.nPubInputs + info.nOutputs;
  return Math.max(1, n.toString(2).length);
}

/** A snarkjs logger that forwards info lines (progress) and drops debug chatter. */
export function snarkLogger(log: Log, prefix: string) {
  return {
    debug: () => {},
    info: (m: string) => log(`${prefix} ${m}`),
    warn: (m: string) => log(`${prefix} warning: ${m}`),
    error: (m: string) => log(`${prefix} error: ${m}`),
  };
}

/** A snarkjs logger that only reports warnings and errors. */
function quietLogger(log: Log, prefix: string) {
  return { ...snarkLogger(log, prefix), info: () => {} };
}

/** A powers-of-tau file for a build. */
export interface PtauFile {
  file: string;
  /** A development file generated here (NOT secure), not a user's `PTAU=` file. */
  dev: boolean;
  /** The development file's secret seed, kept beside it (`.secret.json`), when there is one. */
  seed?: string;
}

/**
 * The development setup of `power`: the path of its ptau (which need not exist yet) and its
 * secret seed, drawn at random and kept (`devsetup_P.secret.json`) the first time. The ptau file
 * is a function of the seed and the power (scripts/lib/dev-ptau.ts), so the zkeys are computed
 * from the seed alone and the file is written only when something reads it ({@link ensurePtau}):
 * a fresh clone's build saves its generation (24 s at 2^16 on 2 idle cores). Without a seed (a
 * `devsetup_P.ptau` whose secret was deleted) the file exists and snarkjs' setup is used.
 */
export async function devSetup(power: number, log: Log): Promise<PtauFile> {
  const dir = ptauCacheDir();
  await mkdir(dir, { recursive: true });
  // Named apart from the earlier `dev_P.ptau` files, whose secret was not kept (they can be
  // deleted): every `devsetup_P.ptau` has its secret, so its zkeys are computed directly.
  const file = path.join(dir, `devsetup_${power}.ptau`);
  const secretFile = devPtauSecretFile(file);
  if (!existsSync(secretFile) && !existsSync(file)) {
    await withLock(`${file}.lock`, log, async () => {
      if (existsSync(secretFile) || existsSync(file)) return; // made by the process we waited for
      log(`[ptau] 2^${power}: a new ${DEV_PTAU_WARNING}`);
      await writeDevPtauSecret(file, power, randomDevPtauSeed());
    });
  }
  return { file, dev: true, seed: await readDevPtauSecret(file) };
}

/**
 * Makes sure a powers-of-tau file of at least `power` is available and returns its path.
 * `PTAU=/path/file.ptau` names a user's file (e.g. a published ceremony file), verified once
 * with `snarkjs powersoftau verify`; otherwise the development file of {@link devSetup} is
 * generated from its kept seed (once; cached).
 */
export async function ensurePtau(power: number, log: Log): Promise<PtauFile> {
  const user = process.env.PTAU;
  if (user) {
    if (!existsSync(user)) throw new Error(`PTAU=${user}: file does not exist`);
    await verifyUserPtau(user, power, log);
    return { file: user, dev: false };
  }
  const dev = await devSetup(power, log);
  if (!existsSync(dev.file)) {
    await withLock(`${dev.file}.lock`, log, async () => {
      if (existsSync(dev.file)) return; // made by the process we waited for
      const tmp = `${dev.file}.tmp-${process.pid}`;
      try {
        // no file without a secret: devSetup kept one
        await generateDevPtau(power, tmp, dev.seed as string, log);
        await rename(tmp, dev.file);
      } finally {
        await rm(tmp, { force: true });
      }
    });
  }
  return dev;
}

/** Reads the power of a .ptau file from its header section (snarkjs binary format). */
export async function ptauPower(file: string): Promise<number> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString("ascii", 0, 4) !== "ptau") throw new Error(`${file} is not a .ptau file`);
    const nSections = head.readUInt32LE(8);
    let pos = 12;
    for (let i = 0; i < nSections; i++) {
      const sh = Buffer.alloc(12);
      await fh.read(sh, 0, 12, pos);
      const type = sh.readUInt32LE(0);
      const size = Number(sh.readBigUInt64LE(4));
      if (type === 1) {
        const body = Buffer.alloc(Math.min(size, 64));
        await fh.read(body, 0, body.length, pos + 12);
        const n8 = body.readUInt32LE(0);
        return body.readUInt32LE(4 + n8);
      }
      pos += 12 + size;
    }
    throw new Error(`${file} has no header section`);
  } finally {
    await fh.close();
  }
}

async function verifyUserPtau(file: string, power: number, log: Log): Promise<void> {
  const marker = path.join(ptauCacheDir(), `verified-${await fileHash(file)}.json`);
  if (existsSync(marker)) {
    const m = JSON.parse(await readFile(marker, "utf8")) as { power: number };
    if (m.power < power) {
      throw new Error(`PTAU=${file} has power ${m.power}, the circuit needs ${power}`);
    }
    return;
  }
  const ok = await timed(log, `[ptau] verify ${path.basename(file)}`, () =>
    snarkjs.powersOfTau.verify(file, snarkLogger(log, "[ptau]")),
  );
  if (!ok) throw new Error(`PTAU=${file}: snarkjs powersoftau verify rejected the file`);
  const filePower = await ptauPower(file);
  if (filePower < power) {
    throw new Error(`PTAU=${file} has power ${filePower}, the circuit needs ${power}`);
  }
  await mkdir(path.dirname(marker), { recursive: true });
  await writeFile(marker, JSON.stringify({ file, power: filePower }) + "\n");
}

/**
 * Generates a development powers-of-tau file, computed directly from a seed drawn at random for
 * this file (scripts/lib/dev-ptau.ts). The seed is kept beside the file: never use it for
 * production.
 */
async function generateDevPtau(power: number, out: string, seed: string, log: Log): Promise<void> {
  log(`[ptau] 2^${power}: ${DEV_PTAU_WARNING}`);
  await timed(log, `[ptau] generate development ptau 2^${power}`, () =>
    writeDevPtau(power, out, { seed, onProgress: (m) => log(`[ptau] ${m}`) }),
  );
}

/**
 * Groth16 setup for one instance: zkey, verification key and Solidity verifier. With a
 * development ptau whose secret is kept, the zkey is computed directly from that secret
 * (scripts/lib/dev-zkey.ts, NOT secure); with a user's `PTAU=` file it is snarkjs' setup plus one
 * phase-2 contribution with random entropy. Cached by the hashes of the r1cs and the ptau file
 * (of the development setup: its power and seed, and the file need not exist, see devSetup); a
 * development zkey is also kept per machine ({@link circuitCacheDir}) and copied from there,
 * unless `useCache` is false. A `PTAU=` setup is never copied: each has its own contribution.
 */
export async function setupCircuit(entry: CircuitEntry, log: Log, force = false, useCache = true) {
  const p = circuitPaths(entry.name);
  // a development setup needs only its seed; its ptau file is written when something reads it
  const ptau = process.env.PTAU
    ? await ensurePtau(entry.ptau, log)
    : await devSetup(entry.ptau, log);
  const stamps = await readStamps(p);
  const direct = ptau.seed !== undefined;
  const key = sha256(
    await fileHash(p.r1cs),
    // the development ptau is a function of its seed and power
    ...(direct
      ? [DEV_ZKEY_METHOD, `2^${entry.ptau}`, sha256(ptau.seed as string)]
      : [await fileHash(ptau.file)]),
  );
  if (!force && stamps.setup === key && existsSync(p.zkey) && existsSync(p.vkey)) {
    return false;
  }
  // read only when a setup is due (the cached key was made from this r1cs and a ptau that was big
  // enough for it then)
  const info = await r1csInfo(p.r1cs);
  const need = requiredPower(info);
  if (need > entry.ptau) {
    throw new Error(
      `[${entry.name}] needs 2^${need} (${info.nConstraints} constraints) but circuits.json says ptau ${entry.ptau}`,
    );
  }
  if (direct) {
    // a function of the r1cs and the seed (and so is the cache entry's name): computed once per
    // machine, copied by another checkout
    const kept = useCache ? cacheEntry(entry.name, "zkey", key) : undefined;
    if (await restoreKept(kept, zkeyFiles(entry.name))) {
      log(`[${entry.name}] development zkey computed before on this machine: copied from ${kept}`);
    } else {
      // the ptau file, when it was written, is checked to be the seed's
      const ref = existsSync(ptau.file) ? ptau.file : { power: entry.ptau };
      await ensureProverAddon(log);
      await directDevZkey(entry.name, ref, ptau.seed as string, log);
      await keep(cacheEntry(entry.name, "zkey", key), zkeyFiles(entry.name), log);
    }
  } else {
    await snarkjsSetup(entry.name, info.nConstraints, ptau, log);
  }
  await exportVerificationKey(entry.name, log);
  // read by protocol/manifest.ts (readSetupKind): deployment refuses development keys off local chains
  const setupKind = ptau.dev ? "development" : "ptau-file";
  await writeStamps(p, { ...stamps, setup: key, verifier: "", setupKind });
  return true;
}

/** The lock every build of the prover addon in a build or the demo takes ({@link withLock}). */
export const PROVER_ADDON_LOCK = `${PROVER_ADDON}.lock`;

let proverAddon: Promise<void> | undefined;

/**
 * Makes sure the native Groth16 addon is built from the current sources before a development
 * zkey is computed: its fixed-base multiplication (dev-ptau.ts) is several times faster than
 * WebAssembly. Usually a cache hit (`npm run build` and the demo build it first, the demo beside
 * the circuits' compile, holding {@link PROVER_ADDON_LOCK}: this waits for that build rather than
 * compiling the same file again). The addon appears by a rename, never half-written. A failed
 * build (no C compiler) only says why: the zkey is then computed in WebAssembly, same bytes.
 * Once per process.
 */
export function ensureProverAddon(log: Log): Promise<void> {
  proverAddon ??= (async () => {
    await withLock(PROVER_ADDON_LOCK, log, async () => {
      try {
        buildProver({ log: (m) => log(`[native] ${m}`) });
      } catch (e) {
        log(
          `[native] the Groth16 addon did not build (${(e as Error).message.split("\n")[0]}): ` +
            "development zkeys are computed in WebAssembly (slower, same bytes)",
        );
      }
    });
  })();
  return proverAddon;
}

/** Part of the setup cache key of directly computed zkeys (bump it when their bytes change). */
const DEV_ZKEY_METHOD = "direct development zkey v1";

/** Writes an instance's development zkey from the ptau's kept secret (dev-zkey.ts). */
async function directDevZkey(name: string, ptau: DevPtauRef, seed: string, log: Log) {
  const p = circuitPaths(name);
  log(`[${name}] zkey: ${DEV_ZKEY_WARNING}`);
  const tmp = `${p.zkey}.tmp-${process.pid}`;
  try {
    const info = await timed(log, `[${name}] development zkey from the known secret`, () =>
      writeDevZkey(p.r1cs, ptau, seed, tmp),
    );
    log(`[${name}] zkey points multiplied by ${info.points}`);
    await rename(tmp, p.zkey);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * snarkjs' groth16 setup and one phase-2 contribution (entropy from crypto.randomBytes; snarkjs
 * mixes in its own random bytes too). The path of every ptau whose secret is not known here.
 */
async function snarkjsSetup(name: string, nConstraints: number, ptau: PtauFile, log: Log) {
  const p = circuitPaths(name);
  if (ptau.dev) log(`[${name}] ${ptau.file} has no kept secret: snarkjs setup (slow)`);
  const z0 = `${p.zkey}.0.tmp`;
  try {
    await timed(log, `[${name}] groth16 setup (${nConstraints} constraints)`, () =>
      snarkjs.zKey.newZKey(p.r1cs, ptau.file, z0, quietLogger(log, `[${name}]`)),
    );
    await timed(log, `[${name}] phase-2 contribution`, () =>
      snarkjs.zKey.contribute(
        z0,
        p.zkey,
        ptau.dev ? "partproof development (not a ceremony)" : "partproof contribution",
        randomBytes(32).toString("hex"),
        quietLogger(log, `[${name}]`),
      ),
    );
  } finally {
    await rm(z0, { force: true });
  }
}

/** Writes the verification key of an instance's current zkey. */
export async function exportVerificationKey(name: string, log: Log): Promise<void> {
  const p = circuitPaths(name);
  const vkey = await snarkjs.zKey.exportVerificationKey(p.zkey, quietLogger(log, name));
  await writeFile(p.vkey, JSON.stringify(vkey, null, 2) + "\n");
}

/** Writes the snarkjs Groth16 verifier of an instance into contracts/generated/. */
export async function exportVerifier(entry: CircuitEntry, log: Log, force = false) {
  const p = circuitPaths(entry.name);
  const stamps = await readStamps(p);
  const key = sha256(await fileHash(p.zkey), verifierName(entry.name));
  if (!force && stamps.verifier === key && existsSync(p.verifier)) return false;
  const template = await readFile(
    path.join(ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"),
    "utf8",
  );
  let code: string = await snarkjs.zKey.exportSolidityVerifier(p.zkey, { groth16: template });
  code = code.replace(/contract Groth16Verifier\b/, `contract ${verifierName(entry.name)}`);
  const header =
    `// Generated by scripts/build-circuits.ts from circuits/build/${entry.name}/${entry.name}.zkey` +
    ` — do not edit.\n// Key: ${(await fileHash(p.zkey)).slice(0, 16)}\n`;
  await mkdir(VERIFIER_DIR, { recursive: true });
  // written whole or not at all: the demo compiles the contracts while the circuits build, and a
  // compile must never read half a verifier (the temporary name is no .sol file)
  const tmp = `${p.verifier}.tmp-${process.pid}`;
  await writeFile(tmp, code.replace(/^(\/\/ SPDX[^\n]*\n)/, `$1${header}`));
  await rename(tmp, p.verifier);
  await writeStamps(p, { ...stamps, verifier: key });
  log(`[${entry.name}] verifier → ${path.relative(ROOT, p.verifier)}`);
  return true;
}

/**
 * Runs `fn` holding an exclusive lock file (its content: the holder's pid), so that two builds
 * (a test run and the demo, say) never write the same outputs at once. A lock whose holder is
 * gone is taken over.
 *
 * Hand-written rather than proper-lockfile: that library judges a lock stale by its mtime, kept
 * fresh by a timer, and a build holds its lock for minutes while snarkjs can keep the event loop
 * busy; here a holder is alive exactly while its process is, which the same machine can ask.
 *
 * The lock appears with its pid already in it (written to a private file, then hard-linked into
 * place, which fails if the lock exists), so a waiter never reads a lock that is still empty
 * and takes it for a dead holder's. A dead holder's lock is renamed aside before it is removed
 * and removed only if it is still the one read, so two waiters cannot both take it over.
 */
export async function withLock<T>(lockFile: string, log: Log, fn: () => Promise<T>): Promise<T> {
  let waitingSince = 0;
  let waits = 0;
  const mine = `${lockFile}.${process.pid}-${randomBytes(6).toString("hex")}`;
  await mkdir(path.dirname(lockFile), { recursive: true }); // a fresh clone's build folder
  await writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await link(mine, lockFile);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const content = await readFile(lockFile, "utf8").catch(() => null);
      if (content === null) continue; // released between the two calls
      const pid = /^\d+$/.test(content.trim()) ? Number(content.trim()) : 0;
      if (!processAlive(pid)) {
        await takeOverDeadLock(lockFile, content);
        continue;
      }
      if (waitingSince === 0 || Date.now() - waitingSince > 30_000) {
        log(`waiting for another build (pid ${pid}) holding ${path.relative(ROOT, lockFile)}`);
        waitingSince = Date.now();
      }
      // short waits first (a holder in the same run is often done quickly), then once a second
      await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** waits++)));
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

function processAlive(pid: number): boolean {
  if (!(pid > 0)) return false; // an empty or garbled lock: no holder can be waited for
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/** Removes a dead holder's lock, unless another waiter took it over (and holds it) meanwhile. */
async function takeOverDeadLock(lockFile: string, deadContent: string): Promise<void> {
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(6).toString("hex")}`;
  try {
    await rename(lockFile, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // someone else moved it
    throw e;
  }
  const moved = await readFile(aside, "utf8").catch(() => null);
  if (moved !== null && moved !== deadContent) {
    // a live holder's fresh lock was moved: put it back. If a third build linked its own lock
    // in the moment between, both would hold it: that takes a crashed holder and three builds
    // racing for its lock within microseconds, which is accepted here.
    await link(aside, lockFile).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

/** Builds one instance end to end. */
export async function buildCircuit(entry: CircuitEntry, log: Log, force = false) {
  await mkdir(circuitPaths(entry.name).dir, { recursive: true });
  await withLock(path.join(circuitPaths(entry.name).dir, ".lock"), log, () =>
    buildUnlocked(entry, log, force),
  );
}

async function buildUnlocked(entry: CircuitEntry, log: Log, force: boolean) {
  const compiled = await compileCircuit(entry, log, force);
  // redone after every compile (its key holds the r1cs anyway); from the machine's cache unless forced
  const setup = await setupCircuit(entry, log, force || compiled, !force);
  const exported = entry.verifier === false ? false : await exportVerifier(entry, log, setup);
  if (!compiled && !setup && !exported) log(`[${entry.name}] up to date`);
}
