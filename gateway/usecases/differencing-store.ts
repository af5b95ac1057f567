/**
 * The differencing guard's record universe (differencing.ts) of stored versions, read from their
 * chunks of rows a batch at a time, never a version's records at once (decoded as objects, one
 * 10^6-record version took ~0.8 GB; scripts/lib/bench/universe-rss.ts, issue 12).
 */
import { type GatewayStore, type StoredVersion } from "../store/index.js";
import { rowCount, rowKey, rowValues } from "../store/rows.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import { RecordUniverse } from "./differencing.js";

/** Rows read per batch (about eight stored chunks). */
const BATCH_ROWS = 4096;

/** A stored version's records in tree (key) order, `BATCH_ROWS` at a time. */
async function* recordBatches(
  store: GatewayStore,
  v: StoredVersion,
): AsyncGenerator<MappedRecord[]> {
  for (let from = 0; from < v.recordCount; from += BATCH_ROWS) {
    const rows = await store.versionRows(v, from, from + BATCH_ROWS);
    const out: MappedRecord[] = [];
    for (let i = 0; i < rowCount(rows); i++)
      out.push({ key: rowKey(rows, i), values: rowValues(rows, i) });
    yield out;
  }
}

/** The universe of `versions` (version id → stored version), streamed from the store. */
export async function storedUniverse(
  store: GatewayStore,
  versions: Iterable<readonly [string, StoredVersion]>,
): Promise<RecordUniverse> {
  const batches = new Map<string, AsyncIterable<MappedRecord[]>>();
  for (const [id, v] of versions) batches.set(id, recordBatches(store, v));
  return RecordUniverse.stream(batches);
}
