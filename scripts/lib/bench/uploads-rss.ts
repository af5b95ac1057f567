/**
 * Memory of the gateway's ingest and answering code paths on one version of N quality records
 * (issue 12: "peak RSS ≤ 1 GiB while ingesting and while answering queries on a 10^6-record
 * version"), stage by stage, without a chain or the 40-minute `uploads` bench: a real
 * `GatewayStore` (LevelDB in a temp folder) and a real ingest worker pool (`IngestPool`).
 *
 * Stages (the process's peak RSS, VmHWM, is reset before each; the main thread's heap, external
 * and array buffers are sampled every 20 ms):
 * - upload: CSV chunks of ~2 MiB (the CLI's split) read in the ingest worker, stored as session
 *   chunks (`putSessionChunk`, synced), as `receiveChunk` does;
 * - commit: the chunks read into one shared buffer (`commitSession`), then either the worker's
 *   `apply` (apply + sort + tree, `--worker`, the gateway's path) or the same steps inline on
 *   this thread, one stage each (apply, sort, tree: `--objects` forces the tree over record
 *   objects, the path before `versionTree` streamed it), then `putVersion`;
 * - answering: the range's boundary leaves and totals (`leafBelow`), the witness slice
 *   (`loadTreeSlice`), and the differencing guard's universe read from the store with one check
 *   against 1,000 answered sets (`storedUniverse`, `checkDifferencing`).
 *
 * Usage: bash scripts/env.sh npx tsx scripts/lib/bench/uploads-rss.ts N [--worker] [--objects]
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keyRange } from "../../../protocol/records/index.js";
import { IngestPool } from "../../../gateway/prover/ingest-pool.js";
import {
  applyBatches,
  sortRowsInPlace,
  versionTree,
} from "../../../gateway/prover/ingest-worker.js";
import { GatewayStore, type UploadSession } from "../../../gateway/store/index.js";
import {
  ROW_BYTES,
  decodeBatch,
  encodeBatch,
  rowCount,
  sharedBytes,
} from "../../../gateway/store/rows.js";
import { loadTreeSlice } from "../../../gateway/store/tree-levels.js";
import { storedUniverse } from "../../../gateway/usecases/differencing-store.js";
import { checkDifferencing, type RecordSet } from "../../../gateway/usecases/differencing.js";

const SCHEMA = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const DEPTH = 20;
/** Rows per CSV chunk: ~1.9 MB of JSON, within the default 2 MiB body limit as the CLI splits. */
const CHUNK_ROWS = 18_000;

const MiB = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

function vm(field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Stage {
  stage: string;
  seconds: number;
  peakRssMiB: number;
  endRssMiB: number;
  heapMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
}

const stages: Stage[] = [];

/** Runs one stage and records its peak RSS (VmHWM reset before) and sampled heap figures. */
async function stage<T>(name: string, work: () => Promise<T> | T): Promise<T> {
  (globalThis as { gc?: () => void }).gc?.();
  writeFileSync("/proc/self/clear_refs", "5");
  const max = { heap: 0, external: 0, ab: 0 };
  const sample = () => {
    const u = process.memoryUsage();
    max.heap = Math.max(max.heap, u.heapUsed);
    max.external = Math.max(max.external, u.external);
    max.ab = Math.max(max.ab, u.arrayBuffers);
  };
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    sample();
    const s: Stage = {
      stage: name,
      seconds: Math.round(performance.now() - t0) / 1000,
      peakRssMiB: MiB(vm("VmHWM")),
      endRssMiB: MiB(vm("VmRSS")),
      heapMiB: MiB(max.heap),
      externalMiB: MiB(max.external),
      arrayBuffersMiB: MiB(max.ab),
    };
    stages.push(s);
    console.error(JSON.stringify(s));
  }
}

/** CSV rows start .. end − 1 in the `uploads` bench's form (1 record in 50 per part number). */
function csvChunk(start: number, end: number): string {
  const lines = [
    "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests,partId",
  ];
  const day0 = Date.UTC(2024, 0, 1);
  for (let i = start; i < end; i++) {
    const date = new Date(day0 + (i % 700) * 86_400_000).toISOString().slice(0, 10);
    lines.push(
      `GBX-${3232455 + (i % 50)},${4711 + (i % 4)},${date},${i % 17 === 0},${1 + (i % 5)},${randomUUID()}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? "1e5");
  const inWorker = process.argv.includes("--worker");
  const objects = process.argv.includes("--objects");
  /** The new version in a buffer of its own (`inPlace: false`), to compare with compaction. */
  const copy = process.argv.includes("--copy");
  const dir = await mkdtemp(path.join(os.tmpdir(), "partproof-uploads-rss-"));
  const store = await GatewayStore.open(dir);
  const pool = new IngestPool(1, 600_000);
  try {
    const chunkCount = Math.ceil(n / CHUNK_ROWS);
    let s: UploadSession = {
      assetId: "1",
      sessionId: "0x" + "ab".repeat(32),
      owner: "0x" + "11".repeat(20),
      replace: true,
      chunkCount,
      records: 0,
      bytes: 0,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    await store.putSession(s);
    await stage("upload: read chunks in the worker, store them", async () => {
      for (let c = 0; c < chunkCount; c++) {
        const csv = csvChunk(c * CHUNK_ROWS, Math.min((c + 1) * CHUNK_ROWS, n));
        const parsed = await pool.read(SCHEMA, { format: "csv", csv });
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors.slice(0, 3)));
        const value = Buffer.concat([Buffer.alloc(32), encodeBatch(parsed.batch)]);
        s = await store.putSessionChunk(s, c, value, parsed.records, csv.length);
      }
    });
    const batches = await stage("commit: session chunks into one shared buffer", async () => {
      const shared = sharedBytes(s.records * ROW_BYTES);
      const out = [];
      let at = 0;
      for await (const v of store.sessionChunkValues(s.assetId, s.sessionId)) {
        const b = decodeBatch(v.subarray(32), shared.subarray(at));
        at += b.rows.length;
        out.push(b);
      }
      return out;
    });
    // as commitSession: the shared buffer is the commit's alone, the version compacted into it
    const req = {
      base: new Uint8Array(0),
      baseRoot: "",
      batches,
      depth: DEPTH,
      minMaxField: 3,
      inPlace: !copy,
    };
    let built: {
      rows: Uint8Array;
      root: string;
      tree: Awaited<ReturnType<typeof versionTree>>["tree"];
    };
    if (inWorker) {
      built = await stage("commit: apply + sort + tree in the ingest worker", async () => {
        const r = await pool.apply(req);
        if ("tooMany" in r) throw new Error("too many records");
        return { rows: r.rows, root: r.root.toString(), tree: r.tree };
      });
    } else {
      const merged = await stage("commit: apply the batches", () => applyBatches(req));
      batches.length = 0;
      const rows = await stage("commit: sort the rows", () => sortRowsInPlace(merged.rows));
      const t = await stage(`commit: tree (${objects ? "objects" : "versionTree"})`, () =>
        versionTree(rows, DEPTH, 3, undefined, objects ? Infinity : undefined),
      );
      built = { rows, root: t.root, tree: t.tree };
    }
    batches.length = 0;
    const version = await stage("commit: putVersion (rows, levels, metadata)", () =>
      store.putVersion(
        {
          assetId: "1",
          schemaId: SCHEMA,
          batchHash: "0x" + "00".repeat(32),
          root: built.root,
          depth: DEPTH,
          recordCount: rowCount(built.rows),
          rows: built.rows,
          tree: built.tree,
          createdAt: Date.now(),
        },
        s.owner,
      ),
    );
    built = undefined as never;
    const part = keyRange({ partNumber: "GBX-3232455" });
    const totals = await stage("answer: cohort totals of one part's range", async () =>
      store.rangeStats(version, part.keyLo, part.keyHi),
    );
    await stage("answer: witness slice of the range's boundary leaves", async () => {
      const a = await store.leafBelow(version, part.keyLo);
      const l = await store.leafBelow(version, part.keyHi + 1n);
      return loadTreeSlice(
        { ...version, treeLevelsFrom: version.treeLevelsFrom! },
        3,
        [a, l],
        store.treeSource(version),
      );
    });
    await stage("answer: differencing universe + one check (1,000 answered)", async () => {
      const universe = await storedUniverse(store, [[version.root, version] as const]);
      const answered: RecordSet[] = Array.from({ length: 1000 }, (_, i) => {
        const p = keyRange({ partNumber: `GBX-${3232455 + (i % 50)}` });
        return { versionId: version.root, lo: p.keyLo, hi: p.keyHi, predicates: [] };
      });
      return checkDifferencing(
        universe,
        answered,
        { versionId: version.root, lo: part.keyLo, hi: part.keyHi, predicates: [] },
        3,
      );
    });
    console.log(
      JSON.stringify({
        records: n,
        mode:
          (inWorker ? "worker" : objects ? "inline, objects" : "inline, versionTree") +
          (copy ? ", copy" : ", in place"),
        root: version.root,
        partRecords: totals.count,
        peakRssMiB: Math.max(...stages.map((x) => x.peakRssMiB)),
        stages,
        loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
      }),
    );
  } finally {
    await pool.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
