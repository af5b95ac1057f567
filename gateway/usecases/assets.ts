/** The on-chain asset checks the use-cases share (the same refusal, the same words). */
import type { AssetInfo } from "../chain.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";

/** The asset as registered on-chain; UNKNOWN_ASSET when it is not. */
export async function registeredAsset(ctx: GatewayContext, assetId: bigint): Promise<AssetInfo> {
  const asset = await ctx.chain.getAsset(assetId);
  if (!asset) throw new AppError("UNKNOWN_ASSET", `asset ${assetId} is not registered on-chain`);
  return asset;
}

/** A registered asset that is not retired (ASSET_RETIRED), as the contract requires. */
export async function liveAsset(ctx: GatewayContext, assetId: bigint): Promise<AssetInfo> {
  const asset = await registeredAsset(ctx, assetId);
  if (asset.retired) throw new AppError("ASSET_RETIRED", `asset ${assetId} is retired`);
  return asset;
}

/**
 * Refuses (NOT_SERVED) an asset this gateway's `serve` setting does not list, by id or by
 * on-chain owner; every asset is served when the setting is absent. Checked before any work.
 */
export async function servedAsset(ctx: GatewayContext, assetId: bigint): Promise<void> {
  const serve = ctx.config.serve;
  if (!serve) return;
  if (serve.assets?.includes(assetId)) return;
  if (serve.owners && serve.owners.length > 0) {
    const asset = await registeredAsset(ctx, assetId);
    const owner = asset.owner.toLowerCase();
    if (serve.owners.some((o) => o.toLowerCase() === owner)) return;
  }
  throw new AppError(
    "NOT_SERVED",
    `this gateway does not serve asset ${assetId}; use the gateway its owner registered`,
  );
}

/**
 * Refuses (OWNER_CAP_REACHED) work that makes the relayer spend gas for the owner of `asset`
 * once the owner's relayed gas of the UTC day (publications and answer log entries) has reached
 * `limits.relayerGasPerOwnerPerDay`. Depends on the chain and the gateway's counters only.
 */
export async function ownerGasLeft(ctx: GatewayContext, asset: AssetInfo): Promise<void> {
  const owner = asset.owner.toLowerCase();
  const day = Math.floor(Date.now() / 86_400_000);
  const cap = ctx.config.limits.relayerGasPerOwnerPerDay;
  if ((await ctx.store.relayedGas(owner, day)) >= cap) {
    throw new AppError(
      "OWNER_CAP_REACHED",
      `the relayer spent its daily gas cap (${cap}) for the owner of this asset; its answers cannot be logged before tomorrow`,
    );
  }
}
