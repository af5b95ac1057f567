/**
 * What an auditor does: read the access log from the chain, re-verify every logged proof
 * off-chain (batched Groth16 checks, the verification keys of protocol/manifest.ts), fetch or read the gateways'
 * exports of served answers, and reconcile it all (the pure reconcile.ts) into a report.
 */
import { readFile } from "node:fs/promises";
import type { Signer } from "ethers";
import { z } from "zod";
import { auditExportSchema, type AuditExport } from "../protocol/api.js";
import { findInvalid, type Groth16VerificationKey } from "../protocol/batch-verify.js";
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
import { gatewayOf, type Session } from "./session.js";

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
