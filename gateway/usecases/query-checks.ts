/**
 * The checks of a signed query, one named step each, in the order `submitQuery` runs them.
 * They mirror what the access log itself checks when the answer is logged (`recordAnswer` in
 * contracts/modules/AccessLog.sol), so that a query the gateway accepts is one the contract
 * will log, and a refusal comes before any proving work:
 *
 * | step               | the contract's check                                   | refusals |
 * | ------------------ | ------------------------------------------------------ | -------- |
 * | `checkDeadline`    | (the signed deadline)                                  | DEADLINE_EXPIRED |
 * | `usableGrant`      | `_checkGrantUsable`: exists, status, window            | NO_GRANT, GRANT_REVOKED, GRANT_EXPIRED, GRANT_NOT_YET_VALID |
 * | `consentOf`        | `_checkConsent`: the consumer's AnswerConsent          | VALIDATION_FAILED, BAD_SIGNATURE |
 * | `liveAsset`        | `_checkVersion`: the asset is not retired              | UNKNOWN_ASSET, ASSET_RETIRED |
 * | `allowedByPolicy`  | the proof's policy hash (the circuit proves the policy, THRESHOLD thresholds included) | POLICY_VIOLATION, UNSUPPORTED_QUERY |
 * | `schemaCohortsGranted` | (the policy carries the schema's cohort map, so the circuit bounds k by the selected records) | POLICY_VIOLATION |
 * | `servedVersion`    | `_checkVersion`: a registered version of the asset     | UNKNOWN_VERSION, VERSION_NOT_AVAILABLE |
 * | `acceptAtomically` | `GrantQuotaExhausted`, `RequestAlreadyLogged` (+ nonce) | QUOTA_EXCEEDED, REFUSAL_BUDGET_SPENT, NONCE_REUSED, REQUEST_REUSED |
 * | … then `cohortOf`  | the circuit's minimum cohort k (range and selected records) | COHORT_BELOW_K, UNSUPPORTED_QUERY |
 * | … then `differencingOf` | (none: k across answers, usecases/differencing.ts) | DIFFERENCING_RISK |
 *
 * Every step up to the nonce only reads; a refusal there writes nothing and tells nothing of
 * the data. `cohortOf` and `differencingOf` look at the data, so they run last, inside
 * `acceptAtomically`: their refusal uses the nonce and is charged to the grant (quota here and
 * refusal budget) and kept for the auditor's export. `linkedAddresses` (the addresses whose
 * answers the differencing guard counts together) reads only the chain and runs before the lock.
 */
import { toBeHex, zeroPadValue } from "ethers";
import {
  AggregateKind,
  aggregatedFields,
  answerCohort,
  cohortFieldOf,
  thresholdAllowed,
  type Policy,
} from "../../circuits/lib/signals.js";
import {
  matchesPredicates,
  packPredicate,
  PredicateOp,
  type Predicate,
} from "../../circuits/lib/query.js";
import { rangeAggregates, scanWindow } from "../../circuits/lib/witness.js";
import type { QueryBody } from "../../protocol/api.js";
import {
  answerConsentOf,
  recoverAnswerConsentSigner,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import { cohortFieldIndexes, findSchema } from "../../protocol/records/index.js";
import { GrantStatus, versionIdOf, type AssetInfo, type GrantInfo } from "../chain.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../errors.js";
import { answeredStore, type AnsweredEntry } from "../store/answered.js";
import { type Job, type StoredVersion } from "../store/index.js";
import { storeQuery, unpackPredicate } from "../store/job-codec.js";
import { loadTreeSlice, sliceTree } from "../store/tree-levels.js";
import { checkDifferencing, type RecordUniverse, type RecordSet } from "./differencing.js";
import { storedUniverse } from "./differencing-store.js";

/** The signed query of a request body. */
export type SignedQuery = QueryBody["query"];

const UINT64_MAX = (1n << 64n) - 1n;

function isBit(mask: number, bit: number): boolean {
  return ((mask >>> bit) & 1) === 1;
}

function isRatio(kind: number): boolean {
  return kind === AggregateKind.RatioPpm || kind === AggregateKind.ThresholdPpm;
}

/**
 * The query carries the signer's AnswerConsent over this grant, request id, version rule and
 * query hash (the access log refuses an answer without it, so the gateway does not prove one it
 * cannot log). Returns the consent signature.
 */
export function consentOf(ctx: GatewayContext, body: QueryBody, signer: string): string {
  if (!body.consent) {
    throw new AppError(
      "VALIDATION_FAILED",
      "consent: the consumer's AnswerConsent signature is required to log the answer on-chain",
    );
  }
  let consentSigner: string | undefined;
  try {
    const msg = answerConsentOf(body.query as unknown as QueryMessage);
    consentSigner = recoverAnswerConsentSigner(ctx.domain, msg, body.consent);
  } catch {
    consentSigner = undefined;
  }
  if (consentSigner?.toLowerCase() !== signer.toLowerCase()) {
    throw new AppError(
      "BAD_SIGNATURE",
      "consent: not the query signer's AnswerConsent for this grant, request id, version and query",
    );
  }
  return body.consent;
}

/** The signed deadline has not passed (gateway clock). */
export function checkDeadline(q: SignedQuery, now = Math.floor(Date.now() / 1000)): void {
  if (q.deadline < BigInt(now)) {
    throw new AppError("DEADLINE_EXPIRED", "the query's deadline has passed; sign a new query");
  }
}

/**
 * The grant exists, is the signer's, is for the asset asked about, is active and is inside
 * its validity window in chain time. (Its quota is checked at acceptance, with answers in
 * flight.)
 */
export async function usableGrant(
  ctx: GatewayContext,
  q: SignedQuery,
  signer: string,
): Promise<GrantInfo> {
  const grant = await ctx.chain.getGrant(q.grantId);
  if (
    !grant ||
    grant.consumer.toLowerCase() !== signer.toLowerCase() ||
    grant.assetId !== q.assetId
  ) {
    throw new AppError(
      "NO_GRANT",
      `grant ${q.grantId} does not let the signer query asset ${q.assetId}`,
    );
  }
  if (grant.status === GrantStatus.Revoked) {
    throw new AppError("GRANT_REVOKED", `grant ${q.grantId} has been revoked`);
  }
  if (grant.status !== GrantStatus.Active) {
    throw new AppError("NO_GRANT", `grant ${q.grantId} is not active`);
  }
  const chainNow = await ctx.chain.now();
  if (chainNow > grant.validUntil) {
    throw new AppError("GRANT_EXPIRED", `grant ${q.grantId} expired`);
  }
  if (chainNow < grant.validFrom) {
    throw new AppError("GRANT_NOT_YET_VALID", `grant ${q.grantId} is not valid yet`);
  }
  return grant;
}

/** The aggregate, its fields and the key range are allowed and provable. */
function checkAggregateAndRange(policy: Policy, q: SignedQuery, minMaxField: number): void {
  if (!isBit(policy.aggregateMask, q.kind)) {
    throw new AppError("POLICY_VIOLATION", `the grant does not allow aggregate kind ${q.kind}`);
  }
  if (q.kind !== AggregateKind.Count && !isBit(policy.fieldMask, q.fieldA)) {
    throw new AppError(
      "POLICY_VIOLATION",
      `the grant does not allow aggregating field ${q.fieldA}`,
    );
  }
  if (isRatio(q.kind) && !isBit(policy.fieldMask, q.fieldB)) {
    throw new AppError("POLICY_VIOLATION", `the grant does not allow field ${q.fieldB}`);
  }
  if (q.lo < policy.keyLo || q.hi > policy.keyHi) {
    throw new AppError("POLICY_VIOLATION", "the key range lies outside the grant's key range");
  }
  if ((q.kind === AggregateKind.Min || q.kind === AggregateKind.Max) && q.fieldA !== minMaxField) {
    throw new AppError("UNSUPPORTED_QUERY", `MIN/MAX are proved on field ${minMaxField} only`);
  }
  if (q.lo < 1n || q.hi < q.lo || q.hi >= (1n << 128n) - 1n) {
    throw new AppError(
      "UNSUPPORTED_QUERY",
      "the key range must satisfy 1 <= lo <= hi <= 2^128 - 2",
    );
  }
  try {
    for (let f = 0; f < 4; f++) cohortFieldOf(policy, f);
  } catch {
    throw new AppError(
      "UNSUPPORTED_QUERY",
      "the grant's field mask names two cohort fields for one field: no proof satisfies its policy",
    );
  }
}

/** The used predicate slots of a query, unpacked; each value must fit 64 bits. */
function predicatesOf(q: SignedQuery): Predicate[] {
  const predicates = (q.predicates ?? []).filter((x) => x !== 0n).map(unpackPredicate);
  if (predicates.some((p) => p.value > UINT64_MAX)) {
    throw new AppError(
      "UNSUPPORTED_QUERY",
      "a predicate's value must be an unsigned 64-bit integer",
    );
  }
  return predicates;
}

/**
 * What the circuit will prove against the grant's policy hash: aggregate kind, fields, key
 * range (and MIN/MAX field) and filters are allowed; a query with predicates needs this
 * gateway's scan circuit. Returns the query's predicates.
 */
export function allowedByPolicy(ctx: GatewayContext, policy: Policy, q: SignedQuery): Predicate[] {
  checkAggregateAndRange(policy, q, ctx.config.circuit.minMaxField);
  // THRESHOLD only at a threshold of the grant (the circuit proves it against the policy hash):
  // a consumer who picked thresholds could binary-search the ratio, one bit per answer
  if (q.kind === AggregateKind.ThresholdPpm && !thresholdAllowed(policy, q.threshold)) {
    const allowed = (policy.thresholds ?? []).filter((t) => t !== 0n);
    throw new AppError(
      "POLICY_VIOLATION",
      `the grant does not allow threshold ${q.threshold} (allowed: ${allowed.join(", ") || "none"})`,
    );
  }
  const predicates = predicatesOf(q);
  for (const p of predicates) {
    if (!isBit(policy.filterMask, p.field)) {
      throw new AppError(
        "POLICY_VIOLATION",
        `the grant does not allow filters on field ${p.field}`,
      );
    }
  }
  if (predicates.length > 0 && !ctx.config.scanCircuit) {
    throw new AppError("UNSUPPORTED_QUERY", "this gateway answers no queries with predicates");
  }
  return predicates;
}

/**
 * The grant carries the cohort map the asset's schema declares for the fields the query
 * aggregates (protocol/records/cohort.ts): a grant made by an owner's CLI from the schema does,
 * but a policy proposed by a consumer (`requestGrant`) or built by hand may not, and without the
 * map the circuit would bound k by the range's records only. Reads only the policy and the
 * schema, so it is refused before the data is looked at, uncharged.
 */
export function schemaCohortsGranted(policy: Policy, q: SignedQuery, schemaId: string): void {
  const schema = findSchema(schemaId);
  if (!schema) return; // no schema, no records: the version check refuses it
  const map = cohortFieldIndexes(schema);
  const fields = q.kind === AggregateKind.Count ? [] : [q.fieldA];
  if (isRatio(q.kind)) fields.push(q.fieldB);
  for (const f of fields) {
    const counter = map[f];
    if (counter !== null && counter !== undefined && cohortFieldOf(policy, f) !== counter) {
      throw new AppError(
        "POLICY_VIOLATION",
        `the grant's policy does not bound field ${f} (${schema.fields[f]}) by the records of ${schema.fields[counter]} that it is defined over (the schema's cohort map); ask the owner for a grant made from the schema`,
      );
    }
  }
}

/** The on-chain version a query is answered over, and this gateway's records of it. */
export interface ServedVersion {
  /** On-chain version id (the latest one when the query asked for 0). */
  versionId: bigint;
  /** Its registered root. */
  root: bigint;
  /** The records (and salts) this gateway holds for that root. */
  local: StoredVersion;
}

/**
 * The version asked for (0 = the latest) is a published version of the asset, and this gateway
 * holds the records whose root the chain registered, built for its circuit's depth.
 */
export async function servedVersion(
  ctx: GatewayContext,
  q: SignedQuery,
  asset: AssetInfo,
): Promise<ServedVersion> {
  let versionId = q.versionId;
  if (versionId === 0n) {
    if (asset.versionCount === 0) {
      throw new AppError("UNKNOWN_VERSION", `asset ${q.assetId} has no published version`);
    }
    versionId = versionIdOf(q.assetId, asset.versionCount);
  }
  if (versionId >> 64n !== q.assetId) {
    throw new AppError(
      "UNKNOWN_VERSION",
      `version ${versionId} is not a version of asset ${q.assetId}`,
    );
  }
  const chainVersion = await ctx.chain.getVersion(versionId);
  if (!chainVersion) {
    throw new AppError("UNKNOWN_VERSION", `version ${versionId} is not published`);
  }
  const local = await ctx.store.getVersionByRoot(chainVersion.root);
  if (!local || local.assetId !== q.assetId.toString()) {
    throw new AppError(
      "VERSION_NOT_AVAILABLE",
      `this gateway holds no records for version ${versionId}`,
    );
  }
  if (local.depth !== ctx.config.circuit.depth) {
    throw new AppError(
      "VERSION_NOT_AVAILABLE",
      `version ${versionId} was built for another circuit depth`,
    );
  }
  return { versionId, root: chainVersion.root, local };
}

/**
 * Records with lo <= key <= hi (in key-sorted records) that match the predicates: their count
 * and field sums, and the leaf indexes bounding the range (a = last leaf below it, l = last
 * leaf in it; leaf i holds record i − 1).
 */
export function rangeStats(
  records: readonly MappedRecord[],
  lo: bigint,
  hi: bigint,
  predicates: readonly Predicate[] = [],
): { count: number; sums: bigint[]; a: number; l: number } {
  const lowerBound = (k: bigint) => {
    let a = 0;
    let b = records.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (records[mid]!.key < k) a = mid + 1;
      else b = mid;
    }
    return a;
  };
  const a = lowerBound(lo);
  const b = lowerBound(hi + 1n);
  const sums = [0n, 0n, 0n, 0n];
  const q = { kind: 0, fieldA: 0, fieldB: 0, lo, hi, threshold: 0n, nonce: 0n, predicates };
  let count = 0;
  for (let i = a; i < b; i++) {
    if (!matchesPredicates(q, records[i]!.values)) continue;
    count += 1;
    for (let f = 0; f < 4; f++) sums[f]! += records[i]!.values[f]!;
  }
  return { count, sums, a, l: b };
}

/**
 * Count and sums of the records with lo <= key <= hi of a version whose tree levels are
 * stored, from the nodes of the range's two boundary paths (as the range circuit sums them).
 */
async function rangeTotals(
  ctx: GatewayContext,
  v: StoredVersion,
  lo: bigint,
  hi: bigint,
): Promise<{ count: number; sums: bigint[]; a: number; l: number }> {
  const a = await ctx.store.leafBelow(v, lo);
  const l = await ctx.store.leafBelow(v, hi + 1n);
  if (l <= a) return { count: 0, sums: [0n, 0n, 0n, 0n], a, l: a };
  const m = ctx.config.circuit.minMaxField;
  const shape = { ...v, treeLevelsFrom: v.treeLevelsFrom! };
  const tree = sliceTree(await loadTreeSlice(shape, m, [a, l], ctx.store.treeSource(v)));
  const agg = rangeAggregates(tree, a, l);
  return { count: Number(agg.count), sums: agg.sums, a, l };
}

/**
 * The matching records number at least the grant's k, and so do the records selected by the
 * cohort field of each field the answer aggregates (circuits/lib/signals.ts `answerCohort`; the
 * circuit enforces both), a query with predicates fits one scan window, and a ratio's
 * denominator is not zero. Returns the number of matching records.
 */
export async function cohortOf(
  ctx: GatewayContext,
  q: SignedQuery,
  policy: Policy,
  version: StoredVersion,
  predicates: readonly Predicate[],
): Promise<number> {
  // without predicates, the range's totals come from O(depth) stored tree nodes; else only
  // the chunks of rows that can hold [lo, hi] are read
  const match = { kind: 0, fieldA: 0, fieldB: 0, lo: q.lo, hi: q.hi, threshold: 0n, nonce: 0n };
  const stats =
    predicates.length === 0 && version.treeLevelsFrom !== undefined
      ? await rangeTotals(ctx, version, q.lo, q.hi)
      : await ctx.store.rangeStats(version, q.lo, q.hi, (values) =>
          matchesPredicates({ ...match, predicates }, values),
        );
  const scanCircuit = ctx.config.scanCircuit;
  if (predicates.length > 0 && scanCircuit) {
    try {
      scanWindow(version.depth, scanCircuit.h, stats.a, stats.l);
    } catch {
      throw new AppError(
        "UNSUPPORTED_QUERY",
        `a query with predicates must cover at most ${2 * 2 ** scanCircuit.h - 1} consecutive records (one scan window); narrow the key range`,
      );
    }
  }
  // k over the records the answer aggregates: the range's, and for a field defined over a
  // selection (the policy's cohort map, which the circuit proves) the selected ones; one code
  // and one wording for both, so a refusal does not tell which fell short (no count either)
  const cohort = answerCohort(policy, q, BigInt(stats.count), stats.sums);
  if (cohort < BigInt(Math.max(1, policy.minCohort))) {
    throw new AppError(
      "COHORT_BELOW_K",
      `the answer would aggregate fewer records than the grant's minimum cohort (k = ${policy.minCohort})`,
    );
  }
  if (isRatio(q.kind) && stats.sums[q.fieldB] === 0n) {
    throw new AppError("UNSUPPORTED_QUERY", "the ratio's denominator is zero over this range");
  }
  return stats.count;
}

/**
 * Accepts a checked query in one critical section. First what does not depend on the data:
 * quota (used on-chain, answers in flight, and refusals charged here), the grant's refusal
 * budget, nonce unused, request id neither stored nor logged. Only then `decide` looks at the
 * data (the cohort and differencing checks) and builds the job: a refusal it throws is charged to the grant
 * (nonce used, refusal kept for the audit export) so that probing costs as much as asking; an
 * accepted job is stored with its nonce and request index in one LevelDB batch. No other
 * acceptance runs in between, so two copies of a query, two requests with one id, or two
 * queries racing for the last unit of quota cannot both pass.
 */
export async function acceptAtomically(
  ctx: GatewayContext,
  q: SignedQuery,
  signer: string,
  grant: GrantInfo,
  versionId: bigint,
  decide: () => Job | Promise<Job>,
): Promise<Job> {
  return ctx.locks.run("accept", async () => {
    const grantId = q.grantId.toString();
    const inflight = (await ctx.store.jobsWithStatus("queued", "proving", "proved")).filter(
      (j) => j.grantId === grantId,
    ).length;
    const refused = await ctx.store.refusalCount(grantId);
    if (grant.used + inflight + refused >= grant.quota) {
      throw new AppError("QUOTA_EXCEEDED", `grant ${q.grantId} has no quota left`);
    }
    if (refused >= ctx.config.refusalBudgetPerGrant) {
      throw new AppError(
        "REFUSAL_BUDGET_SPENT",
        `grant ${q.grantId} has had its ${ctx.config.refusalBudgetPerGrant} refusals that depend on the data at this gateway; ask the owner for a new grant`,
      );
    }
    if (await ctx.store.isNonceUsed(signer, q.nonce)) {
      throw new AppError("NONCE_REUSED", `nonce ${q.nonce} was already used by this signer`);
    }
    if (
      (await ctx.store.jobOfRequest(grantId, q.requestId)) ||
      (await ctx.chain.isRequestLogged(q.grantId, q.requestId))
    ) {
      throw new AppError(
        "REQUEST_REUSED",
        `request id ${q.requestId} was already answered under grant ${q.grantId}`,
      );
    }
    let job: Job;
    try {
      job = await decide();
    } catch (e) {
      if (e instanceof AppError) {
        await ctx.store.recordRefusal(
          {
            requestId: q.requestId,
            grantId,
            consumer: signer,
            assetId: q.assetId.toString(),
            versionId: versionId.toString(),
            query: storeQuery(q),
            code: e.code,
            at: Date.now(),
          },
          q.nonce,
        );
      }
      throw e;
    }
    await ctx.store.acceptQuery(job, q.nonce);
    return job;
  });
}

/** Most addresses the guard follows from one signer (a larger linked group is cut here). */
export const MAX_LINKED_ADDRESSES = 64;

/** Events only an asset's owner (or its signature) causes: evidence that it holds the asset. */
const OWNER_ACTIONS = [
  "AssetEndpointUpdated",
  "AssetMetadataUpdated",
  "AssetOwnershipTransferred",
  "AssetRetired",
  "VersionPublished",
] as const;

/**
 * The signer and every address the chain links to it, transitively: the contracts record one
 * relation between two parties' addresses, an asset handed from one owner to another
 * (`AssetOwnershipTransferred`: a key rotation, or two addresses of one party). A transfer links
 * the two only once the receiver has acted as the asset's owner (an owner-only event of that
 * asset after the transfer): a transfer alone is one-sided, and would let anyone merge their
 * answers with a stranger's (to have the stranger's queries refused, or to learn from their own
 * refusals which ranges the stranger asked). Grants link no addresses (a grant names one
 * consumer, and every grant of that address is counted together anyway), and neither does the
 * relation owner → consumer, or every consumer of one supplier would be one party. Reads only
 * the chain; at most {@link MAX_LINKED_ADDRESSES} addresses.
 */
export async function linkedAddresses(ctx: GatewayContext, signer: string): Promise<string[]> {
  const contract = ctx.chain.contract;
  const actions = OWNER_ACTIONS.map((n) => contract.interface.getEvent(n)!.topicHash);
  const accepted = async (e: { blockNumber: number; index: number; args: { assetId: bigint } }) => {
    const logs = await ctx.chain.provider.getLogs({
      address: ctx.chain.address,
      fromBlock: e.blockNumber,
      topics: [actions, zeroPadValue(toBeHex(e.args.assetId), 32)],
    });
    return logs.some(
      (l) =>
        l.blockNumber > e.blockNumber || (l.blockNumber === e.blockNumber && l.index > e.index),
    );
  };
  const seen = new Set([signer.toLowerCase()]);
  const todo = [signer];
  const zero = "0x0000000000000000000000000000000000000000";
  while (todo.length > 0 && seen.size < MAX_LINKED_ADDRESSES) {
    const a = todo.shift()!;
    const [from, to] = await Promise.all([
      contract.queryFilter(contract.filters.AssetOwnershipTransferred(undefined, a, undefined)),
      contract.queryFilter(contract.filters.AssetOwnershipTransferred(undefined, undefined, a)),
    ]);
    for (const e of [...from, ...to]) {
      const pair = [e.args.previousOwner, e.args.newOwner];
      if (pair.every((b) => seen.has(b.toLowerCase()))) continue;
      if (pair.some((b) => b.toLowerCase() === zero) || !(await accepted(e))) continue;
      for (const b of pair) {
        const low = b.toLowerCase();
        if (seen.has(low) || seen.size >= MAX_LINKED_ADDRESSES) continue;
        seen.add(low);
        todo.push(b);
      }
    }
  }
  return [...seen];
}

/**
 * Record universes of recently checked version sets, per gateway (at most 4 each), as promises:
 * queries that arrive while one is being read wait for it instead of building their own copy.
 */
const universes = new WeakMap<GatewayContext, Map<string, Promise<RecordUniverse>>>();

async function universeOf(
  ctx: GatewayContext,
  versions: ReadonlyMap<string, StoredVersion>,
): Promise<RecordUniverse> {
  const key = [...versions.keys()].sort().join(",");
  let cache = universes.get(ctx);
  if (!cache) universes.set(ctx, (cache = new Map()));
  let u = cache.get(key);
  if (!u) {
    // the versions' records are read from their stored chunks once per version set (cached),
    // a batch at a time; a failed read is not kept
    const building = storedUniverse(ctx.store, versions);
    u = building;
    cache.set(key, building);
    building.catch(() => {
      if (cache.get(key) === building) cache.delete(key);
    });
    while (cache.size > 4) cache.delete(cache.keys().next().value!);
  }
  return u;
}

/**
 * The record sets an answer is a function of, each in its family: the query's range and
 * predicates for COUNT and for the fields without a cohort field; for a field the policy's cohort
 * map defines over a selection (an indicator schema's filtered field, 0 outside it), the records
 * its 0/1 cohort field selects within them. A filtered field's sums exist only over its
 * selection, so its answers are compared with the answers of that family alone: two answers
 * over ranges that differ by k records of which one is selected differ by that record's value
 * (counted in the range's records, the guard let it through), while a plain question after a
 * filtered one on the same window reveals no filtered value of the records it adds.
 */
function answerSets(
  policy: Policy,
  q: SignedQuery,
  predicates: readonly Predicate[],
): { cohortField: number | null; predicates: Predicate[] }[] {
  const fields = aggregatedFields(q);
  const cohorts = fields.map((f) => cohortFieldOf(policy, f));
  const sets: { cohortField: number | null; predicates: Predicate[] }[] = [];
  if (fields.length === 0 || cohorts.includes(null)) {
    sets.push({ cohortField: null, predicates: [...predicates] });
  }
  for (const c of new Set(cohorts.filter((c) => c !== null))) {
    const selected = { field: c, op: PredicateOp.Ge, value: 1n };
    sets.push({ cohortField: c, predicates: [...predicates, selected] });
  }
  return sets;
}

/**
 * The differencing guard (usecases/differencing.ts): over every record set the signer and the
 * addresses the chain links to it (`linked`) have been answered on for this asset, under any
 * grant and on any version, each of the query's sets ({@link answerSets}) must not create an
 * atom of 1 … k−1 records among the sets of its family (k = the grant's minimum cohort).
 * Refuses with DIFFERENCING_RISK; otherwise returns the entries to keep once the query is
 * accepted.
 */
export async function differencingOf(
  ctx: GatewayContext,
  q: SignedQuery,
  policy: Policy,
  version: ServedVersion,
  predicates: readonly Predicate[],
  linked: readonly string[],
): Promise<AnsweredEntry[]> {
  const assetId = q.assetId.toString();
  const entries = answerSets(policy, q, predicates).map((set): AnsweredEntry => ({
    versionId: version.versionId.toString(),
    root: version.root.toString(),
    lo: q.lo.toString(),
    hi: q.hi.toString(),
    predicates: set.predicates.map((p) => packPredicate(p).toString()),
    ...(set.cohortField === null ? {} : { cohortField: set.cohortField }),
  }));
  const answered = await answeredStore(ctx.store).ofAll(assetId, linked);
  const versions = new Map([[version.versionId.toString(), version.local]]);
  for (const a of answered) {
    if (versions.has(a.versionId)) continue;
    const v = await ctx.store.getVersionByRoot(a.root);
    if (!v) {
      throw new AppError(
        "VERSION_NOT_AVAILABLE",
        `the records of version ${a.versionId}, answered before, are gone; the guard cannot count them`,
      );
    }
    versions.set(a.versionId, v);
  }
  const setOf = (e: AnsweredEntry): RecordSet => ({
    versionId: e.versionId,
    lo: BigInt(e.lo),
    hi: BigInt(e.hi),
    predicates: e.predicates.map((p) => unpackPredicate(BigInt(p))),
  });
  const universe = await universeOf(ctx, versions);
  for (const entry of entries) {
    const family = answered.filter((a) => a.cohortField === entry.cohortField).map(setOf);
    const risk = checkDifferencing(universe, family, setOf(entry), policy.minCohort);
    if (risk) {
      throw new AppError(
        "DIFFERENCING_RISK",
        `together with the answers this consumer already has on asset ${q.assetId}, this answer would single out fewer records than the grant's minimum cohort (k = ${policy.minCohort}); ask for ranges that differ from earlier ones by at least k records`,
      );
    }
  }
  return entries;
}

/** Keeps an accepted query's record set for the differencing guard. */
export async function keepAnswered(
  ctx: GatewayContext,
  q: SignedQuery,
  signer: string,
  jobId: string,
  entries: readonly AnsweredEntry[],
): Promise<void> {
  // one key per set: the job's first set keeps the job id alone (as before several sets)
  for (const [i, entry] of entries.entries()) {
    await answeredStore(ctx.store).add(
      q.assetId.toString(),
      signer,
      i === 0 ? jobId : `${jobId}#${i}`,
      entry,
    );
  }
}
