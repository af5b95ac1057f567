/**
 * The automaker's view: the catalogue (assets, schemas, versions), its grants and their quota
 * use, a form to ask a range question under a grant, the job as it runs, and the answer with
 * every check shown as it passes (the proof verified in this browser first).
 */
import { aggregateOf, fieldOf, keyRangeOf } from "../../cli/policy.js";
import { describeAnswer } from "../../cli/format.js";
import { GrantStatus, versionIdOf } from "../../protocol/contract.js";
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
import type { Ctx } from "./context.js";
import { errorText, h, replace, table } from "./dom.js";
import { freshIds, runJob, type DescribeAnswer } from "./jobs.js";
import { field, metricForm, plantBox, plantByOrder } from "./metric-form.js";

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
  // the attestation mark comes from the chain, not from a gateway
  const attested = new Map<string, number>(); // "asset/version" → the largest attested t
  for (const a of all) {
    for (let n = 1; n <= a.versionCount; n++) {
      const st = await ctx.reader.versionAttestations(versionIdOf(BigInt(a.assetId), n));
      const ts = (st?.attestations ?? []).map((x) => x.t);
      if (ts.length > 0) attested.set(`${a.assetId}/${n}`, Math.max(...ts));
    }
  }
  const mark = (assetId: unknown, n: number) => {
    const t = attested.get(`${assetId}/${n}`);
    return t === undefined ? "" : `, attested t = ${t}`;
  };
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
            .map(
              (v) =>
                `v${v.number} (${v.recordCount}, ${v.publishedAt.slice(0, 10)}${mark(a.assetId, v.number)})`,
            )
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
  askEl.append(
    h("h3", {}, "Any allowed aggregate over a range"),
    askForm(ctx, active, assetOf, served, answersEl),
    h("h3", {}, "A metric in words and units, or a series of it by month or quarter"),
    metricForm(ctx, active, assetOf, served, answersEl),
  );
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
  const { input: plant, hint: plantHint, label: plantLabel } = plantBox("q");
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
    plantByOrder(plant, plantHint, schemaOf());
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
  const form = h(
    "form",
    { id: "ask-form", "aria-label": "Ask a range question" },
    field("Grant", grantSel),
    field("Aggregate", aggSel),
    field("Field (numerator)", fieldA),
    field("Of field (denominator)", fieldB),
    field("Part number", part),
    plantLabel,
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
      const { keyLo, keyHi } = keyRangeOf(
        {
          partNumber: part.value.trim(),
          plant: plant.value.trim() || undefined,
          from: from.value || undefined,
          to: to.value || undefined,
        },
        schema,
      );
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
        plant.disabled ? "every plant" : plant.value.trim() && `plant ${plant.value.trim()}`,
        (from.value || to.value) && `${from.value || "…"} – ${to.value || "…"}`,
        aggregate === "threshold" && `≤ ${threshold.value} PPM?`,
      ]
        .filter(Boolean)
        .join(", ");
      const describe: DescribeAnswer = (job) => ({
        text: describeAnswer(job, aggregate).replace(/^answer: /, ""),
      });
      void runJob(ctx, gw, message, describe, title, answersEl);
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return h("div", {}, form, error);
}
