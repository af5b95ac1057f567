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
