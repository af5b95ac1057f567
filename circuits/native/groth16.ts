/**
 * The native Groth16 prover (groth16.c, built by build-prover.ts into
 * circuits/build/native/groth16.node): loads the addon and shapes its output as snarkjs'
 * `groth16.prove` does ({ proof: { pi_a, pi_b, pi_c, protocol, curve }, publicSignals }).
 *
 * `PARTPROOF_PROVER=snarkjs` disables it (the provers then use snarkjs).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../build/native/groth16.node",
);

/** A Groth16 proof in snarkjs' JSON shape, with its public signals (decimal strings). */
export interface Groth16Proof {
  proof: {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: "groth16";
    curve: "bn128";
  };
  publicSignals: string[];
}

interface Addon {
  fixedBaseMul?(
    group: 1 | 2,
    base: Uint8Array,
    scalars: Uint8Array,
    threads: number,
  ): Promise<Buffer>;
  prove(
    zkeyPath: string,
    wtns: Uint8Array,
    threads: number,
  ): Promise<{ proof: Buffer; nPublic: number }>;
}

let addon: Addon | null | undefined;
let unavailable: string | undefined;

/**
 * The native prover, or null (with the reason in {@link nativeProverUnavailableReason}) when it
 * is disabled, not built (`npm run build` builds it) or does not load on this machine.
 */
export function loadNativeProver(): { prove: typeof proveNative } | null {
  if (addon === undefined) {
    addon = null;
    if (process.env.PARTPROOF_PROVER === "snarkjs") {
      unavailable = "disabled by PARTPROOF_PROVER=snarkjs";
    } else if (!fs.existsSync(ADDON)) {
      unavailable = `${path.relative(process.cwd(), ADDON)} is not built (run \`npm run build\`)`;
    } else {
      try {
        addon = createRequire(import.meta.url)(ADDON) as Addon;
      } catch (err) {
        unavailable = `${ADDON} does not load: ${(err as Error).message}`;
      }
    }
  }
  return addon ? { prove: proveNative } : null;
}

/** Why the native prover is not available (undefined when it is, or was not tried yet). */
export function nativeProverUnavailableReason(): string | undefined {
  return unavailable;
}

/** A little-endian 32-byte field element as a decimal string. */
function decimal(b: Buffer, at: number): string {
  let x = 0n;
  for (let i = 31; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i]!);
  return x.toString();
}

/** Values 1..n of a .wtns file's witness section (the public signals), decimal. */
function publicSignals(wtns: Uint8Array, n: number): string[] {
  const buf = Buffer.from(wtns.buffer, wtns.byteOffset, wtns.byteLength);
  let pos = 12;
  const sections = buf.readUInt32LE(8);
  for (let k = 0; k < sections; k++) {
    const type = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    pos += 12;
    if (type === 2) return Array.from({ length: n }, (_, i) => decimal(buf, pos + 32 * (i + 1)));
    pos += size;
  }
  throw new Error("the witness has no values");
}

/**
 * Proves with the native prover: `zkeyPath` a snarkjs Groth16 zkey over BN254, `wtns` the
 * bytes of a snarkjs .wtns file (what `wtns.calculate` writes, or its `{ type: "mem" }`
 * output's `data`). Uses `threads` threads (default: every core). Rejects with the reason when
 * the files do not fit each other or are malformed.
 */
export async function proveNative(
  zkeyPath: string,
  wtns: Uint8Array,
  threads = os.availableParallelism(),
): Promise<Groth16Proof> {
  if (!loadNativeProver()) throw new Error(`native prover: ${unavailable}`);
  const r = await addon!.prove(zkeyPath, wtns, threads);
  const b = r.proof;
  const g1 = (at: number, inf: number): string[] =>
    b[inf] ? ["0", "1", "0"] : [decimal(b, at), decimal(b, at + 32), "1"];
  const pi_b = b[257]
    ? [
        ["0", "0"],
        ["1", "0"],
        ["0", "0"],
      ]
    : [
        [decimal(b, 64), decimal(b, 96)],
        [decimal(b, 128), decimal(b, 160)],
        ["1", "0"],
      ];
  return {
    proof: { pi_a: g1(0, 256), pi_b, pi_c: g1(192, 258), protocol: "groth16", curve: "bn128" },
    publicSignals: publicSignals(wtns, r.nPublic),
  };
}

/** The addon's fixed-base multiplication (see {@link loadFixedBaseMul}). */
export type FixedBaseMul = (
  group: 1 | 2,
  base: Uint8Array,
  scalars: Uint8Array,
  threads: number,
) => Promise<Uint8Array>;

/**
 * The addon's multi-threaded fixed-base multiplication, for the development setup
 * (scripts/lib/dev-ptau.ts): `fixedBaseMul(group, base, scalars, threads)` resolves to
 * scalar_i·base for each 32-byte little-endian scalar (below r), as affine points in snarkjs'
 * LEM form (64 bytes in G1, 128 in G2; x = y = 0 for the point at infinity); `base` is an affine
 * LEM point of the group. Returns the reason instead when the addon is not built, does not load,
 * or was built from older sources (it has no such call). Unlike {@link loadNativeProver} it is
 * not switched off by `PARTPROOF_PROVER=snarkjs` (that chooses the provers), and it looks again
 * after a miss: a build may write the addon after the first look.
 */
export function loadFixedBaseMul(): { fixedBaseMul: FixedBaseMul } | { reason: string } {
  if (!fixedBaseAddon) {
    if (!fs.existsSync(ADDON)) {
      return { reason: `${path.relative(process.cwd(), ADDON)} is not built` };
    }
    try {
      fixedBaseAddon = createRequire(import.meta.url)(ADDON) as Addon;
    } catch (err) {
      return { reason: `${ADDON} does not load: ${(err as Error).message}` };
    }
  }
  const fn = fixedBaseAddon.fixedBaseMul;
  if (typeof fn !== "function") {
    return { reason: `${path.relative(process.cwd(), ADDON)} was built from older sources` };
  }
  return { fixedBaseMul: fn.bind(fixedBaseAddon) };
}

let fixedBaseAddon: Addon | undefined;
