/**
 * The gateway's checks of signed requests. The typed data itself (domain, types, messages) is
 * the protocol's (`protocol/typed-data.ts`); this module turns a bad signature or a stale
 * timestamp into the gateway's refusals.
 */
import {
  SignatureError,
  recoverQuerySigner as recoverQuery,
  recoverReadSigner,
  recoverUploadSigner as recoverUpload,
  type Domain,
  type QueryMessage,
  type ReadMessage,
  type UploadMessage,
} from "../protocol/typed-data.js";
import { AppError } from "./errors.js";

function badSignature(): AppError {
  return new AppError("BAD_SIGNATURE", "the signature is malformed or does not match the message");
}

function recovering<T extends unknown[]>(fn: (...args: T) => string, ...args: T): string {
  try {
    return fn(...args);
  } catch (e) {
    if (e instanceof SignatureError) throw badSignature();
    throw e;
  }
}

function checkFresh(timestamp: bigint, maxAgeSec: number, now: number): void {
  const t = Number(timestamp);
  if (Math.abs(now - t) > maxAgeSec) {
    throw new AppError(
      "DEADLINE_EXPIRED",
      `the signed timestamp is more than ${maxAgeSec} s away from the gateway's clock; sign again`,
    );
  }
}

/** Recovers the signer of an upload and checks its timestamp. */
export function recoverUploadSigner(
  domain: Domain,
  msg: UploadMessage,
  signature: string,
  maxAgeSec: number,
  now = Math.floor(Date.now() / 1000),
): string {
  const signer = recovering(recoverUpload, domain, msg, signature);
  checkFresh(msg.timestamp, maxAgeSec, now);
  return signer;
}

/** Recovers the signer of a query (deadline is checked by the use-case). */
export function recoverQuerySigner(domain: Domain, msg: QueryMessage, signature: string): string {
  return recovering(recoverQuery, domain, msg, signature);
}

/** Checks a signed read: the signature must be `account`'s, over a fresh timestamp. */
export function verifyRead(
  domain: Domain,
  msg: ReadMessage,
  signature: string,
  maxAgeSec: number,
  now = Math.floor(Date.now() / 1000),
): string {
  const signer = recovering(recoverReadSigner, domain, msg, signature);
  if (signer.toLowerCase() !== msg.account.toLowerCase()) {
    throw new AppError("BAD_SIGNATURE", "the read is not signed by the account it names");
  }
  checkFresh(msg.timestamp, maxAgeSec, now);
  return signer;
}
