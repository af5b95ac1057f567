/**
 * The supplier's view: its assets and their versions (record counts and what changed), the
 * grants on them with approve / reject / revoke and a quota setter, and who asked what of them
 * (the on-chain access log). It shows counts and policies only: no record and no record value,
 * so nothing here depends on whose screen it is.
 */
import { SIGNAL_INDEX } from "../../circuits/lib/signals.js";
import { GrantStatus, revertReason } from "../../protocol/contract.js";
import {
  aggregatesOf,
  assets,
  fieldsOf,
  grants,
  statusName,
  versions,
  when,
  type AssetRow,
  type GrantRow,
} from "./chain.js";
import { requireSigner, type Ctx } from "./context.js";
import { errorText, h, replace, short, table } from "./dom.js";

/** Renders the supplier's view into `main`; `rerender` redraws after a transaction. */
export async function supplierView(
  ctx: Ctx,
  main: HTMLElement,
  rerender: () => void,
): Promise<void> {
  const signer = ctx.signer("supplier");
  if (!signer) {
    replace(main, h("p", {}, "Choose a supplier account (top right) or connect a wallet."));
    return;
  }
  const me = (await signer.getAddress()).toLowerCase();
  const mine = await assets(ctx, (a) => a.owner.toLowerCase() === me);
  const assetIds = new Set(mine.map((a) => a.assetId));
  const myGrants = await grants(ctx, (g) => assetIds.has(g.assetId));

  const assetsEl = h("section", { id: "my-assets" }, h("h2", {}, "My assets"));
  for (const a of mine) assetsEl.append(await assetBlock(ctx, a));
  if (mine.length === 0) assetsEl.append(h("p", {}, `No asset is registered by ${me}.`));

  const message = h("p", { role: "status", id: "grant-message" });
  const grantsEl = h(
    "section",
    { id: "asset-grants" },
    h("h2", {}, "Grants on my assets"),
    grantTable(ctx, mine, myGrants, message, rerender),
    message,
  );
  const askedEl = h(
    "section",
    { id: "asked" },
    h("h2", {}, "Who asked what"),
    await askedTable(ctx, myGrants, mine),
  );
  replace(main, assetsEl, grantsEl, askedEl);
}

async function assetBlock(ctx: Ctx, a: AssetRow): Promise<HTMLElement> {
  const vs = await versions(ctx, a);
  return h(
    "div",
    { "data-asset": a.assetId.toString() },
    h(
      "h3",
      {},
      `Asset ${a.assetId}: ${a.schema?.name ?? a.schemaId}${a.retired ? " (retired)" : ""}`,
    ),
    h("p", { class: "muted" }, `gateway ${a.endpoint}`),
    table(
      `Versions of asset ${a.assetId}`,
      ["version", "records", "change", "published", "root"],
      vs.map((v, i) => {
        const prev = i > 0 ? vs[i - 1]!.recordCount : 0n;
        const d = v.recordCount - prev;
        return {
          attrs: { "data-version": v.number },
          cells: [
            v.number,
            v.recordCount,
            i === 0 ? "first" : `${d >= 0n ? "+" : ""}${d}`,
            when(v.publishedAt),
            short("0x" + v.root.toString(16)),
          ],
        };
      }),
      [0, 1, 2],
    ),
  );
}

function grantTable(
  ctx: Ctx,
  mine: AssetRow[],
  rows: GrantRow[],
  message: HTMLElement,
  rerender: () => void,
): HTMLElement {
  const schemaOf = (id: bigint) => mine.find((a) => a.assetId === id)?.schema;
  const act =
    (label: string, grantId: bigint, tx: () => Promise<{ wait(): Promise<unknown> }>) =>
    async () => {
      message.textContent = `${label} grant ${grantId}: waiting for the transaction …`;
      try {
        await (await tx()).wait();
        message.textContent = `${label} grant ${grantId}: done`;
        rerender();
      } catch (e) {
        message.textContent = `${label} grant ${grantId} refused: ${revertReason(e) || errorText(e)}`;
      }
    };
  return table(
    "Grants issued or requested on my assets",
    ["grant", "asset", "consumer", "status", "used / quota", "k", "policy", "actions"],
    rows.map((g) => {
      const c = () => ctx.reader.contract.connect(requireSigner(ctx, "supplier"));
      const quota = h("input", {
        type: "number",
        min: 0,
        value: g.quota,
        "aria-label": `new quota of grant ${g.grantId}`,
        class: "quota",
        size: 5,
      });
      const actions: HTMLElement[] = [];
      if (g.status === GrantStatus.Requested) {
        actions.push(
          h(
            "button",
            {
              type: "button",
              "data-action": "approve",
              onclick: act("approve", g.grantId, () => c().approveGrant(g.grantId)),
            },
            "Approve",
          ),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              "data-action": "reject",
              onclick: act("reject", g.grantId, () => c().rejectGrant(g.grantId)),
            },
            "Reject",
          ),
        );
      }
      if (g.status === GrantStatus.Active || g.status === GrantStatus.Requested) {
        actions.push(
          quota,
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              "data-action": "quota",
              onclick: act("quota of", g.grantId, () =>
                c().updateQuota(g.grantId, Number(quota.value)),
              ),
            },
            "Set quota",
          ),
        );
      }
      if (g.status === GrantStatus.Active) {
        actions.push(
          h(
            "button",
            {
              type: "button",
              class: "danger",
              "data-action": "revoke",
              onclick: act("revoke", g.grantId, () => c().revokeGrant(g.grantId)),
            },
            "Revoke",
          ),
        );
      }
      return {
        attrs: { "data-grant": g.grantId.toString(), "data-status": statusName(g.status) },
        cells: [
          g.grantId,
          g.assetId,
          short(g.consumer),
          statusName(g.status),
          `${g.used} / ${g.quota}`,
          g.policy.minCohort,
          `${aggregatesOf(g.policy).join(", ")} on ${fieldsOf(g.policy, schemaOf(g.assetId)).join(", ")}`,
          h("div", {}, ...actions),
        ],
      };
    }),
    [0, 1, 4, 5],
  );
}

async function askedTable(ctx: Ctx, myGrants: GrantRow[], mine: AssetRow[]): Promise<HTMLElement> {
  const c = ctx.reader.contract;
  const byId = new Map(myGrants.map((g) => [g.grantId, g]));
  const events = (
    await c.queryFilter(c.filters.AnswerRecorded(), ctx.config.deployment.deploymentBlock, "latest")
  ).filter((e) => byId.has(e.args.grantId));
  const schemaOf = (id: bigint) => mine.find((a) => a.assetId === id)?.schema;
  return table(
    "Answers logged on-chain over my assets (the question itself is known only by its hash)",
    ["time", "consumer", "grant", "asset", "version", "allowed", "request", "query hash"],
    events.map((e) => {
      const g = byId.get(e.args.grantId)!;
      return {
        cells: [
          when(Number(e.args.timestamp)),
          short(e.args.consumer),
          e.args.grantId,
          g.assetId,
          e.args.versionId & 0xffffffffffffffffn,
          `${aggregatesOf(g.policy).join(", ")} on ${fieldsOf(g.policy, schemaOf(g.assetId)).join(", ")}`,
          short(e.args.requestId),
          short("0x" + e.args.publicSignals[SIGNAL_INDEX.queryHash]!.toString(16)),
        ],
      };
    }),
    [2, 3, 4],
  );
}
