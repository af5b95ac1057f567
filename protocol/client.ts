/**
 * The HTTP client of a PartProof gateway, for every party that talks to one (the CLI, the
 * console, the demo, the benchmark): each call signs what must be signed and parses the
 * response with the protocol's schema (`protocol/api.ts`), so a gateway that answers with an
 * unexpected shape is caught at the edge.
 */
import type { Signer } from "ethers";
import type { z } from "zod";
import {
  answersResponseSchema,
  assetResponseSchema,
  auditExportSchema,
  catalogueResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  jobViewSchema,
  MAX_JOB_WAIT_MS,
  publishResponseSchema,
  queryAcceptedSchema,
  recordsResponseSchema,
  uploadResponseSchema,
  uploadChunkResponseSchema,
  uploadCommitResponseSchema,
  uploadSessionSchema,
  versionsResponseSchema,
  type JobView,
  type LocalVersion,
  auditResponseSchema,
  type AuditDone,
  type AuditResponse,
} from "./api.js";
import type { UploadData } from "./records/index.js";
import {
  signPublish,
  signQuery,
  signRead,
  signUpload,
  signUploadStep,
  type Domain,
  type QueryMessage,
} from "./typed-data.js";

/** The gateway could not be reached or answered with something that is not the protocol. */
export class GatewayError extends Error {
  override name = "GatewayError";
}

/**
 * The gateway took the request but sent no answer before the HTTP client gave up (Node's fetch
 * waits 300 s for response headers): the request may still be running on the gateway.
 */
export class GatewayTimeout extends GatewayError {
  override name = "GatewayTimeout";
}

/** The gateway refused a request: HTTP status, machine-readable code and its message. */
export class GatewayRefusal extends GatewayError {
  override name = "GatewayRefusal";
  /** Creates a refusal. */
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
    readonly details?: unknown,
  ) {
    super(`gateway refused (${status} ${code}): ${reason}`);
  }
}

/** fetch failures of a connection closed under the request (undici's and the OS's codes). */
const SOCKET_DROPPED = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED"]);

/** How long to wait for a job, and what to report while waiting. */
export interface WaitOptions {
  /** "logged" (default) or "proved". */
  until?: "proved" | "logged";
  /** Give up after this long (default 10 min). */
  timeoutMs?: number;
  /**
   * Least time between two requests when the gateway does not hold them (default 250 ms); a
   * gateway that long-polls answers at each change.
   */
  pollMs?: number;
  /** Called on every status change. */
  onStatus?: (status: JobView["status"]) => void;
}

/** A gateway at `baseUrl`, for the deployment `domain`. */
export class GatewayClient {
  /** The gateway's base URL without a trailing slash. */
  readonly baseUrl: string;

  /** Talks to the gateway at `baseUrl`; signs in `domain`. */
  constructor(
    baseUrl: string,
    readonly domain: Domain,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** Sends one request and parses the answer with `schema`; a refusal becomes GatewayRefusal. */
  async request<S extends z.ZodType>(
    schema: S,
    method: "GET" | "POST",
    route: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<z.infer<S>> {
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await fetch(`${this.baseUrl}${route}`, {
          method,
          headers: { "content-type": "application/json", ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        break;
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const code = cause?.code;
        if (code === "UND_ERR_HEADERS_TIMEOUT") {
          throw new GatewayTimeout(
            `gateway ${this.baseUrl} did not answer ${method} ${route} before the client's header timeout; it may still be working on it`,
          );
        }
        // A kept-alive connection the gateway closed as it was reused (its idle timer fired under
        // load) fails before any answer. A GET is safe to send once more; a POST is not (the
        // gateway may have acted on it), so its error says what happened instead.
        if (method === "GET" && attempt === 1 && code !== undefined && SOCKET_DROPPED.has(code)) {
          continue;
        }
        const why = code ? ` (${code}${cause?.message ? `: ${cause.message}` : ""})` : "";
        throw new GatewayError(`gateway ${this.baseUrl} is not reachable${why}`);
      }
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new GatewayError(`gateway answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const err = errorResponseSchema.safeParse(json);
      if (!err.success) {
        throw new GatewayError(`gateway answered ${res.status} without a PartProof error body`);
      }
      const { code, message, details } = err.data.error;
      throw new GatewayRefusal(res.status, code, message, details);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
        .join("; ");
      throw new GatewayError(
        `gateway's answer to ${method} ${route} is not the protocol's: ${where}`,
      );
    }
    return parsed.data;
  }

  private gatewayIdOnce?: Promise<string>;

  /** GET /health. */
  health() {
    return this.request(healthResponseSchema, "GET", "/health");
  }

  /** The gateway's id (from /health, asked once): signed reads name it. */
  gatewayId(): Promise<string> {
    this.gatewayIdOnce ??= this.health().then((h) => h.gatewayId);
    this.gatewayIdOnce.catch(() => (this.gatewayIdOnce = undefined));
    return this.gatewayIdOnce;
  }

  /** GET /assets: the catalogue. */
  catalogue() {
    return this.request(catalogueResponseSchema, "GET", "/assets");
  }

  /** GET /assets/:id: one asset with its schema and versions. */
  asset(assetId: bigint) {
    return this.request(assetResponseSchema, "GET", `/assets/${assetId}`);
  }

  /** POST an owner-signed upload; returns the version the gateway built. */
  async upload(owner: Signer, assetId: bigint, data: UploadData) {
    const body = await signUpload(owner, this.domain, assetId, data);
    return this.request(uploadResponseSchema, "POST", `/assets/${assetId}/uploads`, body);
  }

  /**
   * Publishes a gateway-built version: the owner signs PublishVersion with its current
   * contract nonce and the gateway relays it (the owner pays no gas).
   */
  async publish(owner: Signer, v: LocalVersion, nonce: bigint, deadline: bigint) {
    const body = await signPublish(
      owner,
      this.domain,
      {
        assetId: BigInt(v.assetId),
        root: BigInt(v.root),
        recordCount: BigInt(v.recordCount),
        treeDepth: BigInt(v.treeDepth),
        paramsHash: v.paramsHash,
      },
      nonce,
      deadline,
    );
    return this.request(
      publishResponseSchema,
      "POST",
      `/assets/${v.assetId}/versions/${v.localId}/publish`,
      body,
    );
  }

  /** GET the owner's own records of a local version (owner-signed read). */
  async records(owner: Signer, assetId: bigint, localId?: number) {
    const headers = await signRead(owner, this.domain, "records", assetId, await this.gatewayId());
    const q = localId === undefined ? "" : `?version=${localId}`;
    return this.request(
      recordsResponseSchema,
      "GET",
      `/assets/${assetId}/records${q}`,
      undefined,
      headers,
    );
  }

  /** Signs and sends a query; returns the accepted job. */
  async query(consumer: Signer, message: QueryMessage) {
    const body = await signQuery(consumer, this.domain, message);
    return this.request(queryAcceptedSchema, "POST", "/queries", body);
  }

  /**
   * GET /jobs/:id; with `wait`, the gateway holds the answer up to `wait.ms` until the job's
   * status differs from `wait.after` (long polling).
   */
  job(jobId: string, wait?: { ms: number; after: JobView["status"] }) {
    const q = wait ? `?wait=${Math.round(wait.ms)}&after=${wait.after}` : "";
    return this.request(jobViewSchema, "GET", `/jobs/${encodeURIComponent(jobId)}${q}`);
  }

  /**
   * Follows a job until it is logged (or proved, with `until: "proved"`: a proved job shows no
   * answer yet, the gateway releases it once logged), failed, or the timeout passes; returns the
   * last view (a failed job is returned, not thrown). It long-polls (GET /jobs/:id?wait=), so it
   * sees each change as the gateway makes it; a gateway that answers at once without a change
   * (one that does not hold requests) is polled every `pollMs` instead.
   */
  async waitJob(jobId: string, opts: WaitOptions = {}): Promise<JobView> {
    const until = opts.until ?? "logged";
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    let last: JobView["status"] | undefined;
    for (;;) {
      const left = deadline - Date.now();
      const asked = Date.now();
      const job = await this.job(
        jobId,
        last && left > 0 ? { ms: Math.min(MAX_JOB_WAIT_MS, left), after: last } : undefined,
      );
      const changed = job.status !== last;
      if (changed) opts.onStatus?.(job.status);
      last = job.status;
      if (job.status === "failed" || job.status === "logged") return job;
      if (until === "proved" && job.status === "proved") return job;
      if (Date.now() > deadline) {
        throw new GatewayError(
          `job ${jobId} is still ${job.status} after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`,
        );
      }
      const pollMs = opts.pollMs ?? 250;
      const held = Date.now() - asked;
      if (!changed && held < pollMs) await new Promise((r) => setTimeout(r, pollMs - held));
    }
  }

  /** A consumer's own answers (consumer-signed read). */
  async answers(consumer: Signer) {
    const headers = await signRead(consumer, this.domain, "answers", 0n, await this.gatewayId());
    const who = await consumer.getAddress();
    return this.request(
      answersResponseSchema,
      "GET",
      `/consumers/${who}/answers`,
      undefined,
      headers,
    );
  }

  /** The auditor's export of every served answer (auditor-signed read). */
  async auditExport(auditor: Signer) {
    const headers = await signRead(auditor, this.domain, "audit", 0n, await this.gatewayId());
    const who = await auditor.getAddress();
    return this.request(
      auditExportSchema,
      "GET",
      `/audit/answers?auditor=${who}`,
      undefined,
      headers,
    );
  }

  /** The gateway's body limit in bytes (from /health), when it tells it. */
  async bodyLimitBytes(): Promise<number | undefined> {
    const h = (await this.health()) as { bodyLimitBytes?: unknown };
    return typeof h.bodyLimitBytes === "number" ? h.bodyLimitBytes : undefined;
  }

  /** Starts (or finds again) an upload session; owner-signed. */
  async startUploadSession(owner: Signer, u: UploadSessionTerms) {
    const body = await signUploadStep(owner, this.domain, u, "start", 0);
    return this.request(uploadSessionSchema, "POST", sessionRoute(u), body);
  }

  /** Sends chunk `index` of an upload session; owner-signed. */
  async uploadChunk(owner: Signer, u: UploadSessionTerms, index: number, data: UploadData) {
    const body = await signUploadStep(owner, this.domain, u, "chunk", index, data);
    return this.request(
      uploadChunkResponseSchema,
      "POST",
      `${sessionRoute(u)}/chunks/${index}`,
      body,
    );
  }

  /** Commits an upload session: its chunks become one version; owner-signed. */
  async commitUploadSession(owner: Signer, u: UploadSessionTerms) {
    const body = await signUploadStep(owner, this.domain, u, "commit", u.chunkCount);
    return this.request(uploadCommitResponseSchema, "POST", `${sessionRoute(u)}/commit`, body);
  }

  /** An upload session as the gateway holds it (owner-signed read, action "uploads"). */
  async uploadSession(owner: Signer, assetId: bigint, sessionId: string) {
    const headers = await signRead(owner, this.domain, "uploads", assetId, await this.gatewayId());
    return this.request(
      uploadSessionSchema,
      "GET",
      sessionRoute({ assetId, sessionId }),
      undefined,
      headers,
    );
  }

  /** The owner's local versions with record counts and changes (owner-signed read). */
  async versions(owner: Signer, assetId: bigint) {
    const headers = await signRead(owner, this.domain, "records", assetId, await this.gatewayId());
    return this.request(
      versionsResponseSchema,
      "GET",
      `/assets/${assetId}/versions`,
      undefined,
      headers,
    );
  }

  /** One page of the owner's own records of a local version (owner-signed read). */
  async recordsPage(
    owner: Signer,
    assetId: bigint,
    page: { localId?: number; offset: number; limit: number },
  ) {
    const headers = await signRead(owner, this.domain, "records", assetId, await this.gatewayId());
    const q = new URLSearchParams({ offset: String(page.offset), limit: String(page.limit) });
    if (page.localId !== undefined) q.set("version", String(page.localId));
    return this.request(
      recordsResponseSchema,
      "GET",
      `/assets/${assetId}/records?${q}`,
      undefined,
      headers,
    );
  }

  /**
   * Follows an audit request (GET of a published version's audit, or the owner's audit-check)
   * until the gateway answers its proofs; `onProgress` sees each pending answer.
   */
  private async followAudit(
    ask: () => Promise<AuditResponse>,
    opts: AuditWaitOptions,
  ): Promise<AuditDone> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
    for (;;) {
      const r = await ask();
      if (r.status === "done") return r;
      opts.onProgress?.(r.proved, r.total);
      if (Date.now() > deadline) {
        throw new GatewayError(`the gateway has proved ${r.proved}/${r.total} audits and gave up`);
      }
      await new Promise((res) => setTimeout(res, opts.pollMs ?? 500));
    }
  }

  /**
   * The AuditPath proofs of published version `number` of an asset for t draws of its
   * chain-derived challenge (GET /assets/:assetId/versions/:number/audit); waits for them.
   * The caller derives the challenge itself and checks every proof (cli/auditor.ts).
   */
  async audit(assetId: bigint, number: number, t: number, opts: AuditWaitOptions = {}) {
    return this.followAudit(
      () =>
        this.request(
          auditResponseSchema,
          "GET",
          `/assets/${assetId}/versions/${number}/audit?t=${t}`,
        ),
      opts,
    );
  }

  /**
   * The owner's check of a local version before signing it: AuditPath proofs of the leaves it
   * names for its own challenge (POST …/versions/:localId/audit-check, owner-signed read).
   */
  async auditCheck(
    owner: Signer,
    assetId: bigint,
    localId: number,
    challenge: bigint,
    indices: number[],
    opts: AuditWaitOptions = {},
  ) {
    return this.followAudit(async () => {
      const headers = await signRead(
        owner,
        this.domain,
        "records",
        assetId,
        await this.gatewayId(),
      );
      return this.request(
        auditResponseSchema,
        "POST",
        `/assets/${assetId}/versions/${localId}/audit-check`,
        { challenge: challenge.toString(), indices },
        headers,
      );
    }, opts);
  }
}

/** What every step of an upload session signs: the asset, the session and its terms. */
export interface UploadSessionTerms {
  assetId: bigint;
  /** bytes32 hex, chosen by the client. */
  sessionId: string;
  /** Start a new data set instead of adding to the latest version. */
  replace: boolean;
  chunkCount: number;
}

function sessionRoute(u: { assetId: bigint; sessionId: string }): string {
  return `/assets/${u.assetId}/upload-sessions/${u.sessionId}`;
}

/** How long to follow an audit, and what to report while waiting. */
export interface AuditWaitOptions {
  /** Give up after this long (default 30 min). */
  timeoutMs?: number;
  /** Time between two requests while the gateway proves (default 500 ms). */
  pollMs?: number;
  /** Called with the proofs made so far and their total. */
  onProgress?: (proved: number, total: number) => void;
}
