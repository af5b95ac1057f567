/**
 * The auditor's log reader: the grant life-cycle, version and answer events of a block range
 * of one PartProof deployment, each with its chain position and block time, and each logged
 * answer's proof decoded from the calldata of the transaction that logged it. The result is
 * plain data ({@link ChainLog}) that the pure reconciliation (reconcile.ts) works on.
 */
import { SIGNAL_INDEX } from "../circuits/lib/signals.js";
import type { Session } from "./session.js";

/** Position of a chain event: block, log index, block timestamp and transaction. */
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
  /** The proof in the contract's call-data order (empty when not logged by a direct call). */
  proof: { a: bigint[]; b: bigint[][]; c: bigint[] };
  /** The five public signals (zeros when not logged by a direct call). */
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

/** An event as ethers returns it from a query: enough to place it on the chain. */
interface EventPlace {
  blockNumber: number;
  index: number;
  transactionHash: string;
}

/** Reads the access log of a block range from the session's PartProof deployment. */
export async function readChainLog(
  s: Session,
  fromBlock: number,
  toBlock: number | "latest",
): Promise<ChainLog> {
  const { chainId } = await s.provider.getNetwork();
  const to = toBlock === "latest" ? await s.provider.getBlockNumber() : toBlock;
  const timestamps = new Map<number, number>();
  const pos = async (ev: EventPlace): Promise<ChainPos> => {
    let ts = timestamps.get(ev.blockNumber);
    if (ts === undefined) {
      ts = (await s.provider.getBlock(ev.blockNumber))?.timestamp ?? 0;
      timestamps.set(ev.blockNumber, ts);
    }
    return { block: ev.blockNumber, logIndex: ev.index, timestamp: ts, tx: ev.transactionHash };
  };
  return {
    chainId,
    address: s.deployment.partProof,
    fromBlock,
    toBlock: to,
    grants: await readGrantEvents(s, fromBlock, to, pos),
    versions: await readVersions(s, fromBlock, to, pos),
    answers: await readAnswers(s, fromBlock, to, pos),
  };
}

type Place = (ev: EventPlace) => Promise<ChainPos>;

async function readGrantEvents(s: Session, from: number, to: number, pos: Place) {
  const c = s.partProof;
  const grants: GrantEvent[] = [];
  for (const type of ["issued", "requested"] as const) {
    const filter = type === "issued" ? c.filters.GrantIssued() : c.filters.GrantRequested();
    for (const ev of await c.queryFilter(filter, from, to)) {
      const a = ev.args;
      grants.push({
        ...(await pos(ev)),
        type,
        grantId: a.grantId,
        assetId: a.assetId,
        consumer: a.consumer,
        policyHash: a.policyHash,
        minCohort: Number(a.policy.minCohort),
        validFrom: Number(a.validFrom),
        validUntil: Number(a.validUntil),
        quota: Number(a.quota),
      });
    }
  }
  const lifecycle = [
    [c.filters.GrantApproved(), "approved"],
    [c.filters.GrantRejected(), "rejected"],
    [c.filters.GrantRevoked(), "revoked"],
  ] as const;
  for (const [filter, type] of lifecycle) {
    for (const ev of await c.queryFilter(filter, from, to)) {
      grants.push({ ...(await pos(ev)), type, grantId: ev.args.grantId });
    }
  }
  for (const ev of await c.queryFilter(c.filters.GrantQuotaUpdated(), from, to)) {
    const { grantId, newQuota } = ev.args;
    grants.push({ ...(await pos(ev)), type: "quota", grantId, newQuota: Number(newQuota) });
  }
  for (const ev of await c.queryFilter(c.filters.GrantExpiryUpdated(), from, to)) {
    const { grantId, newValidUntil } = ev.args;
    grants.push({
      ...(await pos(ev)),
      type: "expiry",
      grantId,
      newValidUntil: Number(newValidUntil),
    });
  }
  return grants;
}

async function readVersions(s: Session, from: number, to: number, pos: Place) {
  const c = s.partProof;
  const versions: VersionEvent[] = [];
  for (const ev of await c.queryFilter(c.filters.VersionPublished(), from, to)) {
    const a = ev.args;
    versions.push({
      ...(await pos(ev)),
      assetId: a.assetId,
      versionId: a.versionId,
      number: Number(a.number),
      root: a.root,
      recordCount: a.recordCount,
    });
  }
  return versions;
}

async function readAnswers(s: Session, from: number, to: number, pos: Place) {
  const c = s.partProof;
  const answers: LoggedAnswer[] = [];
  for (const ev of await c.queryFilter(c.filters.AnswerRecorded(), from, to)) {
    const a = ev.args;
    // The event carries the proof and its public signals: no call data is decoded, so answers
    // logged through a multicall or a contract wallet re-verify too.
    const publicSignals = [...a.publicSignals];
    answers.push({
      ...(await pos(ev)),
      grantId: a.grantId,
      consumer: a.consumer,
      requestId: a.requestId,
      versionId: a.versionId,
      circuitId: a.circuitId,
      queryHash: publicSignals[SIGNAL_INDEX.queryHash]!,
      resultCommitment: publicSignals[SIGNAL_INDEX.resultCommitment]!,
      used: Number(a.used),
      proof: {
        a: [...a.proof.a],
        b: a.proof.b.map((row) => [...row]),
        c: [...a.proof.c],
      },
      publicSignals,
    });
  }
  return answers;
}
