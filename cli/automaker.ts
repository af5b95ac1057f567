/**
 * What an automaker (consumer) does: discover a gateway's assets, ask an owner for a grant,
 * sign and send queries (keeping what it signed), follow them until logged, and verify each
 * answer as one who trusts no gateway, against the question it signed.
 */
import { randomBytes } from "node:crypto";
import { hexlify, ZeroAddress, type Signer } from "ethers";
import { bindingOf, parseSignals, resultCommitment, type Policy } from "../circuits/lib/signals.js";
import type { JobView } from "../protocol/api.js";
import type { WaitOptions } from "../protocol/client.js";
import { policyStruct, versionIdOf } from "../protocol/contract.js";
import { toSolidityProof, type SnarkjsProof } from "../protocol/proof.js";
import type { DataSchema } from "../protocol/records/types.js";
import { queryMessageHash, type QueryMessage } from "../protocol/typed-data.js";
import { IGroth16Verifier__factory } from "../types/ethers-contracts/index.js";
import { UserError } from "./errors.js";
import { aggregateOf, fieldOf, keyRangeOf, type GrantTerms } from "./policy.js";
import { domainOf, eventOf, gatewayOf, send, type Session } from "./session.js";
import { loadSignedQuery, saveSignedQuery, type SignedQuery } from "./signed-queries.js";

export type { JobView };

/**
 * The gateway's asset catalogue, each asset with its published versions and whether each is
 * attested (read from the chain: a gateway's word on attestations counts for nothing).
 */
export async function listAssets(s: Session) {
  const { assets } = await gatewayOf(s).catalogue();
  return {
    assets: await Promise.all(
      assets.map(async (a) => ({
        ...a,
        versions: await Promise.all(
          Array.from({ length: a.versionCount }, async (_, i) => ({
            number: i + 1,
            ...(await versionAttestation(s, versionIdOf(BigInt(a.assetId), i + 1))),
          })),
        ),
      })),
    ),
  };
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
  const { keyLo, keyHi } = keyRangeOf(q, schema);
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

/**
 * Signs and sends a query; returns the job the gateway opened. The signed message is kept per
 * job id (`signed-queries.ts`) so that the answer is later checked against it.
 */
export async function ask(s: Session, consumer: Signer, schema: DataSchema, q: QueryInput) {
  const message = queryMessage(schema, q);
  const job = await gatewayOf(s).query(consumer, message);
  const { chainId, partProof } = domainOf(s);
  await saveSignedQuery(job.jobId, {
    consumer: await consumer.getAddress(),
    chainId,
    partProof,
    message,
  });
  return job;
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

/**
 * What a consumer checked about an answer; every check must hold for the answer to count. The
 * first five compare the answer with the chain; the rest with the question the automaker itself
 * signed (its own record, `signed-queries.ts`), never with what the gateway says was asked.
 */
export interface AnswerCheck {
  /** The verifier contract the chain registered for the circuit accepts the proof (eth_call). */
  proofValid: boolean;
  /** The answer and blind open the proof's result commitment. */
  commitmentOpens: boolean;
  /** The proof's root is the root registered on-chain for the answer's version. */
  rootRegistered: boolean;
  /** The signed (grant, request id) has an entry in the on-chain log. */
  loggedOnChain: boolean;
  /** That entry carries this proof's public signals, consumer and version. */
  logMatches: boolean;
  /** The proof's queryHash is the hash of the signed Query message (protocol's queryMessageHash). */
  questionMatches: boolean;
  /** The answer is for the grant the automaker signed. */
  grantMatches: boolean;
  /** The answer's asset and version's asset are the asset the automaker signed. */
  assetMatches: boolean;
  /** The answer's version follows the signed rule (that version, or 0 = the latest, logged as such). */
  versionRuleMatches: boolean;
  /** The answer is for the request id the automaker signed. */
  requestMatches: boolean;
  /** The proof is bound to this deployment, the signed grant, the signer and the signed request id. */
  bindingMatches: boolean;
}

/** The names of the checks that failed (empty: the answer counts). */
export function failedChecks(c: AnswerCheck): (keyof AnswerCheck)[] {
  return (Object.keys(c) as (keyof AnswerCheck)[]).filter((k) => !c[k]);
}

/** An answer that failed a check: the CLI prints the checks and exits with code 1. */
export class VerificationFailed extends Error {
  override name = "VerificationFailed";
  constructor(
    readonly jobId: string,
    readonly failed: (keyof AnswerCheck)[],
  ) {
    super(`the answer of job ${jobId} FAILED verification: ${failed.join(", ")}`);
  }
}

/** Throws VerificationFailed unless every check held. */
export function requireAllChecks(jobId: string, c: AnswerCheck): void {
  const failed = failedChecks(c);
  if (failed.length > 0) throw new VerificationFailed(jobId, failed);
}

/**
 * Verifies an answer as a consumer who trusts no gateway, against the question it signed
 * (`signed`, else its own record of the job from `automaker query`): the proof against the
 * verifier contract the chain registered for the circuit (eth_call), the answer against the
 * proof's result commitment, the root against the version on-chain, the on-chain log entry of
 * the signed grant and request id against the proof, and the proof's query hash, grant, asset,
 * version and binding against the signed message.
 */
export async function verifyAnswer(
  s: Session,
  job: JobView,
  signed?: SignedQuery,
): Promise<AnswerCheck> {
  const { proof, publicSignals, answer, blind } = job;
  if (!proof || !publicSignals || !answer || blind === null) {
    throw new UserError(
      `job ${job.jobId} has no answer yet (status ${job.status}): an answer leaves the gateway once it is logged`,
    );
  }
  const asked = signed ?? (await loadSignedQuery(job.jobId));
  const m = asked.message;
  const signals = parseSignals(publicSignals);
  const domain = domainOf(s);

  const proofValid = await verifyOnChain(s, job.circuitId, proof as SnarkjsProof, publicSignals);
  const opened = resultCommitment(
    BigInt(answer.resultValue),
    BigInt(answer.resultAux),
    BigInt(blind),
  );
  const versionId = BigInt(job.versionId);
  const version = await s.reader.getVersion(versionId);
  const loggedOnChain = await s.partProof.isRequestLogged(m.grantId, m.requestId);
  let logMatches = false;
  if (loggedOnChain) {
    const block = Number(await s.partProof.answerBlockOf(m.grantId, m.requestId));
    const filter = s.partProof.filters.AnswerRecorded(m.grantId, undefined, m.requestId);
    const events = await s.partProof.queryFilter(filter, block, block);
    logMatches = events.some(
      ({ args: a }) =>
        a.publicSignals.length === publicSignals.length &&
        a.publicSignals.every((x, i) => x === BigInt(publicSignals[i]!)) &&
        a.consumer.toLowerCase() === asked.consumer.toLowerCase() &&
        a.versionId === versionId,
    );
  }
  const binding = bindingOf(
    domain.chainId,
    domain.partProof,
    m.grantId,
    asked.consumer,
    m.requestId,
  );
  return {
    proofValid,
    commitmentOpens: opened === signals.resultCommitment,
    rootRegistered: version?.root === signals.root,
    loggedOnChain,
    logMatches,
    questionMatches: queryMessageHash(m) === signals.queryHash,
    grantMatches: BigInt(job.grantId) === m.grantId,
    assetMatches: BigInt(job.assetId) === m.assetId && versionId >> 64n === m.assetId,
    versionRuleMatches: m.versionId === 0n || m.versionId === versionId,
    requestMatches: job.requestId.toLowerCase() === m.requestId.toLowerCase(),
    bindingMatches:
      binding === signals.binding &&
      domain.chainId === asked.chainId &&
      domain.partProof.toLowerCase() === asked.partProof.toLowerCase(),
  };
}

/** Whether the version an answer was computed over is attested, as the chain says. */
export interface AnswerAttestation {
  versionId: string;
  /** At least one attestation with t ≥ the contract's current minimum. */
  attested: boolean;
  /** The contract's current minimum t. */
  minT: number;
  /** Every attester's record (also those below today's minimum). */
  attestations: { attester: string; t: number; attestedBlock: number }[];
}

/**
 * The on-chain attestations of a version (read from the chain, never from a gateway): whether it
 * passed audits by public randomness that someone recorded, by whom and with which t.
 */
export async function versionAttestation(
  s: Session,
  versionId: bigint,
): Promise<AnswerAttestation> {
  const state = await s.reader.versionAttestations(versionId);
  const attestations = (state?.attestations ?? []).map(({ attester, t, attestedBlock }) => ({
    attester,
    t,
    attestedBlock,
  }));
  const minT = state?.minT ?? 0;
  return {
    versionId: versionId.toString(),
    attested: attestations.some((a) => a.t >= minT),
    minT,
    attestations,
  };
}

/**
 * Asks the verifier contract that the chain registered for `circuitId` whether the proof holds
 * (an eth_call of verifyProof): the verification key is the chain's, not a local build's.
 */
async function verifyOnChain(
  s: Session,
  circuitId: string,
  proof: SnarkjsProof,
  publicSignals: readonly string[],
): Promise<boolean> {
  const circuit = await s.partProof.getCircuit(circuitId);
  if (circuit.verifier === ZeroAddress) return false;
  const p = toSolidityProof(proof);
  try {
    return await IGroth16Verifier__factory.connect(circuit.verifier, s.provider).verifyProof(
      p.a,
      p.b,
      p.c,
      publicSignals.map(BigInt) as [bigint, bigint, bigint, bigint, bigint],
    );
  } catch {
    return false; // a malformed proof reverts in the verifier
  }
}
