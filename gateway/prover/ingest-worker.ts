/**
 * The ingest worker thread: hashes an upload's data for its signature check (keccak over up to
 * the body limit), reads it (validation and mapping of every row, CSV and number parsing
 * included) into packed rows, and applies an upload's batches to the data set it adds to and
 * builds the new version's Merkle-sum tree, off the HTTP loop. Its pool (ingest-pool.ts) gives
 * every task a time budget and stops a worker that overruns it.
 *
 * The worker keeps the tree it built last (up to {@link REUSE_MAX_RECORDS} records) and hands it
 * to the tree builder as `previous` when the next version adds to it, so that an append hashes
 * only the subtrees it changed.
 */
import { parentPort } from "node:worker_threads";
import {
  buildTree,
  randomSalt,
  sortRecords,
  type MerkleSumTree,
  type TreeRecord,
} from "../../circuits/lib/tree.js";
import {
  batchHash,
  findSchema,
  parseBatch,
  type RowError,
  type UploadData,
} from "../../protocol/records/index.js";
import { uploadDataHash } from "../../protocol/typed-data.js";
import { ROW_BYTES, readRow, rowCount, rowId, writeRow, type PackedBatch } from "../store/rows.js";
import type { VersionChanges } from "../store/index.js";

/** Trees up to this many records are kept for the next build (~150 MB at the bound). */
export const REUSE_MAX_RECORDS = 1 << 18;

/** What a version is made of: the rows it adds to, and the upload's batches in order. */
export interface ApplyRequest {
  /** The base version's rows (`rows.ts`, tree order), empty for a new data set. */
  base: Uint8Array;
  /** The base version's root ("" for none): the worker's kept tree is reused when it matches. */
  baseRoot: string;
  /** The upload's batches, in upload order (a later record of an identity wins). */
  batches: PackedBatch[];
  /** Salts for the upload's records in order (tests inject them); drawn here when absent. */
  salts?: bigint[];
  depth: number;
  minMaxField: number;
}

/** A request to the ingest worker. */
export type IngestRequest =
  | { id: number; kind: "hash"; data: unknown }
  | { id: number; kind: "parse"; schemaId: string; data: UploadData }
  | ({ id: number; kind: "apply" } & ApplyRequest);

/** The ingest worker's answer. */
export type IngestResponse =
  | { id: number; ok: true; kind: "hashed"; dataHash: string }
  | {
      id: number;
      ok: true;
      kind: "parsed";
      batch: PackedBatch;
      batchHash: string;
      records: number;
    }
  | { id: number; ok: true; kind: "invalid"; errors: RowError[] }
  | {
      id: number;
      ok: true;
      kind: "applied";
      rows: Uint8Array;
      root: string;
      changes: VersionChanges;
      /** Leaves and nodes copied from the previous tree (0 when it was not at hand). */
      reused: number;
    }
  | { id: number; ok: true; kind: "tooMany"; records: number }
  | { id: number; ok: false; error: string };

let kept: { root: string; tree: MerkleSumTree } | undefined;

type Entry = TreeRecord & { id?: string; salt: bigint };

/**
 * The records of the new version: the base's records that the upload does not replace or
 * remove (with their salts, so their leaves are unchanged), then the upload's records that
 * are the last of their identity (with fresh salts); `recordStatus` "same" keeps a base record.
 */
export function applyBatches(req: ApplyRequest): { entries: Entry[]; changes: VersionChanges } {
  type State = { removed: true } | { removed: false; batch: number; row: number; keep: boolean };
  const last = new Map<string, State>();
  req.batches.forEach((b, k) => {
    for (let i = 0; i < rowCount(b.rows); i++) {
      const id = rowId(b.rows, i);
      if (id !== undefined)
        last.set(id, { removed: false, batch: k, row: i, keep: b.keep[i] === 1 });
    }
    for (const id of b.removed) last.set(id, { removed: true });
  });
  const changes: VersionChanges = { added: 0, replaced: 0, removed: 0 };
  const entries: Entry[] = [];
  const inBase = new Set<string>();
  const keptBase = new Set<string>();
  for (let i = 0; i < rowCount(req.base); i++) {
    const r = readRow(req.base, i);
    const st = r.id === undefined ? undefined : last.get(r.id);
    if (st === undefined) {
      entries.push(r);
      continue;
    }
    inBase.add(r.id!);
    if (st.removed) changes.removed += 1;
    else if (st.keep) {
      entries.push(r);
      keptBase.add(r.id!);
    } else changes.replaced += 1;
  }
  let s = 0;
  req.batches.forEach((b, k) => {
    for (let i = 0; i < rowCount(b.rows); i++) {
      const r = readRow(b.rows, i);
      const salt = req.salts?.[s++] ?? randomSalt();
      if (r.id !== undefined) {
        const st = last.get(r.id)!;
        if (st.removed || st.batch !== k || st.row !== i || keptBase.has(r.id)) continue;
        if (!inBase.has(r.id)) changes.added += 1;
      } else changes.added += 1;
      entries.push({ key: r.key, values: r.values, salt, ...(r.id ? { id: r.id } : {}) });
    }
  });
  return { entries, changes };
}

async function apply(req: ApplyRequest, id: number): Promise<IngestResponse> {
  const { entries, changes } = applyBatches(req);
  if (entries.length + 2 > 2 ** req.depth) {
    return { id, ok: true, kind: "tooMany", records: entries.length };
  }
  const sorted = sortRecords(
    entries,
    entries.map((e) => e.salt),
  );
  const previous = kept && kept.root === req.baseRoot ? kept.tree : undefined;
  kept = undefined; // let the old tree go before the new one is built
  const tree = await buildTree(sorted.records, sorted.salts, req.depth, {
    minMaxField: req.minMaxField,
    ...(previous ? { previous } : {}),
  });
  const rows = new Uint8Array(sorted.records.length * ROW_BYTES);
  sorted.records.forEach((r, i) => writeRow(rows, i, r as Entry, sorted.salts[i]!));
  const root = tree.root.toString();
  if (sorted.records.length <= REUSE_MAX_RECORDS) kept = { root, tree };
  return { id, ok: true, kind: "applied", rows, root, changes, reused: previous ? 1 : 0 };
}

async function handle(msg: IngestRequest): Promise<IngestResponse> {
  if (msg.kind === "hash") {
    return { id: msg.id, ok: true, kind: "hashed", dataHash: uploadDataHash(msg.data) };
  }
  if (msg.kind === "parse") {
    const schema = findSchema(msg.schemaId);
    if (!schema) throw new Error("unknown schema");
    const parsed = parseBatch(schema, msg.data);
    if (!parsed.ok) return { id: msg.id, ok: true, kind: "invalid", errors: parsed.errors };
    const n = parsed.records.length;
    const rows = new Uint8Array(n * ROW_BYTES);
    const keep = new Uint8Array(n);
    parsed.records.forEach((r, i) => {
      writeRow(rows, i, r, 0n);
      if (r.keep) keep[i] = 1;
    });
    return {
      id: msg.id,
      ok: true,
      kind: "parsed",
      batch: { rows, keep, removed: parsed.removed },
      batchHash: batchHash(schema.id, parsed.records, parsed.removed),
      records: n,
    };
  }
  return apply(msg, msg.id);
}

parentPort?.on("message", async (msg: IngestRequest | { kind: "close" }) => {
  if (msg.kind === "close") process.exit(0);
  try {
    parentPort!.postMessage(await handle(msg));
  } catch (e) {
    // the error's name only: messages of lower layers may quote values
    const error = (e as Error)?.name ?? "Error";
    parentPort!.postMessage({ id: msg.id, ok: false, error } satisfies IngestResponse);
  }
});
