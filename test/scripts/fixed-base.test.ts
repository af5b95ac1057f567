/**
 * The two engines of the development setup's fixed-base multiplication (scripts/lib/dev-ptau.ts):
 * the native addon's `fixedBaseMul` (circuits/native/groth16.c) and ffjavascript's WebAssembly
 * in worker threads. They must give the same bytes, point for point and file for file. Needs the
 * native addon (`npm run build`); fails, naming what is missing, otherwise.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
import { loadFixedBaseMul } from "../../circuits/native/groth16.js";
import {
  G1_BYTES,
  G2_BYTES,
  GENERATOR_LEM,
  R,
  scalarsToBytes,
  startGeneratorMultiplier,
  writeDevPtau,
  type GeneratorMultiplier,
} from "../../scripts/lib/dev-ptau.js";
import { writeDevZkey } from "../../scripts/lib/dev-zkey.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Inside the repository (circom2 runs under WASI and sees only relative paths below cwd). */
const DIR = path.join(ROOT, "circuits/build/_fixedbase_mocha");

interface Group {
  g: Uint8Array;
  oneAffine: Uint8Array;
  timesFr(p: Uint8Array, e: Uint8Array): Uint8Array;
  toRprLEM(buff: Uint8Array, offset: number, p: Uint8Array): void;
}
interface Curve {
  G1: Group;
  G2: Group;
  Fr: { e(a: bigint): Uint8Array };
  terminate(): Promise<void>;
}

/** A uniformly random scalar below r. */
function randomScalar(): bigint {
  return BigInt(`0x${randomBytes(40).toString("hex")}`) % R;
}

describe("dev-ptau fixed-base multiplication: native and WebAssembly", function () {
  let curve: Curve;
  let native: GeneratorMultiplier;
  let wasm: GeneratorMultiplier;

  before(async function () {
    const addon = loadFixedBaseMul();
    if (!("fixedBaseMul" in addon)) throw new Error(`native fixedBaseMul: ${addon.reason}`);
    curve = (await buildBn128(true)) as Curve;
    native = await startGeneratorMultiplier(2, { engine: "native" });
    wasm = await startGeneratorMultiplier(2, { engine: "wasm" });
  });

  after(async function () {
    await native?.stop();
    await wasm?.stop();
    await curve?.terminate();
    await rm(DIR, { recursive: true, force: true });
  });

  it("says which engine runs, and 'auto' takes the native one when the addon is built", async function () {
    expect(native.engine).to.equal("native");
    expect(native.description).to.match(/^native code \(2 threads\)$/);
    expect(wasm.engine).to.equal("WebAssembly");
    expect(wasm.description).to.match(/^WebAssembly \(2 workers\)$/);
    const auto = await startGeneratorMultiplier(1, { engine: "auto" });
    expect(auto.engine).to.equal("native");
    await auto.stop();
  });

  it("follows PARTPROOF_FIXED_BASE when no engine is given, and refuses another value", async function () {
    const before = process.env.PARTPROOF_FIXED_BASE;
    try {
      process.env.PARTPROOF_FIXED_BASE = "wasm";
      const forced = await startGeneratorMultiplier(1);
      expect(forced.engine).to.equal("WebAssembly");
      expect(forced.description).to.equal("WebAssembly (1 worker; PARTPROOF_FIXED_BASE=wasm)");
      expect(Buffer.from(await forced.mulGenerator(1, [3n]))).to.deep.equal(
        Buffer.from(await native.mulGenerator(1, [3n])),
      );
      await forced.stop();
      process.env.PARTPROOF_FIXED_BASE = "gpu";
      let message = "";
      await startGeneratorMultiplier(1).catch((e: Error) => (message = e.message));
      expect(message).to.equal('PARTPROOF_FIXED_BASE must be auto, native or wasm, got "gpu"');
    } finally {
      if (before === undefined) delete process.env.PARTPROOF_FIXED_BASE;
      else process.env.PARTPROOF_FIXED_BASE = before;
    }
  });

  it("uses ffjavascript's generators of G1 and G2", function () {
    expect(Buffer.from(GENERATOR_LEM[1]).equals(Buffer.from(curve.G1.oneAffine))).to.equal(true);
    expect(Buffer.from(GENERATOR_LEM[2]).equals(Buffer.from(curve.G2.oneAffine))).to.equal(true);
  });

  for (const group of [1, 2] as const) {
    it(`gives ffjavascript's timesFr for 0, 1, 2, r − 1, r − 2 and random scalars in G${group}, with both engines`, async function () {
      const G = group === 1 ? curve.G1 : curve.G2;
      const size = group === 1 ? G1_BYTES : G2_BYTES;
      const scalars = [0n, 1n, 2n, R - 1n, R - 2n, (R - 1n) / 2n];
      for (let i = 0; i < 40; i++) scalars.push(randomScalar());
      const [n, w] = await Promise.all([
        native.mulGenerator(group, scalars),
        wasm.mulGenerator(group, scalars),
      ]);
      expect(n.byteLength).to.equal(scalars.length * size);
      expect(Buffer.from(n).equals(Buffer.from(w)), "native = WebAssembly").to.equal(true);
      scalars.forEach((k, i) => {
        const expected = new Uint8Array(size);
        G.toRprLEM(expected, 0, G.timesFr(G.g, curve.Fr.e(k)));
        expect(
          Buffer.from(n.subarray(i * size, (i + 1) * size)).equals(Buffer.from(expected)),
          `scalar #${i} ${k}`,
        ).to.equal(true);
      });
      // 0·G is the point at infinity, written as x = y = 0
      expect(n.subarray(0, size).every((b) => b === 0)).to.equal(true);
    });
  }

  it("gives every caller its own points when calls of both groups are made together", async function () {
    const lists = [3, 0, 1000, 17].map((len) => Array.from({ length: len }, randomScalar));
    const calls = lists.flatMap((l) => [native.mulGenerator(1, l), native.mulGenerator(2, l)]);
    const one = await Promise.all(calls);
    for (const [i, l] of lists.entries()) {
      expect(Buffer.from(one[2 * i]!).equals(Buffer.from(await wasm.mulGenerator(1, l)))).to.equal(
        true,
      );
      expect(
        Buffer.from(one[2 * i + 1]!).equals(Buffer.from(await wasm.mulGenerator(2, l))),
      ).to.equal(true);
    }
  });

  it("rejects a scalar not below r and a base at infinity, naming the problem", async function () {
    const addon = loadFixedBaseMul();
    if (!("fixedBaseMul" in addon)) throw new Error(addon.reason);
    const rejection = (p: Promise<unknown>) =>
      p.then(
        () => "resolved",
        (e: Error) => e.message,
      );
    expect(
      await rejection(addon.fixedBaseMul(1, GENERATOR_LEM[1], scalarsToBytes([5n, R]), 2)),
    ).to.equal("fixedBaseMul: scalar 1 is not below r");
    expect(
      await rejection(addon.fixedBaseMul(2, new Uint8Array(G2_BYTES), scalarsToBytes([5n]), 1)),
    ).to.equal("fixedBaseMul: the base is the point at infinity");
    expect(() => addon.fixedBaseMul(1, GENERATOR_LEM[2], scalarsToBytes([1n]), 1)).to.throw(
      "base must be 64 bytes",
    );
  });

  it("writes the same development ptau and zkey bytes with either engine", async function () {
    await mkdir(DIR, { recursive: true });
    await promisify(execFile)(
      path.join(ROOT, "node_modules/.bin/circom2"),
      ["test/scripts/fixtures/chain.circom", "--r1cs", "-o", path.relative(ROOT, DIR)],
      { cwd: ROOT },
    );
    const r1cs = path.join(DIR, "chain.r1cs");
    const seed = "fixed-base test, 2^7";
    const out: Record<string, { ptau: Buffer; zkey: Buffer; points: string }> = {};
    for (const engine of ["native", "wasm"] as const) {
      const ptau = path.join(DIR, `${engine}.ptau`);
      const zkey = path.join(DIR, `${engine}.zkey`);
      await writeDevPtau(7, ptau, { seed, engine });
      const info = await writeDevZkey(r1cs, ptau, seed, zkey, { engine });
      out[engine] = { ptau: await readFile(ptau), zkey: await readFile(zkey), points: info.points };
    }
    expect(out.native!.points).to.match(/^native code/);
    expect(out.wasm!.points).to.match(/^WebAssembly/);
    expect(out.native!.ptau.equals(out.wasm!.ptau), "ptau").to.equal(true);
    expect(out.native!.zkey.equals(out.wasm!.zkey), "zkey").to.equal(true);
  });
});
