/**
 * Routes of random path audits (usecases/audit.ts): a published version's audit for its
 * chain-derived challenge (public: the proofs reveal nothing beyond on-chain values), and the
 * owner's own check of a version before it signs it (owner-signed read).
 */
import { Router } from "express";
import type { GatewayContext } from "../context.js";
import { assetIdParam, auditCheckBodySchema, auditQuerySchema, uint } from "../../protocol/api.js";
import { servedAsset } from "../usecases/assets.js";
import { ownerAuditCheck, publishedAudit } from "../usecases/audit.js";
import type { RouteMiddleware } from "./http.js";
import { readAuth } from "./read-auth.js";

/** Audit routes. */
export function auditRoutes(ctx: GatewayContext, { json, limit }: RouteMiddleware): Router {
  const r = Router();

  r.get("/assets/:assetId/versions/:number/audit", json, limit, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    await servedAsset(ctx, assetId);
    const number = uint(64).parse(req.params.number);
    const q = auditQuerySchema.parse(req.query);
    const out = await publishedAudit(ctx, assetId, number, q.t);
    res.status(out.status).json(out.body);
  });

  r.post("/assets/:assetId/versions/:localId/audit-check", json, limit, async (req, res) => {
    const assetId = assetIdParam.parse(req.params.assetId);
    await servedAsset(ctx, assetId);
    const localId = Number(uint(32).parse(req.params.localId));
    const body = auditCheckBodySchema.parse(req.body);
    const out = await ownerAuditCheck(ctx, assetId, localId, body, readAuth(req));
    res.status(out.status).json(out.body);
  });

  return r;
}
