/**
 * The automaker's and the auditor's checks, in the browser: a proof verified here with snarkjs
 * against the verification key the console ships, after that key is matched with the verifier
 * contract the chain registered for the circuit; and an answer checked, as one who trusts no
 * gateway, against the question the automaker signed (the same checks as `partproof automaker
 * verify`, cli/automaker.ts).
 */
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { ZeroAddress } from "ethers";
import { bindingOf, parseSignals, resultCommitment } from "../../circuits/lib/signals.js";
import type { JobView } from "../../protocol/api.js";
import { toSolidityProof, type SnarkjsProof } from "../../protocol/proof.js";
import { queryMessageHash, type QueryMessage } from "../../protocol/typed-data.js";
import { IGroth16Verifier__factory } from "../../types/ethers-contracts/index.js";
import type { Ctx } from "./context.js";
import { vkeyWords } from "../../protocol/vkey.js";

const vkeyChecked = new Map<string, Promise<VkeyCheck>>();

/** Whether the shipped vkey of a circuit is the one the chain's registered verifier holds. */
export interface VkeyCheck {
  ok: boolean;
  name?: string;
  vkey?: Record<string, unknown>;
  why?: string;
}

/**
 * Matches the console's verification key for `circuitId` with the chain: the circuit's
 * registered verifier contract (snarkjs' Solidity verifier holds the key as constants) must
 * contain every coordinate of the key. Asked once per circuit.
 */
export function checkVkey(ctx: Ctx, circuitId: string): Promise<VkeyCheck> {
  const id = circuitId.toLowerCase();
  let p = vkeyChecked.get(id);
  if (!p) {
    p = (async (): Promise<VkeyCheck> => {
      const shipped = ctx.vkeys[id];
      if (!shipped)
        return { ok: false, why: "the console ships no verification key for this circuit" };
      const circuit = await ctx.reader.contract.getCircuit(id);
      if (circuit.verifier === ZeroAddress) {
        return { ok: false, name: shipped.name, why: "the chain has no verifier for this circuit" };
      }
      const code = (await ctx.provider.getCode(circuit.verifier)).toLowerCase();
      const missing = vkeyWords(shipped.vkey).filter((w) => !code.includes(w));
      return missing.length === 0
        ? { ok: true, name: shipped.name, vkey: shipped.vkey }
        : {
            ok: false,
            name: shipped.name,
            why: `${missing.length} coordinates of the shipped key are not in the chain's verifier`,
          };
    })();
    p.catch(() => vkeyChecked.delete(id));
    vkeyChecked.set(id, p);
  }
  return p;
}

/** Verifies a Groth16 proof in this browser (snarkjs); returns the verdict and the time taken. */
export async function verifyInBrowser(
  vkey: Record<string, unknown>,
  publicSignals: readonly string[],
  proof: SnarkjsProof,
): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  const ok = (await snarkjs.groth16.verify(vkey, [...publicSignals], proof)) as boolean;
  return { ok, ms: performance.now() - t0 };
}

/** What the automaker signed for a job, kept by the console when it sent the query. */
export interface SignedQuery {
  consumer: string;
  chainId: bigint;
  partProof: string;
  message: QueryMessage;
}

/** One check of an answer: its id (stable, for tests and styles), words, and how to run it. */
export interface AnswerCheckStep {
  id: string;
  label: string;
  run(): Promise<{ ok: boolean; note?: string }>;
}

/**
 * The checks of an answer, in the order shown: each runs when the previous one finished. Every
 * one must hold for the answer to count.
 */
export function answerChecks(ctx: Ctx, job: JobView, signed: SignedQuery): AnswerCheckStep[] {
  const { proof, publicSignals, answer, blind } = job;
  if (!proof || !publicSignals || !answer || blind === null) {
    throw new Error(`job ${job.jobId} has no answer (status ${job.status})`);
  }
  const m = signed.message;
  const signals = parseSignals(publicSignals);
  const versionId = BigInt(job.versionId);
  let vk: VkeyCheck | undefined;
  return [
    {
      id: "vkey",
      label: "Verification key is the one the chain registered (its verifier contract holds it)",
      run: async () => {
        vk = await checkVkey(ctx, job.circuitId);
        return { ok: vk.ok, note: vk.ok ? vk.name : vk.why };
      },
    },
    {
      id: "proofInBrowser",
      label: "Proof verified in this browser (snarkjs, Groth16)",
      run: async () => {
        if (!vk?.ok || !vk.vkey)
          return { ok: false, note: "no verification key matched with the chain" };
        const r = await verifyInBrowser(vk.vkey, publicSignals, proof as SnarkjsProof);
        return { ok: r.ok, note: `${r.ms.toFixed(0)} ms` };
      },
    },
    {
      id: "proofOnChain",
      label: "The chain's verifier contract accepts the proof (eth_call)",
      run: async () => {
        const circuit = await ctx.reader.contract.getCircuit(job.circuitId);
        if (circuit.verifier === ZeroAddress) return { ok: false };
        const p = toSolidityProof(proof as SnarkjsProof);
        try {
          const ok = await IGroth16Verifier__factory.connect(
            circuit.verifier,
            ctx.provider,
          ).verifyProof(
            p.a,
            p.b,
            p.c,
            publicSignals.map(BigInt) as [bigint, bigint, bigint, bigint, bigint],
          );
          return { ok };
        } catch {
          return { ok: false, note: "the verifier reverted" };
        }
      },
    },
    {
      id: "commitmentOpens",
      label: "The answer opens the proof's result commitment",
      run: async () => ({
        ok:
          resultCommitment(BigInt(answer.resultValue), BigInt(answer.resultAux), BigInt(blind)) ===
          signals.resultCommitment,
      }),
    },
    {
      id: "rootOnChain",
      label: "The proof's root is the version's root on-chain",
      run: async () => {
        const v = await ctx.reader.getVersion(versionId);
        return { ok: v?.root === signals.root, note: `version ${versionId & 0xffffffffffffffffn}` };
      },
    },
    {
      id: "logEntry",
      label:
        "The on-chain log entry of the signed request carries this proof, consumer and version",
      run: async () => {
        const c = ctx.reader.contract;
        if (!(await c.isRequestLogged(m.grantId, m.requestId)))
          return { ok: false, note: "not logged" };
        const block = Number(await c.answerBlockOf(m.grantId, m.requestId));
        const events = await c.queryFilter(
          c.filters.AnswerRecorded(m.grantId, undefined, m.requestId),
          block,
          block,
        );
        const ok = events.some(
          ({ args: a }) =>
            a.publicSignals.length === publicSignals.length &&
            a.publicSignals.every((x, i) => x === BigInt(publicSignals[i]!)) &&
            a.consumer.toLowerCase() === signed.consumer.toLowerCase() &&
            a.versionId === versionId,
        );
        return { ok, note: `block ${block}` };
      },
    },
    {
      id: "questionSigned",
      label:
        "The proof answers the question signed (query hash), for the signed grant, asset, version rule and request",
      run: async () => ({
        ok:
          queryMessageHash(m) === signals.queryHash &&
          BigInt(job.grantId) === m.grantId &&
          BigInt(job.assetId) === m.assetId &&
          versionId >> 64n === m.assetId &&
          (m.versionId === 0n || m.versionId === versionId) &&
          job.requestId.toLowerCase() === m.requestId.toLowerCase(),
      }),
    },
    {
      id: "binding",
      label: "The proof is bound to this deployment, the grant, the signer and the request id",
      run: async () => ({
        ok:
          bindingOf(
            ctx.domain.chainId,
            ctx.domain.partProof,
            m.grantId,
            signed.consumer,
            m.requestId,
          ) === signals.binding &&
          signed.chainId === ctx.domain.chainId &&
          signed.partProof.toLowerCase() === ctx.domain.partProof.toLowerCase(),
      }),
    },
  ];
}
