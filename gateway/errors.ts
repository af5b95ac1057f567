/**
 * The gateway's one error type and the one table that maps its codes to HTTP statuses.
 * Use-cases throw `new AppError(code, message, details?)` and know nothing of HTTP; the
 * status comes from {@link HTTP_STATUS}. Every refusal carries a machine-readable code and a
 * message that says what was wrong and what to do; `details` may list positioned row errors.
 * Messages never contain record values or salts.
 */
import { ZodError } from "zod";

/** Every error code and the HTTP status it is answered with. */
export const HTTP_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  BODY_TOO_LARGE: 413,
  JSON_TOO_DEEP: 400,
  INVALID_RECORDS: 422,
  WORK_BUDGET_EXCEEDED: 422,
  TOO_MANY_RECORDS: 413,
  UNSUPPORTED_SCHEMA: 422,
  UNKNOWN_ASSET: 404,
  UNKNOWN_VERSION: 404,
  VERSION_NOT_AVAILABLE: 409,
  ASSET_RETIRED: 409,
  NOT_OWNER: 403,
  NOT_AUDITOR: 403,
  NOT_SERVED: 403,
  BAD_SIGNATURE: 401,
  DEADLINE_EXPIRED: 401,
  NONCE_REUSED: 409,
  REQUEST_REUSED: 409,
  NO_GRANT: 403,
  GRANT_NOT_YET_VALID: 403,
  GRANT_EXPIRED: 403,
  GRANT_REVOKED: 403,
  QUOTA_EXCEEDED: 403,
  POLICY_VIOLATION: 403,
  UNSUPPORTED_QUERY: 422,
  COHORT_BELOW_K: 422,
  DIFFERENCING_RISK: 422,
  UNKNOWN_JOB: 404,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  OWNER_CAP_REACHED: 429,
  REFUSAL_BUDGET_SPENT: 429,
  PUBLISH_FAILED: 502,
  ROOT_ALREADY_PUBLISHED: 409,
  UNKNOWN_UPLOAD: 404,
  UPLOAD_INCOMPLETE: 409,
  UPLOAD_MISMATCH: 409,
  UPLOAD_EXPIRED: 410,
  INGEST_BUSY: 503,
  AUDIT_SEED_PENDING: 409,
  AUDIT_FAILED: 409,
  AUDIT_BUSY: 503,
  AUDIT_NOT_CONFIGURED: 501,
  INGEST_MEMORY_EXCEEDED: 413,
  INGEST_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

/** Machine-readable error codes. */
export type ErrorCode = keyof typeof HTTP_STATUS;

/** An error the gateway reports to the client. */
export class AppError extends Error {
  /** HTTP status (from {@link HTTP_STATUS}). */
  readonly status: number;

  /** Creates an error with code, message and optional details; the status is the code's. */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
    this.status = HTTP_STATUS[code];
  }

  /** The JSON body sent to the client. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/**
 * A client error that express itself raised (the body parser, the router) with its own 4xx
 * status, e.g. 415 for an unsupported content encoding: answered with that status and the
 * code VALIDATION_FAILED. The one exception to {@link HTTP_STATUS}, and only for errors that
 * come from the HTTP layer.
 */
class HttpLayerError extends AppError {
  override readonly status: number;

  constructor(status: number, message: string) {
    super("VALIDATION_FAILED", message);
    this.status = status;
  }
}

/** Converts any thrown value into the client-facing AppError. */
export function toAppError(e: unknown, limitBytes: number): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof ZodError) {
    return new AppError(
      "VALIDATION_FAILED",
      "the request does not match the expected shape",
      e.issues.map((i) => ({
        position: i.path.map(String).join(".") || "(body)",
        reason: i.message,
      })),
    );
  }
  const err = e as { type?: string; status?: number };
  if (err?.type === "entity.too.large") {
    return new AppError("BODY_TOO_LARGE", `the request body is larger than ${limitBytes} bytes`);
  }
  if (err?.type === "entity.parse.failed") {
    return new AppError("MALFORMED_JSON", "the request body is not valid JSON");
  }
  if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
    return new HttpLayerError(err.status, "the request could not be read");
  }
  return new AppError(
    "INTERNAL",
    "internal error; the request changed nothing it could not finish",
  );
}
