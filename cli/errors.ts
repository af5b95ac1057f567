/**
 * The errors a CLI user can fix. The CLI prints their message without a stack trace and exits
 * with code 2 (code 1 is left for bugs).
 */
import { GatewayError } from "../protocol/client.js";

/** A problem the user can fix; the CLI prints its message without a stack trace. */
export class UserError extends Error {
  override name = "UserError";
}

/**
 * Whether an error is the user's to fix (bad input, a key that cannot be loaded, a gateway that
 * refused or cannot be reached): the CLI exits 2 for those and 1 for everything else.
 */
export function isUserFacing(e: unknown): boolean {
  return e instanceof UserError || e instanceof GatewayError || (e as Error)?.name === "KeyError";
}
