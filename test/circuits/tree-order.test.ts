import { expect } from "chai";
import { evaluate, type Query } from "../../circuits/lib/query.js";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { calculateWitness, checkWitness, ensureCompiled } from "../../circuits/lib/testing.js";
import {
  dayOrderKey,
  dayWindowRange,
  recordsInDayOrder,
  toDayOrder,
} from "../../circuits/lib/tree-order.js";
import { buildTree, type TreeRecord } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { assertionAt, refusal, sampleSalts } from "./helpers.js";

const NAME = "range_d4";
const PART = 5n;
const OTHER_PART = 6n;
const PLANTS = [11n, 12n, 13n];
const DAY0 = 20_600;

/** First-order key: part · 2^80 + plant · 2^32 + day (protocol/records/keys.ts packKey). */
const plantOrderKey = (part: bigint, plant: bigint, day: number) =>
  (part << 80n) + (plant << 32n) + BigInt(day);

/** 14 records (a depth-4 tree is full): three plants of PART over six days, one other part. */
function records(): TreeRecord[] {
  const out: TreeRecord[] = [];
  let i = 0;
  for (let d = 0; d < 6; d++) {
    for (const plant of PLANTS) {
      if ((d + Number(plant)) % 4 === 0) continue; // not every plant every day
      out.push({
        key: plantOrderKey(PART, plant, DAY0 + d),
        values: [1n, BigInt(i++ % 3 === 0), 0n, BigInt(d + 1)],
      });
    }
  }
  out.push({ key: plantOrderKey(OTHER_PART, 11n, DAY0 + 2), values: [1n, 1n, 0n, 9n] });
  return out.slice(0, 14);
}

/** Plain TypeScript: the records of PART on days from..to, any plant. */
function truth(rs: readonly TreeRecord[], from: number, to: number) {
  const sel = rs.filter((r) => {
    const day = Number(r.key & 0xffffffffn);
    return r.key >> 80n === PART && day >= from && day <= to;
  });
  return {
    count: BigInt(sel.length),
    reworked: sel.reduce((s, r) => s + r.values[1]!, 0n),
  };
}

/** A grant over the whole part: the same key range in both orders. */
const partPolicy = (minCohort: number): Policy => ({
  aggregateMask: 0x7f,
  fieldMask: 0xf,
  filterMask: 0,
  keyLo: PART << 80n,
  keyHi: (PART << 80n) + (1n << 80n) - 1n,
  minCohort,
});

describe("Day order (part, day, plant): every plant × a date window with the range circuit", function () {
  this.timeout(600_000);
  const rs = records();

  before(function () {
    ensureCompiled(NAME);
  });

  it("re-keys part, plant, day into part, day, plant and keeps a whole part's range", function () {
    const k = plantOrderKey(PART, 12n, DAY0 + 3);
    expect(toDayOrder(k)).to.equal(dayOrderKey(PART, 12n, DAY0 + 3));
    expect(toDayOrder(k)).to.equal((PART << 80n) + (BigInt(DAY0 + 3) << 48n) + 12n);
    const p = partPolicy(1);
    for (const r of rs.filter((x) => x.key >> 80n === PART)) {
      const d = toDayOrder(r.key);
      expect(d >= p.keyLo && d <= p.keyHi).to.equal(true);
    }
    expect(() => dayWindowRange(PART, DAY0 + 2, DAY0 + 1)).to.throw(RangeError, "after");
  });

  it("is not one range in the first order: plants between the ends bring days outside the window", function () {
    const from = DAY0 + 2;
    const to = DAY0 + 3;
    const contiguous = evaluate(
      {
        kind: AggregateKind.Count,
        fieldA: 0,
        fieldB: 0,
        lo: plantOrderKey(PART, PLANTS[0]!, from),
        hi: plantOrderKey(PART, PLANTS[2]!, to),
        threshold: 0n,
        nonce: 0n,
      },
      rs,
    );
    expect(contiguous.count).to.be.greaterThan(truth(rs, from, to).count);
  });

  for (const [from, to] of [
    [DAY0 + 1, DAY0 + 3],
    [DAY0, DAY0 + 5],
  ] as const) {
    it(`proves the rework PPM of every plant on days +${from - DAY0}..+${to - DAY0} equal to plain TypeScript`, async function () {
      const tree = await buildTree(recordsInDayOrder(rs), sampleSalts(rs.length), 4);
      const { lo, hi } = dayWindowRange(PART, from, to);
      const q: Query = {
        kind: AggregateKind.RatioPpm,
        fieldA: 1,
        fieldB: 0,
        lo,
        hi,
        threshold: 0n,
        nonce: 42n,
      };
      const w = rangeWitness(tree, q, partPolicy(3), 7n, 8n);
      const t = truth(rs, from, to);
      expect(w.answer.count).to.equal(t.count);
      expect(w.answer.resultValue).to.equal((1_000_000n * t.reworked) / t.count);
      const witness = await calculateWitness(NAME, w.input);
      expect(await checkWitness(NAME, witness)).to.equal(true);
    });
  }

  it("still refuses a window below k in the circuit", async function () {
    const tree = await buildTree(recordsInDayOrder(rs), sampleSalts(rs.length), 4);
    const { lo, hi } = dayWindowRange(PART, DAY0 + 2, DAY0 + 2);
    const q: Query = {
      kind: AggregateKind.Count,
      fieldA: 0,
      fieldB: 0,
      lo,
      hi,
      threshold: 0n,
      nonce: 1n,
    };
    const t = truth(rs, DAY0 + 2, DAY0 + 2);
    const w = rangeWitness(tree, q, partPolicy(Number(t.count) + 1), 7n, 8n);
    expect(await refusal(calculateWitness(NAME, w.input))).to.equal(
      assertionAt("answer_core.circom", "AnswerCore", "cohortReached === 1;"),
    );
  });
});
