/**
 * What an automaker (consumer) does: discover a gateway's assets, ask an owner for a grant,
 * sign and send queries, follow them until proved and logged, and verify each answer as one who
 * trusts no gateway.
 */
import { randomBytes } from "node:crypto";
import { hexlify, type Signer } from "ethers";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  SIGNAL_INDEX,
  parseSignals,
  resultCommitment,
  type Policy,
} from "../circuits/lib/signals.js";
import type { JobView } from "../protocol/api.js";
import type { WaitOptions } from "../protocol/client.js";
import { policyStruct } from "../protocol/contract.js";
import { loadVerificationKeys, type VerificationKeys } from "../protocol/manifest.js";
import type { DataSchema } from "../protocol/records/types.js";
import type { QueryMessage } from "../protocol/typed-data.js";
import { UserError } from "./errors.js";
import { aggregateOf, fieldOf, keyRangeOf, type GrantTerms } from "./policy.js";
import { eventOf, gatewayOf, send, type Session } from "./session.js";

export type { JobView };

/** The gateway's asset catalogue. */
export async function listAssets(s: Session) {
  return gatewayOf(s).catalogue();
}

/** A consumer asks the owner for a grant; returns the grant id (status Requested). */
export async function requestGrant(
  s: Session,
  consumer: Signer,
  assetId: bigint,
  policy: Policy,
  terms: GrantTerms,
) {
  const sent = await send(s, "requestGrant", () =>
    s.partProof
      .connect(consumer)
      .requestGrant(assetId, policyStruct(policy), terms.validFrom, terms.validUntil, terms.quota),
  );
  return { grantId: eventOf(sent, "GrantRequested").grantId as bigint, tx: sent.hash };
}

/** A query in the user's terms. */
export interface QueryInput {
  grantId: bigint;
  assetId: bigint;
  /** 0n: the latest published version. */
  versionId: bigint;
  aggregate: string;
  fieldA: string;
  fieldB?: string;
  partNumber: string;
  plant?: string;
  from?: string;
  to?: string;
  threshold?: bigint;
}

/** The signed message of a query in the user's terms, with a fresh request id and nonce. */
export function queryMessage(schema: DataSchema, q: QueryInput, ttlSec = 600): QueryMessage {
  const kind = aggregateOf(q.aggregate);
  const { keyLo, keyHi } = keyRangeOf(q);
  return {
    grantId: q.grantId,
    assetId: q.assetId,
    versionId: q.versionId,
    kind,
    fieldA: fieldOf(schema, q.fieldA),
    fieldB: q.fieldB === undefined ? 0 : fieldOf(schema, q.fieldB),
    lo: keyLo,
    hi: keyHi,
    threshold: q.threshold ?? 0n,
    requestId: hexlify(randomBytes(32)),
    nonce: BigInt(hexlify(randomBytes(16))),
    deadline: BigInt(Math.floor(Date.now() / 1000) + ttlSec),
  };
}

/** Signs and sends a query; returns the job the gateway opened. */
export async function ask(s: Session, consumer: Signer, schema: DataSchema, q: QueryInput) {
  return gatewayOf(s).query(consumer, queryMessage(schema, q));
}

/**
 * Follows a job until it is logged (or proved, with `until: "proved"`); a failed job or one
 * still running at the timeout is a user error.
 */
export async function waitJob(s: Session, jobId: string, opts: WaitOptions = {}): Promise<JobView> {
  const job = await gatewayOf(s).waitJob(jobId, opts);
  if (job.status === "failed") {
    const why = job.error ? `${job.error.code}: ${job.error.message}` : "no reason given";
    throw new UserError(`job ${jobId} failed: ${why}`);
  }
  return job;
}

/** What a consumer checked about an answer. */
export interface AnswerCheck {
  proofValid: boolean;
  commitmentOpens: boolean;
  rootRegistered: boolean;
  loggedOnChain: boolean;
  logMatches: boolean;
}

/**
 * Verifies an answer as a consumer who trusts no gateway: the proof against the verification
 * key (snarkjs), the answer against the proof's result commitment, the root against the version
 * on-chain, and the on-chain log entry against the proof.
 */
export async function verifyAnswer(
  s: Session,
  job: JobView,
  vkeys?: VerificationKeys,
): Promise<AnswerCheck> {
  const { proof, publicSignals, answer, blind } = job;
  if (!proof || !publicSignals || !answer || blind === null) {
    throw new UserError(`job ${job.jobId} has no proved answer yet (status ${job.status})`);
  }
  const vk = (vkeys ?? (await loadVerificationKeys())).get(job.circuitId.toLowerCase());
  if (!vk) {
    throw new UserError(
      `no verification key for circuit ${job.circuit}: run npm run build:circuits`,
    );
  }
  const proofValid = (await snarkjs.groth16.verify(vk.vkey, publicSignals, proof)) as boolean;
  const signals = parseSignals(publicSignals);
  const opened = resultCommitment(
    BigInt(answer.resultValue),
    BigInt(answer.resultAux),
    BigInt(blind),
  );
  const version = await s.reader.getVersion(BigInt(job.versionId));
  const grantId = BigInt(job.grantId);
  const loggedOnChain = await s.partProof.isRequestLogged(grantId, job.requestId);
  let logMatches = false;
  if (loggedOnChain) {
    const block = Number(await s.partProof.answerBlockOf(grantId, job.requestId));
    const filter = s.partProof.filters.AnswerRecorded(grantId, undefined, job.requestId);
    const events = await s.partProof.queryFilter(filter, block, block);
    logMatches = events.some(
      ({ args: a }) =>
        a.publicSignals[SIGNAL_INDEX.queryHash] === signals.queryHash &&
        a.publicSignals[SIGNAL_INDEX.resultCommitment] === signals.resultCommitment &&
        String(a.grantId) === job.grantId &&
        String(a.versionId) === job.versionId,
    );
  }
  return {
    proofValid,
    commitmentOpens: opened === signals.resultCommitment,
    rootRegistered: version?.root === signals.root,
    loggedOnChain,
    logMatches,
  };
}
