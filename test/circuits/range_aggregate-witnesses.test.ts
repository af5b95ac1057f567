/**
 * RangeAggregate (range_d4): its public inputs, its pinned constraint count, and correct witnesses
 * equal to the reference evaluator — the quick tier's test of the answer circuit (test/tiers.ts).
 * The forged witnesses and the policy refusals, which compile relaxed copies of the circuit and
 * name the one constraint that fails, are in range_aggregate.test.ts (a slow file).
 */
import { expect } from "chai";
import {
  AggregateKind,
  PUBLIC_SIGNALS,
  policyHash,
  resultCommitment,
} from "../../circuits/lib/signals.js";
import { queryHash } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  r1csInfo,
  signalIndex,
  signalNames,
} from "../../circuits/lib/testing.js";
import { openPolicy, rangeQuery as query, sampleRecords, sampleSalts } from "./helpers.js";
import { referenceAnswer } from "./reference.js";

const NAME = "range_d4";
const DEPTH = 4;

describe("RangeAggregate (range_d4)", function () {
  this.timeout(600_000);
  const records = sampleRecords();
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  describe("compiled circuit", function () {
    it("has the five public inputs of PROOF_FORMAT.md in order and no outputs", async function () {
      const info = await r1csInfo(NAME);
      expect(info.nOutputs).to.equal(0);
      expect(info.nPubInputs).to.equal(PUBLIC_SIGNALS.length);
      const names = signalNames(NAME);
      const pub = PUBLIC_SIGNALS.map((_, i) => names.get(i + 1));
      expect(pub).to.deep.equal(PUBLIC_SIGNALS.map((s) => `main.${s}`));
    });

    it("keeps its pinned constraint count", async function () {
      expect((await r1csInfo(NAME)).nConstraints).to.equal(12831);
    });
  });

  describe("correct witnesses", function () {
    const kinds = [
      AggregateKind.Count,
      AggregateKind.Sum,
      AggregateKind.Avg,
      AggregateKind.Min,
      AggregateKind.Max,
      AggregateKind.RatioPpm,
      AggregateKind.ThresholdPpm,
    ];
    for (const kind of kinds) {
      it(`proves ${AggregateKind[kind]} equal to the reference evaluator`, async function () {
        const q = query(kind);
        const w = rangeWitness(tree, q, openPolicy(), 777n, 123n);
        const expected = referenceAnswer(q, records);
        expect(w.answer.resultValue).to.equal(expected.resultValue);
        expect(w.answer.resultAux).to.equal(expected.resultAux);
        const witness = await calculateWitness(NAME, w.input);
        expect(witness.slice(1, 6)).to.deep.equal([
          tree.root,
          policyHash(openPolicy()),
          queryHash(q),
          resultCommitment(expected.resultValue, expected.resultAux, 777n),
          123n,
        ]);
        expect(await checkWitness(NAME, witness)).to.equal(true);
      });
    }

    it("gives MAX = 2^64 - 1 when the range holds that value", async function () {
      const q = query(AggregateKind.Max, { lo: 21n, hi: 30n });
      const w = rangeWitness(tree, q, openPolicy(), 1n, 2n);
      expect(w.answer.resultValue).to.equal((1n << 64n) - 1n);
      expect(await checkWitness(NAME, await calculateWitness(NAME, w.input))).to.equal(true);
    });

    it("covers a range starting at the first record and ending at the last", async function () {
      const q = query(AggregateKind.Sum, { lo: 1n, hi: 100n });
      const w = rangeWitness(tree, q, openPolicy(), 5n, 6n);
      expect(w.answer.resultAux).to.equal(BigInt(records.length));
      expect(w.answer.resultValue).to.equal(referenceAnswer(q, records).resultValue);
      expect(await checkWitness(NAME, await calculateWitness(NAME, w.input))).to.equal(true);
    });

    it("agrees with the TS tree on every node value along the opened path", async function () {
      const w = rangeWitness(tree, query(AggregateKind.Count), openPolicy(), 1n, 2n);
      const witness = await calculateWitness(NAME, w.input);
      const a = Number(w.input.aIndex as bigint);
      for (let level = 1; level < DEPTH; level++) {
        const node = tree.node(level, a >> level);
        for (const k of [0, 6, 7]) {
          const v = witness[signalIndex(NAME, `main.aPath.cur[${level}][${k}]`)];
          expect(v, `level ${level} component ${k}`).to.equal(node[k]);
        }
      }
    });
  });
});
