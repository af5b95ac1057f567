/** What every router shares: the body parser, the per-signer rate limit, refusal counting. */
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Counter } from "prom-client";
import { toAppError } from "../errors.js";

/** The middleware a router is given. */
export interface RouteMiddleware {
  /**
   * The JSON body parser (with the configured size limit). Each route runs it as its first
   * handler, so that a malformed or oversized body is that route's refusal.
   */
  json: RequestHandler;
  /** The per-signer rate limit (after the signer is known). */
  limit: RequestHandler;
}

/**
 * Counts each refusal (a 4xx) of the route it ends as `refused:<code>` in `counter`, then hands
 * the error on to the error middleware, which answers it.
 */
export function countRefusals(counter: Counter<"status">, limitBytes: number): ErrorRequestHandler {
  return (e, _req, _res, next) => {
    const err = toAppError(e, limitBytes);
    if (err.status < 500) counter.inc({ status: `refused:${err.code}` });
    next(e);
  };
}
