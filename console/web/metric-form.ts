/**
 * The automaker's metric form: a named question of the CLI (`--metric`, cli/metrics.ts) in
 * words and units, asked once over a window or as a series, one question per month or quarter
 * (protocol/periods.ts, as `automaker series` cuts it). A series sends every question before it
 * awaits any answer, so that all proofs are in flight at once; each point is checked in this
 * browser like any answer, and the series is drawn as a line chart in which a refused period
 * (fewer records than k) is a gap with its refusal in words.
 *
 * On a day-ordered asset (a `…-by-day` schema, protocol/records/key-order.ts) a question covers
 * every plant of the part × the date window: the plant box is then disabled and says so.
 *
 * Filters are metrics too: on an asset of an indicator schema (`quality-eol3`, `delivery-late`,
 * `pcf-primary50`, protocol/records/indicators.ts) the filtered presets (`metricFits`) are
 * offered when the grant's field mask allows their indicator fields; the form notes the limit
 * of any other filter (`FILTERS_NOTE`, the scan window).
 */
import {
  describeMetric,
  FILTERS_NOTE,
  formatValue,
  METRICS,
  metricFits,
  pooledQuestions,
  pooledValue,
  toNumber,
  valueOfAnswer,
  type Metric,
  type SupplierSums,
} from "../../cli/metrics.js";
import { AGGREGATES, fieldOf, keyRangeOf } from "../../cli/policy.js";
import type { JobView } from "../../protocol/api.js";
import { GatewayRefusal } from "../../protocol/client.js";
import { periodsIn, type Period } from "../../protocol/periods.js";
import { keyOrderOf } from "../../protocol/records/key-order.js";
import type { DataSchema } from "../../protocol/records/types.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import type { AssetRow, GrantRow } from "./chain.js";
import { lineChart } from "./chart.js";
import type { Ctx, Gateway } from "./context.js";
import { errorText, h, replace } from "./dom.js";
import { followJob, freshIds, refusalWords, runChecks, runJob, signAndSend } from "./jobs.js";
import type { SignedQuery } from "./verify.js";

/** A labelled form control (the label wraps it, so it is the control's accessible name). */
export function field(label: string, el: HTMLElement): HTMLElement {
  return h("label", {}, label, el);
}

/** A plant box with its label and the hint {@link plantByOrder} writes (ids `${prefix}-plant…`). */
export function plantBox(prefix: string) {
  const input = h("input", { name: "plant", id: `${prefix}-plant`, autocomplete: "off" });
  const hint = h("span", { class: "muted hint", id: `${prefix}-plant-hint` });
  return { input, hint, label: h("label", {}, h("span", {}, "Plant (optional)", hint), input) };
}

/**
 * The plant box of a form for an asset's key order: on a day-ordered asset a question takes
 * every plant (a plant is not a range of it), so the box is emptied, disabled, and says why.
 */
export function plantByOrder(
  plant: HTMLInputElement,
  hint: HTMLElement,
  schema: DataSchema | undefined,
): void {
  const byDay = schema !== undefined && keyOrderOf(schema) === "day";
  plant.disabled = byDay;
  if (byDay) plant.value = "";
  plant.placeholder = byDay ? "every plant" : "needed for a date window";
  hint.textContent = byDay ? " · every plant × the window (asset ordered by day)" : "";
}

/** Whether a grant's policy allows an aggregate over fields. */
function allowsQuestion(g: GrantRow, schema: DataSchema, aggregate: string, fields: string[]) {
  if (((g.policy.aggregateMask >> AGGREGATES[aggregate]!) & 1) === 0) return false;
  return fields.every((f) => {
    const i = schema.fields.indexOf(f);
    return i >= 0 && ((g.policy.fieldMask >> i) & 1) === 1;
  });
}

/** Whether a grant's policy allows a metric's aggregate and fields on its schema. */
function allows(g: GrantRow, schema: DataSchema, m: Metric): boolean {
  const fields = [m.fieldA, m.fieldB].filter((f): f is string => f !== undefined);
  return metricFits(m, schema) && allowsQuestion(g, schema, m.aggregate, fields);
}

/** Whether a grant allows the sums a pooled metric asks of each supplier (cli/metrics.ts). */
function allowsPooled(g: GrantRow, schema: DataSchema, m: Metric): boolean {
  return metricFits(m, schema) && allowsQuestion(g, schema, "sum", pooledQuestions(m));
}

/** The signed message of a question (an aggregate over fields) over one window. */
function questionMessage(
  g: GrantRow,
  schema: DataSchema,
  q: { aggregate: string; fieldA: string; fieldB?: string },
  w: { partNumber: string; plant?: string; from?: string; to?: string },
): QueryMessage {
  const { keyLo, keyHi } = keyRangeOf(w, schema);
  return {
    grantId: g.grantId,
    assetId: g.assetId,
    versionId: 0n,
    kind: AGGREGATES[q.aggregate]!,
    fieldA: fieldOf(schema, q.fieldA),
    fieldB: q.fieldB === undefined ? 0 : fieldOf(schema, q.fieldB),
    lo: keyLo,
    hi: keyHi,
    threshold: 0n,
    ...freshIds(),
  };
}

/** The metric form for the active grants whose assets hold a metric's records. */
export function metricForm(
  ctx: Ctx,
  active: GrantRow[],
  assetOf: Map<string, AssetRow>,
  served: Map<string, string>,
  answersEl: HTMLElement,
): HTMLElement {
  const schemaOf = (g: GrantRow) => assetOf.get(g.assetId.toString())?.schema;
  const usable = active.filter((g) => {
    const s = schemaOf(g);
    return s !== undefined && METRICS.some((m) => allows(g, s, m) || allowsPooled(g, s, m));
  });
  if (usable.length === 0) {
    return h("p", { class: "muted" }, "No active grant allows one of the metrics.");
  }
  const grantSel = h(
    "select",
    { name: "grant", id: "m-grant" },
    ...usable.map((g) =>
      h(
        "option",
        { value: g.grantId.toString() },
        `grant ${g.grantId} · asset ${g.assetId} (${schemaOf(g)!.name})`,
      ),
    ),
  );
  const metricSel = h("select", { name: "metric", id: "m-metric" });
  const part = h("input", { name: "part", id: "m-part", required: true, autocomplete: "off" });
  const { input: plant, hint: plantHint, label: plantLabel } = plantBox("m");
  const from = h("input", { name: "from", id: "m-from", type: "date" });
  const to = h("input", { name: "to", id: "m-to", type: "date" });
  const per = h(
    "select",
    { name: "per", id: "m-per" },
    h("option", { value: "" }, "one answer"),
    h("option", { value: "month" }, "per month (series)"),
    h("option", { value: "quarter" }, "per quarter (series)"),
  );
  const pool = h(
    "fieldset",
    { id: "m-pool" },
    h("legend", {}, "Pool with other suppliers (each proves its sums under its own grant and k)"),
  );
  const error = h("p", { class: "error", role: "alert" });
  const grantOf = () => usable.find((g) => g.grantId.toString() === grantSel.value)!;
  const metricOfForm = () => METRICS.find((m) => m.name === metricSel.value);
  /** The other grants that can pool the chosen metric (checkboxes), or a note that none can. */
  const fillPool = () => {
    const g = grantOf();
    const m = metricOfForm();
    const others = usable.filter(
      (o) => o !== g && m !== undefined && allowsPooled(o, schemaOf(o)!, m),
    );
    replace(
      pool,
      pool.querySelector("legend"),
      ...(m && allowsPooled(g, schemaOf(g)!, m) && others.length > 0
        ? others.map((o) =>
            h(
              "label",
              { class: "check" },
              h("input", { type: "checkbox", name: "pool", value: o.grantId.toString() }),
              ` grant ${o.grantId} · asset ${o.assetId} at ${served.get(o.assetId.toString()) ?? "?"}`,
            ),
          )
        : [h("span", { class: "muted" }, "no other grant can pool this metric")]),
    );
  };
  const fill = () => {
    const g = grantOf();
    const schema = schemaOf(g)!;
    replace(
      metricSel,
      ...METRICS.filter((m) => allows(g, schema, m) || allowsPooled(g, schema, m)).map((m) =>
        h("option", { value: m.name }, `${m.title} (${m.unit})`),
      ),
    );
    plantByOrder(plant, plantHint, schema);
    fillPool();
  };
  grantSel.addEventListener("change", fill);
  metricSel.addEventListener("change", fillPool);
  fill();
  const form = h(
    "form",
    { id: "metric-form", "aria-label": "Ask a metric or a series" },
    field("Grant", grantSel),
    field("Metric", metricSel),
    field("Part number", part),
    plantLabel,
    field("From (date)", from),
    field("To", to),
    field("Answer", per),
    pool,
    h("button", { type: "submit", id: "m-submit" }, "Sign and ask"),
  );
  // which metrics are filtered, and the limit of any other filter (the CLI's help says the same)
  const note = h("p", { class: "muted hint", id: "m-filters-note" }, `Filters: ${FILTERS_NOTE}.`);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      const g = grantOf();
      const schema = schemaOf(g)!;
      const metric = metricOfForm();
      if (!metric) throw new Error("choose a metric");
      const gw = ctx.gateways.find((x) => x.name === served.get(g.assetId.toString()));
      if (!gw) throw new Error(`no configured gateway serves asset ${g.assetId}`);
      const w = {
        partNumber: part.value.trim(),
        plant: plant.disabled ? undefined : plant.value.trim() || undefined,
        from: from.value || undefined,
        to: to.value || undefined,
      };
      const where = [
        w.partNumber,
        plant.disabled ? "every plant" : w.plant && `plant ${w.plant}`,
        (w.from || w.to) && `${w.from ?? "…"} – ${w.to ?? "…"}`,
      ]
        .filter(Boolean)
        .join(", ");
      const pooled = [...pool.querySelectorAll<HTMLInputElement>("input[name=pool]:checked")].map(
        (c) => usable.find((o) => o.grantId.toString() === c.value)!,
      );
      if (pooled.length > 0) {
        if (per.value) throw new Error("a series asks one supplier: clear the pooled suppliers");
        const targets = [g, ...pooled].map((t) => {
          const tgw = ctx.gateways.find((x) => x.name === served.get(t.assetId.toString()));
          if (!tgw) throw new Error(`no configured gateway serves asset ${t.assetId}`);
          return { grant: t, schema: schemaOf(t)!, gw: tgw };
        });
        const title = `${metric.title}, ${targets.length} suppliers pooled, ${where}`;
        void runPooled(ctx, targets, metric, w, title, answersEl);
        return;
      }
      if (!allows(g, schema, metric)) {
        throw new Error(`grant ${g.grantId} allows this metric only pooled (SUM questions)`);
      }
      if (per.value === "month" || per.value === "quarter") {
        if (!w.from || !w.to) throw new Error("a series needs both dates (from and to)");
        const periods = periodsIn(per.value, w.from, w.to);
        const title = `${metric.title} per ${per.value}, ${where}`;
        void runSeries(ctx, gw, g, schema, metric, w, periods, title, answersEl);
        return;
      }
      const message = questionMessage(g, schema, metric, w);
      void runJob(
        ctx,
        gw,
        message,
        (job) => {
          const v = valueOfAnswer(metric, job);
          return {
            text: describeMetric(metric, v),
            attrs: { "data-metric": metric.name, "data-metric-value": formatValue(metric, v) },
          };
        },
        `${metric.title}, ${where}`,
        answersEl,
      );
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return h("div", {}, form, note, error);
}

/** One point of a series as it goes: sent, answered and checked, or refused. */
interface Point {
  period: Period;
  row: HTMLTableRowElement;
  jobId?: string;
  signed?: SignedQuery;
  value?: number;
  refused?: string;
}

/**
 * Asks one question per period (all sent before any answer is awaited), follows each job in
 * turn (polling many jobs at once would meet the gateway's rate limit), checks each answer in
 * this browser, and draws the series with refused periods as gaps.
 */
async function runSeries(
  ctx: Ctx,
  gw: Gateway,
  g: GrantRow,
  schema: DataSchema,
  metric: Metric,
  w: { partNumber: string; plant?: string },
  periods: Period[],
  title: string,
  answersEl: HTMLElement,
): Promise<void> {
  const status = h("p", { class: "status", role: "status" }, "signing …");
  const body = h("tbody");
  const chartEl = h("div", { class: "series-chart" });
  const card = h(
    "article",
    { class: "job series", "data-status": "signing", "data-metric": metric.name },
    h("h3", {}, title),
    status,
    chartEl,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("caption", { class: "muted" }, `${metric.title} (${metric.unit}), one proof per period`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["period", "dates", metric.unit, "records", "checks"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  answersEl.querySelector("h2")!.after(card);
  const setStatus = (s: string, text: string) => {
    card.setAttribute("data-status", s);
    status.textContent = text;
  };
  const points: Point[] = periods.map((period) => {
    const row = h(
      "tr",
      { "data-period": period.label, "data-state": "sending" },
      h("td", {}, period.label),
      h("td", {}, `${period.from} … ${period.to}`),
      h("td", { class: "num value" }, "…"),
      h("td", { class: "num records" }),
      h("td", { class: "checks-cell" }),
    );
    body.append(row);
    return { period, row };
  });
  const cell = (p: Point, cls: string) => p.row.querySelector<HTMLElement>(`td.${cls}`)!;
  const refuse = (p: Point, code: string, reason: string) => {
    p.refused = code;
    p.row.setAttribute("data-state", "refused");
    p.row.setAttribute("data-code", code);
    p.row.classList.add("anomaly");
    cell(p, "value").textContent = "—";
    cell(p, "checks-cell").append(
      h("span", { class: "refusal" }, `refused: ${refusalWords(code, reason)}`),
    );
  };
  try {
    await Promise.all(
      points.map(async (p) => {
        try {
          const message = questionMessage(g, schema, metric, { ...w, ...p.period });
          const sent = await signAndSend(ctx, gw, message);
          p.jobId = sent.jobId;
          p.signed = sent.signed;
          p.row.setAttribute("data-state", "queued");
          p.row.setAttribute("data-job-id", sent.jobId);
        } catch (e) {
          if (e instanceof GatewayRefusal) refuse(p, e.code, e.reason);
          else throw e;
        }
      }),
    );
  } catch (e) {
    setStatus("error", errorText(e));
    return;
  }
  const inFlight = points.filter((p) => p.jobId).length;
  setStatus("running", `${inFlight} of ${points.length} questions accepted; proofs in flight …`);
  let failed = 0;
  for (const p of points) {
    if (!p.jobId || !p.signed) continue;
    let job: JobView;
    try {
      job = await followJob(gw, p.jobId, (s) => p.row.setAttribute("data-state", s));
    } catch (e) {
      setStatus("error", `${p.period.label}: ${errorText(e)}`);
      return;
    }
    if (job.status === "failed") {
      refuse(p, job.error?.code ?? "FAILED", job.error?.message ?? "");
      continue;
    }
    const v = valueOfAnswer(metric, job);
    const list = h("ul", { class: "checks", "aria-label": `Checks of ${p.period.label}` });
    const details = h("details", {}, h("summary", {}, "checking …"), list);
    cell(p, "checks-cell").append(details);
    cell(p, "value").textContent = formatValue(metric, v);
    cell(p, "records").textContent = v.records === undefined ? "" : v.records.toString();
    const ok = await runChecks(ctx, job, p.signed, list);
    const checked = list.querySelectorAll("li").length;
    details.querySelector("summary")!.textContent = ok
      ? `${checked} of ${checked} checks passed, verified in this browser`
      : "a check FAILED: the point does not count";
    p.row.setAttribute("data-state", ok ? "verified" : "failed");
    p.row.setAttribute("data-value", formatValue(metric, v));
    if (ok) p.value = toNumber(v);
    else failed++;
  }
  replace(
    chartEl,
    lineChart(
      title,
      metric.unit,
      points.map((p) => ({
        label: p.period.label,
        value: p.value ?? null,
        note: p.refused ? (p.refused === "COHORT_BELOW_K" ? "refused: < k" : "refused") : "failed",
      })),
    ),
  );
  const verified = points.filter((p) => p.value !== undefined).length;
  const refused = points.filter((p) => p.refused).length;
  card.setAttribute("data-verified", failed === 0 ? "yes" : "no");
  setStatus(
    "done",
    `${verified} of ${points.length} periods proved, logged and verified in this browser` +
      (refused ? `; ${refused} refused (a gap in the chart)` : "") +
      (failed ? `; ${failed} FAILED a check` : ""),
  );
}

/** One supplier of a pooled question: its grant, asset schema and gateway. */
interface PoolTarget {
  grant: GrantRow;
  schema: DataSchema;
  gw: Gateway;
}

/**
 * Asks every supplier the sums `metric` pools (cli/multi-supplier.ts's plain combination: the
 * automaker learns each supplier's sums too), each under its own grant, so each proof holds
 * only if that supplier's cohort reaches its own k. Questions are sent one after the other (a
 * refusal stops before later suppliers are asked and charged); the proofs then run at once at
 * every gateway. Every answer is checked in this browser; the pooled value is Σ numerators /
 * Σ denominators in the metric's unit (cli/metrics.ts's pooledValue).
 */
async function runPooled(
  ctx: Ctx,
  targets: PoolTarget[],
  metric: Metric,
  w: { partNumber: string; plant?: string; from?: string; to?: string },
  title: string,
  answersEl: HTMLElement,
): Promise<void> {
  const fields = pooledQuestions(metric);
  const status = h("p", { class: "status", role: "status" }, "signing …");
  const body = h("tbody");
  const card = h(
    "article",
    { class: "job pooled", "data-status": "signing", "data-metric": metric.name },
    h("h3", {}, title),
    status,
  );
  answersEl.querySelector("h2")!.after(card);
  const setStatus = (s: string, text: string) => {
    card.setAttribute("data-status", s);
    status.textContent = text;
  };
  const sent: { t: PoolTarget; field: string; jobId: string; signed: SignedQuery }[] = [];
  try {
    for (const t of targets) {
      for (const f of fields) {
        try {
          const message = questionMessage(t.grant, t.schema, { aggregate: "sum", fieldA: f }, w);
          sent.push({ t, field: f, ...(await signAndSend(ctx, t.gw, message)) });
        } catch (e) {
          if (!(e instanceof GatewayRefusal)) throw e;
          setStatus("refused", "refused");
          const earlier = sent.length
            ? ` (${sent.length} earlier questions were accepted and will be logged)`
            : "";
          card.append(
            h(
              "p",
              { class: "refusal", "data-code": e.code, "data-grant": t.grant.grantId.toString() },
              `Refused by grant ${t.grant.grantId} (${t.gw.name}), SUM(${f}): ${refusalWords(e.code, e.reason)}${earlier}`,
            ),
          );
          return;
        }
      }
    }
  } catch (e) {
    setStatus("error", errorText(e));
    return;
  }
  setStatus("running", `${sent.length} proofs in flight at ${targets.length} gateways …`);
  card.append(
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("caption", { class: "muted" }, "Each supplier's verified sums"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["grant", "gateway", "sum of", "value", "records", "checks"].map((x) =>
              h("th", { scope: "col" }, x),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  const parts = new Map<PoolTarget, SupplierSums & { versionId?: string }>();
  let allOk = true;
  for (const x of sent) {
    let job: JobView;
    try {
      job = await followJob(x.t.gw, x.jobId);
    } catch (e) {
      setStatus("error", `grant ${x.t.grant.grantId}: ${errorText(e)}`);
      return;
    }
    if (job.status === "failed" || !job.answer) {
      setStatus("failed", `grant ${x.t.grant.grantId}: job ${job.jobId} failed`);
      card.append(
        h(
          "p",
          { class: "refusal", "data-code": job.error?.code ?? "" },
          `Failed: ${job.error?.code ?? ""} — ${job.error?.message ?? ""}`,
        ),
      );
      return;
    }
    const list = h("ul", { class: "checks", "aria-label": `Checks of grant ${x.t.grant.grantId}` });
    const details = h("details", {}, h("summary", {}, "checking …"), list);
    const sum = BigInt(job.answer.resultValue);
    const count = BigInt(job.answer.resultAux);
    body.append(
      h(
        "tr",
        { "data-grant": x.t.grant.grantId.toString(), "data-field": x.field },
        h("td", { class: "num" }, x.t.grant.grantId),
        h("td", {}, x.t.gw.name),
        h("td", {}, x.field),
        h("td", { class: "num" }, sum),
        h("td", { class: "num" }, count),
        h("td", {}, details),
      ),
    );
    const ok = await runChecks(ctx, job, x.signed, list);
    details.querySelector("summary")!.textContent = ok
      ? `${list.children.length} of ${list.children.length} checks passed`
      : "a check FAILED";
    allOk &&= ok;
    const part = parts.get(x.t);
    if (part && (part.count !== count || part.versionId !== job.versionId)) {
      setStatus(
        "error",
        `grant ${x.t.grant.grantId}: the sums were proved over different versions or records; ask again`,
      );
      return;
    }
    const p = part ?? { sums: {}, count, versionId: job.versionId };
    p.sums[x.field] = sum;
    parts.set(x.t, p);
  }
  if (!allOk) {
    card.setAttribute("data-verified", "no");
    setStatus("done", "a check FAILED: the pooled answer does not count");
    return;
  }
  const value = pooledValue(metric, [...parts.values()]);
  card.append(
    h(
      "p",
      {
        class: "answer",
        "data-metric": metric.name,
        "data-metric-value": formatValue(metric, value),
      },
      describeMetric(metric, value, `pooled over ${targets.length} suppliers`),
    ),
  );
  card.setAttribute("data-verified", "yes");
  setStatus("done", `${sent.length} answers proved, logged and verified in this browser`);
}
