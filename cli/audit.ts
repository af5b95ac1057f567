/**
 * The auditor's reconciliation of the on-chain access log: every logged answer's proof is
 * re-verified off-chain, checked against the grant as it stood at that point of the chain
 * (active, inside its window, quota not exceeded), the version's registered root, the grant's
 * policy hash and the binding to consumer and request id; request ids must be unique. Given a
 * gateway's export of the answers it served, every served answer must have exactly one log
 * entry and vice versa, and query pairs of one consumer whose record sets differ by fewer than
 * the grant's k records (a differencing attack on the cohort floor) are flagged.
 */
import { Contract, Interface, type Provider } from "ethers";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { SIGNAL_INDEX, bindingOf } from "../circuits/lib/signals.js";

/** Position of a chain event: block, log index and block timestamp. */
export interface ChainPos {
  block: number;
  logIndex: number;
  timestamp: number;
  tx: string;
}

/** A grant-lifecycle event, in chain order. */
export type GrantEvent = ChainPos &
  (
    | {
        type: "issued" | "requested";
        grantId: bigint;
        assetId: bigint;
        consumer: string;
        policyHash: bigint;
        minCohort: number;
        validFrom: number;
        validUntil: number;
        quota: number;
      }
    | { type: "approved" | "rejected" | "revoked"; grantId: bigint }
    | { type: "quota"; grantId: bigint; newQuota: number }
    | { type: "expiry"; grantId: bigint; newValidUntil: number }
  );

/** A published version. */
export interface VersionEvent extends ChainPos {
  assetId: bigint;
  versionId: bigint;
  number: number;
  root: bigint;
  recordCount: bigint;
}

/** One logged answer with the proof decoded from its transaction. */
export interface LoggedAnswer extends ChainPos {
  grantId: bigint;
  consumer: string;
  requestId: string;
  versionId: bigint;
  circuitId: string;
  queryHash: bigint;
  resultCommitment: bigint;
  used: number;
  proof: { a: bigint[]; b: bigint[][]; c: bigint[] };
  publicSignals: bigint[];
}

/** Everything the reconciliation reads from the chain. */
export interface ChainLog {
  chainId: bigint;
  address: string;
  fromBlock: number;
  toBlock: number;
  grants: GrantEvent[];
  versions: VersionEvent[];
  answers: LoggedAnswer[];
}

/** One answer a gateway says it served (its export for auditors). */
export interface ServedAnswer {
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
  type:
    | "INVALID_PROOF"
    | "UNKNOWN_CIRCUIT"
    | "GRANT_NOT_ACTIVE"
    | "OUTSIDE_WINDOW"
    | "QUOTA_EXCEEDED"
    | "UNKNOWN_VERSION"
    | "VERSION_OF_OTHER_ASSET"
    | "ROOT_MISMATCH"
    | "POLICY_MISMATCH"
    | "BINDING_MISMATCH"
    | "DUPLICATE_REQUEST"
    | "SERVED_NOT_LOGGED"
    | "LOGGED_NOT_SERVED"
    | "SERVED_MISMATCH"
    | "DIFFERENCING_PAIR";
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
    served?: number;
    anomalies: number;
  };
  anomalies: Anomaly[];
  perConsumer: { consumer: string; answers: number; grants: number; anomalies: number }[];
  perAsset: { assetId: string; versions: number; answers: number; anomalies: number }[];
}

/** Verification keys by circuit id (keccak256 of the circuit name). */
export type VerificationKeys = Map<string, { name: string; vkey: unknown }>;

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

const order = (a: ChainPos, b: ChainPos) => a.block - b.block || a.logIndex - b.logIndex;

/** Converts a Solidity-shaped Groth16 proof back into snarkjs' JSON form. */
export function toSnarkjsProof(p: LoggedAnswer["proof"]) {
  const s = (x: bigint | undefined) => (x ?? 0n).toString();
  const b = p.b as [bigint[], bigint[]];
  return {
    protocol: "groth16",
    curve: "bn128",
    pi_a: [s(p.a[0]), s(p.a[1]), "1"],
    // The Solidity verifier takes each G2 coordinate pair in reverse order.
    pi_b: [
      [s(b[0][1]), s(b[0][0])],
      [s(b[1][1]), s(b[1][0])],
      ["1", "0"],
    ],
    pi_c: [s(p.c[0]), s(p.c[1]), "1"],
  };
}

/**
 * Reconciles the access log (and, when given, a gateway's served answers) into a report.
 * Grant state is replayed from the grant events in chain order, so "active at that block"
 * holds without an archive node.
 */
export async function reconcile(
  log: ChainLog,
  vkeys: VerificationKeys,
  served?: ServedAnswer[],
): Promise<AuditReport> {
  const anomalies: Anomaly[] = [];
  const grants = new Map<string, GrantState>();
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
    const tag = { requestId: a.requestId, grantId: a.grantId.toString(), consumer: a.consumer };
    const flag = (type: Anomaly["type"], detail: string) =>
      anomalies.push({ type, ...tag, detail });

    if (seenRequests.has(a.requestId)) flag("DUPLICATE_REQUEST", "request id logged twice");
    seenRequests.add(a.requestId);

    const vk = vkeys.get(a.circuitId.toLowerCase());
    if (!vk) {
      flag("UNKNOWN_CIRCUIT", `no verification key for circuit ${a.circuitId}`);
    } else {
      const ok = await snarkjs.groth16.verify(
        vk.vkey,
        a.publicSignals.map((x) => x.toString()),
        toSnarkjsProof(a.proof),
      );
      if (ok) proofsVerified++;
      else flag("INVALID_PROOF", `the ${vk.name} proof does not verify off-chain`);
    }

    const g = grants.get(a.grantId.toString());
    if (!g) {
      flag("GRANT_NOT_ACTIVE", "no grant with this id before the entry");
    } else {
      if (g.status !== "active")
        flag("GRANT_NOT_ACTIVE", `grant was ${g.status} at block ${a.block}`);
      if (a.timestamp < g.validFrom || a.timestamp > g.validUntil) {
        flag(
          "OUTSIDE_WINDOW",
          `logged at ${a.timestamp}, grant valid ${g.validFrom}..${g.validUntil}`,
        );
      }
      g.used++;
      if (g.used > g.quota) flag("QUOTA_EXCEEDED", `answer ${g.used} of a quota of ${g.quota}`);
      if (g.consumer.toLowerCase() !== a.consumer.toLowerCase()) {
        flag("BINDING_MISMATCH", `event consumer ${a.consumer} is not the grant's ${g.consumer}`);
      }
      if (a.publicSignals[1] !== g.policyHash) {
        flag("POLICY_MISMATCH", "the proof's policy hash is not the grant's");
      }
      const binding = bindingOf(log.chainId, log.address, a.grantId, g.consumer, a.requestId);
      if (a.publicSignals[4] !== binding) {
        flag(
          "BINDING_MISMATCH",
          "the proof is not bound to this deployment, grant, consumer and request",
        );
      }
    }
    const v = versions.get(a.versionId.toString());
    if (!v || order(v, a) > 0) {
      flag("UNKNOWN_VERSION", `version ${a.versionId} was not published before the entry`);
    } else {
      if (g && v.assetId !== g.assetId) {
        flag(
          "VERSION_OF_OTHER_ASSET",
          `version of asset ${v.assetId}, grant for asset ${g.assetId}`,
        );
      }
      if (a.publicSignals[0] !== v.root)
        flag("ROOT_MISMATCH", "the proof's root is not the version's");
    }
  }

  if (served) reconcileServed(log, served, grants, anomalies);

  const perConsumer = new Map<
    string,
    { answers: number; grants: Set<string>; anomalies: number }
  >();
  const consumerRow = (c: string) => {
    const key = c.toLowerCase();
    let row = perConsumer.get(key);
    if (!row) perConsumer.set(key, (row = { answers: 0, grants: new Set(), anomalies: 0 }));
    return row;
  };
  for (const [id, g] of grants) consumerRow(g.consumer).grants.add(id);
  for (const a of log.answers) consumerRow(a.consumer).answers++;
  for (const an of anomalies) if (an.consumer) consumerRow(an.consumer).anomalies++;

  const perAsset = new Map<string, { versions: number; answers: number; anomalies: number }>();
  const assetRow = (id: bigint) => {
    const key = id.toString();
    let row = perAsset.get(key);
    if (!row) perAsset.set(key, (row = { versions: 0, answers: 0, anomalies: 0 }));
    return row;
  };
  for (const v of log.versions) assetRow(v.assetId).versions++;
  for (const a of log.answers) {
    const g = grants.get(a.grantId.toString());
    if (g) assetRow(g.assetId).answers++;
  }
  for (const an of anomalies) {
    const g = an.grantId ? grants.get(an.grantId) : undefined;
    if (g) assetRow(g.assetId).anomalies++;
  }

  return {
    chainId: log.chainId.toString(),
    contract: log.address,
    fromBlock: log.fromBlock,
    toBlock: log.toBlock,
    generatedAt: new Date().toISOString(),
    counts: {
      logEntries: log.answers.length,
      proofsVerified,
      grants: grants.size,
      versions: log.versions.length,
      ...(served ? { served: served.length } : {}),
      anomalies: anomalies.length,
    },
    anomalies,
    perConsumer: [...perConsumer].map(([consumer, r]) => ({
      consumer,
      answers: r.answers,
      grants: r.grants.size,
      anomalies: r.anomalies,
    })),
    perAsset: [...perAsset].map(([assetId, r]) => ({ assetId, ...r })),
  };
}

function applyGrantEvent(grants: Map<string, GrantState>, e: GrantEvent): void {
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

function reconcileServed(
  log: ChainLog,
  served: ServedAnswer[],
  grants: Map<string, GrantState>,
  anomalies: Anomaly[],
): void {
  const logged = new Map<string, LoggedAnswer[]>();
  for (const a of log.answers) logged.set(a.requestId, [...(logged.get(a.requestId) ?? []), a]);
  const servedIds = new Set<string>();
  for (const s of served) {
    const tag = { requestId: s.requestId, grantId: s.grantId.toString(), consumer: s.consumer };
    if (servedIds.has(s.requestId)) {
      anomalies.push({ type: "DUPLICATE_REQUEST", ...tag, detail: "served twice by the gateway" });
    }
    servedIds.add(s.requestId);
    const entries = logged.get(s.requestId) ?? [];
    if (entries.length === 0) {
      anomalies.push({
        type: "SERVED_NOT_LOGGED",
        ...tag,
        detail: "the gateway served this answer but no log entry exists in the audited range",
      });
    } else {
      const e = entries[0] as LoggedAnswer;
      if (e.grantId !== s.grantId || e.versionId !== s.versionId) {
        anomalies.push({
          type: "SERVED_MISMATCH",
          ...tag,
          detail: `served for grant ${s.grantId} version ${s.versionId}, logged for grant ${e.grantId} version ${e.versionId}`,
        });
      }
    }
  }
  for (const a of log.answers) {
    if (!servedIds.has(a.requestId)) {
      anomalies.push({
        type: "LOGGED_NOT_SERVED",
        requestId: a.requestId,
        grantId: a.grantId.toString(),
        consumer: a.consumer,
        detail: "logged on-chain but missing from the gateway's export",
      });
    }
  }
  anomalies.push(...differencingPairs(served, grants));
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
    const key = [
      s.consumer.toLowerCase(),
      s.assetId,
      s.versionId,
      s.kind,
      s.fieldA,
      s.fieldB,
      s.filter ?? "",
    ].join("|");
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const x = group[i] as ServedAnswer;
        const y = group[j] as ServedAnswer;
        const nested = (x.lo <= y.lo && y.hi <= x.hi) || (y.lo <= x.lo && x.hi <= y.hi);
        if (!nested) continue;
        const k = Math.max(
          grants.get(x.grantId.toString())?.minCohort ?? 0,
          grants.get(y.grantId.toString())?.minCohort ?? 0,
        );
        const diff = Math.abs(x.cohort - y.cohort);
        if (diff > 0 && diff < k) {
          out.push({
            type: "DIFFERENCING_PAIR",
            requestId: `${x.requestId},${y.requestId}`,
            grantId: x.grantId.toString(),
            consumer: x.consumer,
            detail: `nested ranges whose cohorts (${x.cohort}, ${y.cohort}) differ by ${diff} < k = ${k} records`,
          });
        }
      }
    }
  }
  return out;
}

/** Renders a report as Markdown. */
export function renderMarkdown(r: AuditReport): string {
  const lines = [
    `# PartProof access-log audit`,
    "",
    `Chain ${r.chainId}, contract \`${r.contract}\`, blocks ${r.fromBlock}–${r.toBlock}, generated ${r.generatedAt}.`,
    "",
    "| what | count |",
    "|---|---|",
    `| log entries | ${r.counts.logEntries} |`,
    `| proofs re-verified off-chain | ${r.counts.proofsVerified} |`,
    `| grants | ${r.counts.grants} |`,
    `| versions | ${r.counts.versions} |`,
    ...(r.counts.served !== undefined
      ? [`| answers served (gateway export) | ${r.counts.served} |`]
      : []),
    `| anomalies | ${r.counts.anomalies} |`,
    "",
    "## Anomalies",
    "",
  ];
  if (r.anomalies.length === 0) lines.push("None.");
  else {
    lines.push("| type | request | grant | consumer | detail |", "|---|---|---|---|---|");
    for (const a of r.anomalies) {
      lines.push(
        `| ${a.type} | ${a.requestId ?? ""} | ${a.grantId ?? ""} | ${a.consumer ?? ""} | ${a.detail} |`,
      );
    }
  }
  lines.push(
    "",
    "## Per consumer",
    "",
    "| consumer | grants | answers | anomalies |",
    "|---|---|---|---|",
  );
  for (const c of r.perConsumer)
    lines.push(`| ${c.consumer} | ${c.grants} | ${c.answers} | ${c.anomalies} |`);
  lines.push(
    "",
    "## Per asset",
    "",
    "| asset | versions | answers | anomalies |",
    "|---|---|---|---|",
  );
  for (const a of r.perAsset)
    lines.push(`| ${a.assetId} | ${a.versions} | ${a.answers} | ${a.anomalies} |`);
  return lines.join("\n") + "\n";
}

/** Reads the access log of a block range from a PartProof deployment. */
export async function readChainLog(
  provider: Provider,
  address: string,
  abi: Interface,
  fromBlock: number,
  toBlock: number | "latest",
): Promise<ChainLog> {
  const contract = new Contract(address, abi, provider);
  const { chainId } = await provider.getNetwork();
  const to = toBlock === "latest" ? await provider.getBlockNumber() : toBlock;
  const timestamps = new Map<number, number>();
  const pos = async (ev: { blockNumber: number; index: number; transactionHash: string }) => {
    let ts = timestamps.get(ev.blockNumber);
    if (ts === undefined) {
      ts = (await provider.getBlock(ev.blockNumber))?.timestamp ?? 0;
      timestamps.set(ev.blockNumber, ts);
    }
    return { block: ev.blockNumber, logIndex: ev.index, timestamp: ts, tx: ev.transactionHash };
  };
  const query = (name: string) => contract.queryFilter(name, fromBlock, to);
  type Ev = Awaited<ReturnType<typeof query>>[number] & {
    args: Record<string, unknown> & unknown[];
  };
  const events = async (name: string) => (await query(name)) as Ev[];

  const grants: GrantEvent[] = [];
  for (const type of ["issued", "requested"] as const) {
    for (const ev of await events(type === "issued" ? "GrantIssued" : "GrantRequested")) {
      const a = ev.args;
      const policy = a.policy as { minCohort: bigint };
      grants.push({
        ...(await pos(ev)),
        type,
        grantId: a.grantId as bigint,
        assetId: a.assetId as bigint,
        consumer: a.consumer as string,
        policyHash: a.policyHash as bigint,
        minCohort: Number(policy.minCohort),
        validFrom: Number(a.validFrom),
        validUntil: Number(a.validUntil),
        quota: Number(a.quota),
      });
    }
  }
  for (const [name, type] of [
    ["GrantApproved", "approved"],
    ["GrantRejected", "rejected"],
    ["GrantRevoked", "revoked"],
  ] as const) {
    for (const ev of await events(name)) {
      grants.push({ ...(await pos(ev)), type, grantId: ev.args.grantId as bigint });
    }
  }
  for (const ev of await events("GrantQuotaUpdated")) {
    grants.push({
      ...(await pos(ev)),
      type: "quota",
      grantId: ev.args.grantId as bigint,
      newQuota: Number(ev.args.newQuota),
    });
  }
  for (const ev of await events("GrantExpiryUpdated")) {
    grants.push({
      ...(await pos(ev)),
      type: "expiry",
      grantId: ev.args.grantId as bigint,
      newValidUntil: Number(ev.args.newValidUntil),
    });
  }

  const versions: VersionEvent[] = [];
  for (const ev of await events("VersionPublished")) {
    versions.push({
      ...(await pos(ev)),
      assetId: ev.args.assetId as bigint,
      versionId: ev.args.versionId as bigint,
      number: Number(ev.args.number),
      root: ev.args.root as bigint,
      recordCount: ev.args.recordCount as bigint,
    });
  }

  const answers: LoggedAnswer[] = [];
  for (const ev of await events("AnswerRecorded")) {
    // The event carries the proof and its public signals: no call data is decoded, so answers
    // logged through a multicall or a contract wallet re-verify too.
    const p = ev.args.proof as { a: bigint[]; b: bigint[][]; c: bigint[] };
    const proof = { a: [...p.a], b: p.b.map((row) => [...row]), c: [...p.c] };
    const publicSignals = [...(ev.args.publicSignals as bigint[])];
    answers.push({
      ...(await pos(ev)),
      grantId: ev.args.grantId as bigint,
      consumer: ev.args.consumer as string,
      requestId: ev.args.requestId as string,
      versionId: ev.args.versionId as bigint,
      circuitId: ev.args.circuitId as string,
      queryHash: publicSignals[SIGNAL_INDEX.queryHash]!,
      resultCommitment: publicSignals[SIGNAL_INDEX.resultCommitment]!,
      used: Number(ev.args.used),
      proof,
      publicSignals,
    });
  }
  return { chainId, address, fromBlock, toBlock: to, grants, versions, answers };
}
