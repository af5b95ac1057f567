/** Routes of assets: catalogue, uploads, publication and the owner's own records. */
import { Router, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import type { GatewayContext } from "../context.js";
import { assetIdParam, publishBodySchema, uint, uploadBodySchema } from "../../protocol/api.js";
import { servedAsset } from "../usecases/assets.js";
import { ingest, publish, uploadSigner } from "../usecases/ingest.js";
import {
  catalogue,
  describeAsset,
  ownerRecords,
  ownerVersions,
  RECORDS_PAGE_MAX,
} from "../usecases/reads.js";
import { countRefusals, type RouteMiddleware } from "./http.js";
import { readAuth } from "./read-auth.js";

/** Asset routes. */
export function assetRoutes(ctx: GatewayContext, { json, limit }: RouteMiddleware): Router {
  const r = Router();

  r.get("/assets", json, async (_req, res) => {
    res.json(await catalogue(ctx));
  });

  // an asset this gateway does not serve is refused before its body is read (or, for a read,
  // before its signature is checked)
  const served: RequestHandler = async (req, _res, next) => {
    await servedAsset(ctx, assetIdParam.parse(req.params.assetId));
    next();
  };

  r.get("/assets/:assetId", served, json, async (req, res) => {
    res.json(await describeAsset(ctx, assetIdParam.parse(req.params.assetId)));
  });

  // recover the uploader first so that the rate limit is per signer
  const uploadSigned: RequestHandler = async (req, res, next) => {
    const body = uploadBodySchema.parse(req.body);
    res.locals.body = body;
    res.locals.signer = await uploadSigner(ctx, assetIdParam.parse(req.params.assetId), body);
    next();
  };

  r.post(
    "/assets/:assetId/uploads",
    served,
    json,
    uploadSigned,
    limit,
    async (req: Request, res: Response) => {
      const assetId = assetIdParam.parse(req.params.assetId);
      const result = await ingest(ctx, assetId, res.locals.body, res.locals.signer);
      ctx.metrics.uploads.inc({ status: result.created ? "created" : "existing" });
      ctx.log.info(
        {
          assetId: result.version.assetId,
          localId: result.version.localId,
          created: result.created,
        },
        "upload stored",
      );
      res.status(result.created ? 201 : 200).json(result);
    },
    countRefusals(ctx.metrics.uploads, ctx.config.bodyLimitBytes),
  );

  r.post("/assets/:assetId/versions/:localId/publish", served, json, limit, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    const localId = Number(uint(32).parse(req.params.localId));
    res.status(201).json(await publish(ctx, assetId, localId, publishBodySchema.parse(req.body)));
  });

  r.get("/assets/:assetId/records", served, json, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    const q = z
      .strictObject({
        version: uint(32).optional(),
        offset: uint(32).optional(),
        limit: z.coerce.number().int().min(1).max(RECORDS_PAGE_MAX).optional(),
      })
      .parse(req.query);
    res.json(
      await ownerRecords(
        ctx,
        assetId,
        q.version === undefined ? undefined : Number(q.version),
        readAuth(req),
        {
          ...(q.offset === undefined ? {} : { offset: Number(q.offset) }),
          ...(q.limit === undefined ? {} : { limit: q.limit }),
        },
      ),
    );
  });

  r.get("/assets/:assetId/versions", json, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    res.json(await ownerVersions(ctx, assetId, readAuth(req)));
  });

  return r;
}
