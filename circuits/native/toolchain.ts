/**
 * What the native addons (build.ts: Poseidon, build-prover.ts: Groth16) share: where Node-API's
 * headers are, the compiler flags, the cached compilation, and field-constant helpers.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Folders that may hold Node-API headers (node_api.h), most specific first. */
export function headerDirs(): string[] {
  const prefix = path.dirname(path.dirname(process.execPath));
  return [
    path.join(prefix, "include/node"),
    // the `node` npm package: node_modules/node/bin/node next to node_modules/node-<os>-<arch>
    path.join(prefix, `node_modules/node-${process.platform}-${process.arch}/include/node`),
    path.join(prefix, `../node-${process.platform}-${process.arch}/include/node`),
    "/usr/include/node",
    "/usr/local/include/node",
  ];
}

/** C compiler flags of a shared Node-API addon. */
export function compilerFlags(): string[] {
  const flags = ["-O3", "-std=gnu11", "-shared", "-fPIC", "-pthread", "-Wall", "-Wextra"];
  if (process.platform === "darwin") flags.push("-undefined", "dynamic_lookup");
  return flags;
}

/** A 256-bit number as four little-endian 64-bit C literals, comma-separated. */
export function limbs(x: bigint): string {
  const out: string[] = [];
  for (let i = 0; i < 4; i++)
    out.push(`0x${((x >> BigInt(64 * i)) & ((1n << 64n) - 1n)).toString(16)}ULL`);
  return out.join(", ");
}

/** -p^-1 mod 2^64, the Montgomery reduction constant of an odd modulus p. */
export function negInv64(p: bigint): bigint {
  const W = 1n << 64n;
  let inv = 1n; // Newton's iteration doubles the correct low bits of p^-1 mod 2^64 each step
  for (let i = 0; i < 6; i++) inv = (((inv * (2n - ((p * inv) % W))) % W) + W) % W;
  if ((inv * p) % W !== 1n) throw new Error("Montgomery inverse: wrong");
  return (W - inv) % W;
}

/** What {@link compileAddon} builds. */
export interface AddonSpec {
  /** Name in the log ("native Poseidon"). */
  label: string;
  /** The C file first, then the headers it includes (all hashed for the cache). */
  sources: string[];
  /** A generated header written beside the addon (its folder is on the include path). */
  header: { name: string; text: string };
  /** The addon's path, and the file that stores the hash of the inputs it was built from. */
  out: string;
  stamp: string;
  force?: boolean;
  log: (m: string) => void;
}

/**
 * Compiles a Node-API addon with the system C compiler (`CC`, default `cc`) unless the cached
 * one matches a hash of its inputs (sources, generated header, compiler, flags, platform,
 * node_api.h), or copies the one another checkout built from the same inputs on this machine
 * ({@link keptAddon}). Returns the addon's path; throws with the reason when it cannot build.
 */
export function compileAddon(spec: AddonSpec): string {
  const include = headerDirs().find((d) => fs.existsSync(path.join(d, "node_api.h")));
  if (!include) throw new Error(`no Node-API headers (node_api.h) in ${headerDirs().join(", ")}`);
  const cc = process.env.CC ?? "cc";
  const flags = compilerFlags();
  const key = createHash("sha256")
    .update(spec.sources.map((f) => fs.readFileSync(f, "utf8")).join("\n"))
    .update(spec.header.text)
    .update(JSON.stringify([cc, flags, process.platform, process.arch]))
    .update(fs.readFileSync(path.join(include, "node_api.h")))
    .digest("hex");
  if (
    !spec.force &&
    fs.existsSync(spec.out) &&
    fs.existsSync(spec.stamp) &&
    fs.readFileSync(spec.stamp, "utf8") === key
  ) {
    return spec.out;
  }
  const dir = path.dirname(spec.out);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, spec.header.name), spec.header.text);
  const tmp = `${spec.out}.${process.pid}.tmp`;
  const kept = keptAddon(spec.out, key);
  if (!spec.force && kept !== undefined && fs.existsSync(kept)) {
    // built before on this machine (another checkout): copied, not compiled
    fs.copyFileSync(kept, tmp);
    const now = new Date();
    fs.utimesSync(kept, now, now); // in use: kept by the cache's pruning
    spec.log(`${spec.label}: built before on this machine, copied from ${kept}`);
  } else {
    const args = [...flags, `-I${include}`, `-I${dir}`, spec.sources[0]!, "-o", tmp];
    spec.log(`${spec.label}: ${cc} ${args.join(" ")}`);
    execFileSync(cc, args, { stdio: ["ignore", "inherit", "inherit"] });
    if (kept !== undefined) keepAddon(tmp, kept, spec.log);
  }
  fs.renameSync(tmp, spec.out);
  fs.writeFileSync(spec.stamp, key);
  return spec.out;
}

/**
 * Where a built addon is kept for other checkouts on this machine: in the folder of compiled
 * circuits (scripts/lib/circuit-build.ts `circuitCacheDir`: PARTPROOF_CIRCUIT_CACHE, or
 * ~/.cache/partproof/circuits; `off` keeps none), named by the addon and the hash of its inputs,
 * so an entry is never stale. The two addons are ~20 s of CPU with -O3, a fresh clone's second
 * largest build step after the circuits.
 */
function keptAddon(out: string, key: string): string | undefined {
  const dir = process.env.PARTPROOF_CIRCUIT_CACHE;
  if (dir === "off") return undefined;
  const root = dir || path.join(os.homedir(), ".cache", "partproof", "circuits");
  return path.join(root, `native-${path.basename(out, ".node")}-${key.slice(0, 32)}.node`);
}

/** Copies a built addon into the cache (a temporary name, then renamed); a failure only warns. */
function keepAddon(built: string, kept: string, log: (m: string) => void): void {
  const staged = `${kept}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.copyFileSync(built, staged);
    fs.renameSync(staged, kept);
  } catch (e) {
    log(`warning: could not keep ${path.basename(kept)}: ${(e as Error).message}`);
  } finally {
    fs.rmSync(staged, { force: true });
  }
}
