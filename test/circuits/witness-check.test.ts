/**
 * The circuit tests' witness check (circuits/lib/testing.ts `checkWitness`, which evaluates the
 * R1CS parsed once) gives snarkjs' `wtns check` verdict: on an honest witness, and on witnesses
 * edited at a private signal, a public signal and the constant.
 */
import { expect } from "chai";
import {
  calculateWitness,
  checkWitness,
  checkWitnessWithSnarkjs,
  signalIndex,
} from "../../circuits/lib/testing.js";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { buildTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { openPolicy, sampleRecords, sampleSalts } from "./helpers.js";

const NAME = "range_d4";

describe("circuit tests' witness check (range_d4)", function () {
  let honest: bigint[];

  before(async function () {
    const records = sampleRecords();
    const tree = await buildTree(records, sampleSalts(records.length), 4);
    const query = {
      kind: AggregateKind.Sum,
      fieldA: 1,
      fieldB: 0,
      lo: 3n,
      hi: 40n,
      threshold: 0n,
      nonce: 9n,
    };
    honest = await calculateWitness(NAME, rangeWitness(tree, query, openPolicy(), 1n, 2n).input);
  });

  const edits: [string, (w: bigint[]) => void][] = [
    ["none (the honest witness)", () => {}],
    [
      "a private signal (the opened leaf's key) plus one",
      (w) => void (w[signalIndex(NAME, "main.aKey")]! += 1n),
    ],
    ["a public signal (the root) plus one", (w) => void (w[1]! += 1n)],
    ["the constant signal set to 2", (w) => void (w[0] = 2n)],
    ["a private signal set to p − 1", (w) => void (w[signalIndex(NAME, "main.aIndex")] = -1n)],
  ];
  for (const [what, edit] of edits) {
    it(`agrees with snarkjs' wtns check on a witness edited at ${what}`, async function () {
      const w = [...honest];
      edit(w);
      const ours = await checkWitness(NAME, w);
      expect(ours).to.equal(await checkWitnessWithSnarkjs(NAME, w));
      expect(ours).to.equal(what.startsWith("none"));
    });
  }

  it("refuses a witness shorter than the circuit's signals", async function () {
    let error: Error | undefined;
    try {
      await checkWitness(NAME, honest.slice(0, -1));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/the witness has \d+ values, .* has \d+ signals/);
  });
});
