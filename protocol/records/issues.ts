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

/** Rows read from an aspect payload, each with the JSON pointer of its source. */
export type SourcedRows = { position: string; row: unknown }[];

/**
 * Reads a Catena-X payload that may be one aspect or an array of them: each item is checked
 * against `schema` (its issues reported under `/k` for array items) and, when valid, handed to
 * `read` with its JSON-pointer base and the shared row and error lists.
 */
export function readEachPayload<T>(
  payload: unknown,
  schema: z.ZodType<T>,
  read: (item: T, base: string, rows: SourcedRows, errors: RowError[]) => void,
): { rows: SourcedRows; errors: RowError[] } {
  const many = Array.isArray(payload);
  const rows: SourcedRows = [];
  const errors: RowError[] = [];
  (many ? (payload as unknown[]) : [payload]).forEach((item, k) => {
    const base = many ? `/${k}` : "";
    const parsed = schema.safeParse(item);
    if (parsed.success) read(parsed.data, base, rows, errors);
    else errors.push(...zodIssues(parsed.error, base));
  });
  return { rows, errors };
}
