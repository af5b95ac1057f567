/** Reads the signed-read headers of a request. */
import type { Request } from "express";
import { AppError } from "../errors.js";
import type { ReadAuth } from "../usecases/reads.js";
import { readHeadersSchema as headers } from "../../protocol/api.js";

/** The Read signature headers (`x-partproof-gateway`, `-timestamp`, `-signature`). */
export function readAuth(req: Request): ReadAuth {
  const h = headers.safeParse(req.headers);
  if (!h.success) {
    throw new AppError(
      "BAD_SIGNATURE",
      "this read needs x-partproof-timestamp and x-partproof-signature headers (an EIP-712 Read signature)",
    );
  }
  return {
    timestamp: h.data["x-partproof-timestamp"],
    signature: h.data["x-partproof-signature"],
    ...(h.data["x-partproof-gateway"] === undefined
      ? {}
      : { gateway: h.data["x-partproof-gateway"] }),
  };
}
