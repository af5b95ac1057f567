import { expect } from "chai";
import {
  AggregateKind,
  PUBLIC_SIGNALS,
  policyHash,
  resultCommitment,
} from "../../circuits/lib/signals.js";
import { evaluate, queryHash, type Query } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { rangeWitness, type CircuitInput } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  r1csInfo,
  signalIndex,
  signalNames,
} from "../../circuits/lib/testing.js";
import { openPolicy, rejects, sampleRecords, sampleSalts } from "./helpers.js";

const NAME = "range_d4";
const DEPTH = 4;

function query(kind: AggregateKind, overrides: Partial<Query> = {}): Query {
  return {
    kind,
    fieldA: kind === AggregateKind.Min || kind === AggregateKind.Max ? 3 : 1,
    fieldB: 0,
    lo: 7n,
    hi: 30n,
    threshold: 400_000n,
    nonce: 99n,
    ...overrides,
  };
}

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
      expect((await r1csInfo(NAME)).nConstraints).to.equal(12300);
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
      it(`proves ${AggregateKind[kind]} equal to the plain evaluation`, async function () {
        const q = query(kind);
        const w = rangeWitness(tree, q, openPolicy(), 777n, 123n);
        const expected = evaluate(q, records);
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
      expect(w.answer.resultValue).to.equal(evaluate(q, records).resultValue);
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

  describe("forged witnesses", function () {
    let honest: CircuitInput;
    let witness: bigint[];

    before(async function () {
      honest = rangeWitness(tree, query(AggregateKind.RatioPpm), openPolicy(), 777n, 123n).input;
      witness = await calculateWitness(NAME, honest);
    });

    it("fails the constraint check when the quotient of a ratio is edited", async function () {
      const forged = [...witness];
      const q = signalIndex(NAME, "main.answer.q");
      forged[q] = forged[q]! + 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when the public result commitment is edited", async function () {
      const forged = [...witness];
      forged[4] = resultCommitment(1n, 0n, 777n);
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when the public binding is edited", async function () {
      const forged = [...witness];
      forged[5] = forged[5]! + 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("fails the constraint check when a committed min hint on the path is edited", async function () {
      const forged = [...witness];
      const i = signalIndex(NAME, "main.aPath.cur[1][6]");
      forged[i] = forged[i]! - 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });

    it("refuses a claimed result that differs from the true one", async function () {
      const wrong = { ...honest, resultCommitment: resultCommitment(121212n, 0n, 777n) };
      expect(await rejects(calculateWitness(NAME, wrong))).to.equal(true);
    });

    it("refuses a leaf taken from another tree", async function () {
      const other = await buildTree(records, sampleSalts(records.length, 5n), DEPTH);
      const foreign = rangeWitness(other, query(AggregateKind.RatioPpm), openPolicy(), 777n, 123n);
      const mixed = { ...foreign.input, root: tree.root };
      expect(await rejects(calculateWitness(NAME, mixed))).to.equal(true);
    });

    function withLeaf(input: CircuitInput, prefix: "a" | "l", index: number): CircuitInput {
      const leaf = tree.leaf(index);
      return {
        ...input,
        [`${prefix}Index`]: BigInt(index),
        [`${prefix}Key`]: leaf.key,
        [`${prefix}NextKey`]: leaf.nextKey,
        [`${prefix}Values`]: leaf.values,
        [`${prefix}Salt`]: leaf.salt,
        [`${prefix}Siblings`]: tree.path(index),
      };
    }

    it("accepts the honest neighbours (control for the cases below)", async function () {
      const a = Number(honest.aIndex as bigint);
      const l = Number(honest.lIndex as bigint);
      const same = withLeaf(withLeaf(honest, "a", a), "l", l);
      expect(await rejects(calculateWitness(NAME, same))).to.equal(false);
    });

    it("refuses a left neighbour inside the range", async function () {
      const a = Number(honest.aIndex as bigint);
      expect(await rejects(calculateWitness(NAME, withLeaf(honest, "a", a + 1)))).to.equal(true);
    });

    it("refuses a left neighbour further out (it would add records below lo)", async function () {
      const a = Number(honest.aIndex as bigint);
      expect(await rejects(calculateWitness(NAME, withLeaf(honest, "a", a - 1)))).to.equal(true);
    });

    it("refuses a last leaf beyond hi", async function () {
      const l = Number(honest.lIndex as bigint);
      expect(await rejects(calculateWitness(NAME, withLeaf(honest, "l", l + 1)))).to.equal(true);
    });

    it("refuses a last leaf short of the range's end", async function () {
      const l = Number(honest.lIndex as bigint);
      expect(await rejects(calculateWitness(NAME, withLeaf(honest, "l", l - 1)))).to.equal(true);
    });
  });

  describe("policy", function () {
    async function refused(
      policyOver: Parameters<typeof openPolicy>[0],
      q: Query,
    ): Promise<boolean> {
      // the witness is built for a policy the query violates; the circuit must refuse it
      const w = rangeWitness(tree, q, openPolicy(policyOver), 1n, 2n);
      return rejects(calculateWitness(NAME, w.input));
    }

    it("refuses a range with fewer records than minCohort and accepts exactly minCohort", async function () {
      const q = query(AggregateKind.Count, { lo: 7n, hi: 9n }); // 3 records
      expect(await refused({ minCohort: 4 }, q)).to.equal(true);
      expect(await refused({ minCohort: 3 }, q)).to.equal(false);
    });

    it("refuses a range that starts below the policy's keyLo", async function () {
      expect(await refused({ keyLo: 8n }, query(AggregateKind.Count))).to.equal(true);
    });

    it("refuses a range that ends above the policy's keyHi", async function () {
      expect(await refused({ keyHi: 29n }, query(AggregateKind.Count))).to.equal(true);
    });

    it("refuses an aggregate kind outside aggregateMask", async function () {
      expect(
        await refused(
          { aggregateMask: 0x7f & ~(1 << AggregateKind.Sum) },
          query(AggregateKind.Sum),
        ),
      ).to.equal(true);
    });

    it("refuses a field outside fieldMask, also as a ratio's denominator", async function () {
      expect(await refused({ fieldMask: 0xf & ~(1 << 1) }, query(AggregateKind.Sum))).to.equal(
        true,
      );
      expect(await refused({ fieldMask: 0xf & ~1 }, query(AggregateKind.RatioPpm))).to.equal(true);
    });

    it("refuses MIN on a field other than the tree's min/max field", async function () {
      const w = rangeWitness(tree, query(AggregateKind.Sum, { fieldA: 2 }), openPolicy(), 1n, 2n);
      const q = query(AggregateKind.Min, { fieldA: 2 });
      const forged = {
        ...w.input,
        kind: BigInt(AggregateKind.Min),
        queryHash: queryHash(q),
        resultCommitment: resultCommitment(0n, w.answer.count, 1n),
      };
      expect(await rejects(calculateWitness(NAME, forged))).to.equal(true);
    });

    it("refuses a policy preimage that does not hash to policyHash", async function () {
      const w = rangeWitness(tree, query(AggregateKind.Count), openPolicy(), 1n, 2n);
      const forged = { ...w.input, policyHash: policyHash(openPolicy({ minCohort: 1 })) };
      expect(await rejects(calculateWitness(NAME, forged))).to.equal(true);
    });

    it("refuses a ratio whose denominator sum is zero", async function () {
      // field 2 is 0 in every record: ratio over it has no answer
      const base = rangeWitness(tree, query(AggregateKind.Sum), openPolicy(), 1n, 2n);
      const q = query(AggregateKind.RatioPpm, { fieldB: 2 });
      expect(() => evaluate(q, records)).to.throw(RangeError);
      for (const claimed of [0n, 1n]) {
        const forged = {
          ...base.input,
          kind: BigInt(AggregateKind.RatioPpm),
          fieldB: 2n,
          queryHash: queryHash(q),
          resultCommitment: resultCommitment(claimed, 0n, 1n),
        };
        expect(await rejects(calculateWitness(NAME, forged))).to.equal(true);
      }
    });
  });
});
