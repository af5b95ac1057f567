/**
 * The native Groth16 prover (circuits/native/groth16.c) on range_d4: its proofs verify with
 * snarkjs against the vkey and on-chain through the generated Solidity verifier, carry fresh
 * randomness, and a witness that does not satisfy the circuit gives no verifying proof. Needs
 * the circuits build and the addon (`npm run build`); fails, naming what is missing, otherwise.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  loadNativeProver,
  nativeProverUnavailableReason,
  proveNative,
  type Groth16Proof,
} from "../../circuits/native/groth16.js";
import { signalsToArray } from "../../circuits/lib/signals.js";
import { buildTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { toSolidityProof } from "../../protocol/proof.js";
import {
  DEPTH,
  POLICY,
  QUERY,
  RECORDS,
  requireBuild,
  SALTS,
  VKEY,
  WASM,
  ZKEY,
} from "../contracts/range-d4.js";

const { ethers } = await network.create();
const deployVerifier = () => ethers.deployContract("RangeD4Verifier");

const FR = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** Offset of the witness values in a .wtns file written by snarkjs (header, then section 2). */
const WTNS_VALUES = 4 + 4 + 4 + (4 + 8 + 4 + 32 + 4) + (4 + 8);

describe("native Groth16 prover (range_d4)", function () {
  let wtns: Uint8Array;
  let expectedSignals: string[];
  let vkey: unknown;
  let verifier: Awaited<ReturnType<typeof deployVerifier>>;

  before(async function () {
    requireBuild();
    if (!loadNativeProver()) throw new Error(`native prover: ${nativeProverUnavailableReason()}`);
    const tree = await buildTree(RECORDS, SALTS, DEPTH);
    const w = rangeWitness(tree, QUERY, POLICY, 4711n, 99n);
    expectedSignals = signalsToArray(w.signals).map(String);
    const out: { type: string; data?: Uint8Array } = { type: "mem" };
    await snarkjs.wtns.calculate(w.input, WASM, out);
    wtns = out.data!;
    vkey = JSON.parse(readFileSync(VKEY, "utf8"));
    verifier = await deployVerifier();
  });

  const verifies = (p: Groth16Proof): Promise<boolean> =>
    snarkjs.groth16.verify(vkey, p.publicSignals, p.proof) as Promise<boolean>;
  const verifiesOnChain = (p: Groth16Proof): Promise<boolean> => {
    const s = toSolidityProof(p.proof);
    const signals = p.publicSignals.map(BigInt) as [bigint, bigint, bigint, bigint, bigint];
    return verifier.verifyProof(s.a, s.b, s.c, signals);
  };

  it("makes a proof that snarkjs and the generated Solidity verifier accept", async function () {
    const p = await proveNative(ZKEY, wtns);
    expect(p.publicSignals).to.deep.equal(expectedSignals);
    expect(p.proof.protocol).to.equal("groth16");
    expect(p.proof.curve).to.equal("bn128");
    expect(await verifies(p)).to.equal(true);
    expect(await verifiesOnChain(p)).to.equal(true);
  });

  it("draws fresh randomness: two proofs of one witness differ and both verify", async function () {
    const [p, q] = [await proveNative(ZKEY, wtns, 1), await proveNative(ZKEY, wtns, 2)];
    expect(p.proof.pi_a).to.not.deep.equal(q.proof.pi_a);
    expect(p.proof.pi_b).to.not.deep.equal(q.proof.pi_b);
    expect(p.proof.pi_c).to.not.deep.equal(q.proof.pi_c);
    expect(await verifies(p)).to.equal(true);
    expect(await verifies(q)).to.equal(true);
  });

  it("gives no verifying proof for a tampered witness (one private wire changed)", async function () {
    const bad = Uint8Array.from(wtns);
    const view = new DataView(bad.buffer);
    const nWires = view.getUint32(4 + 4 + 4 + 12 + 4 + 32, true);
    const wire = Math.floor(nWires / 2); // private: public signals are wires 1..5
    const at = WTNS_VALUES + 32 * wire;
    let x = 0n;
    for (let i = 31; i >= 0; i--) x = (x << 8n) | BigInt(bad[at + i]!);
    x = (x + 1n) % FR;
    for (let i = 0; i < 32; i++) bad[at + i] = Number((x >> BigInt(8 * i)) & 0xffn);
    const p = await proveNative(ZKEY, bad);
    expect(p.publicSignals).to.deep.equal(expectedSignals); // same claim, unsatisfied witness
    expect(await verifies(p)).to.equal(false);
    expect(await verifiesOnChain(p)).to.equal(false);
  });

  it("refuses a witness of another circuit and a file that is not a zkey, naming the problem", async function () {
    const scanZkey = path.join(path.dirname(ZKEY), "..", "scan_d4_c4", "scan_d4_c4.zkey");
    requireBuild([scanZkey]);
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => "proved",
        (e: Error) => e.message,
      );
    expect(await failure(proveNative(scanZkey, wtns))).to.match(/circuit's length/);
    expect(await failure(proveNative(VKEY, wtns))).to.match(/not a snarkjs binary file/);
    expect(await failure(proveNative(ZKEY, wtns.subarray(0, 200)))).to.match(/past the end/);
  });
});
