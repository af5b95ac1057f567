/**
 * The auditor's reconciliation, as a pure function of data: the chain log (chain-log.ts), the
 * verdict on each logged proof, and the gateways' exports of served answers. No chain, no
 * network, no file and no clock: the same input gives the same report.
 *
 * Every logged answer is checked against the grant as it stood at that point of the chain
 * (replayed from the grant events in chain order, so "active at that block" holds without an
 * archive node: active, inside its window, quota not exceeded), against the version's registered
 * root, the grant's policy hash and the binding to deployment, grant, consumer and request id;
 * request ids must be unique per grant (as the contract keys them). Given the gateways' exports
 * (every job that computed an answer, with its status), every answer a gateway says it served
 * (status logged) must have exactly one log entry and vice versa, every computed answer without a
 * log entry (proved and waiting, or failed after proving) is counted and flagged, and query pairs
 * of one consumer whose record sets differ by fewer than the grant's k records (a differencing
 * attack on the cohort floor) are flagged.
 */
import { bindingOf, SIGNAL_INDEX } from "../circuits/lib/signals.js";
import type { AuditExport } from "../protocol/api.js";
import type { ChainLog, ChainPos, GrantEvent, LoggedAnswer, VersionEvent } from "./chain-log.js";

/** Every kind of finding, each with the check that raises it. */
export const ANOMALY_TYPES = [
  /** The logged proof does not verify against its circuit's verification key. */
  "INVALID_PROOF",
  /** No verification key is known for the logged circuit id. */
  "UNKNOWN_CIRCUIT",
  /** The grant did not exist, or was requested, rejected or revoked, when the answer was logged. */
  "GRANT_NOT_ACTIVE",
  /** The answer was logged outside the grant's validity window. */
  "OUTSIDE_WINDOW",
  /** The answer was one more than the grant's quota. */
  "QUOTA_EXCEEDED",
  /** The version was not published before the answer was logged. */
  "UNKNOWN_VERSION",
  /** The version belongs to another asset than the grant. */
  "VERSION_OF_OTHER_ASSET",
  /** The proof's root is not the version's registered root. */
  "ROOT_MISMATCH",
  /** The proof's policy hash is not the grant's. */
  "POLICY_MISMATCH",
  /** The event's consumer is not the grant's, or the proof is bound to another deployment, grant, consumer or request. */
  "BINDING_MISMATCH",
  /** A grant's request id logged twice, or exported twice by a gateway. */
  "DUPLICATE_REQUEST",
  /** A gateway says it served (logged) an answer that has no log entry in the audited range. */
  "SERVED_NOT_LOGGED",
  /**
   * A gateway computed an answer that has no log entry: proved and waiting for the relayer, or
   * failed after proving (e.g. the grant was revoked first). An honest gateway withheld it; the
   * grant was not charged.
   */
  "COMPUTED_NOT_LOGGED",
  /** A log entry that no gateway export lists. */
  "LOGGED_NOT_SERVED",
  /** A served answer whose grant or version differs from its log entry's. */
  "SERVED_MISMATCH",
  /** Two nested-range answers of one consumer whose cohorts differ by 1..k−1 records. */
  "DIFFERENCING_PAIR",
] as const;

/** A kind of finding. */
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

/** One answer a gateway computed (its export for auditors), whatever became of it. */
export interface ServedAnswer {
  /** proved (waiting for the log), logged (served), failed (after proving); absent: logged. */
  status?: "queued" | "proving" | "proved" | "logged" | "failed";
  /** Why a failed job failed, as the gateway says. */
  error?: { code: string; message: string } | null;
  requestId: string;
  grantId: bigint;
  consumer: string;
  assetId: bigint;
  versionId: bigint;
  /** Aggregate kind and fields: pairs are compared only within the same question shape. */
  kind: number;
  fieldA: number;
  fieldB: number;
  /** Index-key range of the query. */
  lo: bigint;
  hi: bigint;
  /** Number of records the answer covers (its cohort). */
  cohort: number;
  /** Predicates of a scan query (none for a range query), as a canonical string. */
  filter?: string;
}

/** One finding of the reconciliation. */
export interface Anomaly {
  type: AnomalyType;
  requestId?: string;
  grantId?: string;
  consumer?: string;
  detail: string;
}

/** The auditor's report. */
export interface AuditReport {
  chainId: string;
  contract: string;
  fromBlock: number;
  toBlock: number;
  generatedAt: string;
  counts: {
    logEntries: number;
    proofsVerified: number;
    grants: number;
    versions: number;
    /** Answers the exports list as computed (any status). */
    computed?: number;
    /** Of those, answers the gateways say they served (status logged). */
    served?: number;
    /** Computed answers without a log entry (COMPUTED_NOT_LOGGED), and of those the failed ones. */
    computedNotLogged?: number;
    failed?: number;
    anomalies: number;
  };
  anomalies: Anomaly[];
  perConsumer: { consumer: string; answers: number; grants: number; anomalies: number }[];
  perAsset: { assetId: string; versions: number; answers: number; anomalies: number }[];
}

/** What re-verifying one logged proof off-chain found (auditor.ts computes it with snarkjs). */
export type ProofVerdict =
  { status: "valid" | "invalid"; circuit: string } | { status: "unknown-circuit" };

/** The verdict on a logged answer's proof. */
export type ProofVerdicts = (answer: LoggedAnswer) => ProofVerdict;

/** What {@link reconcile} works on: data only. */
export interface ReconcileInput {
  /** The access log of the audited block range. */
  log: ChainLog;
  /** The verdict on each logged proof (verifying is slow and asynchronous, so it comes first). */
  proofs: ProofVerdicts;
  /** The answers the gateways computed (their exports), when the auditor has them. */
  served?: ServedAnswer[];
  /** When the report is made (ISO-8601): the caller's clock, so that the result is reproducible. */
  generatedAt: string;
}

/** A grant as replayed from its events. */
interface GrantState {
  assetId: bigint;
  consumer: string;
  policyHash: bigint;
  minCohort: number;
  status: "requested" | "active" | "rejected" | "revoked";
  validFrom: number;
  validUntil: number;
  quota: number;
  used: number;
}

type Grants = Map<string, GrantState>;

const order = (a: ChainPos, b: ChainPos) => a.block - b.block || a.logIndex - b.logIndex;

/** Reconciles the access log (and, when given, the gateways' served answers) into a report. */
export function reconcile(input: ReconcileInput): AuditReport {
  const { log, served } = input;
  const anomalies: Anomaly[] = [];
  const grants: Grants = new Map();
  const versions = new Map<string, VersionEvent>();
  for (const v of log.versions) versions.set(v.versionId.toString(), v);

  type Item = { kind: "grant"; e: GrantEvent } | { kind: "answer"; e: LoggedAnswer };
  const items: Item[] = [
    ...log.grants.map((e) => ({ kind: "grant" as const, e })),
    ...log.answers.map((e) => ({ kind: "answer" as const, e })),
  ].sort((x, y) => order(x.e, y.e));

  const seenRequests = new Set<string>();
  let proofsVerified = 0;
  for (const item of items) {
    if (item.kind === "grant") {
      applyGrantEvent(grants, item.e);
      continue;
    }
    const a = item.e;
    const flag = (type: AnomalyType, detail: string) =>
      anomalies.push({ type, ...tagOf(a), detail });
    if (seenRequests.has(keyOf(a))) flag("DUPLICATE_REQUEST", "request id logged twice");
    seenRequests.add(keyOf(a));
    if (checkProof(input.proofs(a), a, flag)) proofsVerified++;
    checkGrant(log, grants.get(a.grantId.toString()), a, flag);
    checkVersion(versions.get(a.versionId.toString()), grants.get(a.grantId.toString()), a, flag);
  }
  if (served) anomalies.push(...reconcileServed(log, served, grants));

  return {
    chainId: log.chainId.toString(),
    contract: log.address,
    fromBlock: log.fromBlock,
    toBlock: log.toBlock,
    generatedAt: input.generatedAt,
    counts: {
      logEntries: log.answers.length,
      proofsVerified,
      grants: grants.size,
      versions: log.versions.length,
      ...(served
        ? {
            computed: served.length,
            served: served.filter(isServed).length,
            computedNotLogged: anomalies.filter((a) => a.type === "COMPUTED_NOT_LOGGED").length,
            failed: served.filter((s) => s.status === "failed").length,
          }
        : {}),
      anomalies: anomalies.length,
    },
    anomalies,
    perConsumer: perConsumer(log, grants, anomalies),
    perAsset: perAsset(log, grants, anomalies),
  };
}

type Flag = (type: AnomalyType, detail: string) => void;

/** A request is unique per grant (the contract's key). */
const keyOf = (a: { grantId: bigint; requestId: string }) =>
  `${a.grantId}|${a.requestId.toLowerCase()}`;

/** Whether the gateway says the answer left it (logged; exports without status: all were). */
const isServed = (s: ServedAnswer) => s.status === undefined || s.status === "logged";

const tagOf = (a: { requestId: string; grantId: bigint; consumer: string }) => ({
  requestId: a.requestId,
  grantId: a.grantId.toString(),
  consumer: a.consumer,
});

/** Flags a proof that is invalid or of an unknown circuit; true when it verified. */
function checkProof(verdict: ProofVerdict, a: LoggedAnswer, flag: Flag): boolean {
  if (verdict.status === "unknown-circuit") {
    flag("UNKNOWN_CIRCUIT", `no verification key for circuit ${a.circuitId}`);
    return false;
  }
  if (verdict.status === "invalid") {
    flag("INVALID_PROOF", `the ${verdict.circuit} proof does not verify off-chain`);
    return false;
  }
  return true;
}

/** Checks an answer against its grant as it stood then, and counts it against the quota. */
function checkGrant(log: ChainLog, g: GrantState | undefined, a: LoggedAnswer, flag: Flag) {
  if (!g) {
    flag("GRANT_NOT_ACTIVE", "no grant with this id before the entry");
    return;
  }
  if (g.status !== "active") flag("GRANT_NOT_ACTIVE", `grant was ${g.status} at block ${a.block}`);
  if (a.timestamp < g.validFrom || a.timestamp > g.validUntil) {
    flag("OUTSIDE_WINDOW", `logged at ${a.timestamp}, grant valid ${g.validFrom}..${g.validUntil}`);
  }
  g.used++;
  if (g.used > g.quota) flag("QUOTA_EXCEEDED", `answer ${g.used} of a quota of ${g.quota}`);
  if (g.consumer.toLowerCase() !== a.consumer.toLowerCase()) {
    flag("BINDING_MISMATCH", `event consumer ${a.consumer} is not the grant's ${g.consumer}`);
  }
  if (a.publicSignals[SIGNAL_INDEX.policyHash] !== g.policyHash) {
    flag("POLICY_MISMATCH", "the proof's policy hash is not the grant's");
  }
  const binding = bindingOf(log.chainId, log.address, a.grantId, g.consumer, a.requestId);
  if (a.publicSignals[SIGNAL_INDEX.binding] !== binding) {
    flag(
      "BINDING_MISMATCH",
      "the proof is not bound to this deployment, grant, consumer and request",
    );
  }
}

/** Checks an answer's version: published before it, of the grant's asset, with the proof's root. */
function checkVersion(
  v: VersionEvent | undefined,
  g: GrantState | undefined,
  a: LoggedAnswer,
  flag: Flag,
) {
  if (!v || order(v, a) > 0) {
    flag("UNKNOWN_VERSION", `version ${a.versionId} was not published before the entry`);
    return;
  }
  if (g && v.assetId !== g.assetId) {
    flag("VERSION_OF_OTHER_ASSET", `version of asset ${v.assetId}, grant for asset ${g.assetId}`);
  }
  if (a.publicSignals[SIGNAL_INDEX.root] !== v.root) {
    flag("ROOT_MISMATCH", "the proof's root is not the version's");
  }
}

function applyGrantEvent(grants: Grants, e: GrantEvent): void {
  const id = e.grantId.toString();
  if (e.type === "issued" || e.type === "requested") {
    grants.set(id, {
      assetId: e.assetId,
      consumer: e.consumer,
      policyHash: e.policyHash,
      minCohort: e.minCohort,
      status: e.type === "issued" ? "active" : "requested",
      validFrom: e.validFrom,
      validUntil: e.validUntil,
      quota: e.quota,
      used: 0,
    });
    return;
  }
  const g = grants.get(id);
  if (!g) return;
  if (e.type === "approved") g.status = "active";
  else if (e.type === "rejected") g.status = "rejected";
  else if (e.type === "revoked") g.status = "revoked";
  else if (e.type === "quota") g.quota = e.newQuota;
  else if (e.type === "expiry") g.validUntil = e.newValidUntil;
}

/**
 * Matches the computed answers against the log entries one to one (by grant and request id):
 * a served answer without an entry, a computed one without an entry, an entry no export lists;
 * then looks for differencing pairs among the served answers.
 */
function reconcileServed(log: ChainLog, served: ServedAnswer[], grants: Grants): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const logged = new Map<string, LoggedAnswer>();
  for (const a of log.answers) if (!logged.has(keyOf(a))) logged.set(keyOf(a), a);
  const servedIds = new Set<string>();
  for (const s of served) {
    const flag = (type: AnomalyType, detail: string) =>
      anomalies.push({ type, ...tagOf(s), detail });
    if (servedIds.has(keyOf(s))) flag("DUPLICATE_REQUEST", "served twice by the gateway");
    servedIds.add(keyOf(s));
    const e = logged.get(keyOf(s));
    if (!e && isServed(s)) {
      flag(
        "SERVED_NOT_LOGGED",
        "the gateway served this answer but no log entry exists in the audited range",
      );
    } else if (!e) {
      const why = s.error ? `failed: ${s.error.code} (${s.error.message})` : `${s.status}`;
      flag(
        "COMPUTED_NOT_LOGGED",
        `the gateway computed this answer but it has no log entry (${why}); not charged to the grant`,
      );
    } else if (e.versionId !== s.versionId) {
      flag(
        "SERVED_MISMATCH",
        `served for grant ${s.grantId} version ${s.versionId}, logged for grant ${e.grantId} version ${e.versionId}`,
      );
    }
  }
  for (const a of log.answers) {
    if (!servedIds.has(keyOf(a))) {
      anomalies.push({
        type: "LOGGED_NOT_SERVED",
        ...tagOf(a),
        detail: "logged on-chain but missing from the gateway's export",
      });
    }
  }
  anomalies.push(...differencingPairs(served.filter(isServed), grants));
  return anomalies;
}

/**
 * Pairs of one consumer's answers over the same asset version and question shape whose key
 * ranges are nested (one contains the other) and whose cohorts differ by 1..k−1 records: the
 * difference of the two answers is an aggregate over fewer than k records.
 */
export function differencingPairs(
  served: ServedAnswer[],
  grants: Map<string, { minCohort: number }>,
): Anomaly[] {
  const out: Anomaly[] = [];
  const groups = new Map<string, ServedAnswer[]>();
  for (const s of served) {
    const shape = [s.assetId, s.versionId, s.kind, s.fieldA, s.fieldB, s.filter ?? ""];
    const key = [s.consumer.toLowerCase(), ...shape].join("|");
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const minCohort = (s: ServedAnswer) => grants.get(s.grantId.toString())?.minCohort ?? 0;
  for (const group of groups.values()) {
    group.forEach((x, i) => {
      for (const y of group.slice(i + 1)) {
        const nested = (x.lo <= y.lo && y.hi <= x.hi) || (y.lo <= x.lo && x.hi <= y.hi);
        if (!nested) continue;
        const k = Math.max(minCohort(x), minCohort(y));
        const diff = Math.abs(x.cohort - y.cohort);
        if (diff === 0 || diff >= k) continue;
        out.push({
          type: "DIFFERENCING_PAIR",
          requestId: `${x.requestId},${y.requestId}`,
          grantId: x.grantId.toString(),
          consumer: x.consumer,
          detail: `nested ranges whose cohorts (${x.cohort}, ${y.cohort}) differ by ${diff} < k = ${k} records`,
        });
      }
    });
  }
  return out;
}

function perConsumer(log: ChainLog, grants: Grants, anomalies: Anomaly[]) {
  const rows = new Map<string, { answers: number; grants: Set<string>; anomalies: number }>();
  const row = (c: string) => {
    const key = c.toLowerCase();
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { answers: 0, grants: new Set(), anomalies: 0 }));
    return r;
  };
  for (const [id, g] of grants) row(g.consumer).grants.add(id);
  for (const a of log.answers) row(a.consumer).answers++;
  for (const an of anomalies) if (an.consumer) row(an.consumer).anomalies++;
  return [...rows].map(([consumer, r]) => ({
    consumer,
    answers: r.answers,
    grants: r.grants.size,
    anomalies: r.anomalies,
  }));
}

function perAsset(log: ChainLog, grants: Grants, anomalies: Anomaly[]) {
  const rows = new Map<string, { versions: number; answers: number; anomalies: number }>();
  const row = (id: bigint) => {
    const key = id.toString();
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { versions: 0, answers: 0, anomalies: 0 }));
    return r;
  };
  for (const v of log.versions) row(v.assetId).versions++;
  for (const a of log.answers) {
    const g = grants.get(a.grantId.toString());
    if (g) row(g.assetId).answers++;
  }
  for (const an of anomalies) {
    const g = an.grantId ? grants.get(an.grantId) : undefined;
    if (g) row(g.assetId).anomalies++;
  }
  return [...rows].map(([assetId, r]) => ({ assetId, ...r }));
}

/** The computed answers of the gateways' exports, in the reconciliation's terms. */
export function servedAnswers(exports: AuditExport | AuditExport[]): ServedAnswer[] {
  return [exports].flat().flatMap((exp) =>
    exp.answers.map((a) => ({
      status: a.status,
      error: a.error ?? null,
      requestId: a.requestId,
      grantId: BigInt(a.grantId),
      consumer: a.consumer,
      assetId: BigInt(a.assetId),
      versionId: BigInt(a.versionId),
      kind: Number(a.query.kind),
      fieldA: Number(a.query.fieldA),
      fieldB: Number(a.query.fieldB),
      lo: BigInt(a.query.lo),
      hi: BigInt(a.query.hi),
      cohort: a.cohort ?? 0,
      filter: a.query.predicates,
    })),
  );
}
