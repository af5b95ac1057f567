import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  BUILD_DIR,
  ROOT,
  buildCircuit,
  circuitPaths,
  compileCircuit,
  pruneCircuitCache,
  ensurePtau,
  ptauPower,
  r1csInfo,
  readManifest,
  requiredPower,
  setupCircuit,
  verifierName,
  withLock,
  type CircuitEntry,
} from "../../scripts/lib/circuit-build.js";
import { readDevPtauSecret } from "../../scripts/lib/dev-ptau.js";
import { setEnv } from "../support.js";

const FIXTURES = path.join(BUILD_DIR, "_fixtures");
const MUL = `pragma circom 2.2.0;
template Mul() { signal input a; signal input b; signal output c; c <== a * b; }
component main {public [a]} = Mul();
`;
// \`unused\` takes part in no constraint: circom's --inspect warns about it.
const WARN = `pragma circom 2.2.0;
template W() { signal input a; signal input unused; signal output c; c <== a * a; }
component main = W();
`;

describe("scripts/lib/circuit-build", function () {
  const lines: string[] = [];
  const log = (m: string) => lines.push(m);
  let ptauDir: string;
  let savedPtauDir: string | undefined;
  // the machine's cache of compiled circuits, for this file's fixtures alone
  const circuitCache = path.join(tmpdir(), `partproof-circuit-cache-test-${process.pid}`);
  let restoreCacheEnv: () => void;

  before(async function () {
    savedPtauDir = process.env.PARTPROOF_PTAU_DIR;
    ptauDir = path.join(tmpdir(), `partproof-ptau-test-${process.pid}`);
    process.env.PARTPROOF_PTAU_DIR = ptauDir;
    restoreCacheEnv = setEnv({ PARTPROOF_CIRCUIT_CACHE: circuitCache });
    await mkdir(FIXTURES, { recursive: true });
  });

  after(async function () {
    if (savedPtauDir === undefined) delete process.env.PARTPROOF_PTAU_DIR;
    else process.env.PARTPROOF_PTAU_DIR = savedPtauDir;
    restoreCacheEnv();
    await rm(ptauDir, { recursive: true, force: true });
    await rm(circuitCache, { recursive: true, force: true });
    await rm(FIXTURES, { recursive: true, force: true });
    for (const n of ["t_build_mul", "t_build_warn", "t_build_small"]) {
      await rm(circuitPaths(n).dir, { recursive: true, force: true });
    }
  });

  async function fixture(name: string, source: string, ptau = 4): Promise<CircuitEntry> {
    const file = path.join(FIXTURES, `${name}.circom`);
    await writeFile(file, source);
    return { name, main: path.relative(ROOT, file), ptau, target: "test", verifier: false };
  }

  describe("compileCircuit", function () {
    it("compiles once, then reuses the cached output until a source changes", async function () {
      const entry = await fixture("t_build_mul", MUL);
      expect(await compileCircuit(entry, log, true)).to.equal(true);
      const info = await r1csInfo(circuitPaths("t_build_mul").r1cs);
      expect(info.nConstraints).to.equal(1);
      expect(info.nPubInputs + info.nOutputs).to.equal(2);
      expect(await compileCircuit(entry, log)).to.equal(false);
      await writeFile(path.join(ROOT, entry.main), MUL.replace("c <== a * b;", "c <== a * b + 1;"));
      expect(await compileCircuit(entry, log)).to.equal(true);
    });

    it("writes a .sym for a test instance and none for a production one (nothing reads it)", async function () {
      const entry = await fixture("t_build_mul", MUL);
      await compileCircuit(entry, log, true);
      expect(existsSync(circuitPaths("t_build_mul").sym)).to.equal(true);
      expect(await compileCircuit({ ...entry, target: "production" }, log)).to.equal(true);
      expect(existsSync(circuitPaths("t_build_mul").sym)).to.equal(false);
      expect(existsSync(circuitPaths("t_build_mul").r1cs)).to.equal(true);
    });

    it("copies a compile of the same sources from the machine's cache instead of compiling (another checkout's build)", async function () {
      const entry = await fixture("t_build_mul", MUL);
      const p = circuitPaths("t_build_mul");
      await compileCircuit(entry, log, true);
      const built = await Promise.all([p.r1cs, p.wasm, p.sym].map((f) => readFile(f)));
      // a fresh checkout: no build folder
      await rm(p.dir, { recursive: true, force: true });
      lines.length = 0;
      expect(await compileCircuit(entry, log)).to.equal(true);
      expect(lines.some((l) => /copied from/.test(l))).to.equal(true);
      expect(lines.some((l) => /compile …/.test(l))).to.equal(false);
      const copied = await Promise.all([p.r1cs, p.wasm, p.sym].map((f) => readFile(f)));
      copied.forEach((b, i) => expect(b.equals(built[i]!)).to.equal(true));
      expect(await compileCircuit(entry, log)).to.equal(false); // up to date now
      // other sources or other flags are another entry: compiled, not copied
      await writeFile(path.join(ROOT, entry.main), MUL.replace("c <== a * b;", "c <== a * b + 2;"));
      lines.length = 0;
      expect(await compileCircuit(entry, log)).to.equal(true);
      expect(lines.some((l) => /compile …/.test(l))).to.equal(true);
      expect(lines.some((l) => /copied from/.test(l))).to.equal(false);
      lines.length = 0;
      expect(await compileCircuit({ ...entry, target: "production" }, log)).to.equal(true);
      expect(lines.some((l) => /compile …/.test(l))).to.equal(true);
    });

    it("compiles when the cached entry is incomplete, and keeps nothing with PARTPROOF_CIRCUIT_CACHE=off", async function () {
      const entry = await fixture("t_build_mul", MUL);
      const p = circuitPaths("t_build_mul");
      await rm(circuitCache, { recursive: true, force: true });
      await compileCircuit(entry, log, true);
      const entries = await readdir(circuitCache);
      expect(entries).to.have.length(1);
      for (const e of entries) await rm(path.join(circuitCache, e, "t_build_mul.wasm"));
      await rm(p.dir, { recursive: true, force: true });
      lines.length = 0;
      expect(await compileCircuit(entry, log)).to.equal(true);
      expect(lines.some((l) => /compile …/.test(l))).to.equal(true);
      expect(existsSync(p.wasm)).to.equal(true);
      // and the entry is whole again
      for (const e of entries) {
        expect(existsSync(path.join(circuitCache, e, "t_build_mul.wasm"))).to.equal(true);
      }

      await rm(circuitCache, { recursive: true, force: true });
      const restore = setEnv({ PARTPROOF_CIRCUIT_CACHE: "off" });
      try {
        await compileCircuit(entry, log, true);
        await rm(p.dir, { recursive: true, force: true });
        lines.length = 0;
        expect(await compileCircuit(entry, log)).to.equal(true);
        expect(lines.some((l) => /compile …/.test(l))).to.equal(true);
      } finally {
        restore();
      }
      expect(existsSync(circuitCache)).to.equal(false);
    });

    it("prunes the cache to the 3 most recently used entries per instance and kind, and what is unused for 14 days", async function () {
      const dir = path.join(circuitCache, "prune");
      await mkdir(dir, { recursive: true });
      const day = 86_400_000;
      const hex = (i: number) => String(i).repeat(32).slice(0, 32);
      const make = async (name: string, ageMs: number) => {
        await mkdir(path.join(dir, name), { recursive: true });
        const t = new Date(Date.now() - ageMs);
        await utimes(path.join(dir, name), t, t);
      };
      for (let i = 1; i <= 5; i++) await make(`range_d20-${hex(i)}`, i * 60_000); // 1 newest
      await make(`range_d20-zkey-${hex(1)}`, 60_000);
      await make(`audit_d4-${hex(1)}`, 15 * day);
      await make(`range_d20-${hex(6)}.tmp-123-abcd`, 15 * day);
      await make(`range_d20-${hex(7)}.tmp-456-abcd`, 60_000); // a build staging now
      await pruneCircuitCache(dir);
      expect((await readdir(dir)).sort()).to.deep.equal(
        [
          `range_d20-${hex(1)}`,
          `range_d20-${hex(2)}`,
          `range_d20-${hex(3)}`,
          `range_d20-${hex(7)}.tmp-456-abcd`,
          `range_d20-zkey-${hex(1)}`,
        ].sort(),
      );
    });

    it("fails when --inspect reports a warning", async function () {
      const entry = await fixture("t_build_warn", WARN);
      let error: Error | undefined;
      try {
        await compileCircuit(entry, log, true);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(/warnings/);
    });
  });

  describe("setupCircuit", function () {
    it("keeps a labelled development secret, computes the zkey and vkey from it, and caches them", async function () {
      const entry = await fixture("t_build_mul", MUL);
      await compileCircuit(entry, log);
      lines.length = 0;
      expect(await setupCircuit(entry, log, true, false)).to.equal(true);
      expect(lines.some((l) => /development setup — NOT secure/.test(l))).to.equal(true);
      const p = circuitPaths("t_build_mul");
      const vkey = JSON.parse(await readFile(p.vkey, "utf8")) as { nPublic: number };
      expect(vkey.nPublic).to.equal(2);
      // The secret is kept, and the zkey is computed directly from it: the ptau file, a function
      // of the secret, is not written until something reads it.
      const ptauFile = path.join(ptauDir, "devsetup_4.ptau");
      expect(await readDevPtauSecret(ptauFile)).to.be.a("string");
      expect(existsSync(ptauFile)).to.equal(false);
      expect(lines.some((l) => /development zkey from the known secret done/.test(l))).to.equal(
        true,
      );
      expect(lines.some((l) => /groth16 setup/.test(l))).to.equal(false);
      expect(await setupCircuit(entry, log)).to.equal(false);
    });

    it("writes the development ptau from the kept secret when asked, and the zkey verifies against it", async function () {
      const entry = await fixture("t_build_mul", MUL);
      await compileCircuit(entry, log);
      await setupCircuit(entry, log);
      const ptauFile = path.join(ptauDir, "devsetup_4.ptau");
      const seed = await readDevPtauSecret(ptauFile);
      const ptau = await ensurePtau(4, log);
      expect(ptau).to.deep.equal({ file: ptauFile, dev: true, seed });
      expect(await ptauPower(ptauFile)).to.equal(4);
      const p = circuitPaths("t_build_mul");
      expect(await snarkjs.zKey.verifyFromR1cs(p.r1cs, ptauFile, p.zkey)).to.equal(true);
      // with the file there, the cached setup stays valid and a new one checks the seed against it
      expect(await setupCircuit(entry, log)).to.equal(false);
      expect(await setupCircuit(entry, log, true, false)).to.equal(true);
      expect(await snarkjs.zKey.verifyFromR1cs(p.r1cs, ptauFile, p.zkey)).to.equal(true);
    });

    it("copies a development zkey computed before on this machine (same r1cs and seed), the bytes a new computation writes", async function () {
      const entry = await fixture("t_build_mul", MUL);
      const p = circuitPaths("t_build_mul");
      await compileCircuit(entry, log);
      await setupCircuit(entry, log, true, false);
      // a fresh checkout: its compile and its zkey are copied
      await rm(p.dir, { recursive: true, force: true });
      await compileCircuit(entry, log);
      lines.length = 0;
      expect(await setupCircuit(entry, log, true)).to.equal(true);
      expect(lines.some((l) => /zkey computed before on this machine: copied/.test(l))).to.equal(
        true,
      );
      expect(lines.some((l) => /from the known secret …/.test(l))).to.equal(false);
      const copied = await readFile(p.zkey);
      const ptauFile = (await ensurePtau(4, log)).file;
      expect(await snarkjs.zKey.verifyFromR1cs(p.r1cs, ptauFile, p.zkey)).to.equal(true);
      lines.length = 0;
      expect(await setupCircuit(entry, log, true, false)).to.equal(true);
      expect(lines.some((l) => /from the known secret done/.test(l))).to.equal(true);
      expect((await readFile(p.zkey)).equals(copied)).to.equal(true);
    });

    it("refuses a ptau power smaller than the circuit needs", async function () {
      const entry = await fixture("t_build_small", MUL, 1);
      await compileCircuit(entry, log, true);
      let error: Error | undefined;
      try {
        await setupCircuit(entry, log);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(/needs 2\^2/);
    });

    it("uses snarkjs' setup and a contribution for a PTAU file, whose zkey verifies against it", async function () {
      // A small ceremony file made by snarkjs itself (new → contribute → prepare phase2).
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      const p0 = path.join(ptauDir, "ceremony_0.ptau");
      const p1 = path.join(ptauDir, "ceremony_1.ptau");
      const user = path.join(ptauDir, "published_4.ptau");
      await snarkjs.powersOfTau.newAccumulator(curve, 4, p0);
      await snarkjs.powersOfTau.contribute(p0, p1, "test party", randomBytes(32).toString("hex"));
      await snarkjs.powersOfTau.preparePhase2(p1, user);
      const restoreEnv = setEnv({ PTAU: user });
      try {
        const entry = await fixture("t_build_mul", MUL);
        await compileCircuit(entry, log);
        lines.length = 0;
        expect(await setupCircuit(entry, log, true)).to.equal(true);
        expect(lines.some((l) => /groth16 setup .* done/.test(l))).to.equal(true);
        expect(lines.some((l) => /phase-2 contribution done/.test(l))).to.equal(true);
        expect(lines.some((l) => /from the known secret/.test(l))).to.equal(false);
        const p = circuitPaths("t_build_mul");
        expect(await snarkjs.zKey.verifyFromR1cs(p.r1cs, user, p.zkey)).to.equal(true);
      } finally {
        restoreEnv();
      }
    });

    it("takes a user's ptau file from PTAU and rejects a missing one", async function () {
      const restoreEnv = setEnv({ PTAU: path.join(ptauDir, "does-not-exist.ptau") });
      try {
        const entry = await fixture("t_build_mul", MUL);
        let error: Error | undefined;
        try {
          await buildCircuit(entry, log, true);
        } catch (e) {
          error = e as Error;
        }
        expect(error?.message).to.match(/does not exist/);
      } finally {
        restoreEnv();
      }
    });
  });

  describe("withLock", function () {
    it("runs holders one after another and takes over a lock whose holder is gone", async function () {
      const lock = path.join(FIXTURES, "t.lock");
      const order: string[] = [];
      const holder = (name: string) => async () => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}:out`);
      };
      await Promise.all([withLock(lock, log, holder("a")), withLock(lock, log, holder("b"))]);
      // which of the two opens first is up to the file system's thread pool; they must not overlap
      const first = order[0]?.split(":")[0];
      const second = first === "a" ? "b" : "a";
      expect(order).to.deep.equal([`${first}:in`, `${first}:out`, `${second}:in`, `${second}:out`]);
      await writeFile(lock, "999999999"); // no such process
      expect(await withLock(lock, log, async () => "taken")).to.equal("taken");
      expect(existsSync(lock)).to.equal(false);
    });

    it("never lets two holders in at once, even when one finds the lock just created and still empty", async function () {
      const lock = path.join(FIXTURES, "t-many.lock");
      let inside = 0;
      let most = 0;
      const holder = async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
      };
      for (let round = 0; round < 4; round++) {
        await Promise.all(Array.from({ length: 5 }, () => withLock(lock, log, holder)));
      }
      expect(most).to.equal(1);
      expect(existsSync(lock)).to.equal(false);
    });

    it("takes over a lock left empty or unreadable by a holder that died", async function () {
      const lock = path.join(FIXTURES, "t-empty.lock");
      await writeFile(lock, "");
      expect(await withLock(lock, log, async () => "taken")).to.equal("taken");
      await writeFile(lock, "not a pid");
      expect(await withLock(lock, log, async () => "again")).to.equal("again");
      expect(existsSync(lock)).to.equal(false);
    });
  });

  describe("helpers", function () {
    it("names verifiers in PascalCase and computes the needed power", function () {
      expect(verifierName("range_d20")).to.equal("RangeD20Verifier");
      expect(requiredPower({ nConstraints: 4000, nPubInputs: 5, nOutputs: 0 })).to.equal(12);
      expect(requiredPower({ nConstraints: 4090, nPubInputs: 5, nOutputs: 0 })).to.equal(12);
      expect(requiredPower({ nConstraints: 4091, nPubInputs: 5, nOutputs: 0 })).to.equal(13);
    });

    it("refuses a manifest entry with an unknown kind", async function () {
      const file = path.join(FIXTURES, "bad-manifest.json");
      const main = path.relative(ROOT, path.join(FIXTURES, "t_build_mul.circom"));
      await writeFile(path.join(ROOT, main), MUL);
      const entry = { name: "t_x", main, ptau: 4, target: "test", kind: "query" };
      await writeFile(file, JSON.stringify({ circuits: [entry] }));
      let error: Error | undefined;
      try {
        await readManifest(file);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(/kind must be "answer" or "audit"/);
      await writeFile(file, JSON.stringify({ circuits: [{ ...entry, kind: undefined }] }));
      expect((await readManifest(file))[0]?.kind).to.equal("answer");
    });

    it("reads the committed manifest", async function () {
      const manifest = await readManifest();
      for (const c of manifest) expect(existsSync(path.join(ROOT, c.main))).to.equal(true);
    });
  });
});
