/**
 * The gateway's HTTP API as data: one zod schema per request body and per response body. The
 * gateway parses requests with them (and its tests check every response against them); the
 * CLI, the console and the demo parse every response with them, so the two sides cannot drift.
 *
 * Big integers travel as decimal strings; hex values as 0x-strings.
 */
import { z } from "zod";
import { uploadDataSchema } from "./records/index.js";

// ---- building blocks --------------------------------------------------------------------

/** An unsigned integer of at most `bits` bits, as a decimal string or a safe JSON integer. */
export function uint(bits: number) {
  const max = (1n << BigInt(bits)) - 1n;
  return z
    .union([
      z.string().regex(/^\d{1,78}$/, "must be an unsigned decimal integer"),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ])
    .transform((v) => BigInt(v))
    .refine((v) => v <= max, `must be below 2^${bits}`);
}

/** A 0x-prefixed 32-byte hex string (lower-cased). */
export const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")
  .transform((s) => s.toLowerCase());

/** A 0x-prefixed hex signature (65 bytes, or 64 for EIP-2098). */
export const signature = z
  .string()
  .regex(
    /^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/,
    "must be a 0x-prefixed 64- or 65-byte signature",
  );

/** A 0x-prefixed 20-byte address. */
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address");

/** An asset id path parameter. */
export const assetIdParam = uint(256);

/** A decimal string of an unsigned integer (response side). */
const dec = z.string().regex(/^\d+$/, "must be a decimal string");
/** A 0x hex string (response side). */
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "must be 0x-prefixed hex");
/** An ISO-8601 date-time string. */
const isoTime = z.iso.datetime();

// ---- requests ---------------------------------------------------------------------------

/** Body of POST /assets/:assetId/uploads (an owner-signed Upload). */
export const uploadBodySchema = z.strictObject({
  data: uploadDataSchema,
  timestamp: uint(64),
  signature,
});

/** Body of POST /assets/:assetId/versions/:localId/publish (an owner-signed PublishVersion). */
export const publishBodySchema = z.strictObject({ deadline: uint(256), signature });

/**
 * Body of POST /queries: the signed Query message, its signature and `consent`, the consumer's
 * AnswerConsent signature over (grantId, requestId, versionId, queryHash of the query) that the
 * access log needs to log the answer (protocol/typed-data.ts `signQuery` adds it).
 */
export const queryBodySchema = z.strictObject({
  query: z.strictObject({
    grantId: uint(256),
    assetId: uint(256),
    versionId: uint(256),
    kind: z.number().int().min(0).max(6),
    fieldA: z.number().int().min(0).max(3),
    fieldB: z.number().int().min(0).max(3),
    lo: uint(128),
    hi: uint(128),
    threshold: uint(64),
    predicates: z.array(uint(256)).max(3).optional(),
    requestId: bytes32,
    nonce: uint(256),
    deadline: uint(256),
  }),
  signature,
  consent: signature.optional(),
});

/** A validated query body. */
export type QueryBody = z.infer<typeof queryBodySchema>;

/** Headers of a signed read (an EIP-712 Read). */
export const readHeadersSchema = z.object({
  /** The gateway id the read was signed for (optional: the gateway checks its own). */
  "x-partproof-gateway": z.string().max(64).optional(),
  "x-partproof-timestamp": uint(64),
  "x-partproof-signature": signature,
});

// ---- responses --------------------------------------------------------------------------

/** Every refusal: `{ error: { code, message, details? } }`. */
export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[A-Z_]+$/),
    message: z.string().min(1),
    details: z.unknown().optional(),
  }),
});
/** A refusal body. */
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/**
 * A local version as the gateway describes it to its owner (no records, no salts; the
 * batchHash is shown to the owner only: upload answers and the owner's signed reads).
 */
export const localVersionSchema = z.strictObject({
  assetId: dec,
  localId: z.number().int().positive(),
  schemaId: z.string(),
  root: dec,
  recordCount: z.number().int().nonnegative(),
  treeDepth: z.number().int().positive(),
  paramsHash: hex,
  batchHash: hex,
  createdAt: isoTime,
  /** The local version this one adds to (0: a new data set). */
  base: z.number().int().nonnegative().optional(),
  /** What changed against `base`: records added, replaced by identity, removed. */
  changes: z
    .strictObject({
      added: z.number().int().nonnegative(),
      replaced: z.number().int().nonnegative(),
      removed: z.number().int().nonnegative(),
    })
    .optional(),
});
/** A local version. */
export type LocalVersion = z.infer<typeof localVersionSchema>;

/** Response of POST /assets/:assetId/uploads (201 created, 200 the same batch again). */
export const uploadResponseSchema = z.strictObject({
  created: z.boolean(),
  version: localVersionSchema,
});

/** Response of POST /assets/:assetId/versions/:localId/publish. */
export const publishResponseSchema = z.strictObject({ versionId: dec, txHash: hex });

/** Response of GET /assets. */
export const catalogueResponseSchema = z.strictObject({
  assets: z.array(
    z.strictObject({
      assetId: dec,
      owner: address,
      schemaId: z.string(),
      endpoint: z.string(),
      retired: z.boolean(),
      versionCount: z.number().int().nonnegative(),
    }),
  ),
});

/** A schema as the catalogue describes it. */
export const schemaDescriptionSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  key: z.string(),
  columns: z.array(z.strictObject({ name: z.string(), type: z.string(), description: z.string() })),
  fields: z.array(
    z.strictObject({ index: z.number().int(), name: z.string(), description: z.string() }),
  ),
  minMaxField: z.number().int(),
  /** Filters: the indicator fields the schema derives at ingest, and the scan window's limit. */
  filters: z
    .strictObject({
      indicators: z.array(
        z.strictObject({ index: z.number().int(), field: z.string(), filter: z.string() }),
      ),
      scanWindow: z.string(),
    })
    .optional(),
  /**
   * Fields defined over a selection of the records, and the 0/1 field counting it: an answer on
   * such a field needs k selected records (the grant's cohort map, proved by the circuit).
   */
  cohorts: z
    .array(z.strictObject({ field: z.string(), countedBy: z.string(), rule: z.string() }))
    .optional(),
});

/** Response of GET /assets/:assetId. */
export const assetResponseSchema = z.strictObject({
  assetId: dec,
  owner: address,
  schemaId: z.string(),
  endpoint: z.string(),
  retired: z.boolean(),
  schema: schemaDescriptionSchema.nullable(),
  circuit: z.strictObject({
    name: z.string(),
    circuitId: hex,
    depth: z.number().int().positive(),
    minMaxField: z.number().int(),
  }),
  versions: z.array(
    z.strictObject({
      versionId: dec,
      number: z.number().int().positive(),
      root: dec,
      recordCount: dec,
      treeDepth: z.number().int(),
      publishedAt: isoTime,
      servedHere: z.boolean(),
      localId: z.number().int().positive().optional(),
      /** On-chain attestations of audits of the version (IAuditAttestations), as the gateway read them. */
      attestations: z
        .array(
          z.strictObject({
            attester: address,
            t: z.number().int().positive(),
            attestedBlock: z.number().int().nonnegative(),
          }),
        )
        .optional(),
    }),
  ),
});
/** An asset description. */
export type AssetResponse = z.infer<typeof assetResponseSchema>;

/** Response of GET /assets/:assetId/records (owner-signed): the owner's records, no salts. */
export const recordsResponseSchema = z.strictObject({
  version: localVersionSchema,
  records: z.array(
    z.strictObject({
      key: dec,
      partCode: dec,
      plantCode: dec,
      day: z.number().int(),
      values: z.record(z.string(), dec),
    }),
  ),
  /** Which records of the version this page holds (`offset`, `limit`) out of `total`. */
  page: z
    .strictObject({
      offset: z.number().int().nonnegative(),
      limit: z.number().int().positive(),
      total: z.number().int().nonnegative(),
    })
    .optional(),
});

/** Response of POST /queries (202 accepted). */
export const queryAcceptedSchema = z.strictObject({
  jobId: z.uuid(),
  status: z.string(),
  requestId: hex,
  versionId: dec,
});

/** Life-cycle of a job. */
export const jobStatusSchema = z.enum(["queued", "proving", "proved", "logged", "failed"]);

/** A Groth16 proof in snarkjs' JSON form. */
export const snarkjsProofSchema = z.looseObject({
  pi_a: z.array(dec),
  pi_b: z.array(z.array(dec)),
  pi_c: z.array(dec),
});

/** The query of a job as the gateway records it (decimal strings and small numbers). */
const jobQuerySchema = z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())]));

/**
 * When each step of a job happened on the gateway (ms since the epoch, its clock): accepted,
 * proving, proved, the log transaction sent, logged (or failed), and where the proving time
 * went. Only for jobs the gateway saw change since it started.
 */
export const jobTimelineSchema = z.strictObject({
  accepted: z.number(),
  proving: z.number().optional(),
  proved: z.number().optional(),
  sent: z.number().optional(),
  logged: z.number().optional(),
  failed: z.number().optional(),
  steps: z
    .strictObject({
      treeMs: z.number().nonnegative(),
      witnessMs: z.number().nonnegative(),
      proveMs: z.number().nonnegative(),
    })
    .optional(),
  /** The answer's log transaction was reorganised away (first time seen), ms. */
  reorged: z.number().optional(),
  /** The answer's log transaction was dropped by the node (first time seen), ms. */
  dropped: z.number().optional(),
});
/** A job's timeline. */
export type JobTimeline = z.infer<typeof jobTimelineSchema>;

/** Longest wait of GET /jobs/:id?wait=, ms. */
export const MAX_JOB_WAIT_MS = 30_000;

/**
 * Query of GET /jobs/:id: `wait` (ms, at most {@link MAX_JOB_WAIT_MS}) holds the response until
 * the job's status differs from `after` (default: its status when the request came) or is final
 * (logged, failed), or the wait is over (long polling: a client follows a job without polls).
 */
export const jobWaitQuerySchema = z.strictObject({
  wait: z.coerce.number().int().min(0).max(MAX_JOB_WAIT_MS).optional(),
  after: jobStatusSchema.optional(),
});

/** Response of GET /jobs/:id (and each element of a consumer's answers). */
export const jobViewSchema = z.strictObject({
  jobId: z.uuid(),
  status: jobStatusSchema,
  requestId: hex,
  consumer: address,
  grantId: dec,
  assetId: dec,
  versionId: dec,
  circuit: z.string(),
  circuitId: hex,
  query: jobQuerySchema,
  answer: z.strictObject({ resultValue: dec, resultAux: dec }).nullable(),
  blind: dec.nullable(),
  proof: snarkjsProofSchema.nullable(),
  publicSignals: z.array(dec).nullable(),
  provingMs: z.number().nonnegative().nullable(),
  logTx: z.strictObject({ hash: hex, blockNumber: z.number().int() }).nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  timeline: jobTimelineSchema.optional(),
});
/** What a consumer sees of a job. */
export type JobView = z.infer<typeof jobViewSchema>;

/** Response of GET /consumers/:address/answers (consumer-signed). */
export const answersResponseSchema = z.strictObject({ answers: z.array(jobViewSchema) });

/** One job that computed an answer, in an auditor's export (status: proved, logged or failed). */
export const exportedAnswerSchema = z.strictObject({
  requestId: hex,
  grantId: dec,
  consumer: address,
  assetId: dec,
  versionId: dec,
  circuitId: hex,
  status: jobStatusSchema,
  query: z.strictObject({
    kind: z.union([z.number(), z.string()]),
    fieldA: z.union([z.number(), z.string()]),
    fieldB: z.union([z.number(), z.string()]),
    lo: z.string(),
    hi: z.string(),
    /** The three packed predicate slots as the job stores them: "p0,p1,p2" (0 = unused). */
    predicates: z
      .string()
      .regex(/^\d+,\d+,\d+$/, "must be three comma-separated decimal predicate slots")
      .optional(),
  }),
  cohort: z.number().int().nullable(),
  publicSignals: z.array(dec).nullable().optional(),
  proof: snarkjsProofSchema.nullable().optional(),
  logTx: z.strictObject({ hash: hex, blockNumber: z.number().int() }).nullable(),
  /** Why a job that computed an answer failed (e.g. the chain refused it); null otherwise. */
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable().optional(),
});
/** One answer of an export. */
export type ExportedAnswer = z.infer<typeof exportedAnswerSchema>;

/** A refusal that depended on the data (cohort below k, zero denominator, scan window). */
export const exportedRefusalSchema = z.strictObject({
  requestId: hex,
  grantId: dec,
  consumer: address,
  assetId: dec,
  versionId: dec,
  query: exportedAnswerSchema.shape.query,
  code: z.string(),
  refusedAt: isoTime,
});

/** Response of GET /audit/answers?auditor= (auditor-signed). */
export const auditExportSchema = z.strictObject({
  partProof: address,
  chainId: dec,
  exportedAt: isoTime,
  answers: z.array(exportedAnswerSchema),
  /** Data-dependent refusals, each charged to its grant. */
  refusals: z.array(exportedRefusalSchema),
  /** Number of such refusals per grant id. */
  refusalsPerGrant: z.record(dec, z.number().int().nonnegative()),
});
/** An auditor's export of a gateway. */
export type AuditExport = z.infer<typeof auditExportSchema>;

/** Response of GET /health. */
export const healthResponseSchema = z.looseObject({
  status: z.string(),
  /** The id signed reads to this gateway must name. */
  gatewayId: z.string(),
});

// ---- upload sessions (resumable chunked uploads) ------------------------------------------

/** Most chunks an upload session may have. */
export const MAX_UPLOAD_CHUNKS = 100_000;

/** Body of POST /assets/:assetId/upload-sessions/:sessionId (start) and …/commit. */
export const uploadStepBodySchema = z.strictObject({
  replace: z.boolean(),
  chunkCount: z.number().int().min(1).max(MAX_UPLOAD_CHUNKS),
  timestamp: uint(64),
  signature,
});

/** Body of POST /assets/:assetId/upload-sessions/:sessionId/chunks/:index. */
export const uploadChunkBodySchema = uploadStepBodySchema.extend({ data: uploadDataSchema });

/** An upload session as the gateway reports it to its owner. */
export const uploadSessionSchema = z.strictObject({
  assetId: dec,
  sessionId: hex,
  replace: z.boolean(),
  chunkCount: z.number().int().positive(),
  /** The chunk numbers stored so far, ascending. */
  received: z.array(z.number().int().nonnegative()),
  /** Records in the stored chunks. */
  records: z.number().int().nonnegative(),
  /** Bytes of data received (as canonical JSON). */
  bytes: z.number().int().nonnegative(),
  /** The version the commit made, once committed. */
  localId: z.number().int().positive().optional(),
  /** Until committed: when the session expires unless a chunk arrives before (ISO 8601). */
  expiresAt: z.string().optional(),
  /** Until committed: true once expired (its chunks deleted; a start begins it again). */
  expired: z.boolean().optional(),
});
/** An upload session. */
export type UploadSessionView = z.infer<typeof uploadSessionSchema>;

/** Response of a chunk: the session after it, and the chunk's record count. */
export const uploadChunkResponseSchema = z.strictObject({
  session: uploadSessionSchema,
  index: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  /** False when the chunk was stored before (a resent chunk). */
  stored: z.boolean(),
});

/** Response of a commit (201 new version, 200 the version made before). */
export const uploadCommitResponseSchema = z.strictObject({
  created: z.boolean(),
  version: localVersionSchema,
  session: uploadSessionSchema,
});

/** Response of GET /assets/:assetId/versions (owner-signed): the owner's local versions. */
export const versionsResponseSchema = z.strictObject({ versions: z.array(localVersionSchema) });

/**
 * The refusal codes that depend on the data (a cohort below k, a zero denominator or a scan
 * window, an answer that would isolate fewer than k records together with earlier ones): the
 * gateway charges each to its grant and lists it in the audit export (`refusals`).
 */
export const DATA_DEPENDENT_REFUSALS = [
  "COHORT_BELOW_K",
  "UNSUPPORTED_QUERY",
  "DIFFERENCING_RISK",
] as const;

// ---- random path audits (issue 15) -------------------------------------------------------

/** Largest number of audit draws t one audit request may ask for. */
export const AUDIT_T_MAX = 1000;
/** Largest number of distinct leaves one owner's pre-publication check may ask to open. */
export const AUDIT_CHECK_MAX = 64;

/**
 * Query of GET /assets/:assetId/versions/:number/audit: t, the number of audit draws (default
 * protocol/audit.ts DEFAULT_AUDIT_SAMPLES, at most {@link AUDIT_T_MAX}).
 */
export const auditQuerySchema = z.strictObject({
  t: z.coerce
    .number()
    .int("t must be an integer")
    .min(1, "t must be at least 1")
    .max(AUDIT_T_MAX, `t must be at most ${AUDIT_T_MAX}`)
    .optional(),
});

/**
 * Body of POST /assets/:assetId/versions/:localId/audit-check (owner-signed read, action
 * "records"): the owner's own challenge and leaf indices, for a version it has not signed yet.
 */
export const auditCheckBodySchema = z.strictObject({
  challenge: uint(248),
  indices: z
    .array(z.number().int().nonnegative())
    .min(1, "give at least one index")
    .max(AUDIT_CHECK_MAX, `at most ${AUDIT_CHECK_MAX} indices`),
});

/** One AuditPath proof: leaf `index` and its successor (public: root, index, challenge, count). */
export const auditProofSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  proof: snarkjsProofSchema,
  publicSignals: z.array(dec),
});

/** An audit whose proofs are still being made (202): poll the same request again. */
export const auditPendingSchema = z.strictObject({
  status: z.literal("proving"),
  proved: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});

/**
 * A finished audit (200): one proof per distinct challenged index. For a published version the
 * gateway names the seed it derived (the auditor derives its own and compares nothing with it).
 */
export const auditDoneSchema = z.strictObject({
  status: z.literal("done"),
  assetId: dec,
  /** On-chain version id (published versions). */
  versionId: dec.optional(),
  /** The gateway's local version id (owner's checks). */
  localId: z.number().int().positive().optional(),
  root: dec,
  recordCount: dec,
  treeDepth: z.number().int().positive(),
  /** The audit circuit instance, e.g. audit_d4. */
  circuit: z.string(),
  seedBlock: z.number().int().nonnegative().optional(),
  seed: hex.optional(),
  challenge: dec,
  /** The t challenged indices in draw order (with repeats). */
  indices: z.array(z.number().int().nonnegative()),
  proofs: z.array(auditProofSchema),
});
/** A finished audit. */
export type AuditDone = z.infer<typeof auditDoneSchema>;

/** Response of the audit routes: pending (202) or done (200). */
export const auditResponseSchema = z.discriminatedUnion("status", [
  auditPendingSchema,
  auditDoneSchema,
]);
/** Response of the audit routes. */
export type AuditResponse = z.infer<typeof auditResponseSchema>;
