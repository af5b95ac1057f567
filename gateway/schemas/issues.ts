/** Turns zod issues into positioned row errors. */
import type { z } from "zod";
import type { RowError } from "./types.js";

/** Positioned errors of a zod error; `base` is prefixed (JSON pointer when it starts with "/"). */
export function zodIssues(error: z.ZodError, base: string): RowError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    const pointer = base.startsWith("/") || base === "";
    const position = pointer
      ? `${base}/${path.join("/")}`.replace(/\/$/, "") || "/"
      : `${base}${path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
    return { position, reason: issue.message };
  });
}
