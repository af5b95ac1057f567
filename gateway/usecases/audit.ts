/**
 * Random path audits (issue 15): AuditPath proofs of the leaves a published version's seed
 * challenges (the seed is a block hash after publication, read from the chain here, never
 * taken from the client), and of leaves the owner picks itself before it signs a version.
 *
 * The proofs are made in the prover pool (child processes, like answers) and kept in memory
 * per (version, challenge): the first request queues its leaves and answers 202 with the
 * progress, later requests answer the progress or, once every challenged leaf is proved, the
 * proofs (200). Each leaf is proved once per challenge whatever t is asked, so the work one
 * version can cause is bounded. The inputs are deterministic (version, seed), so proofs lost in
 * a restart are simply made again.
 *
 * What a response reveals: each proof's public signals are (root, index, challenge,
 * recordCount) — the root and count are on-chain, the index and challenge are derived from
 * the chain — and a Groth16 proof is zero-knowledge: no key, value, salt or sibling sum of
 * the opened leaves leaves the gateway (DESIGN.md, invariants).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { auditChallenge, auditIndices, DEFAULT_AUDIT_SAMPLES } from "../../protocol/audit.js";
import { versionIdOf } from "../../protocol/contract.js";
import type { AuditResponse } from "../../protocol/api.js";
import { verifyRead } from "../auth.js";
import type { CircuitArtifacts, GatewayConfig } from "../config.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import type { StoredVersion } from "../store/index.js";
import { loadTreeSlice } from "../store/tree-levels.js";
import type { ReadAuth } from "./reads.js";
import { registeredAsset } from "./assets.js";

/** Audit jobs running at once (each holds a version's rows in memory); more are refused. */
export const AUDIT_JOBS_MAX = 4;
/** Finished audits kept for their clients to fetch (oldest dropped first). */
const AUDIT_RESULTS_KEPT = 32;
/** Leaves proved per prover task (a task holds a prover; answers queue behind it). */
const AUDIT_BATCH = 4;

/** The audit circuit instance of a depth: `audit_d<depth>` (circuits/circuits.json). */
export function auditCircuitName(depth: number): string {
  return `audit_d${depth}`;
}

/**
 * The artifacts of the audit instance of the configured depth, looked for beside the answer
 * circuit's folder (`<artifactsDir>/../audit_d<depth>`, the layout `npm run build:circuits`
 * makes); undefined when they are not built (the audit routes then refuse).
 */
export function resolveAuditArtifacts(config: GatewayConfig): CircuitArtifacts | undefined {
  const name = auditCircuitName(config.circuit.depth);
  const dir = path.join(path.dirname(config.circuit.artifactsDir), name);
  const pick = (candidates: string[]) =>
    candidates.map((c) => path.join(dir, c)).find((p) => existsSync(p));
  const wasm = pick([`${name}_js/${name}.wasm`, `${name}.wasm`]);
  const zkey = pick([`${name}.zkey`]);
  const vkey = pick([`${name}.vkey.json`]);
  return wasm && zkey && vkey ? { wasm, zkey, vkey } : undefined;
}

type Proof = { index: number; proof: unknown; publicSignals: string[] };

/** What every response of one audit names, whatever t was asked. */
type Head = Omit<Extract<AuditResponse, { status: "done" }>, "proofs" | "status" | "indices">;

/**
 * The proofs of one (version, challenge): a published version's seed-derived challenge, or one
 * owner's check. Leaves are proved once and kept; a request for more draws only queues the leaves
 * not proved yet (the indices of t draws are the first t of any larger t), so the work one
 * version can cause is bounded by its links (at most AUDIT_T_MAX leaves), however t is varied.
 */
interface Audit {
  version: StoredVersion;
  head: Head;
  proofs: Map<number, Proof>;
  /** Leaves queued, not proved yet. */
  queue: number[];
  running: boolean;
  error?: AppError;
}

const auditsOf = new WeakMap<GatewayContext, Map<string, Audit>>();

function audits(ctx: GatewayContext): Map<string, Audit> {
  let m = auditsOf.get(ctx);
  if (!m) auditsOf.set(ctx, (m = new Map()));
  return m;
}

/** Proves the queued leaves of `a`, a batch per prover task, until none is left. */
function run(ctx: GatewayContext, key: string, a: Audit): void {
  a.running = true;
  const task = (async () => {
    try {
      const v = a.version;
      const from = v.treeLevelsFrom;
      // without stored levels the worker rebuilds the tree from every row
      const rows = from === undefined ? await ctx.store.versionRows(v) : undefined;
      while (a.queue.length > 0) {
        const batch = a.queue.slice(0, AUDIT_BATCH);
        const tree = rows
          ? { rows }
          : {
              slice: await loadTreeSlice(
                { ...v, treeLevelsFrom: from! },
                ctx.config.circuit.minMaxField,
                batch.flatMap((i) => [i, i + 1]),
                ctx.store.treeSource(v),
              ),
            };
        const proofs = await ctx.pool.proveAudit({
          root: a.version.root,
          ...tree,
          depth: a.version.depth,
          minMaxField: ctx.config.circuit.minMaxField,
          indices: batch,
          challenge: a.head.challenge,
          recordCount: a.head.recordCount,
        });
        for (const p of proofs) a.proofs.set(p.index, p);
        a.queue.splice(0, batch.length);
      }
      ctx.log.info({ key, proofs: a.proofs.size }, "audit proved");
    } catch (e) {
      // the worker's message names a constraint or a bound, never record data
      a.error = new AppError(
        "AUDIT_FAILED",
        `the gateway could not prove the audit of this version: ${(e as Error).message}`,
      );
      a.queue = [];
      ctx.log.warn({ key, error: (e as Error).message }, "audit failed");
    } finally {
      a.running = false;
    }
  })();
  ctx.inflight.add(task);
  void task.finally(() => ctx.inflight.delete(task));
}

/**
 * The audit `key` for the challenged `indices`: their proofs (200) when all are proved, else
 * the missing leaves are queued and the progress is answered (202); a failure is thrown.
 */
function answer(
  ctx: GatewayContext,
  key: string,
  version: StoredVersion,
  head: Head,
  indices: number[],
): { status: 202 | 200; body: AuditResponse } {
  const all = audits(ctx);
  let a = all.get(key);
  if (!a) {
    a = { version, head, proofs: new Map(), queue: [], running: false };
    all.set(key, a);
    for (const [k, old] of all) {
      if (all.size <= AUDIT_RESULTS_KEPT) break;
      if (!old.running) all.delete(k);
    }
  }
  if (a.error) throw a.error;
  const wanted = [...new Set(indices)];
  const missing = wanted.filter((i) => !a.proofs.has(i));
  if (missing.length === 0) {
    return {
      status: 200,
      body: {
        status: "done",
        ...head,
        indices,
        proofs: [...wanted].sort((x, y) => x - y).map((i) => a.proofs.get(i)!) as Extract<
          AuditResponse,
          { status: "done" }
        >["proofs"],
      },
    };
  }
  const queued = new Set(a.queue);
  a.queue.push(...missing.filter((i) => !queued.has(i)));
  if (!a.running) {
    if ([...all.values()].filter((x) => x.running).length >= AUDIT_JOBS_MAX) {
      throw new AppError(
        "AUDIT_BUSY",
        `this gateway is already proving ${AUDIT_JOBS_MAX} audits; ask again in a minute`,
      );
    }
    run(ctx, key, a);
  }
  return {
    status: 202,
    body: { status: "proving", proved: wanted.length - missing.length, total: wanted.length },
  };
}

/** The local version holding `root`, of the configured depth, with the audit circuit built. */
async function auditableVersion(
  ctx: GatewayContext,
  root: bigint | string,
  what: string,
): Promise<StoredVersion> {
  if (!ctx.auditArtifacts) {
    throw new AppError(
      "AUDIT_NOT_CONFIGURED",
      `this gateway has no audit circuit ${auditCircuitName(ctx.config.circuit.depth)} built beside its answer circuit`,
    );
  }
  const local = await ctx.store.getVersionByRoot(root);
  if (!local) {
    throw new AppError(
      "VERSION_NOT_AVAILABLE",
      `this gateway does not hold the records of ${what}`,
    );
  }
  if (local.depth !== ctx.config.circuit.depth) {
    throw new AppError(
      "VERSION_NOT_AVAILABLE",
      `${what} has depth ${local.depth}; this gateway audits depth ${ctx.config.circuit.depth}`,
    );
  }
  return local;
}

/**
 * The audit of published version `number` of `assetId` with t draws: the seed is the hash of
 * the block DEFAULT_AUDIT_DELAY_BLOCKS after the publication block (AUDIT_SEED_PENDING until
 * it is mined), the indices and challenge follow from it (protocol/audit.ts). The proofs claim
 * the published recordCount: the circuit has no witness when the tree holds another count.
 */
export async function publishedAudit(
  ctx: GatewayContext,
  assetId: bigint,
  number: bigint,
  t: number = DEFAULT_AUDIT_SAMPLES,
): Promise<{ status: 202 | 200; body: AuditResponse }> {
  await registeredAsset(ctx, assetId);
  if (number < 1n || number >= 1n << 64n) {
    throw new AppError("VALIDATION_FAILED", "the version number must be in 1..2^64-1");
  }
  const versionId = versionIdOf(assetId, number);
  const v = await ctx.chain.getVersion(versionId);
  if (!v) {
    throw new AppError("UNKNOWN_VERSION", `asset ${assetId} has no published version ${number}`);
  }
  const seed = await ctx.chain.auditSeed(versionId);
  if (!seed?.seed) {
    const at = await ctx.chain.provider.getBlockNumber();
    throw new AppError(
      "AUDIT_SEED_PENDING",
      `the audit seed of version ${number} is the hash of block ${seed?.seedBlock}, not mined yet (the chain is at block ${at}); ask again after it`,
      { seedBlock: seed?.seedBlock, block: at },
    );
  }
  const local = await auditableVersion(ctx, v.root, `version ${number} of asset ${assetId}`);
  const indices = auditIndices(versionId, seed.seed, v.recordCount, v.treeDepth, t);
  return answer(
    ctx,
    `pub:${versionId}`,
    local,
    {
      assetId: assetId.toString(),
      versionId: versionId.toString(),
      root: v.root.toString(),
      recordCount: v.recordCount.toString(),
      treeDepth: v.treeDepth,
      circuit: auditCircuitName(local.depth),
      seedBlock: seed.seedBlock,
      seed: seed.seed,
      challenge: auditChallenge(versionId, seed.seed).toString(),
    },
    indices,
  );
}

/**
 * The owner's check of local version `localId` before it signs it (owner-signed read, action
 * "records"): AuditPath proofs of the leaves it names, for its own challenge, claiming the
 * count the gateway reports for the version.
 */
export async function ownerAuditCheck(
  ctx: GatewayContext,
  assetId: bigint,
  localId: number,
  body: { challenge: bigint; indices: number[] },
  auth: ReadAuth,
): Promise<{ status: 202 | 200; body: AuditResponse }> {
  const asset = await registeredAsset(ctx, assetId);
  verifyRead(
    ctx.domain,
    {
      account: asset.owner,
      action: "records",
      assetId,
      gateway: ctx.gatewayId,
      timestamp: auth.timestamp,
    },
    auth.signature,
    { maxAgeSec: ctx.config.readMaxAgeSec, skewSec: ctx.config.clockSkewSec },
    auth.gateway,
  );
  const stored = await ctx.store.getVersion(assetId.toString(), localId);
  if (!stored) {
    throw new AppError("UNKNOWN_VERSION", `no local version ${localId} of asset ${assetId}`);
  }
  const local = await auditableVersion(ctx, stored.root, `local version ${localId}`);
  const last = 2 ** local.depth - 2;
  const bad = body.indices.find((i) => i > last);
  if (bad !== undefined) {
    throw new AppError(
      "VALIDATION_FAILED",
      `index ${bad} is past the last link ${last} of the tree`,
    );
  }
  return answer(
    ctx,
    `own:${assetId}:${localId}:${body.challenge}`,
    local,
    {
      assetId: assetId.toString(),
      localId,
      root: local.root,
      recordCount: local.recordCount.toString(),
      treeDepth: local.depth,
      circuit: auditCircuitName(local.depth),
      challenge: body.challenge.toString(),
    },
    body.indices,
  );
}
