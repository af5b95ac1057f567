/**
 * The binary form of a version's rows in LevelDB and between the ingest worker and the HTTP
 * thread: {@link ROW_BYTES} per record, little-endian, in tree order. Bytes 0..79 are the
 * tree's packed record (`circuits/lib/tree-engine.ts`: key as 2 × u64, v0..v3 as u64, salt as
 * 4 × u64); bytes 80..95 are the record's identity digest (`recordIdentity`; zeros: none).
 *
 * A version's rows are stored in chunks of about {@link CHUNK_ROWS} rows, one LevelDB value each,
 * so that a query, a witness or a page of the owner's records reads only the chunks it needs.
 * Chunk boundaries depend on the rows' content ({@link chunkStarts}), not on their positions,
 * so a version that adds records to another shares every chunk the additions did not touch.
 */
import { createHash } from "node:crypto";
import type { MappedRecord } from "../../protocol/records/types.js";

/** Bytes of one stored row. */
export const ROW_BYTES = 96;
/** Average rows per stored chunk (~48 KiB), beyond the smallest chunk. */
export const CHUNK_ROWS = 512;
/** The smallest chunk (except a version's last) and the largest, in rows. */
export const CHUNK_MIN_ROWS = CHUNK_ROWS / 4;
export const CHUNK_MAX_ROWS = CHUNK_ROWS * 4;

/**
 * A 32-bit mix of row `i`'s key and salt words (salts are random, so the mix is too); a chunk
 * may end after a row whose mix has its low bits set.
 */
function rowMix(v: DataView, i: number): number {
  let h = 0x811c9dc5;
  const o = i * ROW_BYTES;
  for (const w of [0, 4, 8, 12, 48, 52, 56, 60, 64, 68, 72, 76]) {
    h = Math.imul(h ^ v.getUint32(o + w, true), 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Content-defined chunk boundaries of `rows` (tree order): the first row of each chunk. A chunk
 * ends after a row whose {@link rowMix} has its low log2(CHUNK_ROWS) bits set, once it has at
 * least CHUNK_MIN_ROWS rows, and at the latest after CHUNK_MAX_ROWS; so an insertion changes
 * only the chunk it lands in (and rarely the next), and the chunks around it stay identical.
 */
export function chunkStarts(rows: Uint8Array): number[] {
  const n = rowCount(rows);
  const v = new DataView(rows.buffer, rows.byteOffset, rows.length);
  const starts: number[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (i === start) starts.push(start);
    const len = i - start + 1;
    if (
      len >= CHUNK_MAX_ROWS ||
      (len >= CHUNK_MIN_ROWS && (rowMix(v, i) & (CHUNK_ROWS - 1)) === CHUNK_ROWS - 1)
    ) {
      start = i + 1;
    }
  }
  return starts;
}

/** The content id of a chunk of rows: the first 128 bits of its SHA-256, hex. */
export function chunkId(chunk: Uint8Array): string {
  return createHash("sha256").update(chunk).digest("hex").slice(0, 32);
}

const MASK64 = (1n << 64n) - 1n;
const NO_ID = "0x" + "00".repeat(16);

/** One row read back. */
export interface Row {
  key: bigint;
  values: [bigint, bigint, bigint, bigint];
  salt: bigint;
  /** Identity digest (hex), undefined when the record has none. */
  id?: string;
}

/** Writes row `i` of `buf`. */
export function writeRow(
  buf: Uint8Array,
  i: number,
  r: { key: bigint; values: readonly bigint[]; id?: string },
  salt: bigint,
): void {
  const o = i * ROW_BYTES;
  const v = new DataView(buf.buffer, buf.byteOffset + o, ROW_BYTES);
  v.setBigUint64(0, r.key & MASK64, true);
  v.setBigUint64(8, r.key >> 64n, true);
  for (let f = 0; f < 4; f++) v.setBigUint64(16 + 8 * f, r.values[f]!, true);
  v.setBigUint64(48, salt & MASK64, true);
  v.setBigUint64(56, (salt >> 64n) & MASK64, true);
  v.setBigUint64(64, (salt >> 128n) & MASK64, true);
  v.setBigUint64(72, salt >> 192n, true);
  if (r.id !== undefined && r.id !== NO_ID) {
    const hex = r.id.slice(2);
    for (let b = 0; b < 16; b++) buf[o + 80 + b] = parseInt(hex.slice(2 * b, 2 * b + 2), 16);
  } else buf.fill(0, o + 80, o + 96);
}

/** The key of row `i` (without decoding the rest). */
export function rowKey(buf: Uint8Array, i: number): bigint {
  const v = new DataView(buf.buffer, buf.byteOffset + i * ROW_BYTES, 16);
  return v.getBigUint64(0, true) + (v.getBigUint64(8, true) << 64n);
}

/** The values of row `i`. */
export function rowValues(buf: Uint8Array, i: number): [bigint, bigint, bigint, bigint] {
  const v = new DataView(buf.buffer, buf.byteOffset + i * ROW_BYTES + 16, 32);
  return [
    v.getBigUint64(0, true),
    v.getBigUint64(8, true),
    v.getBigUint64(16, true),
    v.getBigUint64(24, true),
  ];
}

/** The identity digest (hex) of row `i`, undefined when it has none. */
export function rowId(buf: Uint8Array, i: number): string | undefined {
  const o = i * ROW_BYTES + 80;
  let any = false;
  for (let b = 0; b < 16; b++) if (buf[o + b] !== 0) any = true;
  if (!any) return undefined;
  return "0x" + Buffer.from(buf.buffer, buf.byteOffset + o, 16).toString("hex");
}

/** Row `i` of `buf`. */
export function readRow(buf: Uint8Array, i: number): Row {
  const v = new DataView(buf.buffer, buf.byteOffset + i * ROW_BYTES, ROW_BYTES);
  const salt =
    v.getBigUint64(48, true) +
    (v.getBigUint64(56, true) << 64n) +
    (v.getBigUint64(64, true) << 128n) +
    (v.getBigUint64(72, true) << 192n);
  const id = rowId(buf, i);
  return { key: rowKey(buf, i), values: rowValues(buf, i), salt, ...(id ? { id } : {}) };
}

/** Number of rows in `buf`. */
export function rowCount(buf: Uint8Array): number {
  return buf.length / ROW_BYTES;
}

/** Rows of records and salts (tree order). */
export function packRows(records: readonly MappedRecord[], salts: readonly bigint[]): Uint8Array {
  const buf = new Uint8Array(records.length * ROW_BYTES);
  records.forEach((r, i) => writeRow(buf, i, r, salts[i]!));
  return buf;
}

/**
 * A parsed batch as the ingest worker hands it over: its records as rows with zero salts (the
 * salts are drawn when the batch is applied), a flag per record for `recordStatus` "same"
 * (keep the data set's record), and the identities its deleted rows remove.
 */
export interface PackedBatch {
  rows: Uint8Array;
  keep: Uint8Array;
  removed: string[];
}

/** Encodes a packed batch as one value: u32 n, u32 removed, rows, keep flags, removed ids. */
export function encodeBatch(b: PackedBatch): Uint8Array {
  const n = rowCount(b.rows);
  const out = new Uint8Array(8 + b.rows.length + n + 16 * b.removed.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, n, true);
  v.setUint32(4, b.removed.length, true);
  out.set(b.rows, 8);
  out.set(b.keep, 8 + b.rows.length);
  b.removed.forEach((id, k) =>
    out.set(Buffer.from(id.slice(2), "hex"), 8 + b.rows.length + n + 16 * k),
  );
  return out;
}

/**
 * Reads a value written by {@link encodeBatch}; its rows are copied into `into` (e.g. a shared
 * buffer that a worker reads without a copy of its own) when given, which must have room.
 */
export function decodeBatch(buf: Uint8Array, into?: Uint8Array): PackedBatch {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const n = v.getUint32(0, true);
  const m = v.getUint32(4, true);
  let rows: Uint8Array;
  if (into) {
    rows = into.subarray(0, n * ROW_BYTES);
    rows.set(buf.subarray(8, 8 + n * ROW_BYTES));
  } else rows = buf.slice(8, 8 + n * ROW_BYTES);
  const keep = buf.slice(8 + n * ROW_BYTES, 8 + n * ROW_BYTES + n);
  const base = 8 + n * ROW_BYTES + n;
  const removed: string[] = [];
  for (let k = 0; k < m; k++) {
    removed.push(
      "0x" + Buffer.from(buf.buffer, buf.byteOffset + base + 16 * k, 16).toString("hex"),
    );
  }
  return { rows, keep, removed };
}

/** A zeroed byte array on a SharedArrayBuffer (passed to a worker thread without a copy). */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
