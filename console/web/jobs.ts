/**
 * A question's life in the console, shared by every question form: a fresh request id, the
 * question signed and sent to the gateway (the signed message kept, to check the answer
 * against), the job followed, and the answer's checks run one after the other into a list.
 */
import { hexlify, randomBytes } from "ethers";
import type { JobView } from "../../protocol/api.js";
import { GatewayRefusal } from "../../protocol/client.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import { requireSigner, type Ctx, type Gateway } from "./context.js";
import { errorText, h, short } from "./dom.js";
import { answerChecks, type SignedQuery } from "./verify.js";

/** A fresh request id and nonce, and a deadline ten minutes out (as the CLI signs them). */
export function freshIds(): Pick<QueryMessage, "requestId" | "nonce" | "deadline"> {
  return {
    requestId: hexlify(randomBytes(32)),
    nonce: BigInt(hexlify(randomBytes(16))),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  };
}

/**
 * Signs `message` with the automaker's signer (DEVELOPMENT account or injected wallet) and sends
 * it; returns the job id and what was signed. A GatewayRefusal passes through.
 */
export async function signAndSend(
  ctx: Ctx,
  gw: Gateway,
  message: QueryMessage,
): Promise<{ jobId: string; signed: SignedQuery }> {
  const signer = requireSigner(ctx, "automaker");
  const signed: SignedQuery = {
    consumer: await signer.getAddress(),
    chainId: ctx.domain.chainId,
    partProof: ctx.domain.partProof,
    message,
  };
  const accepted = await gw.client.query(signer, message);
  return { jobId: accepted.jobId, signed };
}

/** Follows a job until it is logged or failed (status changes reported). */
export function followJob(
  gw: Gateway,
  jobId: string,
  onStatus: (s: string) => void = () => {},
): Promise<JobView> {
  return gw.client.waitJob(jobId, { onStatus });
}

/**
 * Runs every check of an answer (verify.ts) in order, each shown in `list` as it passes or
 * fails; returns whether all held (only then does the answer count).
 */
export async function runChecks(
  ctx: Ctx,
  job: JobView,
  signed: SignedQuery,
  list: HTMLElement,
): Promise<boolean> {
  const steps = answerChecks(ctx, job, signed);
  const items = steps.map((s) => h("li", { "data-check": s.id, "data-state": "pending" }, s.label));
  list.append(...items);
  let allOk = true;
  for (const [i, s] of steps.entries()) {
    let r: { ok: boolean; note?: string };
    try {
      r = await s.run();
    } catch (e) {
      r = { ok: false, note: errorText(e) };
    }
    allOk &&= r.ok;
    items[i]!.setAttribute("data-state", r.ok ? "ok" : "failed");
    if (r.note) items[i]!.append(h("span", { class: "muted", "data-note": "" }, ` — ${r.note}`));
  }
  return allOk;
}

/** A refusal in words: what the code means for an automaker, then the gateway's reason. */
export function refusalWords(code: string, reason: string): string {
  const words: Record<string, string> = {
    COHORT_BELOW_K: "fewer records than the grant's minimum cohort k",
    DIFFERENCING_RISK: "it would single out records by difference with an earlier answer",
    QUOTA_EXHAUSTED: "the grant's quota is used up",
    GRANT_REVOKED: "the supplier revoked the grant",
  };
  return `${words[code] ?? code} (${code}) — ${reason}`;
}

/** How an answer is said: its words and the attributes of its paragraph. */
export type DescribeAnswer = (job: JobView) => { text: string; attrs?: Record<string, string> };

/**
 * Signs and sends a question, follows its job, then shows the answer (in `describe`'s words)
 * and runs every check.
 */
export async function runJob(
  ctx: Ctx,
  gw: Ctx["gateways"][number],
  message: QueryMessage,
  describe: DescribeAnswer,
  title: string,
  answersEl: HTMLElement,
): Promise<void> {
  const status = h("p", { class: "status", role: "status" }, "signing …");
  const card = h("article", { class: "job", "data-status": "signing" }, h("h3", {}, title), status);
  answersEl.querySelector("h2")!.after(card);
  const setStatus = (s: string, text: string) => {
    card.setAttribute("data-status", s);
    status.textContent = text;
  };
  let job: JobView;
  let signed: SignedQuery;
  try {
    const sent = await signAndSend(ctx, gw, message);
    signed = sent.signed;
    card.setAttribute("data-job-id", sent.jobId);
    setStatus("queued", `job ${sent.jobId} at ${gw.name}: queued`);
    job = await followJob(gw, sent.jobId, (s) =>
      setStatus(s, `job ${sent.jobId} at ${gw.name}: ${s}`),
    );
  } catch (e) {
    if (e instanceof GatewayRefusal) {
      setStatus("refused", "refused");
      card.append(
        h(
          "p",
          { class: "refusal", "data-code": e.code },
          `Refused: ${refusalWords(e.code, e.reason)}`,
        ),
      );
    } else {
      setStatus("error", errorText(e));
    }
    return;
  }
  if (job.status === "failed") {
    setStatus("failed", `job ${job.jobId}: failed`);
    card.append(
      h(
        "p",
        { class: "refusal", "data-code": job.error?.code ?? "" },
        `Failed: ${job.error?.code ?? ""} — ${job.error?.message ?? ""}`,
      ),
    );
    return;
  }
  const said = describe(job);
  card.append(
    h(
      "p",
      {
        class: "answer",
        "data-value": job.answer?.resultValue ?? "",
        "data-aux": job.answer?.resultAux ?? "",
        ...said.attrs,
      },
      said.text,
    ),
    h(
      "p",
      { class: "muted" },
      `version ${BigInt(job.versionId) & 0xffffffffffffffffn} · proved by the gateway in ${((job.provingMs ?? 0) / 1000).toFixed(1)} s · logged in block ${job.logTx?.blockNumber ?? "?"} (tx `,
      short(job.logTx?.hash ?? ""),
      ")",
    ),
  );
  const list = h("ul", { class: "checks", "aria-label": "Checks" });
  card.append(list);
  const allOk = await runChecks(ctx, job, signed, list);
  card.setAttribute("data-verified", allOk ? "yes" : "no");
  setStatus(
    job.status,
    allOk
      ? `job ${job.jobId}: logged and verified — the answer counts`
      : `job ${job.jobId}: a check FAILED — the answer does not count`,
  );
}
