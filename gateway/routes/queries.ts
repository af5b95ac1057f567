/** Routes of queries: submit, job status, a consumer's answers, the auditor's export. */
import { Router, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { JobEvents } from "../job-events.js";
import { address, jobWaitQuerySchema, queryBodySchema } from "../../protocol/api.js";
import { servedAsset } from "../usecases/assets.js";
import { querySigner, submitQuery } from "../usecases/query.js";
import { auditExport, consumerAnswers, getJob } from "../usecases/reads.js";
import { countRefusals, type RouteMiddleware } from "./http.js";
import { readAuth } from "./read-auth.js";

/** Query routes. */
export function queryRoutes(ctx: GatewayContext, { json, limit }: RouteMiddleware): Router {
  const r = Router();

  // an asset this gateway does not serve is refused first (NOT_SERVED), before the signature;
  // then the signer is recovered so that the rate limit is per signer
  const signer: RequestHandler = async (req, res, next) => {
    const body = queryBodySchema.parse(req.body);
    await servedAsset(ctx, body.query.assetId);
    res.locals.body = body;
    res.locals.signer = querySigner(ctx, body);
    next();
  };

  r.post(
    "/queries",
    json,
    signer,
    limit,
    async (_req: Request, res: Response) => {
      const job = await submitQuery(ctx, res.locals.body, res.locals.signer);
      ctx.metrics.queries.inc({ status: "accepted" });
      // not the job id: it is a bearer capability (GET /jobs/:id)
      ctx.log.info({ requestId: job.requestId, grantId: job.grantId }, "query accepted");
      res.status(202).location(`/jobs/${job.id}`).json({
        jobId: job.id,
        status: job.status,
        requestId: job.requestId,
        versionId: job.versionId,
      });
    },
    countRefusals(ctx.metrics.queries, ctx.config.bodyLimitBytes),
  );

  const events = new JobEvents(ctx.store);
  // GET /jobs/:id[?wait=ms[&after=status]]: long polling, woken by the job's own writes
  r.get("/jobs/:id", json, async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw new AppError("UNKNOWN_JOB", "no job with this id");
    const q = jobWaitQuerySchema.safeParse(req.query);
    if (!q.success) {
      throw new AppError(
        "VALIDATION_FAILED",
        "GET /jobs/:id takes only ?wait= (milliseconds, 0 to 30000) and ?after= (a job status)",
      );
    }
    const stop = new AbortController(); // the client left, or the answer is ready
    let left = false;
    res.on("close", () => {
      left = true;
      stop.abort();
    });
    const deadline = Date.now() + (q.data.wait ?? 0);
    let view;
    try {
      let next = events.nextWrite(id.data, deadline - Date.now(), stop.signal);
      view = await getJob(ctx, id.data);
      const after = q.data.after ?? view.status;
      while (view.status === after && view.status !== "logged" && view.status !== "failed") {
        if (!(await next)) break; // waited long enough, or the client left
        next = events.nextWrite(id.data, deadline - Date.now(), stop.signal);
        view = await getJob(ctx, id.data);
      }
    } finally {
      stop.abort(); // releases a wait still pending
    }
    if (left) return;
    const timeline = events.timeline(id.data);
    res.json(timeline ? { ...view, timeline } : view);
  });

  r.get("/consumers/:address/answers", json, async (req, res) => {
    res.json(await consumerAnswers(ctx, address.parse(req.params.address), readAuth(req)));
  });

  r.get("/audit/answers", json, async (req, res) => {
    const auditor = address.safeParse(req.query.auditor);
    if (!auditor.success) {
      throw new AppError("VALIDATION_FAILED", "?auditor= must name the auditor's address");
    }
    res.json(await auditExport(ctx, auditor.data, readAuth(req)));
  });

  return r;
}
