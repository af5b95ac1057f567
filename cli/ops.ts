/**
 * What each role does, as functions: the `partproof` CLI, the demo and the end-to-end test all
 * call these. A session holds the chain connection (RPC URL, deployment file), the gateway URL
 * and the signing key of the person at the keyboard.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Contract,
  Interface,
  JsonRpcProvider,
  hexlify,
  keccak256,
  toUtf8Bytes,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
} from "ethers";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  AggregateKind,
  circuitId,
  parseSignals,
  resultCommitment,
} from "../circuits/lib/signals.js";
import { signPublish, signQuery, signRead, signUpload } from "../protocol/typed-data.js";
import { findSchema, keyRange, type UploadData } from "../protocol/records/index.js";
import type { DataSchema } from "../protocol/records/types.js";
import {
  readChainLog,
  reconcile,
  type AuditReport,
  type ServedAnswer,
  type VerificationKeys,
} from "./audit.js";

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A problem the user can fix; the CLI prints its message without a stack trace. */
export class UserError extends Error {
  override name = "UserError";
}

/** The deployment file written by scripts/deploy.ts. */
export interface Deployment {
  chainId: number;
  partProof: string;
  deploymentBlock: number;
  verifiers: Record<string, { circuitId: string; contract: string; address: string }>;
}

/** A connection to the chain, the deployment and (optionally) a gateway. */
export interface Session {
  provider: Provider;
  deployment: Deployment;
  abi: Interface;
  /** PartProof connected to the provider (read-only). */
  partProof: Contract;
  gatewayUrl?: string;
}

/** Loads PartProof's ABI from the Hardhat build artifacts. */
export async function loadAbi(): Promise<Interface> {
  const file = path.join(ROOT, "artifacts", "contracts", "PartProof.sol", "PartProof.json");
  if (!existsSync(file)) throw new UserError(`${file} is missing: run \`npm run build\` first`);
  return new Interface(
    (JSON.parse(await readFile(file, "utf8")) as { abi: unknown[] }).abi as never,
  );
}

/** Opens a session from an RPC URL (or a provider) and a deployment file. */
export async function openSession(opts: {
  rpcUrl?: string;
  provider?: Provider;
  deploymentFile?: string;
  deployment?: Deployment;
  gatewayUrl?: string;
}): Promise<Session> {
  const provider = opts.provider ?? new JsonRpcProvider(opts.rpcUrl ?? "http://127.0.0.1:8545");
  let deployment = opts.deployment;
  if (!deployment) {
    const file = opts.deploymentFile;
    if (!file)
      throw new UserError("no deployment: pass --deployment FILE (written by scripts/deploy.ts)");
    try {
      deployment = JSON.parse(await readFile(file, "utf8")) as Deployment;
    } catch {
      throw new UserError(`deployment file ${file} cannot be read`);
    }
  }
  const abi = await loadAbi();
  return {
    provider,
    deployment,
    abi,
    partProof: new Contract(deployment.partProof, abi, provider),
    gatewayUrl: opts.gatewayUrl?.replace(/\/$/, ""),
  };
}

function domainOf(s: Session) {
  return { chainId: BigInt(s.deployment.chainId), partProof: s.deployment.partProof };
}

/** Sends a transaction and waits for it; a revert is turned into its custom error's name. */
async function send(
  s: Session,
  signer: Signer,
  fn: string,
  args: unknown[],
): Promise<{
  receipt: NonNullable<Awaited<ReturnType<ContractTransactionResponse["wait"]>>>;
  events: Map<string, Record<string, unknown>>;
}> {
  const c = s.partProof.connect(signer) as Contract;
  let tx: ContractTransactionResponse;
  try {
    tx = (await c.getFunction(fn)(...args)) as ContractTransactionResponse;
  } catch (e) {
    throw new UserError(`${fn} was refused by the contract: ${revertReason(s, e)}`);
  }
  const receipt = await tx.wait();
  if (!receipt) throw new UserError(`${fn}: transaction ${tx.hash} was dropped`);
  const events = new Map<string, Record<string, unknown>>();
  for (const log of receipt.logs) {
    try {
      const parsed = s.abi.parseLog(log);
      if (parsed) events.set(parsed.name, parsed.args.toObject(true) as Record<string, unknown>);
    } catch {
      // a log of another contract (e.g. a library) — not ours to read
    }
  }
  return { receipt, events };
}

/** The custom error (with arguments) a failed call reverted with, or the error's message. */
export function revertReason(s: Session, e: unknown): string {
  const data = (e as { data?: string; info?: { error?: { data?: string } } })?.data;
  if (typeof data === "string" && data.length >= 10) {
    try {
      const err = s.abi.parseError(data);
      if (err) return `${err.name}(${err.args.map(String).join(", ")})`;
    } catch {
      // not one of ours
    }
  }
  const m = (e as { shortMessage?: string; message?: string })?.shortMessage ?? String(e);
  return m;
}

async function gateway<T>(
  s: Session,
  method: "GET" | "POST",
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  if (!s.gatewayUrl) throw new UserError("no gateway: pass --gateway URL");
  let res: Response;
  try {
    res = await fetch(`${s.gatewayUrl}${route}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new UserError(`gateway ${s.gatewayUrl} is not reachable`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new UserError(`gateway answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } }).error;
    throw new GatewayRefusal(res.status, err?.code ?? "ERROR", err?.message ?? text);
  }
  return json as T;
}

/** The gateway refused a request: HTTP status and machine-readable code. */
export class GatewayRefusal extends UserError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`gateway refused (${status} ${code}): ${message}`);
  }
}

// ---------------------------------------------------------------- supplier

/** Registers a data asset on-chain; returns its id. */
export async function registerAsset(
  s: Session,
  owner: Signer,
  opts: { schema: string; endpoint: string; metadata?: string },
): Promise<{ assetId: bigint; tx: string }> {
  const schema = schemaOf(opts.schema);
  const metadataHash = keccak256(
    toUtf8Bytes(opts.metadata ?? JSON.stringify({ schema: schema.id })),
  );
  const { receipt, events } = await send(s, owner, "registerAsset", [
    schema.id,
    metadataHash,
    opts.endpoint,
  ]);
  const ev = events.get("AssetRegistered");
  if (!ev) throw new UserError("registerAsset: no AssetRegistered event");
  return { assetId: ev.assetId as bigint, tx: receipt.hash };
}

/** A schema by name or id; the error lists the known ones. */
export function schemaOf(nameOrId: string): DataSchema {
  const schema = findSchema(nameOrId);
  if (!schema) throw new UserError(`unknown schema "${nameOrId}" (try quality, delivery or pcf)`);
  return schema;
}

/** Reads upload data from a file: .csv, or .json holding rows or a Catena-X aspect payload. */
export async function readUploadFile(file: string): Promise<UploadData> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UserError(`${file} cannot be read`);
  }
  if (file.toLowerCase().endsWith(".csv")) return { format: "csv", csv: text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(json)) return { format: "json", rows: json };
  if (json && typeof json === "object" && Array.isArray((json as { rows?: unknown }).rows)) {
    return { format: "json", rows: (json as { rows: unknown[] }).rows };
  }
  return { format: "catenax", payload: json };
}

/** The upload files of a path: the file itself, or every .json/.csv file of a folder. */
export async function uploadFiles(p: string): Promise<string[]> {
  const st = await stat(p).catch(() => undefined);
  if (!st) throw new UserError(`${p} does not exist`);
  if (st.isFile()) return [p];
  const names = (await readdir(p)).filter((n) => /\.(json|csv)$/i.test(n)).sort();
  if (names.length === 0) throw new UserError(`${p} holds no .json or .csv files`);
  return names.map((n) => path.join(p, n));
}

/** A version the gateway built from an upload. */
export interface LocalVersion {
  assetId: string;
  localId: number;
  root: string;
  recordCount: number;
  treeDepth: number;
  paramsHash: string;
  batchHash: string;
}

/** Uploads one batch (owner-signed) and returns the version the gateway built. */
export async function upload(
  s: Session,
  owner: Signer,
  assetId: bigint,
  data: UploadData,
): Promise<{ created: boolean; version: LocalVersion }> {
  const body = await signUpload(owner, domainOf(s), assetId, data);
  return gateway(s, "POST", `/assets/${assetId}/uploads`, body);
}

/**
 * Publishes a gateway-built version on-chain: the owner signs PublishVersion (EIP-712) and the
 * gateway relays it, so the owner needs no gas.
 */
export async function publishViaGateway(
  s: Session,
  owner: Signer,
  v: LocalVersion,
  ttlSec = 3600,
): Promise<{ versionId: bigint; txHash: string }> {
  const nonce = (await s.partProof.getFunction("nonces")(await owner.getAddress())) as bigint;
  const deadline = BigInt(Math.floor(Date.now() / 1000) + ttlSec);
  const body = await signPublish(
    owner,
    domainOf(s),
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
  const r = await gateway<{ versionId: string; txHash: string }>(
    s,
    "POST",
    `/assets/${v.assetId}/versions/${v.localId}/publish`,
    body,
  );
  return { versionId: BigInt(r.versionId), txHash: r.txHash };
}

/** Publishes a gateway-built version from the owner's own account (the owner pays gas). */
export async function publishDirect(s: Session, owner: Signer, v: LocalVersion) {
  const { receipt, events } = await send(s, owner, "publishVersion", [
    BigInt(v.assetId),
    BigInt(v.root),
    BigInt(v.recordCount),
    v.treeDepth,
    v.paramsHash,
  ]);
  return { versionId: events.get("VersionPublished")?.versionId as bigint, txHash: receipt.hash };
}

/** Aggregate names the CLI accepts, by kind. */
export const AGGREGATES: Record<string, AggregateKind> = {
  count: AggregateKind.Count,
  sum: AggregateKind.Sum,
  avg: AggregateKind.Avg,
  min: AggregateKind.Min,
  max: AggregateKind.Max,
  ratio: AggregateKind.RatioPpm,
  threshold: AggregateKind.ThresholdPpm,
};

/** A policy in the user's terms. */
export interface PolicyInput {
  aggregates: string[];
  fields: string[];
  filters?: string[];
  partNumber: string;
  plant?: string;
  minCohort: number;
}

/** Turns a policy in the user's terms into the on-chain struct. */
export function policyOf(schema: DataSchema, p: PolicyInput) {
  const mask = (names: string[], index: (n: string) => number) =>
    names.reduce((m, n) => m | (1 << index(n)), 0);
  const aggregateMask = mask(p.aggregates, (n) => {
    const k = AGGREGATES[n.toLowerCase()];
    if (k === undefined)
      throw new UserError(`unknown aggregate "${n}" (${Object.keys(AGGREGATES).join(", ")})`);
    return k;
  });
  const fieldIndex = (n: string) => fieldOf(schema, n);
  const { keyLo, keyHi } = rangeOf({ partNumber: p.partNumber, plant: p.plant });
  if (!Number.isInteger(p.minCohort) || p.minCohort < 1)
    throw new UserError("k must be a positive integer");
  return {
    aggregateMask,
    fieldMask: mask(p.fields, fieldIndex),
    filterMask: mask(p.filters ?? [], fieldIndex),
    minCohort: p.minCohort,
    keyLo,
    keyHi,
  };
}

/** Index of a schema field given by name or number. */
export function fieldOf(schema: DataSchema, n: string): number {
  const i = /^\d+$/.test(n) ? Number(n) : schema.fields.indexOf(n);
  if (i < 0 || i >= schema.fields.length) {
    throw new UserError(`unknown field "${n}" of ${schema.name} (${schema.fields.join(", ")})`);
  }
  return i;
}

function rangeOf(q: { partNumber: string; plant?: string; from?: string; to?: string }) {
  try {
    return keyRange(q);
  } catch (e) {
    throw new UserError(`key range: ${(e as Error).message}`);
  }
}

/** Validity window and quota of a grant. */
export interface GrantTerms {
  validFrom: number;
  validUntil: number;
  quota: number;
}

/** Grants a consumer access to an asset under a policy; returns the grant id. */
export async function grantAccess(
  s: Session,
  owner: Signer,
  assetId: bigint,
  consumer: string,
  policy: ReturnType<typeof policyOf>,
  terms: GrantTerms,
) {
  const { receipt, events } = await send(s, owner, "grantAccess", [
    assetId,
    consumer,
    policy,
    terms.validFrom,
    terms.validUntil,
    terms.quota,
  ]);
  return { grantId: events.get("GrantIssued")?.grantId as bigint, tx: receipt.hash };
}

/** A consumer asks the owner for a grant; returns the grant id (status Requested). */
export async function requestGrant(
  s: Session,
  consumer: Signer,
  assetId: bigint,
  policy: ReturnType<typeof policyOf>,
  terms: GrantTerms,
) {
  const { receipt, events } = await send(s, consumer, "requestGrant", [
    assetId,
    policy,
    terms.validFrom,
    terms.validUntil,
    terms.quota,
  ]);
  return { grantId: events.get("GrantRequested")?.grantId as bigint, tx: receipt.hash };
}

/** Owner actions on a grant. */
export async function grantAction(
  s: Session,
  owner: Signer,
  action: "approve" | "reject" | "revoke" | "quota" | "expiry",
  grantId: bigint,
  value?: number,
) {
  const fn = {
    approve: "approveGrant",
    reject: "rejectGrant",
    revoke: "revokeGrant",
    quota: "updateQuota",
    expiry: "updateExpiry",
  }[action];
  const args: unknown[] = [grantId];
  if (action === "quota" || action === "expiry") {
    if (value === undefined) throw new UserError(`${action} needs a value`);
    args.push(value);
  }
  const { receipt } = await send(s, owner, fn, args);
  return { tx: receipt.hash };
}

// ---------------------------------------------------------------- automaker

/** The gateway's asset catalogue. */
export async function listAssets(s: Session) {
  return gateway<{ assets: Record<string, unknown>[] }>(s, "GET", "/assets");
}

/** A query in the user's terms. */
export interface QueryInput {
  grantId: bigint;
  assetId: bigint;
  /** 0n: the latest published version. */
  versionId: bigint;
  aggregate: string;
  fieldA: string;
  fieldB?: string;
  partNumber: string;
  plant?: string;
  from?: string;
  to?: string;
  threshold?: bigint;
}

/** A gateway job as GET /jobs/:id returns it. */
export interface JobView {
  jobId: string;
  status: "queued" | "proving" | "proved" | "logged" | "failed";
  requestId: string;
  consumer: string;
  grantId: string;
  assetId: string;
  versionId: string;
  circuit: string;
  circuitId: string;
  query: Record<string, unknown>;
  answer: { resultValue: string; resultAux: string } | Record<string, string> | null;
  blind: string | null;
  proof: Record<string, unknown> | null;
  publicSignals: string[] | null;
  provingMs: number | null;
  logTx: string | null;
  error: string | null;
}

/** Signs and sends a query; returns the job the gateway opened. */
export async function ask(s: Session, consumer: Signer, schema: DataSchema, q: QueryInput) {
  const kind = AGGREGATES[q.aggregate.toLowerCase()];
  if (kind === undefined) throw new UserError(`unknown aggregate "${q.aggregate}"`);
  const { keyLo, keyHi } = rangeOf(q);
  const message = {
    grantId: q.grantId,
    assetId: q.assetId,
    versionId: q.versionId,
    kind,
    fieldA: fieldOf(schema, q.fieldA),
    fieldB: q.fieldB === undefined ? 0 : fieldOf(schema, q.fieldB),
    lo: keyLo,
    hi: keyHi,
    threshold: q.threshold ?? 0n,
    requestId: hexlify(randomBytes(32)),
    nonce: BigInt(hexlify(randomBytes(16))),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  };
  const body = await signQuery(consumer, domainOf(s), message);
  return gateway<{ jobId: string; status: string; requestId: string; versionId: string }>(
    s,
    "POST",
    "/queries",
    body,
  );
}

/** Polls a job until it is logged (or proved, with `until: "proved"`), or failed. */
export async function waitJob(
  s: Session,
  jobId: string,
  opts: { until?: "proved" | "logged"; timeoutMs?: number; onStatus?: (st: string) => void } = {},
): Promise<JobView> {
  const until = opts.until ?? "logged";
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  let last = "";
  for (;;) {
    const job = await gateway<JobView>(s, "GET", `/jobs/${jobId}`);
    if (job.status !== last) opts.onStatus?.(job.status);
    last = job.status;
    if (job.status === "failed")
      throw new UserError(`job ${jobId} failed: ${job.error ?? "no reason given"}`);
    if (job.status === "logged" || (until === "proved" && job.status === "proved")) return job;
    if (Date.now() > deadline)
      throw new UserError(`job ${jobId} still ${job.status} after the timeout`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Verification keys of every built circuit instance, by circuit id. */
export async function loadVerificationKeys(): Promise<VerificationKeys> {
  const manifest = JSON.parse(
    await readFile(path.join(ROOT, "circuits", "circuits.json"), "utf8"),
  ) as {
    circuits: { name: string }[];
  };
  const keys: VerificationKeys = new Map();
  for (const { name } of manifest.circuits) {
    const file = path.join(ROOT, "circuits", "build", name, `${name}.vkey.json`);
    if (existsSync(file)) {
      keys.set(circuitId(name).toLowerCase(), {
        name,
        vkey: JSON.parse(await readFile(file, "utf8")),
      });
    }
  }
  return keys;
}

/** What a consumer checked about an answer. */
export interface AnswerCheck {
  proofValid: boolean;
  commitmentOpens: boolean;
  rootRegistered: boolean;
  loggedOnChain: boolean;
  logMatches: boolean;
}

/**
 * Verifies an answer as a consumer who trusts no gateway: the proof against the verification
 * key (snarkjs), the answer against the proof's result commitment, the root against the version
 * on-chain, and the on-chain log entry against the proof.
 */
export async function verifyAnswer(
  s: Session,
  job: JobView,
  vkeys?: VerificationKeys,
): Promise<AnswerCheck> {
  if (!job.proof || !job.publicSignals || !job.answer || job.blind === null) {
    throw new UserError(`job ${job.jobId} has no proved answer yet (status ${job.status})`);
  }
  const keys = vkeys ?? (await loadVerificationKeys());
  const vk = keys.get(job.circuitId.toLowerCase());
  if (!vk)
    throw new UserError(
      `no verification key for circuit ${job.circuit}: run npm run build:circuits`,
    );
  const proofValid = (await snarkjs.groth16.verify(
    vk.vkey,
    job.publicSignals,
    job.proof,
  )) as boolean;
  const signals = parseSignals(job.publicSignals);
  const answer = job.answer as Record<string, string>;
  const commitmentOpens =
    resultCommitment(
      BigInt(answer.resultValue ?? -1),
      BigInt(answer.resultAux ?? -1),
      BigInt(job.blind),
    ) === signals.resultCommitment;
  const version = (await s.partProof.getFunction("getVersion")(BigInt(job.versionId))) as {
    root: bigint;
  };
  const rootRegistered = version.root === signals.root;
  const loggedOnChain = (await s.partProof.getFunction("isRequestLogged")(
    job.requestId,
  )) as boolean;
  let logMatches = false;
  if (loggedOnChain) {
    const block = Number(await s.partProof.getFunction("answerBlockOf")(job.requestId));
    const events = await s.partProof.queryFilter(
      s.partProof.filters.AnswerRecorded!(null, null, job.requestId),
      block,
      block,
    );
    logMatches = events.some((e) => {
      const a = (e as unknown as { args: Record<string, unknown> }).args;
      return (
        a.queryHash === signals.queryHash &&
        a.resultCommitment === signals.resultCommitment &&
        String(a.grantId) === job.grantId &&
        String(a.versionId) === job.versionId
      );
    });
  }
  return { proofValid, commitmentOpens, rootRegistered, loggedOnChain, logMatches };
}

// ---------------------------------------------------------------- auditor

/** A gateway's export of served answers, as GET /audit/answers returns it. */
export interface GatewayExport {
  answers: {
    requestId: string;
    grantId: string;
    consumer: string;
    assetId: string;
    versionId: string;
    query?: {
      kind: number;
      fieldA: number;
      fieldB: number;
      lo: string;
      hi: string;
      predicates?: string;
    };
    cohort?: number | null;
  }[];
}

/**
 * Reads a gateway's export of served answers from a file, or from the gateway itself with a
 * Read signed by `auditor` (the gateway serves it only to the auditors in its config).
 */
export async function readExport(
  s: Session,
  src: { file: string } | { auditor: Signer },
): Promise<GatewayExport> {
  if ("file" in src) {
    try {
      return JSON.parse(await readFile(src.file, "utf8")) as GatewayExport;
    } catch {
      throw new UserError(`export file ${src.file} cannot be read as JSON`);
    }
  }
  const account = await src.auditor.getAddress();
  // a signed read names the one gateway it is for (its /health gatewayId)
  const { gatewayId } = await gateway<{ gatewayId: string }>(s, "GET", "/health");
  const headers = await signRead(src.auditor, domainOf(s), "audit", 0n, gatewayId);
  return gateway<GatewayExport>(s, "GET", `/audit/answers?auditor=${account}`, undefined, headers);
}

/** Converts a gateway export into the auditor's served-answer list. */
export function servedAnswers(exp: GatewayExport): ServedAnswer[] {
  return exp.answers.map((a) => ({
    requestId: a.requestId,
    grantId: BigInt(a.grantId),
    consumer: a.consumer,
    assetId: BigInt(a.assetId),
    versionId: BigInt(a.versionId),
    kind: a.query?.kind ?? -1,
    fieldA: a.query?.fieldA ?? -1,
    fieldB: a.query?.fieldB ?? -1,
    lo: BigInt(a.query?.lo ?? 0),
    hi: BigInt(a.query?.hi ?? 0),
    cohort: a.cohort ?? 0,
    filter: a.query?.predicates,
  }));
}

/** Reconciles the access log of a block range, with a gateway's export when given. */
export async function audit(
  s: Session,
  opts: { fromBlock?: number; toBlock?: number | "latest"; served?: ServedAnswer[] },
): Promise<AuditReport> {
  const log = await readChainLog(
    s.provider,
    s.deployment.partProof,
    s.abi,
    opts.fromBlock ?? s.deployment.deploymentBlock ?? 0,
    opts.toBlock ?? "latest",
  );
  return reconcile(log, await loadVerificationKeys(), opts.served);
}
