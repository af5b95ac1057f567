/**
 * The automaker's own record of what it signed: `automaker query` stores each signed Query
 * message per job id, so that `automaker verify JOB` checks the answer against the question the
 * automaker asked, never against what a gateway says was asked. One small JSON file per job
 * under the user's data directory: `$PARTPROOF_DATA_DIR`, else `$XDG_DATA_HOME/partproof`, else
 * `~/.local/share/partproof`; files are `queries/<jobId>.json`, readable by the user only.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { QueryMessage } from "../protocol/typed-data.js";
import { UserError } from "./errors.js";

/** What the automaker keeps of one query it signed. */
export interface SignedQuery {
  /** The signer (the grant's consumer). */
  consumer: string;
  /** Chain id and PartProof address of the signing domain. */
  chainId: bigint;
  partProof: string;
  /** The Query message exactly as signed. */
  message: QueryMessage;
}

const dec = z.string().regex(/^\d+$/);
const fileSchema = z.strictObject({
  consumer: z.string(),
  chainId: dec,
  partProof: z.string(),
  message: z.strictObject({
    grantId: dec,
    assetId: dec,
    versionId: dec,
    kind: z.number().int(),
    fieldA: z.number().int(),
    fieldB: z.number().int(),
    lo: dec,
    hi: dec,
    threshold: dec,
    predicates: z.array(dec).optional(),
    requestId: z.string(),
    nonce: dec,
    deadline: dec,
  }),
});
const jobIdSchema = z.uuid();

/** The directory the CLI keeps its own records in. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PARTPROOF_DATA_DIR) return env.PARTPROOF_DATA_DIR;
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "partproof");
}

function fileOf(jobId: string): string {
  // the job id comes from a gateway: only a UUID names a file
  if (!jobIdSchema.safeParse(jobId).success) throw new UserError(`${jobId} is not a job id`);
  return path.join(dataDir(), "queries", `${jobId}.json`);
}

/** Stores the signed query of a job. */
export async function saveSignedQuery(jobId: string, q: SignedQuery): Promise<void> {
  const file = fileOf(jobId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const m = q.message;
  const out = {
    consumer: q.consumer,
    chainId: q.chainId.toString(),
    partProof: q.partProof,
    message: {
      ...m,
      grantId: m.grantId.toString(),
      assetId: m.assetId.toString(),
      versionId: m.versionId.toString(),
      lo: m.lo.toString(),
      hi: m.hi.toString(),
      threshold: m.threshold.toString(),
      predicates: m.predicates?.map(String),
      nonce: m.nonce.toString(),
      deadline: m.deadline.toString(),
    },
  };
  await writeFile(file, JSON.stringify(out, null, 2) + "\n", { mode: 0o600 });
}

/**
 * The signed query of a job, as stored by `automaker query`.
 * @throws UserError when this machine holds no (readable) record of the job.
 */
export async function loadSignedQuery(jobId: string): Promise<SignedQuery> {
  const file = fileOf(jobId);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UserError(
      `no signed query of job ${jobId} in ${path.dirname(file)}: verify on the machine (or with the PARTPROOF_DATA_DIR) that asked it`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file} is not a signed query record`);
  const { message: stored, ...rest } = parsed.data;
  const { predicates, ...m } = stored;
  return {
    consumer: rest.consumer,
    chainId: BigInt(rest.chainId),
    partProof: rest.partProof,
    message: {
      ...m,
      grantId: BigInt(m.grantId),
      assetId: BigInt(m.assetId),
      versionId: BigInt(m.versionId),
      lo: BigInt(m.lo),
      hi: BigInt(m.hi),
      threshold: BigInt(m.threshold),
      ...(predicates ? { predicates: predicates.map(BigInt) } : {}),
      nonce: BigInt(m.nonce),
      deadline: BigInt(m.deadline),
    },
  };
}
