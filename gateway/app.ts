/**
 * The gateway's HTTP application and server: express 5 with helmet, a body size limit, zod
 * per route, a rate limit per signer, one error middleware (no stack traces to clients),
 * `/health` and Prometheus `/metrics`; `startServer(config)` wires store, chain, prover pool
 * and relayer and listens (port 0 in tests).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { rateLimit, ipKeyGenerator } from "express-rate-limit";
import cors from "cors";
import helmet from "helmet";
import { pino, type DestinationStream, type Logger } from "pino";
import { JsonRpcProvider, Wallet, type Provider, type Signer } from "ethers";
import { ChainClient } from "./chain.js";
import {
  ConfigError,
  loadConfig,
  redactUrl,
  redactUrls,
  resolveArtifacts,
  resolveScanArtifacts,
  type GatewayConfig,
} from "./config.js";
import { defaultSalt, type GatewayContext } from "./context.js";
import { AppError, toAppError } from "./errors.js";
import { KeyedMutex } from "./locks.js";
import { createMetrics } from "./metrics.js";
import { IngestPool } from "./prover/ingest-pool.js";
import { ProverPool } from "./prover/pool.js";
import { Relayer } from "./relayer.js";
import { startSessionSweeper } from "./usecases/uploads.js";
import { assetRoutes } from "./routes/assets.js";
import { uploadRoutes } from "./routes/uploads.js";
import { runStartupChecks } from "./startup-checks.js";
import { queryRoutes } from "./routes/queries.js";
import { auditRoutes } from "./routes/audit.js";
import { resolveAuditArtifacts } from "./usecases/audit.js";
import { GatewayStore } from "./store/index.js";
import { resumeJobs } from "./usecases/query.js";

/** What the caller may inject: an in-process provider and relayer (tests), a log sink, salts. */
export interface GatewayDeps {
  /** Provider when `chain.rpcUrl` is "in-process". */
  provider?: Provider;
  /** Relayer signer when `relayerKey.source` is "injected". */
  relayer?: Signer;
  /** Where log lines go (default stdout). */
  logStream?: DestinationStream;
  /** Salt source (default: crypto randomness). */
  salt?: () => bigint;
  /** How provers run (default "process"; "thread" is the former mode, for the benchmark). */
  proverKind?: "process" | "thread";
}

/** A running gateway. */
export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The bound port. */
  port: number;
  /** The shared context (tests inspect the store through it). */
  ctx: GatewayContext;
  /** Stops the server, relayer and provers, and closes the store. */
  close(): Promise<void>;
}

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses (JSON_TOO_DEEP) a JSON text nested deeper than `max`, by one linear scan of its
 * bytes before it is parsed: deep nesting costs recursion in everything that walks the value.
 */
export function checkJsonDepth(buf: Buffer, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        throw new AppError(
          "JSON_TOO_DEEP",
          `the request body nests arrays and objects deeper than ${max} levels`,
        );
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The path as logs show it: the matched route's pattern (`/jobs/:id`), else the path with
 * every UUID masked — job ids are bearer capabilities and are never logged.
 */
function loggedPath(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === "string") return `${req.baseUrl}${route}`;
  return req.path.replace(UUID, ":uuid").slice(0, 200);
}

/**
 * CORS for the configured origins: the gateway's methods, the JSON body and the signed-read
 * headers; no credentials (every request is signed, none relies on cookies).
 */
export function corsOptions(origins: readonly string[]): cors.CorsOptions {
  const allowed = new Set(origins);
  return {
    origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
    methods: ["GET", "POST"],
    allowedHeaders: [
      "content-type",
      "x-partproof-gateway",
      "x-partproof-timestamp",
      "x-partproof-signature",
    ],
    credentials: false,
    maxAge: 600,
  };
}

/** Builds the express app over a context. */
export function createApp(ctx: GatewayContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(helmet());
  // Cross-origin calls (the browser console) only from the configured origins; none by default.
  // Preflights are answered here, before the rate limits and routes.
  if (ctx.config.corsOrigins.length > 0) app.use(cors(corsOptions(ctx.config.corsOrigins)));
  // per connection first, before any body is read or signature recovered
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: ctx.config.ipRateLimitPerMinute,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      keyGenerator: (req) =>
        `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? "unknown")}`,
      handler: (_req, _res, next) =>
        next(new AppError("RATE_LIMITED", "too many requests from this address; slow down")),
    }),
  );
  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on("finish", () => {
      ctx.log.info(
        {
          method: req.method,
          path: loggedPath(req),
          status: res.statusCode,
          code: res.locals.errorCode,
          ms: Math.round(performance.now() - t0),
        },
        "request",
      );
    });
    next();
  });
  const json = express.json({
    limit: ctx.config.bodyLimitBytes,
    verify: (_req, _res, buf) => checkJsonDepth(buf),
  });

  // then per signer (a fresh key is a fresh bucket here, but not at the per-connection limit)
  const limit = rateLimit({
    windowMs: 60_000,
    limit: ctx.config.rateLimitPerMinute,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req, res) =>
      typeof res.locals.signer === "string"
        ? `signer:${res.locals.signer.toLowerCase()}`
        : ipKeyGenerator(req.ip ?? "unknown"),
    handler: (_req, _res, next) =>
      next(new AppError("RATE_LIMITED", "too many requests from this signer; slow down")),
  });

  // each route parses its own body first (its refusals are its own; routes/http.ts); requests
  // that no router takes are parsed here, so a malformed body is refused the same way
  app.use(assetRoutes(ctx, { json, limit }));
  app.use(queryRoutes(ctx, { json, limit }));
  app.use(uploadRoutes(ctx, { json, limit }));
  app.use(auditRoutes(ctx, { json, limit }));
  app.use(json);

  app.get("/health", async (_req, res) => {
    const [block, depth] = await Promise.all([
      ctx.chain.provider.getBlockNumber().catch(() => null),
      ctx.store.outboxDepth(),
    ]);
    res.status(block === null ? 503 : 200).json({
      status: block === null ? "degraded" : "ok",
      gatewayId: ctx.gatewayId,
      bodyLimitBytes: ctx.config.bodyLimitBytes,
      chain: { chainId: ctx.domain.chainId.toString(), partProof: ctx.domain.partProof, block },
      circuit: ctx.config.circuit.name,
      provers: {
        size: ctx.config.provers,
        busy: ctx.pool.busy,
        waiting: ctx.pool.waiting,
        engine: ctx.pool.engine,
      },
      ingest: { busy: ctx.ingest.busy, waiting: ctx.ingest.waiting },
      outboxDepth: depth,
    });
  });
  app.get("/metrics", async (_req, res) => {
    res.set("Content-Type", ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });

  app.use((_req, _res, next) => next(new AppError("NOT_FOUND", "no such route")));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    const err = toAppError(e, ctx.config.bodyLimitBytes);
    res.locals.errorCode = err.code;
    if (err.status >= 500) {
      // the error's name only: messages of lower layers may quote values
      ctx.log.error(
        { path: loggedPath(req), error: (e as Error)?.name ?? typeof e },
        "request failed",
      );
    }
    res.status(err.status).json(err.toJSON());
  });
  return app;
}

function makeLogger(config: GatewayConfig, stream?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: "partproof-gateway" },
      // belt and braces: no record values, salts or request bodies even if passed by mistake
      redact: {
        paths: ["records", "salts", "salt", "body", "*.records", "*.salts", "*.salt", "*.body"],
        remove: true,
      },
    },
    stream,
  );
}

/** The provider and relayer the config names (or the injected ones), and the contract. */
async function connectChain(
  config: GatewayConfig,
  deps: GatewayDeps,
  onSenderEvent?: (event: string, info: Record<string, unknown>) => void,
): Promise<ChainClient> {
  let provider: Provider;
  if (config.chain.rpcUrl === "in-process") {
    if (!deps.provider)
      throw new ConfigError(
        'config.chain.rpcUrl: "in-process" needs a provider passed to startServer',
      );
    provider = deps.provider;
  } else {
    // no 250 ms answer cache: a repeated read (the sender's pending nonce after a resync, a
    // receipt of a block just taken away) must reach the node
    provider = new JsonRpcProvider(config.chain.rpcUrl, undefined, { cacheTimeout: -1 });
  }

  let relayer: Signer;
  if (config.relayerKey.source === "injected") {
    if (!deps.relayer)
      throw new ConfigError(
        'config.relayerKey: source "injected" needs a relayer passed to startServer',
      );
    relayer = deps.relayer;
  } else {
    const key = process.env[config.relayerKey.name];
    if (!key)
      throw new ConfigError(
        `config.relayerKey: environment variable ${config.relayerKey.name} is not set`,
      );
    try {
      relayer = new Wallet(key, provider);
    } catch {
      throw new ConfigError(
        `config.relayerKey: ${config.relayerKey.name} does not hold a valid private key`,
      );
    }
  }

  try {
    return await ChainClient.connect(
      provider,
      config.contracts.partProof,
      relayer,
      config.sender,
      onSenderEvent,
    );
  } catch (e) {
    throw new ConfigError(
      `config.contracts.partProof: cannot use ${config.contracts.partProof} at ${config.chain.rpcUrl === "in-process" ? "in-process" : redactUrl(config.chain.rpcUrl)}: ${redactUrls((e as Error).message.split("\n")[0] ?? "")}`,
    );
  }
}

/** Validates the config, opens store and chain, starts provers, relayer and the HTTP server. */
export async function startServer(input: unknown, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const config = loadConfig(input);
  const artifacts = resolveArtifacts(config);
  const scanArtifacts = resolveScanArtifacts(config);
  const auditArtifacts = resolveAuditArtifacts(config);
  const log = makeLogger(config, deps.logStream);
  let metricsRef: ReturnType<typeof createMetrics> | undefined;
  const chain = await connectChain(config, deps, (event, info) => {
    metricsRef?.senderEvents.inc({ event });
    log.warn(info, `sender: ${event}`);
  });

  const metrics = createMetrics(() => store.outboxDepth());
  metricsRef = metrics;
  await runStartupChecks({
    config,
    chain,
    artifacts,
    scanArtifacts,
    metrics,
    warn: (message) => log.warn(message),
  });

  const store = await GatewayStore.open(config.dataDir);
  const pool = new ProverPool(
    config.provers,
    {
      range: artifacts,
      ...(scanArtifacts ? { scan: scanArtifacts } : {}),
      ...(auditArtifacts ? { audit: auditArtifacts } : {}),
    },
    { kind: deps.proverKind ?? "process" },
  );
  const ingest = new IngestPool(config.ingest.workers, config.ingest.budgetMs, undefined, {
    heapMb: config.ingest.heapMb,
  });
  let relayerRef: Relayer | undefined;
  const ctx: GatewayContext = {
    config,
    store,
    chain,
    domain: { chainId: chain.chainId, partProof: config.contracts.partProof },
    gatewayId: config.gatewayId ?? (await store.gatewayId()),
    pool,
    ingest,
    artifacts,
    scanArtifacts,
    auditArtifacts,
    metrics,
    log,
    locks: new KeyedMutex(),
    salt: deps.salt ?? defaultSalt,
    inflight: new Set(),
    kickRelayer: () => relayerRef?.kick(),
  };
  const relayerLoop = new Relayer(ctx);
  relayerRef = relayerLoop;

  const app = createApp(ctx);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const resumed = await resumeJobs(ctx);
  const sweeper = await startSessionSweeper(ctx);
  if (config.relayer.enabled) relayerLoop.start();
  if (!config.serve) {
    log.warn(
      "config.serve is not set: this gateway stores and relays for every registered asset; list the owners or assets it serves",
    );
  }
  log.info(
    { port, circuit: config.circuit.name, gatewayId: ctx.gatewayId, resumed },
    "gateway started",
  );
  log.info({ prover: pool.engine }, `proofs by ${pool.engineNote}`);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${port}`,
    port,
    ctx,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await relayerLoop.stop();
        await sweeper.stop();
        await pool.close();
        await ingest.close();
        await Promise.allSettled([...ctx.inflight]);
        await store.close();
      })();
      return closing;
    },
  };
}
