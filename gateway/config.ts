/**
 * Gateway configuration, validated at start. A missing or bad value stops the start with a
 * message naming the setting and what was wrong with it.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** An asset id in the config: a positive integer (number or decimal string). */
const assetIdSetting = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,76}$/)])
  .transform((v) => BigInt(v));

/** The validated shape of a gateway configuration. */
/** Stored versions an owner may have on a gateway unless `limits.versionsPerOwner` says otherwise. */
export const DEFAULT_VERSIONS_PER_OWNER = 1000;

export const configSchema = z.strictObject({
  /**
   * This gateway's id: signed reads name it, so that a read signed for one gateway is refused
   * by every other. Served in /health. Default: a random id made once and kept in the store.
   */
  gatewayId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, "must be 1-64 letters, digits or . _ : -")
    .optional(),
  /**
   * What this gateway serves: uploads, publications and queries of other assets are refused
   * (403 NOT_SERVED) before any work. An asset is served when it is listed in `assets` or its
   * on-chain owner is listed in `owners`. Omitted: every asset (with a warning at start).
   */
  serve: z
    .strictObject({
      owners: z.array(address).optional(),
      assets: z.array(assetIdSetting).optional(),
    })
    .optional(),
  /** Per-owner caps (429 OWNER_CAP_REACHED): stored versions, relayed gas per UTC day. */
  limits: z
    .strictObject({
      versionsPerOwner: z.number().int().min(1).default(DEFAULT_VERSIONS_PER_OWNER),
      relayerGasPerOwnerPerDay: z.number().int().min(1).default(10_000_000),
    })
    .default({
      versionsPerOwner: DEFAULT_VERSIONS_PER_OWNER,
      relayerGasPerOwnerPerDay: 10_000_000,
    }),
  /** Reading uploads and building trees: worker threads and the time budget of each task. */
  ingest: z
    .strictObject({
      workers: z.number().int().min(1).max(16).default(1),
      budgetMs: z.number().int().min(1).default(30_000),
      /**
       * The old-generation heap of each ingest worker, MiB (`INGEST_HEAP_MB` of
       * prover/ingest-pool.ts, 384, by default). Below 64 a worker may not even load its code.
       */
      heapMb: z.number().int().min(64).max(16_384).default(384),
    })
    .default({ workers: 1, budgetMs: 30_000, heapMb: 384 }),
  /** TCP port (0: any free port). */
  port: z.number().int().min(0).max(65_535).default(8080),
  /** Interface to listen on. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Folder of the LevelDB database (created if missing). */
  dataDir: z.string().min(1, "must name a folder"),
  /** Chain: a JSON-RPC URL, or "in-process" when the caller passes a provider (tests). */
  chain: z.strictObject({
    rpcUrl: z.union([z.literal("in-process"), z.url({ protocol: /^(https?|wss?)$/ })]),
    /** Confirmations the relayer waits for after an answer's transaction is mined. */
    confirmations: z.number().int().min(0).max(64).default(1),
  }),
  /** Deployed contract addresses. */
  contracts: z.strictObject({ partProof: address }),
  /** Where the relayer's key comes from: an environment variable or the caller (tests). */
  relayerKey: z.discriminatedUnion("source", [
    z.strictObject({ source: z.literal("env"), name: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }),
    z.strictObject({ source: z.literal("injected") }),
  ]),
  /** The circuit instance that answers range queries, and where its artifacts are. */
  circuit: z.strictObject({
    /** Instance name of circuits/circuits.json, e.g. range_d4 (circuitId = keccak256(name)). */
    name: z.string().regex(/^[a-z0-9_]+$/, "must be a circuit instance name like range_d4"),
    /** Tree depth of the instance (versions are built with it; at most 2^depth − 2 records). */
    depth: z.number().int().min(2).max(32),
    /** The field index the instance computes MIN/MAX over. */
    minMaxField: z.number().int().min(0).max(3).default(3),
    /** Folder with `<name>.wasm` (or `<name>_js/<name>.wasm`), `<name>.zkey`, `<name>.vkey.json`. */
    artifactsDir: z.string().min(1),
  }),
  /**
   * Optional scan instance for queries with predicates, e.g. scan_d4_c4 (h = 1: windows of
   * C = 2·2^h leaves). Same depth and MIN/MAX field as `circuit`.
   */
  scanCircuit: z
    .strictObject({
      name: z.string().regex(/^[a-z0-9_]+$/, "must be a circuit instance name like scan_d4_c4"),
      h: z.number().int().min(0).max(8),
      artifactsDir: z.string().min(1),
    })
    .optional(),
  /** Proving worker threads. */
  provers: z.number().int().min(1).max(16).default(1),
  /** Largest accepted request body. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(2 * 1024 * 1024),
  /** Requests per signer per minute (after the per-connection limit). */
  rateLimitPerMinute: z.number().int().min(1).default(120),
  /** Requests per client IP per minute, counted before any body is read. */
  ipRateLimitPerMinute: z.number().int().min(1).default(600),
  /**
   * Accounts allowed to read the audit export (GET /audit/answers, a signed read): it lists
   * every consumer's queries and cohort sizes, so nobody else may. Empty: the export is off.
   */
  auditors: z.array(address).default([]),
  /**
   * Data-dependent refusals (cohort below k, zero denominator, scan window) a grant may get at
   * this gateway; each also uses one unit of the grant's quota here. Once spent, every query
   * of the grant is refused before its data is looked at (REFUSAL_BUDGET_SPENT).
   */
  refusalBudgetPerGrant: z.number().int().min(0).default(10),
  /** Largest age of a signed upload's timestamp, in seconds. */
  signatureMaxAgeSec: z.number().int().min(1).default(300),
  /** Largest age of a signed read's timestamp, in seconds (a short window against replay). */
  readMaxAgeSec: z.number().int().min(1).default(60),
  /** How far in the future a signed timestamp may be (clock skew), in seconds. */
  clockSkewSec: z.number().int().min(0).max(300).default(5),
  /** Relayer poll interval and backoff. */
  relayer: z
    .strictObject({
      enabled: z.boolean().default(true),
      pollMs: z.number().int().min(10).default(500),
      baseBackoffMs: z.number().int().min(10).default(1000),
      maxBackoffMs: z.number().int().min(10).default(60_000),
    })
    .default({ enabled: true, pollMs: 500, baseBackoffMs: 1000, maxBackoffMs: 60_000 }),
  /**
   * The relayer key's one transaction sender: a transaction pending longer than `stuckAfterMs`
   * is re-priced by `feeBumpPercent` (at most `maxFeeBumps` times); a wait for confirmations
   * polls every `pollMs` and gives up after `confirmTimeoutMs` (the relayer then retries).
   */
  sender: z
    .strictObject({
      stuckAfterMs: z.number().int().min(10).default(60_000),
      feeBumpPercent: z.number().int().min(10).max(500).default(25),
      maxFeeBumps: z.number().int().min(0).max(50).default(5),
      pollMs: z.number().int().min(10).default(250),
      confirmTimeoutMs: z.number().int().min(100).default(600_000),
    })
    .default({
      stuckAfterMs: 60_000,
      feeBumpPercent: 25,
      maxFeeBumps: 5,
      pollMs: 250,
      confirmTimeoutMs: 600_000,
    }),
  /**
   * Below this balance (wei, a decimal string or a number) of the relayer key the gateway warns
   * at start and sets `partproof_relayer_balance_low` to 1.
   */
  relayerBalanceFloorWei: z
    .union([z.number().int().min(0), z.string().regex(/^[0-9]{1,40}$/, "must be wei in decimal")])
    .transform((v) => BigInt(v))
    .default(10n ** 16n),
  /** pino log level. */
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Browser origins (scheme://host[:port], e.g. the console's "http://127.0.0.1:5173") allowed
   * to call this gateway from a web page (CORS). Empty (the default): no cross-origin access.
   */
  corsOrigins: z
    .array(
      z
        .string()
        .regex(
          /^https?:\/\/[^/\s?#]+$/,
          "must be an origin: http(s)://host[:port], without path or trailing slash",
        ),
    )
    .default([]),
  /**
   * Upload sessions: a session not committed and without a new chunk for `sessionLifetimeSec`
   * (24 h) expires: its chunks are deleted (at start and every `sweepIntervalSec`, 10 min, or
   * the lifetime if shorter) and its chunks and commit are refused (410 UPLOAD_EXPIRED); a
   * start with the same id begins it again.
   */
  uploads: z
    .strictObject({
      sessionLifetimeSec: z.number().int().min(1).default(86_400),
      sweepIntervalSec: z.number().int().min(1).default(600),
    })
    .default({ sessionLifetimeSec: 86_400, sweepIntervalSec: 600 }),
});

/** A validated gateway configuration. */
export type GatewayConfig = z.infer<typeof configSchema>;
/** A configuration as written by a user (defaults not yet applied). */
export type GatewayConfigInput = z.input<typeof configSchema>;

/** Paths of the circuit artifacts the gateway needs. */
export interface CircuitArtifacts {
  /** Witness generator. */
  wasm: string;
  /** Proving key. */
  zkey: string;
  /** Verification key (JSON). */
  vkey: string;
}

/** Thrown when the configuration is invalid; the message lists every bad setting. */
export class ConfigError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * A URL as it may be shown in a message: scheme and host only. RPC URLs often carry an API key
 * in the path, the query or the user part, so nothing past the host is ever echoed.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden =
      u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== "");
    return `${u.protocol}//${u.host}${hidden ? "/…" : ""}`;
  } catch {
    return "(a value that is not a URL)";
  }
}

/** `text` with every URL in it cut to scheme and host ({@link redactUrl}). */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, (m) => redactUrl(m));
}

/** Settings whose values are never echoed: key material, and URLs that may carry keys. */
function shownValue(at: string, value: unknown): string {
  if (at.startsWith("relayerKey")) return "";
  if (at.startsWith("chain.rpcUrl")) {
    return typeof value === "string" ? ` (got ${JSON.stringify(redactUrl(value))})` : "";
  }
  return ` (got ${redactUrls(JSON.stringify(value) ?? "nothing")})`;
}

/** Validates a configuration; throws ConfigError naming each bad setting and its value. */
export function loadConfig(input: unknown): GatewayConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const at = i.path.map(String).join(".") || "(config)";
      const value = i.path.reduce<unknown>(
        (v, k) =>
          v && typeof v === "object" ? (v as Record<string, unknown>)[String(k)] : undefined,
        input,
      );
      return `config.${at}: ${i.message}${shownValue(at, value)}`;
    });
    throw new ConfigError(`invalid gateway configuration:\n  ${lines.join("\n  ")}`);
  }
  return parsed.data;
}

/** Finds the circuit's artifacts in its folder; throws ConfigError naming a missing file. */
export function resolveArtifacts(config: GatewayConfig): CircuitArtifacts {
  return artifactsOf(config.circuit.name, config.circuit.artifactsDir, "circuit");
}

/** The scan instance's artifacts, if a scan circuit is configured. */
export function resolveScanArtifacts(config: GatewayConfig): CircuitArtifacts | undefined {
  const s = config.scanCircuit;
  return s ? artifactsOf(s.name, s.artifactsDir, "scanCircuit") : undefined;
}

function artifactsOf(name: string, dir: string, setting: string): CircuitArtifacts {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      `config.${setting}.artifactsDir: folder ${JSON.stringify(dir)} does not exist`,
    );
  }
  const pick = (label: string, candidates: string[]) => {
    const hit = candidates.map((c) => path.join(dir, c)).find((p) => existsSync(p));
    if (!hit) {
      throw new ConfigError(
        `config.${setting}.artifactsDir: no ${label} for circuit ${name} in ${dir} (looked for ${candidates.join(", ")})`,
      );
    }
    return hit;
  };
  return {
    wasm: pick("witness generator", [`${name}.wasm`, `${name}_js/${name}.wasm`]),
    zkey: pick("proving key", [`${name}.zkey`, `${name}_final.zkey`]),
    vkey: pick("verification key", [`${name}.vkey.json`, `vkey.json`, `verification_key.json`]),
  };
}
