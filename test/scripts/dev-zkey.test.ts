import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { network } from "hardhat";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { buildTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import {
  circuitPaths,
  compileCircuit,
  devSetup,
  readManifest,
} from "../../scripts/lib/circuit-build.js";
import { lagrangeEvaluations, writeDevPtau } from "../../scripts/lib/dev-ptau.js";
import {
  DEV_ZKEY_CONTRIBUTION_NAME,
  deriveDevZkeySecrets,
  writeDevZkey,
} from "../../scripts/lib/dev-zkey.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Inside the repository (circom2 runs under WASI and sees only relative paths below cwd). */
const DIR = path.join(ROOT, "circuits/build/_devzkey_mocha");
const G1 = 64;

/** Byte offset and size of each section of a snarkjs binary file. */
function sectionTable(buf: Buffer): Map<number, { at: number; size: number }> {
  const table = new Map<number, { at: number; size: number }>();
  let pos = 12;
  for (let i = 0; i < buf.readUInt32LE(8); i++) {
    const size = Number(buf.readBigUInt64LE(pos + 4));
    table.set(buf.readUInt32LE(pos), { at: pos + 12, size });
    pos += 12 + size;
  }
  return table;
}

function section(buf: Buffer, id: number): Buffer {
  const s = sectionTable(buf).get(id);
  if (!s) throw new Error(`no section ${id}`);
  return buf.subarray(s.at, s.at + s.size);
}

/** A snarkjs logger that keeps what it is told. */
function recorder() {
  const lines: string[] = [];
  const keep = (m: string) => lines.push(m);
  return { lines, logger: { debug: () => {}, info: keep, warn: keep, error: keep } };
}

describe("scripts/lib/dev-zkey", function () {
  const r1cs = path.join(DIR, "chain.r1cs");
  const wasm = path.join(DIR, "chain_js", "chain.wasm");
  // The chain fixture has 41 constraints and 4 public signals: a domain of 2^6.
  const exact = { power: 6, seed: "dev-zkey test, 2^6", ptau: "", zkey: "" };
  const larger = { power: 8, seed: "dev-zkey test, 2^8", ptau: "", zkey: "" };

  before(async function () {
    await mkdir(DIR, { recursive: true });
    await promisify(execFile)(
      path.join(ROOT, "node_modules/.bin/circom2"),
      ["test/scripts/fixtures/chain.circom", "--r1cs", "--wasm", "-o", path.relative(ROOT, DIR)],
      { cwd: ROOT },
    );
    for (const c of [exact, larger]) {
      c.ptau = path.join(DIR, `dev_${c.power}.ptau`);
      c.zkey = path.join(DIR, `chain_${c.power}.zkey`);
      await writeDevPtau(c.power, c.ptau, { seed: c.seed });
      await writeDevZkey(r1cs, c.ptau, c.seed, c.zkey);
    }
  });

  after(async function () {
    await rm(DIR, { recursive: true, force: true });
  });

  describe("writeDevZkey", function () {
    for (const c of [exact, larger]) {
      it(`passes snarkjs zkey verify against the development ptau of 2^${c.power}`, async function () {
        const { lines, logger } = recorder();
        expect(await snarkjs.zKey.verifyFromR1cs(r1cs, c.ptau, c.zkey, logger)).to.equal(true);
        // The one contribution (δ) carries the NOT-secure label.
        expect(lines.some((l) => l.includes(`#1 ${DEV_ZKEY_CONTRIBUTION_NAME}`))).to.equal(true);
        expect(DEV_ZKEY_CONTRIBUTION_NAME).to.match(/development setup — NOT secure/);
      });
    }

    it("writes the sections and circuit hash of snarkjs' zkey new byte for byte, with δ ≠ 1", async function () {
      const init = path.join(DIR, "chain_init.zkey");
      await snarkjs.zKey.newZKey(r1cs, exact.ptau, init);
      const ours = await readFile(exact.zkey);
      const theirs = await readFile(init);
      for (const id of [1, 3, 4, 5, 6, 7]) {
        expect(section(ours, id).equals(section(theirs, id)), `section ${id}`).to.equal(true);
      }
      // Header up to γ·G2 (n8q, q, n8r, r, nVars, nPublic, n, α1, β1, β2, γ2) is the same; δ not.
      const groth = 4 + 32 + 4 + 32 + 12;
      const upToGamma = groth + G1 + G1 + 128 + 128;
      expect(section(ours, 2).subarray(0, upToGamma)).to.deep.equal(
        section(theirs, 2).subarray(0, upToGamma),
      );
      expect(section(ours, 2).subarray(upToGamma)).to.not.deep.equal(
        section(theirs, 2).subarray(upToGamma),
      );
      // Circuit hash (first 64 bytes of the contributions section): equal.
      expect(section(ours, 10).subarray(0, 64)).to.deep.equal(section(theirs, 10).subarray(0, 64));
      expect(section(ours, 8)).to.not.deep.equal(section(theirs, 8)); // L / δ
      expect(await snarkjs.zKey.verifyFromInit(init, exact.ptau, exact.zkey)).to.equal(true);
    });

    it("proves and verifies with snarkjs, and rejects a tampered public signal", async function () {
      const x = Array.from({ length: 40 }, (_, i) => BigInt(i + 2));
      const a = 7n;
      const b = 5n;
      const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
      const out = x.reduce((acc, xi) => (acc * xi + b) % P, a);
      const sum = (b * x.reduce((s, xi) => s + 3n * xi, 0n)) % P;
      for (const c of [exact, larger]) {
        const { proof, publicSignals } = await snarkjs.groth16.fullProve({ a, b, x }, wasm, c.zkey);
        expect(publicSignals).to.deep.equal([out, sum, a, b].map(String));
        const vkey = await snarkjs.zKey.exportVerificationKey(c.zkey);
        expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).to.equal(true);
        const changed = [...publicSignals];
        changed[1] = String(sum + 1n);
        expect(await snarkjs.groth16.verify(vkey, changed, proof)).to.equal(false);
      }
    });

    it("fails zkey verify when one point of A, L or H is replaced", async function () {
      const good = await readFile(exact.zkey);
      const generator = section(await readFile(exact.ptau), 2).subarray(0, G1); // τ^0·G1
      for (const id of [5, 8, 9]) {
        const bad = Buffer.from(good);
        const at = sectionTable(bad).get(id)!.at + G1; // the section's second point
        expect(bad.subarray(at, at + G1)).to.not.deep.equal(generator);
        generator.copy(bad, at);
        const file = path.join(DIR, `tampered_${id}.zkey`);
        await writeFile(file, bad);
        const { logger } = recorder();
        expect(
          await snarkjs.zKey.verifyFromR1cs(r1cs, exact.ptau, file, logger),
          `section ${id}`,
        ).to.equal(false);
      }
    });

    it("writes the same bytes again for the same ptau and circuit", async function () {
      const again = path.join(DIR, "chain_again.zkey");
      await writeDevZkey(r1cs, exact.ptau, exact.seed, again);
      expect(await readFile(again)).to.deep.equal(await readFile(exact.zkey));
    });

    it("writes the same bytes from the seed and the power alone, without the ptau file", async function () {
      for (const c of [exact, larger]) {
        const noFile = path.join(DIR, `chain_nofile_${c.power}.zkey`);
        await writeDevZkey(r1cs, { power: c.power }, c.seed, noFile);
        expect(await readFile(noFile), `2^${c.power}`).to.deep.equal(await readFile(c.zkey));
      }
    });

    it("refuses a seed that is not the ptau's secret, and leaves no file", async function () {
      const out = path.join(DIR, "wrong_seed.zkey");
      let error: Error | undefined;
      try {
        await writeDevZkey(r1cs, exact.ptau, larger.seed, out);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(/not the secret of this ptau/);
      expect(existsSync(out)).to.equal(false);
    });

    it("refuses a circuit larger than the ptau", async function () {
      const small = path.join(DIR, "dev_4.ptau");
      await writeDevPtau(4, small, { seed: "small" });
      let error: Error | undefined;
      try {
        await writeDevZkey(r1cs, small, "small", path.join(DIR, "too_big.zkey"));
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(/needs 2\^6 .* the ptau has 2\^4/);
    });
  });

  describe("lagrangeEvaluations with oddOnly (the H points' scalars)", function () {
    it("gives the odd entries of the full evaluations, with and without the dropped last input", function () {
      const tau = 123_456_789_123_456_789n;
      for (const bits of [1, 2, 5]) {
        for (const dropLast of [false, true]) {
          const all = lagrangeEvaluations(tau, bits, dropLast);
          const odd = lagrangeEvaluations(tau, bits, dropLast, true);
          expect(odd, `2^${bits}, dropLast ${dropLast}`).to.deep.equal(
            all.filter((_, j) => j % 2 === 1),
          );
        }
      }
    });
  });

  describe("deriveDevZkeySecrets", function () {
    it("derives δ from the ptau seed and the circuit: another circuit or seed gives another δ", function () {
      const a = deriveDevZkeySecrets("seed", "aa");
      expect(deriveDevZkeySecrets("seed", "aa")).to.deep.equal(a);
      expect(deriveDevZkeySecrets("seed", "ab").delta).to.not.equal(a.delta);
      expect(deriveDevZkeySecrets("seed2", "aa").delta).to.not.equal(a.delta);
      expect(a.delta).to.not.equal(a.s);
      expect(a.delta).to.not.equal(1n);
    });
  });
});

describe("range_d4 with a direct development zkey", function () {
  const NAME = "range_d4";
  const zkey = path.join(DIR, `${NAME}.zkey`);
  let verifier: { verifyProof: (...args: unknown[]) => Promise<boolean> };

  after(async function () {
    await rm(DIR, { recursive: true, force: true });
  });

  before(async function () {
    const entry = (await readManifest()).find((c) => c.name === NAME)!;
    const log = () => {};
    await compileCircuit(entry, log); // cached by content hash: a no-op after the build
    const dev = await devSetup(entry.ptau, log);
    expect(dev.seed, "the development setup keeps its secret").to.be.a("string");
    await mkdir(DIR, { recursive: true });
    await writeDevZkey(circuitPaths(NAME).r1cs, { power: entry.ptau }, dev.seed!, zkey);

    // The Solidity verifier snarkjs generates for this zkey, compiled with solc-js and deployed.
    const template = await readFile(
      path.join(ROOT, "node_modules/snarkjs/templates/verifier_groth16.sol.ejs"),
      "utf8",
    );
    const source: string = await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: template });
    const solc = require("solc") as { compile(input: string): string };
    const output = JSON.parse(
      solc.compile(
        JSON.stringify({
          language: "Solidity",
          sources: { "Verifier.sol": { content: source } },
          settings: {
            optimizer: { enabled: true, runs: 200 },
            evmVersion: "cancun",
            outputSelection: { "*": { Groth16Verifier: ["abi", "evm.bytecode.object"] } },
          },
        }),
      ),
    ) as {
      errors?: { severity: string; formattedMessage: string }[];
      contracts: Record<
        string,
        Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>
      >;
    };
    const errors = (output.errors ?? []).filter((e) => e.severity === "error");
    expect(errors.map((e) => e.formattedMessage)).to.deep.equal([]);
    const compiled = output.contracts["Verifier.sol"]!.Groth16Verifier!;
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const factory = new ethers.ContractFactory(
      compiled.abi as never,
      compiled.evm.bytecode.object,
      deployer,
    );
    const contract = await factory.deploy();
    await contract.waitForDeployment();
    verifier = contract as unknown as typeof verifier;
  });

  it("makes a real range proof that the generated Solidity verifier accepts on-chain, and not with a changed signal", async function () {
    const records = [2n, 9n, 9n, 17n, 30n].map((key, i) => ({
      key,
      values: [BigInt(i + 1), BigInt(100 + i), BigInt(i % 2), BigInt(7 * i)],
    }));
    const tree = await buildTree(
      records,
      records.map((_, i) => 77_000_000n + BigInt(i)),
      4,
    );
    const policy: Policy = {
      aggregateMask: 0x7f,
      fieldMask: 0xf,
      filterMask: 0xf,
      keyLo: 1n,
      keyHi: 50n,
      minCohort: 2,
    };
    const query = {
      kind: AggregateKind.Sum,
      fieldA: 1,
      fieldB: 0,
      lo: 3n,
      hi: 20n,
      threshold: 0n,
      nonce: 99n,
    };
    const w = rangeWitness(tree, query, policy, 31_337n, 424_242n);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      w.input,
      circuitPaths(NAME).wasm,
      zkey,
    );
    const args = JSON.parse(
      `[${await snarkjs.groth16.exportSolidityCallData(proof, publicSignals)}]`,
    ) as [string[], string[][], string[], string[]];
    expect(args[3].map(BigInt)[0]).to.equal(tree.root);
    expect(await verifier.verifyProof(...args)).to.equal(true);
    const changed = [...args[3]];
    changed[3] = `0x${(BigInt(changed[3]!) + 1n).toString(16)}`; // the result commitment
    expect(await verifier.verifyProof(args[0], args[1], args[2], changed)).to.equal(false);
  });
});
