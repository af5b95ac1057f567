/**
 * The ingest worker thread: hashes an upload's data for its signature check (keccak over up to
 * the body limit), reads it (validation and mapping of every row, CSV and number parsing
 * included) and builds a version's Merkle-sum tree, off the HTTP loop. Its pool
 * (ingest-pool.ts) gives every task a time budget and stops a worker that overruns it.
 */
import { parentPort } from "node:worker_threads";
import { buildTree } from "../../circuits/lib/tree.js";
import {
  batchHash,
  findSchema,
  parseBatch,
  type MappedRecord,
  type RowError,
  type UploadData,
} from "../../protocol/records/index.js";
import { uploadDataHash } from "../../protocol/typed-data.js";
import type { VersionPayload } from "./worker.js";

/** A request to the ingest worker. */
export type IngestRequest =
  | { id: number; kind: "hash"; data: unknown }
  | { id: number; kind: "parse"; schemaId: string; data: UploadData }
  | ({ id: number; kind: "build" } & VersionPayload);

/** The ingest worker's answer. */
export type IngestResponse =
  | { id: number; ok: true; kind: "hashed"; dataHash: string }
  | { id: number; ok: true; kind: "parsed"; records: MappedRecord[]; batchHash: string }
  | { id: number; ok: true; kind: "invalid"; errors: RowError[] }
  | { id: number; ok: true; kind: "built"; root: string }
  | { id: number; ok: false; error: string };

async function handle(msg: IngestRequest): Promise<IngestResponse> {
  if (msg.kind === "hash") {
    return { id: msg.id, ok: true, kind: "hashed", dataHash: uploadDataHash(msg.data) };
  }
  if (msg.kind === "parse") {
    const schema = findSchema(msg.schemaId);
    if (!schema) throw new Error("unknown schema");
    const parsed = parseBatch(schema, msg.data);
    if (!parsed.ok) return { id: msg.id, ok: true, kind: "invalid", errors: parsed.errors };
    return {
      id: msg.id,
      ok: true,
      kind: "parsed",
      records: parsed.records,
      batchHash: batchHash(schema.id, parsed.records),
    };
  }
  const tree = await buildTree(
    msg.records.map((r) => ({ key: BigInt(r[0]!), values: r.slice(1).map(BigInt) })),
    msg.salts.map(BigInt),
    msg.depth,
    { minMaxField: msg.minMaxField },
  );
  return { id: msg.id, ok: true, kind: "built", root: tree.root.toString() };
}

parentPort!.on("message", async (msg: IngestRequest | { kind: "close" }) => {
  if (msg.kind === "close") process.exit(0);
  try {
    parentPort!.postMessage(await handle(msg));
  } catch (e) {
    // the error's name only: messages of lower layers may quote values
    const error = (e as Error)?.name ?? "Error";
    parentPort!.postMessage({ id: msg.id, ok: false, error } satisfies IngestResponse);
  }
});
