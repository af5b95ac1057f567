/**
 * What the views read from the chain: the assets, the grants with their policy and state, the
 * versions of an asset. Straight from PartProof (protocol/contract.ts's read model and events).
 */
import { AGGREGATES } from "../../cli/policy.js";
import type { Policy } from "../../circuits/lib/signals.js";
import {
  GrantStatus,
  versionIdOf,
  type AssetInfo,
  type GrantInfo,
  type VersionInfo,
} from "../../protocol/contract.js";
import { findSchema } from "../../protocol/records/index.js";
import type { DataSchema } from "../../protocol/records/types.js";
import type { Ctx } from "./context.js";

/** A grant with its id, policy and state. */
export interface GrantRow extends GrantInfo {
  grantId: bigint;
  policy: Policy;
}

/** Every grant issued or requested, optionally only those `keep` accepts (by asset, consumer). */
export async function grants(
  ctx: Ctx,
  keep: (g: { assetId: bigint; consumer: string }) => boolean = () => true,
): Promise<GrantRow[]> {
  const c = ctx.reader.contract;
  const from = ctx.config.deployment.deploymentBlock;
  const events = [
    ...(await c.queryFilter(c.filters.GrantIssued(), from, "latest")),
    ...(await c.queryFilter(c.filters.GrantRequested(), from, "latest")),
  ];
  const ids = events
    .filter((e) => keep({ assetId: e.args.assetId, consumer: e.args.consumer }))
    .map((e) => e.args.grantId)
    .sort((a, b) => (a < b ? -1 : 1));
  const rows: GrantRow[] = [];
  for (const grantId of ids) {
    const g = await ctx.reader.getGrant(grantId);
    if (g) rows.push({ ...g, grantId, policy: await ctx.reader.getGrantPolicy(grantId) });
  }
  return rows;
}

/** A grant's state in words. */
export function statusName(s: GrantStatus): string {
  return GrantStatus[s]?.toLowerCase() ?? String(s);
}

/** The aggregate names a policy allows. */
export function aggregatesOf(p: Policy): string[] {
  return Object.entries(AGGREGATES)
    .filter(([, kind]) => (p.aggregateMask >> kind) & 1)
    .map(([name]) => name);
}

/** The field names a policy allows. */
export function fieldsOf(p: Policy, schema: DataSchema | undefined): string[] {
  const names = schema?.fields ?? ["0", "1", "2", "3"];
  return names.filter((_, i) => (p.fieldMask >> i) & 1);
}

/** An asset with its id and schema. */
export interface AssetRow extends AssetInfo {
  assetId: bigint;
  schema: DataSchema | undefined;
}

/** Every registered asset, optionally only those `keep` accepts. */
export async function assets(
  ctx: Ctx,
  keep: (a: AssetInfo) => boolean = () => true,
): Promise<AssetRow[]> {
  const n = await ctx.reader.assetCount();
  const rows: AssetRow[] = [];
  for (let i = 1n; i <= BigInt(n); i++) {
    const a = await ctx.reader.getAsset(i);
    if (a && keep(a)) rows.push({ ...a, assetId: i, schema: findSchema(a.schemaId) });
  }
  return rows;
}

/** The published versions of an asset, oldest first. */
export async function versions(
  ctx: Ctx,
  a: AssetRow,
): Promise<(VersionInfo & { number: number })[]> {
  const out: (VersionInfo & { number: number })[] = [];
  for (let n = 1; n <= a.versionCount; n++) {
    const v = await ctx.reader.getVersion(versionIdOf(a.assetId, n));
    if (v) out.push({ ...v, number: n });
  }
  return out;
}

/** A unix time as an ISO date and time (UTC). */
export function when(unix: number): string {
  return new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
