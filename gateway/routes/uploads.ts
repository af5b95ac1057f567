/**
 * Routes of resumable upload sessions (owner-signed steps, `usecases/uploads.ts`):
 *
 * - `POST /assets/:assetId/upload-sessions/:sessionId` start (201 new, 200 started before)
 * - `POST /assets/:assetId/upload-sessions/:sessionId/chunks/:index` one chunk (201 stored,
 *   200 held before)
 * - `POST /assets/:assetId/upload-sessions/:sessionId/commit` (201 new version, 200 made before)
 * - `GET /assets/:assetId/upload-sessions/:sessionId` owner-signed read (action "uploads"): the
 *   chunks held, so that a client resumes by sending the others
 */
import { Router, type Request, type RequestHandler, type Response } from "express";
import type { GatewayContext } from "../context.js";
import {
  assetIdParam,
  bytes32,
  uint,
  uploadChunkBodySchema,
  uploadStepBodySchema,
} from "../../protocol/api.js";
import type { UploadStep } from "../../protocol/typed-data.js";
import { servedAsset } from "../usecases/assets.js";
import { ownerSession } from "../usecases/reads.js";
import {
  commitSession,
  receiveChunk,
  startSession,
  uploadStepSigner,
} from "../usecases/uploads.js";
import { countRefusals, type RouteMiddleware } from "./http.js";
import { readAuth } from "./read-auth.js";

const BASE = "/assets/:assetId/upload-sessions/:sessionId";

/** Upload session routes. */
export function uploadRoutes(ctx: GatewayContext, { json, limit }: RouteMiddleware): Router {
  const r = Router();

  const served: RequestHandler = async (req, _res, next) => {
    await servedAsset(ctx, assetIdParam.parse(req.params.assetId));
    next();
  };

  // parse the route's ids and body, then recover the signer so that the rate limit is per signer
  const signed =
    (step: UploadStep): RequestHandler =>
    async (req, res, next) => {
      const assetId = assetIdParam.parse(req.params.assetId);
      const sessionId = bytes32.parse(req.params.sessionId).toLowerCase();
      const body =
        step === "chunk"
          ? uploadChunkBodySchema.parse(req.body)
          : uploadStepBodySchema.parse(req.body);
      const index =
        step === "chunk"
          ? Number(uint(32).parse(req.params.index))
          : step === "commit"
            ? body.chunkCount
            : 0;
      res.locals.step = { assetId, sessionId, index, body };
      res.locals.signer = await uploadStepSigner(ctx, assetId, sessionId, step, index, body);
      next();
    };
  const refusals = countRefusals(ctx.metrics.uploads, ctx.config.bodyLimitBytes);

  r.post(
    BASE,
    served,
    json,
    signed("start"),
    limit,
    async (_req: Request, res: Response) => {
      const { assetId, sessionId, body } = res.locals.step;
      const out = await startSession(ctx, assetId, sessionId, body, res.locals.signer);
      res.status(out.created ? 201 : 200).json(out.session);
    },
    refusals,
  );

  r.post(
    `${BASE}/chunks/:index`,
    served,
    json,
    signed("chunk"),
    limit,
    async (_req: Request, res: Response) => {
      const { assetId, sessionId, index, body } = res.locals.step;
      const out = await receiveChunk(ctx, assetId, sessionId, index, body, res.locals.signer);
      res.status(out.stored ? 201 : 200).json(out);
    },
    refusals,
  );

  r.post(
    `${BASE}/commit`,
    served,
    json,
    signed("commit"),
    limit,
    async (_req: Request, res: Response) => {
      const { assetId, sessionId, body } = res.locals.step;
      const out = await commitSession(ctx, assetId, sessionId, body, res.locals.signer);
      ctx.metrics.uploads.inc({ status: out.created ? "created" : "existing" });
      res.status(out.created ? 201 : 200).json(out);
    },
    refusals,
  );

  r.get(BASE, json, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    const sessionId = bytes32.parse(req.params.sessionId).toLowerCase();
    res.json(await ownerSession(ctx, assetId, sessionId, readAuth(req)));
  });

  return r;
}
