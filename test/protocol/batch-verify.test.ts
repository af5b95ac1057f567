/**
 * Batched Groth16 verification (protocol/batch-verify.ts) against snarkjs' own per-proof
 * verify, on real range_d4 proofs from the circuits build.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
// @ts-expect-error ffjavascript ships no type declarations
import { buildBn128 } from "ffjavascript";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { buildTree, type TreeRecord } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import {
  findInvalid,
  verifyBatch,
  type Groth16VerificationKey,
  type ProofItem,
} from "../../protocol/batch-verify.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUILD = path.join(ROOT, "circuits", "build", "range_d4");
const WASM = path.join(BUILD, "range_d4_js", "range_d4.wasm");
const ZKEY = path.join(BUILD, "range_d4.zkey");
const VKEY = JSON.parse(
  readFileSync(path.join(BUILD, "range_d4.vkey.json"), "utf8"),
) as Groth16VerificationKey;

const RECORDS: TreeRecord[] = [3n, 8n, 13n, 21n, 34n, 55n].map((key, i) => ({
  key,
  values: [BigInt(i + 1), BigInt(1000 + 17 * i), BigInt(i % 2), BigInt(40 + 5 * i)],
}));
const SALTS = RECORDS.map((_, i) => 7_000_000n + BigInt(i) * 7_919n);
const POLICY: Policy = {
  aggregateMask: 0x7f,
  fieldMask: 0xf,
  filterMask: 0xf,
  keyLo: 1n,
  keyHi: 100n,
  minCohort: 2,
};

/** Three real proofs of different answers (blinds and bindings differ: so do the signals). */
async function realProofs(): Promise<ProofItem[]> {
  const tree = await buildTree(RECORDS, SALTS, 4);
  const out: ProofItem[] = [];
  const asked = [
    { kind: AggregateKind.Sum, fieldA: 1 },
    { kind: AggregateKind.Count, fieldA: 0 },
    { kind: AggregateKind.Max, fieldA: 3 }, // MIN/MAX only on the tree's min/max field
  ];
  for (const [i, { kind, fieldA }] of asked.entries()) {
    const w = rangeWitness(
      tree,
      { kind, fieldA, fieldB: 0, lo: 5n, hi: 60n, threshold: 0n, nonce: 100n + BigInt(i) },
      POLICY,
      1_000n + BigInt(i),
      2_000n + BigInt(i),
    );
    const input = JSON.parse(
      JSON.stringify(w.input, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
    ) as Record<string, unknown>;
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, WASM, ZKEY);
    out.push({ proof, publicSignals });
  }
  return out;
}

/** The proof with A replaced by 2·A (a valid curve point, a wrong proof). */
async function doubledA(item: ProofItem): Promise<ProofItem> {
  const c = await buildBn128();
  const a = c.G1.fromObject(item.proof.pi_a.map(BigInt));
  const twice = c.G1.toObject(c.G1.toAffine(c.G1.double(a))) as bigint[];
  return { ...item, proof: { ...item.proof, pi_a: twice.map(String) } };
}

/** The item with public signal `j` increased by one. */
function shifted(item: ProofItem, j: number): ProofItem {
  const publicSignals = [...item.publicSignals];
  publicSignals[j] = (BigInt(publicSignals[j]!) + 1n).toString();
  return { ...item, publicSignals };
}

describe("batch-verify", function () {
  let valid: ProofItem[];

  before(async function () {
    valid = await realProofs();
  });

  after(async function () {
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  });

  describe("verifyBatch", function () {
    it("accepts a batch of valid proofs of different answers", async function () {
      expect(new Set(valid.map((v) => v.publicSignals[3])).size).to.equal(3);
      expect(await verifyBatch(VKEY, valid)).to.equal(true);
    });

    it("accepts an empty batch", async function () {
      expect(await verifyBatch(VKEY, [])).to.equal(true);
    });

    it("rejects a batch with one proof whose A was tampered with", async function () {
      const batch = [valid[0]!, await doubledA(valid[1]!), valid[2]!];
      expect(await verifyBatch(VKEY, batch)).to.equal(false);
    });

    it("rejects a batch with one wrong public signal", async function () {
      expect(await verifyBatch(VKEY, [valid[0]!, valid[1]!, shifted(valid[2]!, 3)])).to.equal(
        false,
      );
    });

    it("rejects two proofs whose public signals were swapped", async function () {
      const swapped = [
        { ...valid[0]!, publicSignals: valid[1]!.publicSignals },
        { ...valid[1]!, publicSignals: valid[0]!.publicSignals },
      ];
      expect(await verifyBatch(VKEY, swapped)).to.equal(false);
    });

    it("rejects a proof with too few signals, a point off the curve, or a signal ≥ r", async function () {
      const offCurve = {
        ...valid[0]!,
        proof: { ...valid[0]!.proof, pi_c: ["1", "3", "1"] },
      };
      const tooBig = {
        ...valid[0]!,
        publicSignals: [
          ...valid[0]!.publicSignals.slice(0, 4),
          (BigInt(valid[0]!.publicSignals[4]!) + 2n ** 254n).toString(),
        ],
      };
      for (const bad of [
        { ...valid[0]!, publicSignals: valid[0]!.publicSignals.slice(1) },
        offCurve,
        tooBig,
      ]) {
        expect(await verifyBatch(VKEY, [valid[1]!, bad])).to.equal(false);
      }
    });

    it("judges every single proof as snarkjs' groth16.verify does", async function () {
      const cases = [
        ...valid,
        await doubledA(valid[0]!),
        shifted(valid[1]!, 0),
        shifted(valid[2]!, 4),
        { ...valid[0]!, proof: valid[1]!.proof },
      ];
      const ours = await Promise.all(cases.map((c) => verifyBatch(VKEY, [c])));
      const theirs: boolean[] = [];
      for (const c of cases)
        theirs.push(await snarkjs.groth16.verify(VKEY, c.publicSignals, c.proof));
      expect(ours).to.deep.equal(theirs);
      expect(ours).to.deep.equal([true, true, true, false, false, false, false]);
    });
  });

  describe("findInvalid", function () {
    it("finds nothing in a valid list", async function () {
      expect(await findInvalid(VKEY, [...valid, ...valid])).to.deep.equal([]);
    });

    it("names the one bad proof of a list", async function () {
      const list = [...valid, valid[0]!, shifted(valid[1]!, 2), valid[2]!, ...valid];
      expect(await findInvalid(VKEY, list)).to.deep.equal([4]);
    });

    it("names every bad proof, first and last included", async function () {
      const list = [await doubledA(valid[0]!), valid[1]!, valid[2]!, shifted(valid[0]!, 1)];
      expect(await findInvalid(VKEY, list)).to.deep.equal([0, 3]);
    });
  });
});
