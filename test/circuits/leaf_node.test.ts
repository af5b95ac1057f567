import { expect } from "chai";
import { poseidon7 } from "poseidon-lite";
import { FIELD_MODULUS } from "../../circuits/lib/signals.js";
import {
  calculateWitness,
  checkWitness,
  ensureCompiled,
  r1csInfo,
} from "../../circuits/lib/testing.js";
import { assertionAt, refusal } from "./helpers.js";

/** The range check that refuses an out-of-range key or value: circomlib Num2Bits' recomposition. */
const RANGE_CHECK = assertionAt("circomlib/circuits/bitify.circom", "Num2Bits", "lc1 === in;");

const NAME = "leaf_node_t";
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

function leaf(
  over: Partial<Record<"key" | "nextKey" | "salt", bigint>> & { values?: bigint[] } = {},
) {
  return { key: 10n, nextKey: 11n, values: [1n, 2n, 3n, 4n], salt: 99n, ...over };
}

describe("LeafNode (leaf_node_t)", function () {
  this.timeout(300_000);

  before(function () {
    ensureCompiled(NAME);
  });

  it("keeps its pinned constraint count", async function () {
    expect((await r1csInfo(NAME)).nConstraints).to.equal(903);
  });

  describe("records", function () {
    it("outputs the Poseidon7 hash, count 1, the values as sums and v[3] as min and max", async function () {
      const l = leaf();
      const w = await calculateWitness(NAME, l);
      expect(w.slice(1, 9)).to.deep.equal([
        poseidon7([l.key, l.nextKey, ...l.values, l.salt]),
        1n,
        1n,
        2n,
        3n,
        4n,
        4n,
        4n,
      ]);
      expect(await checkWitness(NAME, w)).to.equal(true);
    });

    it("accepts values of 2^64 - 1 and keys of 2^128 - 2", async function () {
      const l = leaf({
        key: U128_MAX - 1n,
        nextKey: U128_MAX - 1n,
        values: [U64_MAX, U64_MAX, U64_MAX, U64_MAX],
      });
      const w = await calculateWitness(NAME, l);
      expect(w[7]).to.equal(U64_MAX);
      expect(await checkWitness(NAME, w)).to.equal(true);
    });

    for (let j = 0; j < 4; j++) {
      it(`rejects value ${j} = 2^64`, async function () {
        const values = [1n, 2n, 3n, 4n];
        values[j] = U64_MAX + 1n;
        expect(await refusal(calculateWitness(NAME, leaf({ values })))).to.equal(RANGE_CHECK);
      });
    }

    it("rejects a value of p - 1 (a 'negative' value)", async function () {
      expect(
        await refusal(calculateWitness(NAME, leaf({ values: [FIELD_MODULUS - 1n, 0n, 0n, 0n] }))),
      ).to.equal(RANGE_CHECK);
    });

    it("rejects keys of 2^128 and p - 1", async function () {
      expect(await refusal(calculateWitness(NAME, leaf({ key: U128_MAX + 1n })))).to.equal(
        RANGE_CHECK,
      );
      expect(await refusal(calculateWitness(NAME, leaf({ nextKey: U128_MAX + 1n })))).to.equal(
        RANGE_CHECK,
      );
      expect(await refusal(calculateWitness(NAME, leaf({ key: FIELD_MODULUS - 1n })))).to.equal(
        RANGE_CHECK,
      );
    });
  });

  describe("sentinels", function () {
    for (const key of [0n, U128_MAX]) {
      it(`counts the leaf with key ${key === 0n ? "0" : "2^128 - 1"} as no record`, async function () {
        const w = await calculateWitness(NAME, leaf({ key, values: [5n, 6n, 7n, 8n] }));
        expect(w.slice(2, 9)).to.deep.equal([0n, 0n, 0n, 0n, 0n, U64_MAX, 0n]);
        expect(await checkWitness(NAME, w)).to.equal(true);
      });
    }

    it("fails the constraint check when a sentinel's count is edited to 1", async function () {
      const w = await calculateWitness(NAME, leaf({ key: 0n }));
      const forged = [...w];
      forged[2] = 1n;
      expect(await checkWitness(NAME, forged)).to.equal(false);
    });
  });
});
