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

/** How old a signed timestamp may be, and how far ahead of the gateway's clock. */
export interface SignatureWindow {
  /** Largest age, seconds. */
  maxAgeSec: number;
  /** Largest lead (clock skew), seconds. */
  skewSec: number;
}

function checkFresh(timestamp: bigint, w: SignatureWindow, now: number): void {
  const t = Number(timestamp);
  if (t > now + w.skewSec) {
    throw new AppError(
      "DEADLINE_EXPIRED",
      `the signed timestamp is in the future (more than ${w.skewSec} s ahead of the gateway's clock); sign with the current time`,
    );
  }
  if (now - t > w.maxAgeSec) {
    throw new AppError(
      "DEADLINE_EXPIRED",
      `the signed timestamp is more than ${w.maxAgeSec} s old; sign again`,
    );
  }
}

/** Recovers the signer of an upload and checks its timestamp. */
export function recoverUploadSigner(
  domain: Domain,
  msg: UploadMessage,
  signature: string,
  window: SignatureWindow,
  now = Math.floor(Date.now() / 1000),
): string {
  const signer = recovering(recoverUpload, domain, msg, signature);
  checkFresh(msg.timestamp, window, now);
  return signer;
}

/** Recovers the signer of a query (deadline is checked by the use-case). */
export function recoverQuerySigner(domain: Domain, msg: QueryMessage, signature: string): string {
  return recovering(recoverQuery, domain, msg, signature);
}

/**
 * Checks a signed read for this gateway (`msg.gateway` is its own id): the signature must be
 * `account`'s, over a timestamp inside the read window. `signedFor` is the gateway id the
 * client says it signed for (header), refused with a clear message when it is another's.
 */
export function verifyRead(
  domain: Domain,
  msg: ReadMessage,
  signature: string,
  window: SignatureWindow,
  signedFor?: string,
  now = Math.floor(Date.now() / 1000),
): string {
  if (signedFor !== undefined && signedFor !== msg.gateway) {
    throw new AppError(
      "BAD_SIGNATURE",
      `the read was signed for another gateway; sign it for this gateway's id ${msg.gateway} (GET /health)`,
    );
  }
  const signer = recovering(recoverReadSigner, domain, msg, signature);
  if (signer.toLowerCase() !== msg.account.toLowerCase()) {
    throw new AppError("BAD_SIGNATURE", "the read is not signed by the account it names");
  }
  checkFresh(msg.timestamp, window, now);
  return signer;
}
