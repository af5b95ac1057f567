/**
 * Bytes on disk of an asset's growing data set: a base version and 10 appended versions, each
 * the previous records plus a batch, stored through the gateway's store (`GatewayStore`
 * `putVersion`, as an upload's commit stores them). Two shapes of append: the new records'
 * keys interleave with the old ones (quality records of 50 parts × 4 plants on later days: each
 * (part, plant) group grows at its end, 200 insertion points), or they all sort after them
 * (new parts). The folder's size is measured after the store is closed and opened again (the
 * write-ahead log then is in tables).
 *
 * Usage (a child of scripts/bench.ts): node --import tsx scripts/lib/bench/version-storage.ts
 * [base] [append] prints one JSON line per shape.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ROOT, loadavg, parseCount, round } from "./common.js";

/** The store API this measurement needs (the gateway's store of any layout). */
interface StoreLike {
  putVersion(nv: Record<string, unknown>, owner?: string): Promise<unknown>;
  close(): Promise<void>;
}
type OpenStore = (dir: string) => Promise<StoreLike>;

/** One shape's measurement. */
export interface VersionStorageRun {
  shape: "interleaved" | "at the end";
  baseRecords: number;
  appendRecords: number;
  versions: number;
  /** Bytes of rows the versions hold together (96 a record). */
  rowBytes: number;
  /** Bytes of the LevelDB folder. */
  diskBytes: number;
  loadavg: number[];
}

const ROW_BYTES = 96;

/** Rows (key, values, salt; no identity) sorted by key, as the tree orders them. */
function rowsOf(keys: bigint[], salts: Buffer[]): Uint8Array {
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  const out = new Uint8Array(keys.length * ROW_BYTES);
  const v = new DataView(out.buffer);
  order.forEach((i, k) => {
    const o = k * ROW_BYTES;
    v.setBigUint64(o, keys[i]! & ((1n << 64n) - 1n), true);
    v.setBigUint64(o + 8, keys[i]! >> 64n, true);
    v.setBigUint64(o + 16, 1n, true);
    out.set(salts[i]!, o + 48);
  });
  return out;
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
}

/** Stores a base and `versions` − 1 appended versions; returns the folder's size. */
export async function measureVersionStorage(
  open: OpenStore,
  shape: VersionStorageRun["shape"],
  base: number,
  append: number,
  versions = 11,
): Promise<VersionStorageRun> {
  const work = await mkdtemp(path.join(os.tmpdir(), "partproof-bench-storage-"));
  const dir = path.join(work, "db");
  const keys: bigint[] = [];
  const salts: Buffer[] = [];
  const add = (count: number, day0: number, part0: number) => {
    for (let i = 0; i < count; i++) {
      const part = shape === "interleaved" ? BigInt(1 + (i % 50)) : BigInt(part0 + (i % 50));
      const plant = BigInt(1 + (Math.floor(i / 50) % 4));
      const day = BigInt(day0 + (i % 100));
      keys.push((part << 80n) + (plant << 32n) + day);
      salts.push(randomBytes(31));
    }
  };
  let rowBytes = 0;
  try {
    const store = await open(dir);
    for (let k = 0; k < versions; k++) {
      if (k === 0) add(base, 0, 1);
      else add(append, 1000 * k, 100 * k);
      const rows = rowsOf(keys, salts);
      rowBytes += rows.length;
      await store.putVersion(
        {
          assetId: "1",
          schemaId: "s",
          batchHash: `0x${k.toString(16).padStart(2, "0")}`,
          root: String(1000 + k),
          depth: 20,
          recordCount: keys.length,
          rows,
          createdAt: Date.now(),
        },
        "0x01",
      );
    }
    await store.close();
    await (await open(dir)).close();
    return {
      shape,
      baseRecords: base,
      appendRecords: append,
      versions,
      rowBytes,
      diskBytes: folderBytes(dir),
      loadavg: loadavg(),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === path.join(ROOT, "scripts/lib/bench/version-storage.ts")
) {
  const { GatewayStore } = await import("../../../gateway/store/index.js");
  const base = parseCount(process.argv[2] ?? "1e5");
  const append = parseCount(process.argv[3] ?? "1e4");
  for (const shape of ["interleaved", "at the end"] as const) {
    const r = await measureVersionStorage(
      (dir) => GatewayStore.open(dir) as Promise<StoreLike>,
      shape,
      base,
      append,
    );
    console.log(JSON.stringify({ ...r, diskMiB: round(r.diskBytes / 2 ** 20, 1) }));
  }
}
