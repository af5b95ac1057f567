/**
 * What verifying one AuditPath proof on-chain would cost (contracts/README.md, "Audit proofs
 * on-chain?"): one real audit_d4 proof through the generated AuditD4Verifier. The cost of a
 * Groth16 check depends on the number of public signals (4 for every AuditPath depth), not on the
 * circuit, so the depth-20 verifier costs the same.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { network } from "hardhat";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { buildTree } from "../../circuits/lib/tree.js";
import { auditWitness } from "../../circuits/lib/witness.js";
import { toSolidityProof } from "../../protocol/proof.js";
import { checkGas, COVERAGE } from "./gas.js";
import { RECORDS, SALTS } from "./range-d4.js";

const { ethers } = await network.create();

const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUILD = path.join(ROOT_DIR, "circuits", "build", "audit_d4");
const WASM = path.join(BUILD, "audit_d4_js", "audit_d4.wasm");
const ZKEY = path.join(BUILD, "audit_d4.zkey");

describe("AuditD4Verifier gas", function () {
  before(function () {
    const missing = [WASM, ZKEY].filter((f) => !existsSync(f));
    if (missing.length > 0) {
      throw new Error(`audit_d4 build missing (${missing.join(", ")}); run npm run build:circuits`);
    }
  });

  after(async function () {
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  });

  it("accepts a real audit proof, refuses it for another leaf, and its gas stays within 2% of the snapshot", async function () {
    const tree = await buildTree(RECORDS, SALTS, 4);
    const w = auditWitness(tree, 3, 987_654_321n);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(w.input, WASM, ZKEY);
    const p = toSolidityProof(proof);
    const signals = (publicSignals as string[]).map(BigInt) as [bigint, bigint, bigint, bigint];
    const verifier = await ethers.deployContract("AuditD4Verifier");
    const verify = verifier.getFunction("verifyProof");
    expect(await verify(p.a, p.b, p.c, signals)).to.equal(true);
    const otherLeaf: typeof signals = [signals[0], signals[1] + 1n, signals[2], signals[3]];
    expect(await verify(p.a, p.b, p.c, otherLeaf)).to.equal(false);
    if (COVERAGE) return; // instrumented bytecode: gas differs
    // a transaction of its own: 21,000 base + call data + the check
    checkGas("verifyProof.audit_d4", await verify.estimateGas(p.a, p.b, p.c, signals));
  });
});
