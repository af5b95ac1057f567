import { expect } from "chai";
import { AggregateKind, PUBLIC_SIGNALS, resultCommitment } from "../../circuits/lib/signals.js";
import { PredicateOp, type Query } from "../../circuits/lib/query.js";
import { buildTree, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { scanWitness } from "../../circuits/lib/witness.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  r1csInfo,
  signalNames,
} from "../../circuits/lib/testing.js";
import { assertionAt, openPolicy, refusal, sampleRecords, sampleSalts } from "./helpers.js";
import { referenceAnswer } from "./reference.js";

const NAME = "scan_d4_c4";
const DEPTH = 4;
const H = 1; // window C = 4 leaves

/** "Template:line" of an assertion of ScanAggregate / AnswerCore, found by its text. */
const inScan = (text: string): string =>
  assertionAt("scan_aggregate.circom", "ScanAggregate", text);
const inCore = (text: string): string => assertionAt("answer_core.circom", "AnswerCore", text);

/** Keys 12 and 15 (leaves 5 and 6; window = leaves 4..7), field 1 >= 50 keeps key 15 only. */
function query(kind: AggregateKind, overrides: Partial<Query> = {}): Query {
  return {
    kind,
    fieldA: kind === AggregateKind.Min || kind === AggregateKind.Max ? 3 : 1,
    fieldB: 3,
    lo: 10n,
    hi: 16n,
    threshold: 1_000_000n,
    nonce: 7n,
    predicates: [{ field: 1, op: PredicateOp.Ge, value: 50n }],
    ...overrides,
  };
}

describe("ScanAggregate (scan_d4_c4)", function () {
  this.timeout(600_000);
  const records = sampleRecords();
  const policy = openPolicy({ minCohort: 1 });
  let tree: MerkleSumTree;

  before(async function () {
    ensureCompiled(NAME);
    tree = await buildTree(records, sampleSalts(records.length), DEPTH);
  });

  describe("compiled circuit", function () {
    it("has the five public inputs of PROOF_FORMAT.md in order", async function () {
      const info = await r1csInfo(NAME);
      expect(info.nPubInputs).to.equal(5);
      expect(info.nOutputs).to.equal(0);
      const names = signalNames(NAME);
      expect(PUBLIC_SIGNALS.map((_, i) => names.get(i + 1))).to.deep.equal(
        PUBLIC_SIGNALS.map((s) => `main.${s}`),
      );
    });

    it("keeps its pinned constraint count", async function () {
      expect((await r1csInfo(NAME)).nConstraints).to.equal(15842);
    });
  });

  describe("correct witnesses", function () {
    const cases: [string, Query][] = [
      ["COUNT with a >= predicate", query(AggregateKind.Count)],
      ["SUM with a >= predicate", query(AggregateKind.Sum)],
      [
        "SUM with == and <= predicates",
        query(AggregateKind.Sum, {
          predicates: [
            { field: 0, op: PredicateOp.Eq, value: 2n },
            { field: 3, op: PredicateOp.Le, value: 35n },
          ],
        }),
      ],
      ["MIN without predicates", query(AggregateKind.Min, { predicates: [] })],
      ["MAX with a predicate", query(AggregateKind.Max)],
      ["RATIO_PPM", query(AggregateKind.RatioPpm, { predicates: [] })],
      ["THRESHOLD_PPM", query(AggregateKind.ThresholdPpm, { predicates: [] })],
    ];
    for (const [title, q] of cases) {
      it(`proves ${title} equal to the reference evaluator`, async function () {
        const w = scanWitness(tree, H, q, policy, 11n, 22n);
        const expected = referenceAnswer(q, records);
        expect(w.answer.resultValue).to.equal(expected.resultValue);
        expect(w.answer.resultAux).to.equal(expected.resultAux);
        const witness = await calculateWitness(NAME, w.input);
        expect(witness[4]).to.equal(
          resultCommitment(expected.resultValue, expected.resultAux, 11n),
        );
        expect(await checkWitness(NAME, witness)).to.equal(true);
      });
    }

    it("refuses to build a witness for a range wider than the window", function () {
      expect(() =>
        scanWitness(tree, H, query(AggregateKind.Count, { lo: 5n, hi: 21n }), policy, 1n, 2n),
      ).to.throw(RangeError);
    });
  });

  describe("forged witnesses", function () {
    it("fails the constraint check when the public result commitment or binding is edited", async function () {
      const witness = await calculateWitness(
        NAME,
        scanWitness(tree, H, query(AggregateKind.Sum), policy, 1n, 2n).input,
      );
      const forged = [...witness];
      forged[4] = resultCommitment(0n, 0n, 1n);
      expect(await checkWitness(NAME, forged)).to.equal(false);
      const rebound = [...witness];
      rebound[5] = rebound[5]! + 1n;
      expect(await checkWitness(NAME, rebound)).to.equal(false);
    });

    it("refuses a window that does not start below lo", async function () {
      const w = scanWitness(tree, H, query(AggregateKind.Count), policy, 1n, 2n);
      const block = Number(w.input.block as bigint) + 1; // window = leaves 6..9, first key 15
      const first = block * 2;
      const leaves = Array.from({ length: 4 }, (_, i) => tree.leaf(first + i));
      const sib = (b: number): bigint[][] =>
        Array.from({ length: DEPTH - H }, (_, lv) => tree.node(H + lv, (b >> lv) ^ 1));
      const forged = {
        ...w.input,
        block: BigInt(block),
        keys: leaves.map((l) => l.key),
        nextKeys: leaves.map((l) => l.nextKey),
        values: leaves.map((l) => l.values),
        salts: leaves.map((l) => l.salt),
        siblings: [sib(block), sib(block + 1)],
      };
      expect(await refusal(calculateWitness(NAME, forged))).to.equal(inScan("firstBelowLo === 1;"));
    });

    it("refuses leaves of another tree", async function () {
      const other = await buildTree(records, sampleSalts(records.length, 9n), DEPTH);
      const w = scanWitness(other, H, query(AggregateKind.Count), policy, 1n, 2n);
      expect(await refusal(calculateWitness(NAME, { ...w.input, root: tree.root }))).to.equal(
        inScan("path[s].root === root;"),
      );
    });

    it("refuses a predicate on a field outside filterMask", async function () {
      const w = scanWitness(
        tree,
        H,
        query(AggregateKind.Count),
        openPolicy({ minCohort: 1, filterMask: 0xd }),
        1n,
        2n,
      );
      expect(await refusal(calculateWitness(NAME, w.input))).to.equal(
        inCore("predUsed[i] * (1 - predFieldOk[i]) === 0;"),
      );
    });

    it("refuses a match set below minCohort", async function () {
      const w = scanWitness(
        tree,
        H,
        query(AggregateKind.Count),
        openPolicy({ minCohort: 2 }),
        1n,
        2n,
      );
      expect(w.answer.count).to.equal(1n);
      expect(await refusal(calculateWitness(NAME, w.input))).to.equal(
        inCore("cohortReached === 1;"),
      );
    });
  });
});
