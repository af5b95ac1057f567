/**
 * The gateway's prover pool picks its Groth16 prover: the native addon when it is built (the
 * default), snarkjs when asked; both give proofs that verify. range_d4, one child process each.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { buildTree } from "../../circuits/lib/tree.js";
import { loadNativeProver, nativeProverUnavailableReason } from "../../circuits/native/groth16.js";
import { ProverPool, type ProveTask } from "../../gateway/prover/pool.js";
import { storePolicy, storeQuery } from "../../gateway/store/job-codec.js";
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

describe("ProverPool's Groth16 prover", function () {
  let task: ProveTask;
  let vkey: unknown;

  before(async function () {
    requireBuild([WASM, ZKEY, VKEY]);
    if (!loadNativeProver()) throw new Error(`native prover: ${nativeProverUnavailableReason()}`);
    const tree = await buildTree(RECORDS, SALTS, DEPTH);
    task = {
      root: tree.root.toString(),
      records: RECORDS.map((r) => [r.key, ...r.values].map(String)),
      salts: SALTS.map(String),
      depth: DEPTH,
      minMaxField: 3,
      query: storeQuery({
        ...QUERY,
        grantId: 0n,
        assetId: 0n,
        versionId: 0n,
        requestId: "0x" + "00".repeat(32),
        deadline: 0n,
        predicates: [],
      }),
      policy: storePolicy(POLICY),
      blind: "77",
      binding: "88",
    };
    vkey = JSON.parse(readFileSync(VKEY, "utf8"));
  });

  for (const [prover, engine] of [
    [undefined, "native"],
    ["snarkjs", "snarkjs"],
  ] as const) {
    it(`proves with ${engine} when ${prover ? `asked for ${prover}` : "the addon is built"}, and the proof verifies`, async function () {
      const pool = new ProverPool(1, { range: { wasm: WASM, zkey: ZKEY } }, { prover });
      try {
        expect(pool.engine).to.equal(engine);
        expect(pool.engineNote).to.match(engine === "native" ? /native/ : /snarkjs \(asked for\)/);
        const r = await pool.prove(task);
        expect(r.steps.prover).to.equal(engine);
        expect(await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof)).to.equal(true);
      } finally {
        await pool.close();
      }
    });
  }
});
