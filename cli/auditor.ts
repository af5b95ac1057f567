/**
 * What an auditor does: read the access log from the chain, re-verify every logged proof
 * off-chain (batched Groth16 checks, the verification keys of protocol/manifest.ts), fetch or read the gateways'
 * exports of served answers, and reconcile it all (the pure reconcile.ts) into a report.
 */
import { readFile } from "node:fs/promises";
import type { Signer } from "ethers";
import { z } from "zod";
import {
  AUDIT_T_MAX,
  auditExportSchema,
  type AuditDone,
  type AuditExport,
} from "../protocol/api.js";
import {
  auditChallenge,
  auditIndices,
  auditProofsDigest,
  boundTable,
  DEFAULT_AUDIT_SAMPLES,
  type AuditFinding,
  type AuditSample,
  type FoundAttestation,
} from "../protocol/audit.js";
import {
  findInvalid,
  type Groth16Proof,
  type Groth16VerificationKey,
} from "../protocol/batch-verify.js";
import { GatewayClient, GatewayError } from "../protocol/client.js";
import { versionIdOf } from "../protocol/contract.js";
import { circuitId } from "../circuits/lib/signals.js";
import { loadVerificationKeys, type VerificationKeys } from "../protocol/manifest.js";
import { toSnarkjsProof } from "../protocol/proof.js";
import { readChainLog, type ChainLog, type LoggedAnswer } from "./chain-log.js";
import { UserError } from "./errors.js";
import {
  reconcile,
  type AuditReport,
  type ProofVerdict,
  type ProofVerdicts,
  type ServedAnswer,
} from "./reconcile.js";
import { domainOf, gatewayOf, send, type Session } from "./session.js";

/**
 * Reads a gateway's export of served answers from a file, or from the session's gateway with a
 * Read signed by `auditor` (the gateway serves it only to the auditors in its config). Either
 * way it is parsed with the protocol's schema.
 */
export async function readExport(
  s: Session,
  src: { file: string } | { auditor: Signer },
): Promise<AuditExport> {
  return "file" in src ? readExportFile(src.file) : gatewayOf(s).auditExport(src.auditor);
}

/** Reads a gateway's export from a file; a user error says what in it is not the protocol's. */
export async function readExportFile(file: string): Promise<AuditExport> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new UserError(`export file ${file} cannot be read as JSON`);
  }
  const parsed = auditExportSchema.safeParse(json);
  if (!parsed.success) {
    throw new UserError(
      `export file ${file} is not a gateway's audit export:\n${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * Re-verifies every logged proof off-chain against its circuit's verification key: the proofs
 * of each circuit in one randomised batch (protocol/batch-verify.ts), and when a batch fails,
 * smaller batches down to the single proofs that do not verify.
 */
export async function verifyLoggedProofs(
  log: ChainLog,
  vkeys: VerificationKeys,
): Promise<ProofVerdicts> {
  const verdicts = new Map<LoggedAnswer, ProofVerdict>();
  const byCircuit = new Map<string, LoggedAnswer[]>();
  for (const a of log.answers) {
    const id = a.circuitId.toLowerCase();
    if (!vkeys.has(id)) verdicts.set(a, { status: "unknown-circuit" });
    else byCircuit.set(id, [...(byCircuit.get(id) ?? []), a]);
  }
  for (const [id, answers] of byCircuit) {
    const vk = vkeys.get(id)!;
    const bad = new Set(
      await findInvalid(
        vk.vkey as Groth16VerificationKey,
        answers.map((a) => ({
          proof: toSnarkjsProof(a.proof),
          publicSignals: a.publicSignals.map((x) => x.toString()),
        })),
      ),
    );
    answers.forEach((a, i) =>
      verdicts.set(a, { status: bad.has(i) ? "invalid" : "valid", circuit: vk.name }),
    );
  }
  return (a) => {
    const v = verdicts.get(a);
    if (!v) throw new Error(`no verdict on the proof of request ${a.requestId}: not of this log`);
    return v;
  };
}

/** Reconciles the access log of a block range, with the gateways' served answers when given. */
export async function audit(
  s: Session,
  opts: { fromBlock?: number; toBlock?: number | "latest"; served?: ServedAnswer[] },
): Promise<AuditReport> {
  const log = await readChainLog(
    s,
    opts.fromBlock ?? s.deployment.deploymentBlock ?? 0,
    opts.toBlock ?? "latest",
  );
  const proofs = await verifyLoggedProofs(log, await loadVerificationKeys());
  return reconcile({ log, proofs, served: opts.served, generatedAt: new Date().toISOString() });
}

/** What the auditor expects of an audit's proofs: all of it derived from the chain. */
export interface AuditExpectation {
  root: bigint;
  recordCount: bigint;
  challenge: bigint;
  /** The t challenged indices, in draw order. */
  indices: number[];
}

/**
 * Checks a gateway's audit answer against what the auditor derived from the chain: every
 * distinct challenged index has a proof whose public inputs are exactly (on-chain root, index,
 * challenge, published recordCount), and every such proof verifies (one randomised batch,
 * narrowed down on failure). The gateway's own seed, indices and extra proofs are ignored.
 */
export async function checkAuditProofs(
  expected: AuditExpectation,
  answer: Pick<AuditDone, "proofs">,
  vkey: Groth16VerificationKey,
): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  const want = (index: number) => expectedSignals(expected, index);
  const names = ["root", "index", "challenge", "recordCount"];
  const items: { index: number; proof: AuditDone["proofs"][number] }[] = [];
  for (const index of [...new Set(expected.indices)].sort((a, b) => a - b)) {
    const candidates = answer.proofs.filter((p) => p.index === index);
    if (candidates.length === 0) {
      findings.push({ check: "missing-proof", index, detail: `no proof for leaf ${index}` });
      continue;
    }
    const w = want(index);
    const p = candidates.find((c) => c.publicSignals.every((x, i) => x === w[i])) ?? candidates[0]!;
    const wrong = names.filter((_, i) => p.publicSignals[i] !== w[i]);
    if (p.publicSignals.length !== 4 || wrong.length > 0) {
      findings.push({
        check: "public-inputs",
        index,
        detail: `the proof of leaf ${index} claims another ${wrong.join(", ") || "signal count"} (${wrong
          .map((n) => `${n} ${p.publicSignals[names.indexOf(n)]} ≠ ${w[names.indexOf(n)]}`)
          .join("; ")})`,
      });
      continue;
    }
    items.push({ index, proof: p });
  }
  const bad = await findInvalid(
    vkey,
    items.map((i) => ({
      proof: toSnarkjsProofJson(i.proof.proof),
      publicSignals: i.proof.publicSignals,
    })),
  );
  for (const b of bad) {
    const index = items[b]!.index;
    findings.push({
      check: "invalid-proof",
      index,
      detail: `the proof of leaf ${index} does not verify`,
    });
  }
  return findings;
}

/** The public signals the auditor expects of the proof of leaf `index`. */
function expectedSignals(expected: AuditExpectation, index: number): string[] {
  return [
    expected.root.toString(),
    String(index),
    expected.challenge.toString(),
    expected.recordCount.toString(),
  ];
}

/**
 * The proofs a passed check rests on: for each distinct challenged index, the proof with exactly
 * the expected public signals (what {@link checkAuditProofs} verified).
 */
export function checkedProofs(
  expected: AuditExpectation,
  answer: Pick<AuditDone, "proofs">,
): AuditDone["proofs"] {
  return [...new Set(expected.indices)].flatMap((index) => {
    const w = expectedSignals(expected, index);
    const p = answer.proofs.find(
      (c) =>
        c.index === index &&
        c.publicSignals.length === w.length &&
        c.publicSignals.every((x, i) => x === w[i]),
    );
    return p ? [p] : [];
  });
}

function toSnarkjsProofJson(p: AuditDone["proofs"][number]["proof"]): Groth16Proof {
  return { pi_a: p.pi_a, pi_b: p.pi_b, pi_c: p.pi_c };
}

/** Options of {@link sampleVersion}. */
export interface SampleOptions {
  assetId: bigint;
  /** Version number of the asset (1, 2, …). */
  version: number;
  /** Draws (default DEFAULT_AUDIT_SAMPLES). */
  t?: number;
  /** Called with the proofs the gateway has made so far. */
  onProgress?: (proved: number, total: number) => void;
  /** Verification keys (default: the built circuits'). */
  vkeys?: VerificationKeys;
}

/**
 * Samples a published version: derives the seed (the hash of the block
 * DEFAULT_AUDIT_DELAY_BLOCKS after publication), the t indices and the challenge from the
 * chain, fetches the proofs from the session's gateway (else the asset's registered endpoint),
 * and checks them ({@link checkAuditProofs}). A gateway that cannot prove its tree is a
 * failed sample, not an error.
 */
export async function sampleVersion(s: Session, o: SampleOptions): Promise<AuditSample> {
  const t = o.t ?? DEFAULT_AUDIT_SAMPLES;
  if (!Number.isSafeInteger(t) || t < 1 || t > AUDIT_T_MAX) {
    throw new UserError(`--t must be an integer in 1..${AUDIT_T_MAX}`);
  }
  const asset = await s.reader.getAsset(o.assetId);
  if (!asset) throw new UserError(`asset ${o.assetId} is not registered`);
  const versionId = versionIdOf(o.assetId, o.version);
  const v = await s.reader.getVersion(versionId);
  if (!v) throw new UserError(`asset ${o.assetId} has no published version ${o.version}`);
  const seed = await s.reader.auditSeed(versionId);
  if (!seed?.seed) {
    throw new UserError(
      `the audit seed of version ${o.version} is the hash of block ${seed?.seedBlock}, not mined yet; sample after it`,
    );
  }
  const indices = auditIndices(versionId, seed.seed, v.recordCount, v.treeDepth, t);
  const challenge = auditChallenge(versionId, seed.seed);
  const circuit = `audit_d${v.treeDepth}`;
  const vk = (o.vkeys ?? (await loadVerificationKeys())).get(circuitId(circuit).toLowerCase());
  const base = {
    assetId: o.assetId.toString(),
    version: o.version,
    versionId: versionId.toString(),
    root: v.root.toString(),
    recordCount: v.recordCount.toString(),
    treeDepth: v.treeDepth,
    seedBlock: seed.seedBlock,
    seed: seed.seed,
    t,
    distinct: new Set(indices).size,
    circuit,
    bound: boundTable(t),
    sampledAt: new Date().toISOString(),
  };
  const done = (findings: AuditFinding[]): AuditSample => ({
    ...base,
    passed: findings.length === 0,
    findings,
  });
  if (!vk) {
    return done([{ check: "no-vkey", detail: `no verification key of ${circuit} is built here` }]);
  }
  const client = new GatewayClient(s.gatewayUrl ?? asset.endpoint, domainOf(s));
  let answer: AuditDone;
  try {
    answer = await client.audit(o.assetId, o.version, t, {
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return done([{ check: "gateway-refused", detail: e.message }]);
  }
  const expected = { root: v.root, recordCount: v.recordCount, challenge, indices };
  const findings = await checkAuditProofs(expected, answer, vk.vkey as Groth16VerificationKey);
  const sample = done(findings);
  if (sample.passed) sample.proofsDigest = auditProofsDigest(checkedProofs(expected, answer));
  return sample;
}

/**
 * Makes sure a version can be attested at t before anything is sampled: t meets the contract's
 * minimum, the seed block is mined, and its hash is anchored on-chain (anchored here, by
 * `signer`, when it is not yet: sampling t leaves may outlast the 256 blocks the EVM keeps a
 * block hash). A version whose seed was forgotten unanchored cannot be attested: a user error.
 */
export async function prepareAttestation(
  s: Session,
  signer: Signer,
  assetId: bigint,
  version: number,
  t: number,
): Promise<{ anchoredNow?: string }> {
  const versionId = versionIdOf(assetId, version);
  const state = await s.reader.versionAttestations(versionId);
  if (!state) throw new UserError(`asset ${assetId} has no published version ${version}`);
  if (t < state.minT) {
    throw new UserError(
      `--attest needs t ≥ ${state.minT} (the contract's minimum); sample with --t ${state.minT} or more`,
    );
  }
  if (state.seed.anchored) return {};
  const sent = await send(s, "anchorAuditSeed", () =>
    s.partProof.connect(signer).anchorAuditSeed(versionId),
  ).catch((e: unknown) => {
    const why = e instanceof Error ? e.message : String(e); // send's message names the error
    if (why.includes("AuditSeedExpired")) {
      throw new UserError(
        `version ${version} cannot be attested: its seed block ${state.seed.seedBlock} is more than 256 blocks old and nobody anchored its hash (sample without --attest to audit it anyway)`,
      );
    }
    if (why.includes("AuditSeedNotYetAvailable")) {
      throw new UserError(
        `the audit seed of version ${version} is the hash of block ${state.seed.seedBlock}, not mined yet; sample after it`,
      );
    }
    throw e;
  });
  return { anchoredNow: sent.hash };
}

/**
 * Records on-chain that a passed sample's version passed its t audits (attestAudit, sent by
 * `signer`). A failed sample is never attested.
 */
export async function attestSample(
  s: Session,
  signer: Signer,
  sample: AuditSample,
): Promise<NonNullable<AuditSample["attestation"]>> {
  if (!sample.passed || !sample.proofsDigest) {
    throw new UserError(
      `the audit of asset ${sample.assetId} version ${sample.version} failed: nothing attested`,
    );
  }
  const sent = await send(s, "attestAudit", () =>
    s.partProof
      .connect(signer)
      .attestAudit(BigInt(sample.versionId), sample.seed, sample.t, sample.proofsDigest!),
  );
  const receipt = await s.provider.getTransactionReceipt(sent.hash);
  return { attester: await signer.getAddress(), tx: sent.hash, block: receipt?.blockNumber ?? 0 };
}

/** The AuditAttested events of a block range, oldest first. */
export async function readAttestations(
  s: Session,
  fromBlock: number,
  toBlock: number | "latest",
): Promise<FoundAttestation[]> {
  const events = await s.partProof.queryFilter(
    s.partProof.filters.AuditAttested(),
    fromBlock,
    toBlock,
  );
  return events.map((e) => ({
    assetId: (e.args.versionId >> 64n).toString(),
    version: Number(e.args.versionId & 0xffffffffffffffffn),
    versionId: e.args.versionId.toString(),
    attester: e.args.attester,
    seed: e.args.seed,
    t: Number(e.args.t),
    proofsDigest: e.args.proofsDigest,
    block: e.blockNumber,
    tx: e.transactionHash,
  }));
}
