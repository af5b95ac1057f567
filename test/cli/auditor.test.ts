/**
 * The auditor's I/O around the pure reconciliation: re-verifying a logged proof with snarkjs
 * against the built range_d4 verification key (a real proof, made here), and reading a gateway's
 * export from a file with the protocol's schema.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { prove } from "../../circuits/lib/prove.js";
import type { Query } from "../../circuits/lib/query.js";
import {
  AggregateKind,
  bindingOf,
  circuitId,
  policyHash,
  type Policy,
} from "../../circuits/lib/signals.js";
import { buildTree, type TreeRecord } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { versionIdOf } from "../../protocol/contract.js";
import { loadVerificationKeys } from "../../protocol/manifest.js";
import { toSolidityProof } from "../../protocol/proof.js";
import { readExportFile, verifyLoggedProofs } from "../../cli/auditor.js";
import type { ChainLog, LoggedAnswer } from "../../cli/chain-log.js";
import { UserError } from "../../cli/errors.js";
import { reconcile } from "../../cli/reconcile.js";

const CHAIN_ID = 31337n;
const LOG_ADDRESS = "0x00000000000000000000000000000000000000aa";
const CONSUMER = "0x00000000000000000000000000000000000000c1";
const REQUEST = `0x${"ab".repeat(32)}`;
const VERSION = versionIdOf(1n, 1);
const RECORDS: TreeRecord[] = [3n, 8n, 13n, 21n, 34n].map((key, i) => ({
  key,
  values: [BigInt(i + 1), BigInt(100 + i), BigInt(i % 2), 7n],
}));
/** COUNT and SUM of field 1 over keys 3..40, k = 2. */
const POLICY: Policy = {
  aggregateMask: (1 << AggregateKind.Count) | (1 << AggregateKind.Sum),
  fieldMask: 1 << 1,
  filterMask: 0,
  keyLo: 3n,
  keyHi: 40n,
  minCohort: 2,
};
const QUERY: Query = {
  kind: AggregateKind.Sum,
  fieldA: 1,
  fieldB: 0,
  lo: 5n,
  hi: 30n,
  threshold: 0n,
  nonce: 1n,
};

/** One real range_d4 answer of grant 1, logged at block 10, and the log around it. */
async function loggedRealAnswer(): Promise<ChainLog> {
  const tree = await buildTree(RECORDS, [11n, 12n, 13n, 14n, 15n], 4);
  const binding = bindingOf(CHAIN_ID, LOG_ADDRESS, 1n, CONSUMER, REQUEST);
  const w = rangeWitness(tree, QUERY, POLICY, 424242n, binding);
  const { proof, publicSignals } = await prove("range_d4", w.input);
  const signals = publicSignals.map(BigInt);
  const sol = toSolidityProof(proof);
  const pos = (block: number) => ({ block, logIndex: 0, timestamp: 1000 + block, tx: "0x01" });
  const answer: LoggedAnswer = {
    ...pos(10),
    grantId: 1n,
    consumer: CONSUMER,
    requestId: REQUEST,
    versionId: VERSION,
    circuitId: circuitId("range_d4"),
    queryHash: signals[2]!,
    resultCommitment: signals[3]!,
    used: 1,
    proof: { a: [...sol.a], b: sol.b.map((r) => [...r]), c: [...sol.c] },
    publicSignals: signals,
  };
  return {
    chainId: CHAIN_ID,
    address: LOG_ADDRESS,
    fromBlock: 0,
    toBlock: 10,
    grants: [
      {
        ...pos(3),
        type: "issued",
        grantId: 1n,
        assetId: 1n,
        consumer: CONSUMER,
        policyHash: policyHash(POLICY),
        minCohort: POLICY.minCohort,
        validFrom: 0,
        validUntil: 5000,
        quota: 5,
      },
    ],
    versions: [
      {
        ...pos(2),
        assetId: 1n,
        versionId: VERSION,
        number: 1,
        root: tree.root,
        recordCount: BigInt(tree.leafCount),
      },
    ],
    answers: [answer],
  };
}

describe("auditor", function () {
  describe("verifyLoggedProofs", function () {
    let log: ChainLog;
    before(async function () {
      log = await loggedRealAnswer();
    });

    it("finds a real logged proof valid, and the reconciliation then finds nothing", async function () {
      const proofs = await verifyLoggedProofs(log, await loadVerificationKeys());
      expect(proofs(log.answers[0]!)).to.deep.equal({ status: "valid", circuit: "range_d4" });
      const report = reconcile({ log, proofs, generatedAt: "2026-11-25T00:00:00.000Z" });
      expect(report.anomalies).to.deep.equal([]);
      expect(report.counts).to.include({ logEntries: 1, proofsVerified: 1, anomalies: 0 });
    });

    it("finds the proof invalid once its result commitment is changed: INVALID_PROOF", async function () {
      const a = log.answers[0]!;
      const forged = { ...a, publicSignals: a.publicSignals.map((x, i) => (i === 3 ? x + 1n : x)) };
      const forgedLog = { ...log, answers: [forged] };
      const proofs = await verifyLoggedProofs(forgedLog, await loadVerificationKeys());
      expect(proofs(forged)).to.deep.equal({ status: "invalid", circuit: "range_d4" });
      const report = reconcile({ log: forgedLog, proofs, generatedAt: "x" });
      expect(report.anomalies.map((x) => [x.type, x.requestId])).to.deep.equal([
        ["INVALID_PROOF", REQUEST],
      ]);
      expect(report.counts.proofsVerified).to.equal(0);
    });

    it("names the one forged proof among valid ones of the same circuit (one batch, then halves)", async function () {
      const a = log.answers[0]!;
      const forged = { ...a, publicSignals: a.publicSignals.map((x, i) => (i === 4 ? x + 1n : x)) };
      const answers = [a, { ...a }, forged, { ...a }];
      const proofs = await verifyLoggedProofs({ ...log, answers }, await loadVerificationKeys());
      expect(answers.map((x) => proofs(x).status)).to.deep.equal([
        "valid",
        "valid",
        "invalid",
        "valid",
      ]);
    });

    it("has no verdict but unknown-circuit for a circuit without a verification key", async function () {
      const a = { ...log.answers[0]!, circuitId: circuitId("no_such_circuit") };
      const proofs = await verifyLoggedProofs(
        { ...log, answers: [a] },
        await loadVerificationKeys(),
      );
      expect(proofs(a)).to.deep.equal({ status: "unknown-circuit" });
    });
  });

  describe("readExportFile", function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(tmpdir(), "partproof-export-"));
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });
    const exported = {
      partProof: LOG_ADDRESS,
      chainId: "31337",
      exportedAt: "2026-11-25T00:00:00.000Z",
      refusals: [],
      refusalsPerGrant: {},
      answers: [
        {
          requestId: REQUEST,
          grantId: "1",
          consumer: CONSUMER,
          assetId: "1",
          versionId: VERSION.toString(),
          circuitId: circuitId("range_d4"),
          status: "logged",
          query: { kind: 1, fieldA: 1, fieldB: 0, lo: "5", hi: "30", predicates: "0,0,0" },
          cohort: 3,
          logTx: { hash: "0x01", blockNumber: 10 },
        },
      ],
    };

    it("reads an export as the gateway writes it", async function () {
      const file = path.join(dir, "ok.json");
      await writeFile(file, JSON.stringify(exported));
      expect(await readExportFile(file)).to.deep.equal(exported);
    });

    it("refuses an export whose answers are not the protocol's, naming the field", async function () {
      const file = path.join(dir, "bad.json");
      const bad = { ...exported, answers: [{ ...exported.answers[0], cohort: "three" }] };
      await writeFile(file, JSON.stringify(bad));
      const err = await readExportFile(file).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UserError);
      expect((err as Error).message)
        .to.match(/not a gateway's audit export/)
        .and.match(/cohort/);
    });

    it("refuses a file that is not JSON", async function () {
      const file = path.join(dir, "garbage.json");
      await writeFile(file, "{ not json");
      const err = await readExportFile(file).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UserError);
      expect((err as Error).message).to.equal(`export file ${file} cannot be read as JSON`);
    });
  });
});
