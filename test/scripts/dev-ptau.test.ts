import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  DEV_PTAU_WARNING,
  defaultDevPtauSeed,
  deriveDevPtauSecrets,
  lagrangeEvaluations,
  writeDevPtau,
} from "../../scripts/lib/dev-ptau.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Inside the repository (circom2 runs under WASI and sees only relative paths below cwd). */
const DIR = path.join(ROOT, "circuits/build/_devptau_mocha");
const POWER = 8;

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const mod = (a: bigint) => ((a % R) + R) % R;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % R;
    b = (b * b) % R;
    e >>= 1n;
  }
  return r;
}

/** Sections of a snarkjs binary file: id → bodies, and the section count of its header. */
function readSections(buf: Buffer): {
  type: string;
  nSections: number;
  sections: Map<number, Buffer>;
} {
  const type = buf.toString("ascii", 0, 4);
  const nSections = buf.readUInt32LE(8);
  const sections = new Map<number, Buffer>();
  let pos = 12;
  for (let i = 0; i < nSections; i++) {
    const id = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    expect(sections.has(id), `section ${id} appears once`).to.equal(false);
    sections.set(id, buf.subarray(pos + 12, pos + 12 + size));
    pos += 12 + size;
  }
  expect(pos, "sections cover the whole file").to.equal(buf.length);
  return { type, nSections, sections };
}

/** A copy of a ptau file with only its phase-1 sections 1–7 (what `contribute` leaves). */
function phase1Only(buf: Buffer): Buffer {
  const head = Buffer.from(buf.subarray(0, 12));
  head.writeUInt32LE(7, 8);
  const parts: Uint8Array[] = [head];
  let pos = 12;
  for (let i = 0; i < buf.readUInt32LE(8); i++) {
    const id = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    if (id <= 7) parts.push(buf.subarray(pos, pos + 12 + size));
    pos += 12 + size;
  }
  return Buffer.concat(parts);
}

describe("scripts/lib/dev-ptau", function () {
  const ptau = path.join(DIR, `dev_${POWER}.ptau`);
  let file: Buffer;
  const progress: string[] = [];

  before(async function () {
    await mkdir(DIR, { recursive: true });
    await writeDevPtau(POWER, ptau, { onProgress: (m) => progress.push(m) });
    file = await readFile(ptau);
  });

  after(async function () {
    await rm(DIR, { recursive: true, force: true });
  });

  describe("deriveDevPtauSecrets", function () {
    it("derives the same non-zero secrets from the same seed and different ones from another", function () {
      const a = deriveDevPtauSecrets("seed-a");
      const again = deriveDevPtauSecrets("seed-a");
      const b = deriveDevPtauSecrets("seed-b");
      expect(again).to.deep.equal(a);
      for (const v of [a.tau, a.alpha, a.beta]) {
        expect(v > 0n && v < R).to.equal(true);
      }
      expect(new Set([a.tau, a.alpha, a.beta]).size).to.equal(3);
      expect(b.tau).to.not.equal(a.tau);
      expect(defaultDevPtauSeed(12)).to.not.equal(defaultDevPtauSeed(13));
    });
  });

  describe("lagrangeEvaluations", function () {
    /** Direct O(n²) inverse DFT: (1/n)·Σ_i x_i·ω^(−ij). */
    function naiveIfft(x: bigint[], omega: bigint): bigint[] {
      const n = x.length;
      const nInv = pow(BigInt(n), R - 2n);
      const wInv = pow(omega, R - 2n);
      return x.map((_, j) =>
        mod(x.reduce((s, xi, i) => s + xi * pow(wInv, BigInt(i * j)), 0n) * nInv),
      );
    }

    it("equals the inverse DFT of τ^0..τ^(n−1) over the n-th roots of unity", function () {
      const tau = 123456789n;
      for (const bits of [0, 1, 3]) {
        const n = 2 ** bits;
        const evals = lagrangeEvaluations(tau, bits);
        const powers = Array.from({ length: n }, (_, i) => pow(tau, BigInt(i)));
        // Σ_j L_j(τ) = 1 and Σ_j L_j(τ)·ω^j = τ identify the domain the evaluations belong to.
        expect(mod(evals.reduce((s, l) => s + l, 0n))).to.equal(1n);
        const w = findRoot(bits);
        expect(evals).to.deep.equal(naiveIfft(powers, w));
        if (n > 1) {
          expect(mod(evals.reduce((s, l, j) => s + l * pow(w, BigInt(j)), 0n))).to.equal(tau);
        }
      }
    });

    it("with dropLast equals the inverse DFT of τ^0..τ^(n−2), 0", function () {
      const tau = 987654321n;
      const bits = 3;
      const n = 2 ** bits;
      const powers = Array.from({ length: n }, (_, i) => (i === n - 1 ? 0n : pow(tau, BigInt(i))));
      expect(lagrangeEvaluations(tau, bits, true)).to.deep.equal(naiveIfft(powers, findRoot(bits)));
      expect(lagrangeEvaluations(tau, bits, true)).to.not.deep.equal(
        lagrangeEvaluations(tau, bits),
      );
    });

    /** ffjavascript's ω for size 2^bits: 5 is BN254 Fr's smallest non-residue, ω_28 = 5^((r−1)/2^28). */
    function findRoot(bits: number): bigint {
      let w = pow(5n, (R - 1n) >> 28n);
      for (let i = 28; i > bits; i--) w = (w * w) % R;
      return w;
    }
  });

  describe("writeDevPtau", function () {
    it("labels its output as a development setup that is not secure", function () {
      expect(DEV_PTAU_WARNING).to.match(/NOT secure/);
      expect(progress[0]).to.contain(DEV_PTAU_WARNING);
      expect(progress.some((m) => /section 12 .*: \d+\.\d+ s/.test(m))).to.equal(true);
    });

    it("writes the header and phase-1 sections for the secrets derived from the seed", async function () {
      const { type, nSections, sections } = readSections(file);
      expect(type).to.equal("ptau");
      expect(file.readUInt32LE(4)).to.equal(1);
      expect(nSections).to.equal(11);
      expect([...sections.keys()]).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]);
      const header = sections.get(1)!;
      expect(header.readUInt32LE(0)).to.equal(32);
      expect(header.readUInt32LE(36)).to.equal(POWER); // power
      expect(header.readUInt32LE(40)).to.equal(POWER); // ceremonyPower
      expect(sections.get(7)!).to.deep.equal(Buffer.alloc(4)); // no contributions

      const n = 2 ** POWER;
      const sizes = [
        [2, (2 * n - 1) * 64],
        [3, n * 128],
        [4, n * 64],
        [5, n * 64],
        [6, 128],
        [12, (4 * n - 1) * 64],
        [13, (2 * n - 1) * 128],
        [14, (2 * n - 1) * 64],
        [15, (2 * n - 1) * 64],
      ] as const;
      for (const [id, size] of sizes)
        expect(sections.get(id)!.length, `section ${id}`).to.equal(size);

      const curve = await snarkjs.curves.getCurveFromName("bn128");
      const { tau, alpha, beta } = deriveDevPtauSecrets(defaultDevPtauSeed(POWER));
      const g1 = (k: bigint) => {
        const b = new Uint8Array(64);
        curve.G1.toRprLEM(b, 0, curve.G1.toAffine(curve.G1.timesScalar(curve.G1.g, k)));
        return Buffer.from(b);
      };
      const g2 = (k: bigint) => {
        const b = new Uint8Array(128);
        curve.G2.toRprLEM(b, 0, curve.G2.toAffine(curve.G2.timesScalar(curve.G2.g, k)));
        return Buffer.from(b);
      };
      const at = (id: number, i: number, size: number) =>
        sections.get(id)!.subarray(i * size, (i + 1) * size);
      for (const i of [0, 1, 2, n - 1, 2 * n - 2]) {
        expect(at(2, i, 64), `tauG1[${i}]`).to.deep.equal(g1(pow(tau, BigInt(i))));
      }
      for (const i of [0, 1, n - 1]) {
        expect(at(3, i, 128), `tauG2[${i}]`).to.deep.equal(g2(pow(tau, BigInt(i))));
        expect(at(4, i, 64), `alphaTauG1[${i}]`).to.deep.equal(
          g1(mod(alpha * pow(tau, BigInt(i)))),
        );
        expect(at(5, i, 64), `betaTauG1[${i}]`).to.deep.equal(g1(mod(beta * pow(tau, BigInt(i)))));
      }
      expect(at(6, 0, 128), "betaG2").to.deep.equal(g2(beta));
    });

    it("writes sections 12–15 byte for byte as snarkjs' prepare phase2 of its phase-1 sections", async function () {
      const p1 = path.join(DIR, "phase1.ptau");
      const prepared = path.join(DIR, "snarkjs-prepared.ptau");
      await writeFile(p1, phase1Only(file));
      await snarkjs.powersOfTau.preparePhase2(p1, prepared);
      const theirs = readSections(await readFile(prepared));
      const ours = readSections(file);
      for (const id of [12, 13, 14, 15]) {
        expect(ours.sections.get(id)!.equals(theirs.sections.get(id)!), `section ${id}`).to.equal(
          true,
        );
      }
      expect((await readFile(prepared)).equals(file), "whole file").to.equal(true);
    });

    it("writes the same bytes again for the same seed and other bytes for another seed", async function () {
      const again = path.join(DIR, "again.ptau");
      await writeDevPtau(POWER, again, { threads: 1 });
      expect((await readFile(again)).equals(file)).to.equal(true);
      const another = path.join(DIR, "another.ptau");
      await writeDevPtau(POWER, another, { seed: "another seed" });
      const other = await readFile(another);
      expect(other.length).to.equal(file.length);
      expect(other.equals(file)).to.equal(false);
    });

    it("rejects a power outside 1..27", async function () {
      for (const p of [0, 28, 2.5]) {
        let err: unknown;
        try {
          await writeDevPtau(p, path.join(DIR, "bad.ptau"));
        } catch (e) {
          err = e;
        }
        expect(String(err), `power ${p}`).to.match(/power must be an integer in 1\.\.27/);
      }
    });
  });

  describe("Groth16 with a development ptau", function () {
    const r1cs = path.join(DIR, "mul.r1cs");
    const wasm = path.join(DIR, "mul_js", "mul.wasm");
    const zkey0 = path.join(DIR, "mul_0.zkey");
    const zkey = path.join(DIR, "mul.zkey");
    const otherPtau = path.join(DIR, `dev_${POWER}_other.ptau`);

    before(async function () {
      await promisify(execFile)(
        path.join(ROOT, "node_modules/.bin/circom2"),
        ["test/scripts/fixtures/mul.circom", "--r1cs", "--wasm", "-o", path.relative(ROOT, DIR)],
        { cwd: ROOT },
      );
      await writeDevPtau(POWER, otherPtau, { seed: "another seed" });
      await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
      await snarkjs.zKey.contribute(zkey0, zkey, "dev-ptau test", "test entropy");
    });

    it("passes snarkjs zkey verify against its ptau and fails against another seed's", async function () {
      expect(await snarkjs.zKey.verifyFromInit(zkey0, ptau, zkey)).to.equal(true);
      expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey)).to.equal(true);
      expect(await snarkjs.zKey.verifyFromR1cs(r1cs, otherPtau, zkey)).to.equal(false);
    });

    it("proves and verifies a statement, and rejects a tampered public signal", async function () {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        { a: 3, b: 11, c: 33 },
        wasm,
        zkey,
      );
      expect(publicSignals).to.deep.equal(["33"]);
      const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
      expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).to.equal(true);
      expect(await snarkjs.groth16.verify(vkey, ["34"], proof)).to.equal(false);
    });
  });
});
