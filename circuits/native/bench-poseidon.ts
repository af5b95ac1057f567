/**
 * Compiles and runs circuits/native/bench-poseidon.c, the test harness and micro-benchmark of
 * the Poseidon field kernels (portable C against x86-64 BMI2/ADX assembly), with the same
 * compiler and optimisation flags as the addon, against the constants header build.ts
 * generates. The program is cached by a hash of its inputs in circuits/build/native/.
 *
 * Usage: tsx circuits/native/bench-poseidon.ts [check|bench] [N]
 *   check  N random cases per kernel operation (values near 0, near p, uniform) and whole
 *          permutations, C against ADX; exits non-zero on a mismatch
 *   bench  CPU microseconds per Poseidon7 / Poseidon16 and nanoseconds per kernel operation,
 *          each kernel set (numbers of one thread; report the load average with them)
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NATIVE_BUILD_DIR, constantsHeader } from "./build.js";
import { compilerFlags } from "./toolchain.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCES = ["bench-poseidon.c", "poseidon.h", "poseidon_adx.h"].map((f) => path.join(HERE, f));
/** Path of the compiled harness. */
export const KERNEL_HARNESS = path.join(NATIVE_BUILD_DIR, "bench-poseidon");

/** Compiles the harness unless the cached one matches its inputs; returns its path. */
export function buildKernelHarness(log: (m: string) => void = () => {}): string {
  const header = constantsHeader().text;
  const cc = process.env.CC ?? "cc";
  // the addon's flags, for an executable rather than a shared object
  const flags = compilerFlags().filter((f) => !["-shared", "-fPIC"].includes(f));
  const key = createHash("sha256")
    .update(SOURCES.map((f) => fs.readFileSync(f, "utf8")).join("\n"))
    .update(header)
    .update(JSON.stringify([cc, flags, process.platform, process.arch]))
    .digest("hex");
  const stamp = `${KERNEL_HARNESS}.stamp`;
  if (
    fs.existsSync(KERNEL_HARNESS) &&
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, "utf8") === key
  ) {
    return KERNEL_HARNESS;
  }
  fs.mkdirSync(NATIVE_BUILD_DIR, { recursive: true });
  // the header build.ts writes beside the addon; written here too so that this script works
  // before (or without) the addon build
  fs.writeFileSync(path.join(NATIVE_BUILD_DIR, "poseidon_constants.h"), header);
  const tmp = `${KERNEL_HARNESS}.${process.pid}.tmp`;
  const args = [...flags, `-I${NATIVE_BUILD_DIR}`, SOURCES[0]!, "-o", tmp];
  log(`kernel harness: ${cc} ${args.join(" ")}`);
  execFileSync(cc, args, { stdio: ["ignore", "inherit", "inherit"] });
  fs.renameSync(tmp, KERNEL_HARNESS);
  fs.writeFileSync(stamp, key);
  return KERNEL_HARNESS;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [mode = "check", n] = process.argv.slice(2);
  if (mode !== "check" && mode !== "bench") {
    console.error("usage: tsx circuits/native/bench-poseidon.ts [check|bench] [N]");
    process.exit(2);
  }
  if (n !== undefined && !/^[1-9][0-9]*$/.test(n)) {
    console.error(`N must be a positive integer, got ${JSON.stringify(n)}`);
    process.exit(2);
  }
  const exe = buildKernelHarness((m) => console.log(m));
  try {
    execFileSync(exe, n ? [mode, n] : [mode], { stdio: "inherit" });
  } catch {
    process.exit(1);
  }
}
