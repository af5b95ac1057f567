/**
 * The gateway's one error type. Every refusal carries an HTTP status, a machine-readable code
 * and a message that says what was wrong and what to do; `details` may list positioned row
 * errors. Messages never contain record values or salts.
 */

/** Machine-readable error codes. */
export type ErrorCode =
  | "VALIDATION_FAILED"
  | "MALFORMED_JSON"
  | "BODY_TOO_LARGE"
  | "INVALID_RECORDS"
  | "TOO_MANY_RECORDS"
  | "UNSUPPORTED_SCHEMA"
  | "UNKNOWN_ASSET"
  | "UNKNOWN_VERSION"
  | "VERSION_NOT_AVAILABLE"
  | "ASSET_RETIRED"
  | "NOT_OWNER"
  | "NOT_AUDITOR"
  | "BAD_SIGNATURE"
  | "DEADLINE_EXPIRED"
  | "NONCE_REUSED"
  | "REQUEST_REUSED"
  | "NO_GRANT"
  | "GRANT_NOT_YET_VALID"
  | "GRANT_EXPIRED"
  | "GRANT_REVOKED"
  | "QUOTA_EXCEEDED"
  | "POLICY_VIOLATION"
  | "UNSUPPORTED_QUERY"
  | "COHORT_BELOW_K"
  | "UNKNOWN_JOB"
  | "NOT_FOUND"
  | "RATE_LIMITED"
  | "CHAIN_UNAVAILABLE"
  | "PUBLISH_FAILED"
  | "INTERNAL";

/** An error the gateway reports to the client. */
export class AppError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Machine-readable code. */
  readonly code: ErrorCode;
  /** Optional structured details (e.g. positioned row errors). */
  readonly details?: unknown;

  /** Creates an error with status, code, message and optional details. */
  constructor(status: number, code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.details = details;
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
