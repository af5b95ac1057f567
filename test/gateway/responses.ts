/**
 * The gateway's responses checked against the protocol's response schemas (`protocol/api.ts`):
 * every test request made with `call` (helpers.ts) passes through {@link checkResponse}, so a
 * gateway that sends a shape the CLI and the console would refuse fails the gateway's own tests.
 */
import { z } from "zod";
import * as api from "../../protocol/api.js";

/** What one route answers when it does not refuse. */
interface RouteResponse {
  method: "GET" | "POST";
  /** The path (no query string). */
  path: RegExp;
  /** The statuses of a non-refusal. */
  statuses: number[];
  /** The body's schema, or "prometheus" for the text exposition of /metrics. */
  body: z.ZodType | "prometheus";
}

const ID = "[^/]+";

/** Every route of the gateway and what it answers (gateway/README.md "Routes"). */
export const ROUTE_RESPONSES: readonly RouteResponse[] = [
  { method: "GET", path: /^\/health$/, statuses: [200, 503], body: api.healthResponseSchema },
  { method: "GET", path: /^\/metrics$/, statuses: [200], body: "prometheus" },
  { method: "GET", path: /^\/assets$/, statuses: [200], body: api.catalogueResponseSchema },
  {
    method: "GET",
    path: new RegExp(`^/assets/${ID}$`),
    statuses: [200],
    body: api.assetResponseSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/uploads$`),
    statuses: [200, 201],
    body: api.uploadResponseSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/versions/${ID}/publish$`),
    statuses: [201],
    body: api.publishResponseSchema,
  },
  {
    method: "GET",
    path: new RegExp(`^/assets/${ID}/records$`),
    statuses: [200],
    body: api.recordsResponseSchema,
  },
  { method: "POST", path: /^\/queries$/, statuses: [202], body: api.queryAcceptedSchema },
  { method: "GET", path: new RegExp(`^/jobs/${ID}$`), statuses: [200], body: api.jobViewSchema },
  {
    method: "GET",
    path: new RegExp(`^/consumers/${ID}/answers$`),
    statuses: [200],
    body: api.answersResponseSchema,
  },
  { method: "GET", path: /^\/audit\/answers$/, statuses: [200], body: api.auditExportSchema },
  {
    method: "GET",
    path: new RegExp(`^/assets/${ID}/versions$`),
    statuses: [200],
    body: api.versionsResponseSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/upload-sessions/${ID}$`),
    statuses: [200, 201],
    body: api.uploadSessionSchema,
  },
  {
    method: "GET",
    path: new RegExp(`^/assets/${ID}/upload-sessions/${ID}$`),
    statuses: [200],
    body: api.uploadSessionSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/upload-sessions/${ID}/chunks/${ID}$`),
    statuses: [200, 201],
    body: api.uploadChunkResponseSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/upload-sessions/${ID}/commit$`),
    statuses: [200, 201],
    body: api.uploadCommitResponseSchema,
  },
  {
    method: "GET",
    path: new RegExp(`^/assets/${ID}/versions/${ID}/audit$`),
    statuses: [200, 202],
    body: api.auditResponseSchema,
  },
  {
    method: "POST",
    path: new RegExp(`^/assets/${ID}/versions/${ID}/audit-check$`),
    statuses: [200, 202],
    body: api.auditResponseSchema,
  },
];

/** The gateway answered something that is not the protocol. */
export class ProtocolMismatch extends Error {
  override name = "ProtocolMismatch";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function mustMatch(schema: z.ZodType, body: unknown, what: string): void {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new ProtocolMismatch(`${what} does not match the protocol:\n${z.prettifyError(r.error)}`);
  }
}

/**
 * Throws ProtocolMismatch unless the response is what `protocol/api.ts` says: a non-refusal of
 * a known route matches that route's schema (and one of its statuses), every other response is
 * an error body (`api.errorResponseSchema`).
 */
export function checkResponse(
  method: string,
  url: string,
  res: { status: number; contentType: string | null; text: string },
): void {
  // The path the gateway routes: fetch removes dot segments ("/assets/." is sent as "/assets/"),
  // and express's non-strict routing treats a trailing slash as absent ("/assets/" is "/assets").
  const path = new URL(url, "http://gateway").pathname.replace(/(.)\/$/, "$1");
  const what = `${method} ${path} → ${res.status}`;
  const route = ROUTE_RESPONSES.find((r) => r.method === method && r.path.test(path));
  if (route && route.statuses.includes(res.status)) {
    if (route.body === "prometheus") {
      if (!res.contentType?.startsWith("text/plain") || !/^# HELP /m.test(res.text)) {
        throw new ProtocolMismatch(`${what} is not a Prometheus text exposition`);
      }
      return;
    }
    mustMatch(route.body, parseJson(res.text), what);
    return;
  }
  if (res.status < 400) {
    throw new ProtocolMismatch(`${what}: the protocol has no response of this status here`);
  }
  mustMatch(api.errorResponseSchema, parseJson(res.text), `${what} (a refusal)`);
}
