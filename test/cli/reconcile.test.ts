/**
 * The auditor's reconciliation as a pure function, on made-up chain logs and gateway exports:
 * every anomaly kind it defines is raised by a log that breaks exactly the one rule it names,
 * and a log that breaks none gives none. Proof verification is injected as verdicts (real proofs
 * are re-verified by cli/auditor.ts; the e2e story runs that path).
 */
import { expect } from "chai";
import { bindingOf, circuitId } from "../../circuits/lib/signals.js";
import { auditExportSchema, type AuditExport } from "../../protocol/api.js";
import { versionIdOf } from "../../protocol/contract.js";
import type { ChainLog, GrantEvent, LoggedAnswer, VersionEvent } from "../../cli/chain-log.js";
import {
  ANOMALY_TYPES,
  reconcile,
  servedAnswers,
  type AnomalyType,
  type AuditReport,
  type ProofVerdicts,
} from "../../cli/reconcile.js";

const CHAIN_ID = 31337n;
const LOG_ADDRESS = "0x00000000000000000000000000000000000000aa";
const CONSUMER = "0x00000000000000000000000000000000000000c1";
const OTHER_CONSUMER = "0x00000000000000000000000000000000000000c2";
const CIRCUIT = circuitId("range_d4");
const GENERATED_AT = "2026-11-25T12:00:00.000Z";

const ASSET = 1n;
const OTHER_ASSET = 2n;
const V1 = versionIdOf(ASSET, 1);
const V2 = versionIdOf(ASSET, 2);
const V_OTHER = versionIdOf(OTHER_ASSET, 1);
const ROOTS = new Map([
  [V1, 1111n],
  [V2, 2222n],
  [V_OTHER, 3333n],
]);
const GRANT = 1n;
const POLICY_HASH = 777n;
const K = 3;

/** A request id: 0x + 64 hex digits ending in n. */
const req = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

/** Chain position at block b (timestamps 1000 + 10·b). */
const at = (block: number, logIndex = 0) => ({
  block,
  logIndex,
  timestamp: 1000 + 10 * block,
  tx: `0x${block.toString(16).padStart(64, "0")}`,
});

function version(versionId: bigint, block: number): VersionEvent {
  const assetId = versionId >> 64n;
  return {
    ...at(block),
    assetId,
    versionId,
    number: Number(versionId & 0xffffffffffffffffn),
    root: ROOTS.get(versionId)!,
    recordCount: 14n,
  };
}

/** A grant issued (or, with `type: "requested"`, requested) by an owner. */
type GrantOpened = Extract<GrantEvent, { assetId: bigint }>;

/** Grant 1 for CONSUMER on ASSET, issued at block 3, unless `over` changes something. */
function issued(over: Partial<GrantOpened> = {}): GrantOpened {
  return {
    ...at(3),
    type: "issued",
    grantId: GRANT,
    assetId: ASSET,
    consumer: CONSUMER,
    policyHash: POLICY_HASH,
    minCohort: K,
    validFrom: 0,
    validUntil: 2000,
    quota: 10,
    ...over,
  };
}

/**
 * A logged answer that is right in every respect (signals bound to the grant's consumer, the
 * grant's policy hash, the version's root) unless `over` changes something.
 */
function answer(
  n: number,
  block: number,
  over: Partial<LoggedAnswer> & { versionId?: bigint } = {},
): LoggedAnswer {
  const grantId = over.grantId ?? GRANT;
  const versionId = over.versionId ?? V1;
  const requestId = over.requestId ?? req(n);
  return {
    ...at(block),
    grantId,
    consumer: CONSUMER,
    requestId,
    versionId,
    circuitId: CIRCUIT,
    queryHash: 10n + BigInt(n),
    resultCommitment: 20n + BigInt(n),
    used: n,
    proof: {
      a: [1n, 2n],
      b: [
        [3n, 4n],
        [5n, 6n],
      ],
      c: [7n, 8n],
    },
    publicSignals: [
      ROOTS.get(versionId) ?? 0n,
      POLICY_HASH,
      10n + BigInt(n),
      20n + BigInt(n),
      bindingOf(CHAIN_ID, LOG_ADDRESS, grantId, CONSUMER, requestId),
    ],
    ...over,
  };
}

/** A log of versions V1 (block 2) and V_OTHER (block 2), grant 1 issued (block 3), and `answers`. */
function logOf(
  answers: LoggedAnswer[],
  extra: { grants?: GrantEvent[]; versions?: VersionEvent[] } = {},
): ChainLog {
  return {
    chainId: CHAIN_ID,
    address: LOG_ADDRESS,
    fromBlock: 0,
    toBlock: 100,
    grants: [issued(), ...(extra.grants ?? [])],
    versions: [version(V1, 2), version(V_OTHER, 2), ...(extra.versions ?? [])],
    answers,
  };
}

const allValid: ProofVerdicts = () => ({ status: "valid", circuit: "range_d4" });

/** A gateway's export entry for a logged answer: a range count over [lo, hi] with a cohort. */
function served(
  a: Pick<LoggedAnswer, "requestId" | "grantId" | "versionId" | "consumer">,
  q: { lo: number; hi: number; cohort: number; kind?: number },
  over: Partial<AuditExport["answers"][number]> = {},
): AuditExport["answers"][number] {
  return {
    requestId: a.requestId,
    grantId: a.grantId.toString(),
    consumer: a.consumer,
    assetId: (a.versionId >> 64n).toString(),
    versionId: a.versionId.toString(),
    circuitId: CIRCUIT,
    status: "logged",
    query: {
      kind: q.kind ?? 0,
      fieldA: 0,
      fieldB: 0,
      lo: String(q.lo),
      hi: String(q.hi),
      predicates: "0,0,0",
    },
    cohort: q.cohort,
    logTx: { hash: at(9).tx, blockNumber: 9 },
    ...over,
  };
}

/** The export as a gateway sends it, checked against the protocol's schema. */
function exportOf(answers: AuditExport["answers"]): AuditExport {
  return auditExportSchema.parse({
    partProof: LOG_ADDRESS,
    chainId: CHAIN_ID.toString(),
    exportedAt: GENERATED_AT,
    answers,
    refusals: [],
    refusalsPerGrant: {},
  });
}

const seen = new Set<AnomalyType>();

/** Runs the reconciliation and returns its report and its findings as [type, request id]. */
function run(
  log: ChainLog,
  opts: { proofs?: ProofVerdicts; exported?: AuditExport["answers"] } = {},
): { report: AuditReport; found: [AnomalyType, string | undefined][] } {
  const report = reconcile({
    log,
    proofs: opts.proofs ?? allValid,
    served: opts.exported ? servedAnswers(exportOf(opts.exported)) : undefined,
    generatedAt: GENERATED_AT,
  });
  for (const a of report.anomalies) seen.add(a.type);
  expect(report.counts.anomalies).to.equal(report.anomalies.length);
  return { report, found: report.anomalies.map((a) => [a.type, a.requestId]) };
}

describe("reconcile (the auditor's pure reconciliation)", function () {
  describe("a clean log", function () {
    it("finds nothing when every entry is valid, granted, in window, in quota and served once", function () {
      const a1 = answer(1, 10);
      const a2 = answer(2, 11, { versionId: V2 });
      const log = logOf([a1, a2], { versions: [version(V2, 5)] });
      const { report, found } = run(log, {
        exported: [
          served(a1, { lo: 0, hi: 100, cohort: 20 }),
          served(a2, { lo: 0, hi: 100, cohort: 24 }), // another version: never a pair
        ],
      });
      expect(found).to.deep.equal([]);
      expect(report.counts).to.deep.equal({
        logEntries: 2,
        proofsVerified: 2,
        grants: 1,
        versions: 3,
        computed: 2,
        served: 2,
        computedNotLogged: 0,
        failed: 0,
        anomalies: 0,
      });
      expect(report.perConsumer).to.deep.equal([
        { consumer: CONSUMER, answers: 2, grants: 1, anomalies: 0 },
      ]);
      expect(report.perAsset).to.deep.equal([
        { assetId: "1", versions: 2, answers: 2, anomalies: 0 },
        { assetId: "2", versions: 1, answers: 0, anomalies: 0 },
      ]);
      expect(report).to.include({
        chainId: "31337",
        contract: LOG_ADDRESS,
        fromBlock: 0,
        toBlock: 100,
        generatedAt: GENERATED_AT,
      });
    });

    it("leaves out the served count when no export is given", function () {
      const { report, found } = run(logOf([answer(1, 10)]));
      expect(found).to.deep.equal([]);
      expect(report.counts).to.not.have.property("served");
    });

    it("gives the same report twice for the same input (no hidden state, no clock)", function () {
      const log = logOf([answer(1, 10), answer(2, 11)], { grants: [] });
      const first = run(log).report;
      expect(run(log).report).to.deep.equal(first);
    });
  });

  describe("proofs", function () {
    it("flags INVALID_PROOF for an entry whose proof does not verify, and counts only the others", function () {
      const [a1, a2] = [answer(1, 10), answer(2, 11)];
      const { report, found } = run(logOf([a1, a2]), {
        proofs: (a) => ({ status: a === a2 ? "invalid" : "valid", circuit: "range_d4" }),
      });
      expect(found).to.deep.equal([["INVALID_PROOF", req(2)]]);
      expect(report.anomalies[0]!.detail).to.equal("the range_d4 proof does not verify off-chain");
      expect(report.counts).to.include({ logEntries: 2, proofsVerified: 1, anomalies: 1 });
    });

    it("flags UNKNOWN_CIRCUIT for an entry of a circuit without a verification key", function () {
      const a1 = answer(1, 10, { circuitId: circuitId("not_built") });
      const { report, found } = run(logOf([a1]), {
        proofs: (a) =>
          a.circuitId === CIRCUIT
            ? { status: "valid", circuit: "range_d4" }
            : { status: "unknown-circuit" },
      });
      expect(found).to.deep.equal([["UNKNOWN_CIRCUIT", req(1)]]);
      expect(report.anomalies[0]!.detail).to.contain(circuitId("not_built"));
      expect(report.counts).to.include({ logEntries: 1, proofsVerified: 0, anomalies: 1 });
    });
  });

  describe("grants, replayed in chain order", function () {
    it("flags GRANT_NOT_ACTIVE for an entry under a grant id that was never issued", function () {
      const { report, found } = run(logOf([answer(1, 10, { grantId: 9n })]));
      expect(found).to.deep.equal([["GRANT_NOT_ACTIVE", req(1)]]);
      expect(report.anomalies[0]).to.include({ grantId: "9", consumer: CONSUMER });
      expect(report.counts).to.include({ grants: 1, anomalies: 1 });
    });

    it("flags GRANT_NOT_ACTIVE for an entry after the revocation, not the one before", function () {
      const revoked: GrantEvent = { ...at(11), type: "revoked", grantId: GRANT };
      const { report, found } = run(logOf([answer(1, 10), answer(2, 12)], { grants: [revoked] }));
      expect(found).to.deep.equal([["GRANT_NOT_ACTIVE", req(2)]]);
      expect(report.anomalies[0]!.detail).to.equal("grant was revoked at block 12");
    });

    it("flags GRANT_NOT_ACTIVE for an entry under a requested grant before its approval, not after", function () {
      const log = logOf([answer(1, 10), answer(2, 12)], {
        grants: [{ ...at(11), type: "approved", grantId: GRANT }],
      });
      log.grants[0] = issued({ type: "requested" });
      const { found } = run(log);
      expect(found).to.deep.equal([["GRANT_NOT_ACTIVE", req(1)]]);
    });

    it("flags GRANT_NOT_ACTIVE for an entry under a rejected grant", function () {
      const log = logOf([answer(1, 10)], {
        grants: [{ ...at(4), type: "rejected", grantId: GRANT }],
      });
      log.grants[0] = issued({ type: "requested" });
      const { report, found } = run(log);
      expect(found).to.deep.equal([["GRANT_NOT_ACTIVE", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal("grant was rejected at block 10");
    });

    it("flags OUTSIDE_WINDOW for an entry logged after the grant's end of validity", function () {
      // block 10 is at 1100 s; the grant ends at 1090 s
      const log = logOf([answer(1, 10)]);
      log.grants[0] = issued({ validUntil: 1090 });
      const { report, found } = run(log);
      expect(found).to.deep.equal([["OUTSIDE_WINDOW", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal("logged at 1100, grant valid 0..1090");
    });

    it("flags OUTSIDE_WINDOW for an entry logged before the grant's start", function () {
      const log = logOf([answer(1, 10)]);
      log.grants[0] = issued({ validFrom: 1101 });
      expect(run(log).found).to.deep.equal([["OUTSIDE_WINDOW", req(1)]]);
    });

    it("flags OUTSIDE_WINDOW after an expiry update shortened the window", function () {
      const shortened: GrantEvent = {
        ...at(5),
        type: "expiry",
        grantId: GRANT,
        newValidUntil: 1105,
      };
      const { found } = run(logOf([answer(1, 10), answer(2, 11)], { grants: [shortened] }));
      expect(found).to.deep.equal([["OUTSIDE_WINDOW", req(2)]]); // 1100 in, 1110 out
    });

    it("flags QUOTA_EXCEEDED for the entry past the quota, and not after a quota raise", function () {
      const log = logOf([answer(1, 10), answer(2, 11), answer(3, 13)], {
        grants: [{ ...at(12), type: "quota", grantId: GRANT, newQuota: 3 }],
      });
      log.grants[0] = issued({ quota: 1 });
      const { report, found } = run(log);
      expect(found).to.deep.equal([["QUOTA_EXCEEDED", req(2)]]);
      expect(report.anomalies[0]!.detail).to.equal("answer 2 of a quota of 1");
    });
  });

  describe("versions", function () {
    it("flags UNKNOWN_VERSION for an entry over a version id never published", function () {
      const log = logOf([answer(1, 10, { versionId: V2 })]);
      const { report, found } = run(log);
      expect(found).to.deep.equal([["UNKNOWN_VERSION", req(1)]]);
      expect(report.counts).to.include({ versions: 2, anomalies: 1 });
    });

    it("flags UNKNOWN_VERSION for an entry logged before its version was published", function () {
      const { found } = run(
        logOf([answer(1, 10, { versionId: V2 })], { versions: [version(V2, 11)] }),
      );
      expect(found).to.deep.equal([["UNKNOWN_VERSION", req(1)]]);
    });

    it("flags VERSION_OF_OTHER_ASSET for an entry over another asset's version", function () {
      const { report, found } = run(logOf([answer(1, 10, { versionId: V_OTHER })]));
      expect(found).to.deep.equal([["VERSION_OF_OTHER_ASSET", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal("version of asset 2, grant for asset 1");
    });

    it("flags ROOT_MISMATCH for a proof over another root than the version's", function () {
      const a = answer(1, 10);
      a.publicSignals[0] = ROOTS.get(V2)!;
      expect(run(logOf([a])).found).to.deep.equal([["ROOT_MISMATCH", req(1)]]);
    });
  });

  describe("policy and binding", function () {
    it("flags POLICY_MISMATCH for a proof made under another policy than the grant's", function () {
      const a = answer(1, 10);
      a.publicSignals[1] = POLICY_HASH + 1n;
      expect(run(logOf([a])).found).to.deep.equal([["POLICY_MISMATCH", req(1)]]);
    });

    it("flags BINDING_MISMATCH for an entry logged in another consumer's name", function () {
      const { report, found } = run(logOf([answer(1, 10, { consumer: OTHER_CONSUMER })]));
      expect(found).to.deep.equal([["BINDING_MISMATCH", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal(
        `event consumer ${OTHER_CONSUMER} is not the grant's ${CONSUMER}`,
      );
      expect(report.perConsumer).to.deep.include({
        consumer: OTHER_CONSUMER,
        answers: 1,
        grants: 0,
        anomalies: 1,
      });
    });

    it("flags BINDING_MISMATCH for a proof bound to another deployment", function () {
      const a = answer(1, 10);
      a.publicSignals[4] = bindingOf(1n, LOG_ADDRESS, GRANT, CONSUMER, a.requestId);
      const { report, found } = run(logOf([a]));
      expect(found).to.deep.equal([["BINDING_MISMATCH", req(1)]]);
      expect(report.anomalies[0]!.detail).to.contain("not bound to this deployment");
    });

    it("flags DUPLICATE_REQUEST for a request id logged twice", function () {
      const { report, found } = run(logOf([answer(1, 10), answer(1, 11)]));
      expect(found).to.deep.equal([["DUPLICATE_REQUEST", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal("request id logged twice");
      expect(report.counts).to.include({ logEntries: 2, proofsVerified: 2, anomalies: 1 });
    });
  });

  describe("the gateways' exports", function () {
    it("flags SERVED_NOT_LOGGED for an answer served but not logged", function () {
      const a1 = answer(1, 10);
      const unlogged = { ...a1, requestId: req(5) };
      const { report, found } = run(logOf([a1]), {
        exported: [
          served(a1, { lo: 0, hi: 50, cohort: 10 }),
          served(unlogged, { lo: 60, hi: 90, cohort: 10 }),
        ],
      });
      expect(found).to.deep.equal([["SERVED_NOT_LOGGED", req(5)]]);
      expect(report.counts).to.include({ logEntries: 1, served: 2, anomalies: 1 });
    });

    it("flags COMPUTED_NOT_LOGGED and counts a proved job waiting for the log and one that failed after proving, and pairs neither", function () {
      const a1 = answer(1, 10);
      const waiting = { ...a1, requestId: req(6) };
      const refused = { ...a1, requestId: req(7) };
      const error = { code: "CHAIN_REFUSED", message: "the access log refused the answer" };
      const { report, found } = run(logOf([a1]), {
        exported: [
          served(a1, { lo: 0, hi: 50, cohort: 10 }),
          // nested in a1's range one record apart: a pair only if both had been served
          served(waiting, { lo: 0, hi: 49, cohort: 9 }, { status: "proved", logTx: null }),
          served(refused, { lo: 0, hi: 48, cohort: 8 }, { status: "failed", logTx: null, error }),
        ],
      });
      expect(found).to.deep.equal([
        ["COMPUTED_NOT_LOGGED", req(6)],
        ["COMPUTED_NOT_LOGGED", req(7)],
      ]);
      expect(report.anomalies[1]!.detail).to.contain("failed: CHAIN_REFUSED");
      expect(report.counts).to.include({
        logEntries: 1,
        computed: 3,
        served: 1,
        computedNotLogged: 2,
        failed: 1,
      });
    });

    it("matches exports to entries by grant and request id: another grant's entry under the same request id does not count", function () {
      const a1 = answer(1, 10);
      const squat = answer(1, 9, { grantId: GRANT + 1n, used: 1 });
      const { found } = run(logOf([squat, a1]), {
        exported: [served(a1, { lo: 0, hi: 50, cohort: 10 })],
      });
      // the squatter's entry is not the export's answer; no DUPLICATE_REQUEST across grants
      expect(found.map(([t]) => t)).to.not.include("DUPLICATE_REQUEST");
      expect(found.filter(([t]) => t.endsWith("_SERVED") || t.startsWith("SERVED"))).to.deep.equal([
        ["LOGGED_NOT_SERVED", req(1)],
      ]);
    });

    it("flags LOGGED_NOT_SERVED for a log entry missing from the export", function () {
      const [a1, a2] = [answer(1, 10), answer(2, 11)];
      const { report, found } = run(logOf([a1, a2]), {
        exported: [served(a1, { lo: 0, hi: 50, cohort: 10 })],
      });
      expect(found).to.deep.equal([["LOGGED_NOT_SERVED", req(2)]]);
      expect(report.counts).to.include({ logEntries: 2, served: 1, anomalies: 1 });
    });

    it("flags SERVED_MISMATCH for an answer served for another version than it was logged for", function () {
      const a1 = answer(1, 10);
      const { report, found } = run(logOf([a1]), {
        exported: [served({ ...a1, versionId: V2 }, { lo: 0, hi: 50, cohort: 10 })],
      });
      expect(found).to.deep.equal([["SERVED_MISMATCH", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal(
        `served for grant 1 version ${V2}, logged for grant 1 version ${V1}`,
      );
    });

    it("flags DUPLICATE_REQUEST for an answer served twice", function () {
      const a1 = answer(1, 10);
      const row = served(a1, { lo: 0, hi: 50, cohort: 10 });
      const { report, found } = run(logOf([a1]), { exported: [row, row] });
      expect(found).to.deep.equal([["DUPLICATE_REQUEST", req(1)]]);
      expect(report.anomalies[0]!.detail).to.equal("served twice by the gateway");
    });

    it("flags DIFFERENCING_PAIR for nested ranges whose cohorts differ by fewer than k records", function () {
      const [a1, a2] = [answer(1, 10), answer(2, 11)];
      const { report, found } = run(logOf([a1, a2]), {
        exported: [
          served(a1, { lo: 0, hi: 50, cohort: 10 }),
          served(a2, { lo: 0, hi: 55, cohort: 12 }),
        ],
      });
      expect(found).to.deep.equal([["DIFFERENCING_PAIR", `${req(1)},${req(2)}`]]);
      expect(report.anomalies[0]!.detail).to.equal(
        `nested ranges whose cohorts (10, 12) differ by 2 < k = ${K} records`,
      );
      expect(report.perConsumer).to.deep.equal([
        { consumer: CONSUMER, answers: 2, grants: 1, anomalies: 1 },
      ]);
      expect(report.perAsset[0]).to.deep.equal({
        assetId: "1",
        versions: 1,
        answers: 2,
        anomalies: 1,
      });
    });

    it("does not pair answers k records apart, disjoint ranges, other kinds or other consumers", function () {
      const answers = [1, 2, 3, 4, 5].map((n) => answer(n, 9 + n));
      const log = logOf(answers);
      const { found } = run(log, {
        exported: [
          served(answers[0]!, { lo: 0, hi: 50, cohort: 10 }),
          served(answers[1]!, { lo: 0, hi: 50, cohort: 10 + K }), // k apart: allowed
          served(answers[2]!, { lo: 51, hi: 52, cohort: 11 }), // disjoint from both
          served(answers[3]!, { lo: 0, hi: 51, cohort: 11, kind: 1 }), // a SUM, not a COUNT
          served({ ...answers[4]!, consumer: OTHER_CONSUMER }, { lo: 0, hi: 51, cohort: 11 }),
        ],
      });
      expect(found).to.deep.equal([]);
    });
  });

  // Mocha runs a suite's own tests before its nested suites: this one is last as a suite of its own.
  describe("coverage", function () {
    it("raises every anomaly kind it defines in the tests above", function () {
      expect([...seen].sort()).to.deep.equal([...ANOMALY_TYPES].sort());
      expect(ANOMALY_TYPES).to.have.length(16);
    });
  });
});
