/** zod building blocks shared by the routes' request schemas. */
import { z } from "zod";

/** An unsigned integer of at most `bits` bits, as a decimal string or a safe JSON integer. */
export function uint(bits: number) {
  const max = (1n << BigInt(bits)) - 1n;
  return z
    .union([
      z.string().regex(/^\d{1,78}$/, "must be an unsigned decimal integer"),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ])
    .transform((v) => BigInt(v))
    .refine((v) => v <= max, `must be below 2^${bits}`);
}

/** A 0x-prefixed 32-byte hex string. */
export const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")
  .transform((s) => s.toLowerCase());

/** A 0x-prefixed hex signature (65 bytes, or 64 for EIP-2098). */
export const signature = z
  .string()
  .regex(
    /^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/,
    "must be a 0x-prefixed 64- or 65-byte signature",
  );

/** An asset id path parameter. */
export const assetIdParam = uint(256);
