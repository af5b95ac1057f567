/**
 * The automaker's view: the catalogue (assets, schemas, versions), its grants and their quota
 * use, a form to ask a range question under a grant, the job as it runs, and the answer with
 * every check shown as it passes (the proof verified in this browser first).
 */
import { hexlify, randomBytes } from "ethers";
import { aggregateOf, fieldOf, keyRangeOf } from "../../cli/policy.js";
import { describeAnswer } from "../../cli/format.js";
import type { JobView } from "../../protocol/api.js";
import { GatewayRefusal } from "../../protocol/client.js";
import { GrantStatus } from "../../protocol/contract.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import {
  aggregatesOf,
  assets,
  fieldsOf,
  grants,
  statusName,
  when,
  type AssetRow,
  type GrantRow,
} from "./chain.js";
import { barChart } from "./chart.js";
import { requireSigner, type Ctx } from "./context.js";
import { errorText, h, replace, short, table } from "./dom.js";
import { answerChecks, type SignedQuery } from "./verify.js";

/** Aggregates that take a second field (numerator / denominator). */
const TWO_FIELDS = new Set(["ratio", "threshold"]);

/** Renders the automaker's view into `main`. */
export async function automakerView(ctx: Ctx, main: HTMLElement): Promise<void> {
  const signer = ctx.signer("automaker");
  const me = signer ? (await signer.getAddress()).toLowerCase() : undefined;
  const catalogue = h(
    "section",
    { id: "catalogue" },
    h("h2", {}, "Catalogue"),
    h("p", { class: "muted" }, "Loading …"),
  );
  const grantsEl = h("section", { id: "grants" }, h("h2", {}, "My grants"));
  const askEl = h("section", { id: "ask" }, h("h2", {}, "Ask a question"));
  const answersEl = h("section", { id: "answers" }, h("h2", {}, "Answers"));
  replace(main, h("div", { class: "grid" }, catalogue, grantsEl), askEl, answersEl);

  const all = await assets(ctx);
  // the gateway of an asset is the endpoint its owner registered on-chain; the console talks to
  // it when it is one of the configured gateways (a gateway's catalogue lists every asset)
  const served = new Map<string, string>(); // asset id → gateway name
  const norm = (u: string) => u.replace(/\/+$/, "").toLowerCase();
  for (const a of all) {
    const g = ctx.gateways.find((x) => norm(x.client.baseUrl) === norm(a.endpoint));
    if (g) served.set(a.assetId.toString(), g.name);
  }
  for (const g of ctx.gateways) {
    try {
      await g.client.health();
    } catch (e) {
      catalogue.append(h("p", { class: "error" }, `${g.name}: ${errorText(e)}`));
    }
  }
  const versionsOf = new Map<
    string,
    { number: number; recordCount: string; publishedAt: string }[]
  >();
  for (const a of all) {
    const gw = ctx.gateways.find((g) => g.name === served.get(a.assetId.toString()));
    if (!gw) continue;
    try {
      versionsOf.set(a.assetId.toString(), (await gw.client.asset(a.assetId)).versions);
    } catch {
      // the catalogue row still shows the chain's version count
    }
  }
  catalogue.querySelector("p.muted")?.remove();
  catalogue.append(
    table(
      "Assets registered on-chain, with the gateway that serves each",
      ["asset", "gateway", "schema", "fields", "versions (records)"],
      all.map((a) => ({
        attrs: { "data-asset": a.assetId.toString() },
        cells: [
          a.assetId,
          served.get(a.assetId.toString()) ?? "—",
          a.schema?.name ?? a.schemaId,
          a.schema?.fields.join(", ") ?? "",
          (versionsOf.get(a.assetId.toString()) ?? [])
            .map((v) => `v${v.number} (${v.recordCount}, ${v.publishedAt.slice(0, 10)})`)
            .join("; ") || `${a.versionCount}`,
        ],
      })),
      [0],
    ),
  );

  if (!me || !signer) {
    grantsEl.append(h("p", {}, "Choose an automaker account (top right) to see grants and ask."));
    return;
  }
  const mine = await grants(ctx, (g) => g.consumer.toLowerCase() === me);
  const assetOf = new Map(all.map((a) => [a.assetId.toString(), a]));
  grantsEl.append(
    table(
      `Grants to ${me}`,
      ["grant", "asset", "status", "used / quota", "k", "aggregates", "fields", "valid until"],
      mine.map((g) => ({
        attrs: { "data-grant": g.grantId.toString(), "data-status": statusName(g.status) },
        cells: [
          g.grantId,
          g.assetId,
          h(
            "span",
            { class: `tag ${g.status === GrantStatus.Active ? "ok" : "bad"}` },
            statusName(g.status),
          ),
          `${g.used} / ${g.quota}`,
          g.policy.minCohort,
          aggregatesOf(g.policy).join(", "),
          fieldsOf(g.policy, assetOf.get(g.assetId.toString())?.schema).join(", "),
          when(g.validUntil),
        ],
      })),
      [0, 1, 3, 4],
    ),
    barChart(
      "Quota use per grant",
      mine.map((g) => ({ label: `grant ${g.grantId}`, value: g.used, capacity: g.quota })),
    ),
  );

  const active = mine.filter((g) => g.status === GrantStatus.Active);
  if (active.length === 0) {
    askEl.append(h("p", {}, "No active grant: ask a supplier for one."));
    return;
  }
  askEl.append(askForm(ctx, active, assetOf, served, answersEl));
}

/** The range-question form for the active grants. */
function askForm(
  ctx: Ctx,
  active: GrantRow[],
  assetOf: Map<string, AssetRow>,
  served: Map<string, string>,
  answersEl: HTMLElement,
): HTMLElement {
  const grantSel = h(
    "select",
    { name: "grant", id: "q-grant" },
    ...active.map((g) =>
      h("option", { value: g.grantId.toString() }, `grant ${g.grantId} · asset ${g.assetId}`),
    ),
  );
  const aggSel = h("select", { name: "aggregate", id: "q-aggregate" });
  const fieldA = h("select", { name: "fieldA", id: "q-fieldA" });
  const fieldB = h("select", { name: "fieldB", id: "q-fieldB" });
  const part = h("input", { name: "part", id: "q-part", required: true, autocomplete: "off" });
  const plant = h("input", { name: "plant", id: "q-plant", autocomplete: "off" });
  const from = h("input", { name: "from", id: "q-from", type: "date" });
  const to = h("input", { name: "to", id: "q-to", type: "date" });
  const threshold = h("input", {
    name: "threshold",
    id: "q-threshold",
    inputmode: "numeric",
    placeholder: "PPM",
  });
  const error = h("p", { class: "error", role: "alert" });
  const grantOf = () => active.find((g) => g.grantId.toString() === grantSel.value)!;
  const schemaOf = () => assetOf.get(grantOf().assetId.toString())?.schema;
  const fill = () => {
    const g = grantOf();
    const opts = (sel: HTMLSelectElement, names: string[]) =>
      replace(sel, ...names.map((n) => h("option", { value: n }, n)));
    opts(aggSel, aggregatesOf(g.policy));
    opts(fieldA, fieldsOf(g.policy, schemaOf()));
    opts(fieldB, fieldsOf(g.policy, schemaOf()));
    shape();
  };
  const shape = () => {
    const two = TWO_FIELDS.has(aggSel.value);
    fieldB.disabled = !two;
    threshold.disabled = aggSel.value !== "threshold";
  };
  grantSel.addEventListener("change", fill);
  aggSel.addEventListener("change", shape);
  fill();
  const field = (label: string, el: HTMLElement) => h("label", {}, label, el);
  const form = h(
    "form",
    { id: "ask-form", "aria-label": "Ask a range question" },
    field("Grant", grantSel),
    field("Aggregate", aggSel),
    field("Field (numerator)", fieldA),
    field("Of field (denominator)", fieldB),
    field("Part number", part),
    field("Plant (optional)", plant),
    field("From (production date)", from),
    field("To", to),
    field("Threshold (PPM)", threshold),
    h("button", { type: "submit", id: "q-submit" }, "Sign and ask"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    const g = grantOf();
    const schema = schemaOf();
    try {
      if (!schema) throw new Error(`asset ${g.assetId} has a schema this console does not know`);
      const aggregate = aggSel.value;
      const two = TWO_FIELDS.has(aggregate);
      const { keyLo, keyHi } = keyRangeOf({
        partNumber: part.value.trim(),
        plant: plant.value.trim() || undefined,
        from: from.value || undefined,
        to: to.value || undefined,
      });
      const message: QueryMessage = {
        grantId: g.grantId,
        assetId: g.assetId,
        versionId: 0n, // the latest published version
        kind: aggregateOf(aggregate),
        fieldA: fieldOf(schema, fieldA.value),
        fieldB: two ? fieldOf(schema, fieldB.value) : 0,
        lo: keyLo,
        hi: keyHi,
        threshold: aggregate === "threshold" ? BigInt(threshold.value || "0") : 0n,
        ...freshIds(),
      };
      const gw = ctx.gateways.find((x) => x.name === served.get(g.assetId.toString()));
      if (!gw) throw new Error(`no configured gateway serves asset ${g.assetId}`);
      const title = [
        `${aggregate} of ${fieldA.value}${TWO_FIELDS.has(aggregate) ? ` / ${fieldB.value}` : ""}`,
        part.value.trim(),
        plant.value.trim() && `plant ${plant.value.trim()}`,
        (from.value || to.value) && `${from.value || "…"} – ${to.value || "…"}`,
        aggregate === "threshold" && `≤ ${threshold.value} PPM?`,
      ]
        .filter(Boolean)
        .join(", ");
      void runJob(ctx, gw, message, aggregate, title, answersEl);
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return h("div", {}, form, error);
}

/** A fresh request id and nonce, and a deadline ten minutes out (as the CLI signs them). */
function freshIds(): Pick<QueryMessage, "requestId" | "nonce" | "deadline"> {
  return {
    requestId: hexlify(randomBytes(32)),
    nonce: BigInt(hexlify(randomBytes(16))),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  };
}

/** Signs and sends a question, follows its job, then shows the answer and runs every check. */
async function runJob(
  ctx: Ctx,
  gw: Ctx["gateways"][number],
  message: QueryMessage,
  aggregate: string,
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
    const signer = requireSigner(ctx, "automaker");
    signed = {
      consumer: await signer.getAddress(),
      chainId: ctx.domain.chainId,
      partProof: ctx.domain.partProof,
      message,
    };
    const accepted = await gw.client.query(signer, message);
    card.setAttribute("data-job-id", accepted.jobId);
    setStatus("queued", `job ${accepted.jobId} at ${gw.name}: queued`);
    job = await gw.client.waitJob(accepted.jobId, {
      onStatus: (s) => setStatus(s, `job ${accepted.jobId} at ${gw.name}: ${s}`),
    });
  } catch (e) {
    if (e instanceof GatewayRefusal) {
      setStatus("refused", "refused");
      card.append(
        h(
          "p",
          { class: "refusal", "data-code": e.code },
          `Refused: ${e.status} ${e.code} — ${e.reason}`,
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
  card.append(
    h(
      "p",
      {
        class: "answer",
        "data-value": job.answer?.resultValue ?? "",
        "data-aux": job.answer?.resultAux ?? "",
      },
      describeAnswer(job, aggregate).replace(/^answer: /, ""),
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
  card.setAttribute("data-verified", allOk ? "yes" : "no");
  setStatus(
    job.status,
    allOk
      ? `job ${job.jobId}: logged and verified — the answer counts`
      : `job ${job.jobId}: a check FAILED — the answer does not count`,
  );
}
