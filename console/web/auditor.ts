/**
 * The auditor's view: the on-chain access log as a timeline with the anomalies highlighted, the
 * per-consumer and per-asset tables, charts (answers per day, quota use per grant), and the
 * report as Markdown and JSON downloads. The reconciliation is the CLI's own pure one
 * (cli/reconcile.ts) and the Markdown is the CLI's renderer; what differs is that every logged
 * proof is re-verified here, in the browser, against the verification key matched with the
 * chain's verifier. Record data is never read (the gateways' exports list queries and cohort
 * sizes, no record values).
 */
import { readChainLog, type ChainLog, type LoggedAnswer } from "../../cli/chain-log.js";
import { toJson } from "../../cli/format.js";
import {
  reconcile,
  servedAnswers,
  type Anomaly,
  type AuditReport,
  type ProofVerdict,
  type ServedAnswer,
} from "../../cli/reconcile.js";
import { renderMarkdown } from "../../cli/report-markdown.js";
import { toSnarkjsProof } from "../../protocol/proof.js";
import { barChart } from "./chart.js";
import type { Ctx } from "./context.js";
import { download, errorText, h, replace, short, table } from "./dom.js";
import { checkVkey, verifyInBrowser } from "./verify.js";

/** Renders the auditor's view into `main`. */
export async function auditorView(ctx: Ctx, main: HTMLElement): Promise<void> {
  const status = h(
    "p",
    { class: "status", role: "status", id: "audit-status" },
    "Reading the access log from the chain …",
  );
  replace(main, h("h2", {}, "Audit of the access log"), status);
  const log = await readChainLog(ctx.logSession, ctx.config.deployment.deploymentBlock, "latest");

  const notes: string[] = [];
  let served: ServedAnswer[] | undefined;
  const signer = ctx.signer("auditor");
  if (signer) {
    status.textContent = "Fetching the gateways' exports (signed reads) …";
    served = [];
    for (const g of ctx.gateways) {
      try {
        served.push(...servedAnswers(await g.client.auditExport(signer)));
      } catch (e) {
        notes.push(`${g.name}: no export (${errorText(e)}); served-vs-logged checks skip it`);
      }
    }
  } else {
    notes.push("No auditor account: the gateways' exports are not read, only the chain.");
  }

  status.textContent = `Re-verifying ${log.answers.length} logged proofs in this browser …`;
  const verdicts = new Map<LoggedAnswer, ProofVerdict>();
  let verifyMs = 0;
  for (const a of log.answers) {
    const vk = await checkVkey(ctx, a.circuitId);
    if (!vk.ok || !vk.vkey) {
      verdicts.set(a, { status: "unknown-circuit" });
      if (vk.why) notes.push(`circuit ${a.circuitId.slice(0, 10)}…: ${vk.why}`);
      continue;
    }
    const r = await verifyInBrowser(
      vk.vkey,
      a.publicSignals.map((x) => x.toString()),
      toSnarkjsProof(a.proof),
    );
    verifyMs += r.ms;
    verdicts.set(a, { status: r.ok ? "valid" : "invalid", circuit: vk.name! });
  }
  const report = reconcile({
    log,
    proofs: (a) => verdicts.get(a) ?? { status: "unknown-circuit" },
    served,
    generatedAt: new Date().toISOString(),
  });

  const perProof = log.answers.length ? verifyMs / log.answers.length : 0;
  status.textContent =
    `${report.counts.logEntries} log entries, ${report.counts.proofsVerified} proofs re-verified in this browser ` +
    `(${verifyMs.toFixed(0)} ms, ${perProof.toFixed(0)} ms each), ${report.counts.anomalies} anomalies`;
  status.setAttribute("data-anomalies", String(report.counts.anomalies));
  main.append(
    ...notes.map((n) => h("p", { class: "muted" }, n)),
    h(
      "p",
      {},
      h(
        "button",
        {
          type: "button",
          id: "download-md",
          onclick: () => download("report.md", "text/markdown", renderMarkdown(report)),
        },
        "Download report (Markdown)",
      ),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          id: "download-json",
          onclick: () => download("report.json", "application/json", toJson(report) + "\n"),
        },
        "Download report (JSON)",
      ),
    ),
    anomaliesSection(report),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { id: "chart-days" },
        h("h2", {}, "Answers per day"),
        barChart("Answers logged per day", answersPerDay(log)),
      ),
      h(
        "section",
        { id: "chart-quota" },
        h("h2", {}, "Quota use per grant"),
        barChart("Quota use per grant", quotaPerGrant(log)),
      ),
    ),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { id: "per-consumer" },
        h("h2", {}, "Per consumer"),
        table(
          "Answers, grants and anomalies per consumer",
          ["consumer", "grants", "answers", "anomalies"],
          report.perConsumer.map((c) => ({
            className: c.anomalies > 0 ? "anomaly" : undefined,
            cells: [short(c.consumer), c.grants, c.answers, c.anomalies],
          })),
          [1, 2, 3],
        ),
      ),
      h(
        "section",
        { id: "per-asset" },
        h("h2", {}, "Per asset"),
        table(
          "Versions, answers and anomalies per asset",
          ["asset", "versions", "answers", "anomalies"],
          report.perAsset.map((a) => ({
            className: a.anomalies > 0 ? "anomaly" : undefined,
            cells: [a.assetId, a.versions, a.answers, a.anomalies],
          })),
          [0, 1, 2, 3],
        ),
      ),
    ),
    timeline(log, report.anomalies),
  );
}

function anomaliesSection(r: AuditReport): HTMLElement {
  return h(
    "section",
    { id: "anomalies" },
    h("h2", {}, `Anomalies (${r.anomalies.length})`),
    table(
      "What the reconciliation found",
      ["type", "request", "grant", "consumer", "detail"],
      r.anomalies.map((a) => ({
        className: "anomaly",
        attrs: { "data-anomaly": a.type },
        cells: [
          a.type,
          h("span", {}, ...(a.requestId?.split(",") ?? []).map((id) => short(id.trim()))),
          a.grantId ?? "",
          a.consumer ? short(a.consumer) : "",
          a.detail,
        ],
      })),
    ),
  );
}

/** Every grant, version and answer event in chain order; rows with an anomaly are highlighted. */
function timeline(log: ChainLog, anomalies: Anomaly[]): HTMLElement {
  const flagged = new Map<string, string[]>();
  for (const a of anomalies) {
    // a pair's anomaly names both requests: "0xaa…,0xbb…"
    for (const id of a.requestId?.split(",") ?? []) {
      const k = id.trim().toLowerCase();
      flagged.set(k, [...(flagged.get(k) ?? []), a.type]);
    }
  }
  type Row = {
    block: number;
    logIndex: number;
    timestamp: number;
    what: string;
    detail: string;
    request?: string;
  };
  const rows: Row[] = [
    ...log.grants.map((g) => ({
      ...g,
      what: `grant ${g.type}`,
      detail:
        "consumer" in g
          ? `grant ${g.grantId}, asset ${g.assetId}, consumer ${g.consumer.slice(0, 10)}…, k ${g.minCohort}, quota ${g.quota}`
          : g.type === "quota"
            ? `grant ${g.grantId}: quota ${g.newQuota}`
            : `grant ${g.grantId}`,
    })),
    ...log.versions.map((v) => ({
      ...v,
      what: "version published",
      detail: `asset ${v.assetId} v${v.number}: ${v.recordCount} records`,
    })),
    ...log.answers.map((a) => ({
      ...a,
      what: "answer logged",
      detail: `grant ${a.grantId}, consumer ${a.consumer.slice(0, 10)}…, version ${a.versionId & 0xffffffffffffffffn}, quota used ${a.used}`,
      request: a.requestId.toLowerCase(),
    })),
  ].sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
  return h(
    "section",
    { id: "timeline" },
    h("h2", {}, "Timeline"),
    table(
      "The access log in chain order",
      ["block", "time", "event", "detail", "anomalies"],
      rows.map((r) => {
        const types = r.request ? (flagged.get(r.request) ?? []) : [];
        return {
          className: types.length ? "anomaly" : undefined,
          attrs: { "data-event": r.what, "data-anomalies": types.join(" ") || undefined },
          cells: [
            r.block,
            new Date(r.timestamp * 1000).toISOString().slice(0, 19).replace("T", " "),
            r.what,
            r.detail,
            h("span", {}, ...types.map((t) => h("span", { class: "tag bad" }, t))),
          ],
        };
      }),
      [0],
    ),
  );
}

function answersPerDay(log: ChainLog) {
  const days = new Map<string, number>();
  for (const a of log.answers) {
    const d = new Date(a.timestamp * 1000).toISOString().slice(0, 10);
    days.set(d, (days.get(d) ?? 0) + 1);
  }
  return [...days].sort().map(([label, value]) => ({ label, value }));
}

function quotaPerGrant(log: ChainLog) {
  const quota = new Map<string, number>();
  for (const g of [...log.grants].sort((a, b) => a.block - b.block || a.logIndex - b.logIndex)) {
    if ("quota" in g) quota.set(g.grantId.toString(), g.quota);
    if (g.type === "quota") quota.set(g.grantId.toString(), g.newQuota);
  }
  const used = new Map<string, number>();
  for (const a of log.answers)
    used.set(a.grantId.toString(), (used.get(a.grantId.toString()) ?? 0) + 1);
  return [...quota].map(([id, capacity]) => ({
    label: `grant ${id}`,
    value: used.get(id) ?? 0,
    capacity,
  }));
}
