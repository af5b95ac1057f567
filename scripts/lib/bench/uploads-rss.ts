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
 * - append (`--append K`): K more records added to the version (issue 13: "adding 10^4 records
 *   to a 10^6-record version rehashes only what changed"), at the end of the key order (a part
 *   number whose code sorts after every other), or `--spread` (new days of every part and plant:
 *   ~200 insertion points, so every leaf from the first one on moves): the ingest worker's apply
 *   without the base's stored levels (the path before they were reused), the same with them,
 *   then the gateway's `commitUpload` (store reads, worker, putVersion).
 *
 * Usage: bash scripts/env.sh npx tsx scripts/lib/bench/uploads-rss.ts N [--worker] [--objects]
 *        [--append K [--spread]] [--stream-from M]
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { randomSalt } from "../../../circuits/lib/tree.js";
import { keyRange, qualitySchema } from "../../../protocol/records/index.js";
import { commitContext, commitUpload } from "../../../gateway/usecases/ingest.js";
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

/**
 * CSV rows start .. end − 1 in the `uploads` bench's form (1 record in 50 per part number, days
 * `firstDay` .. `firstDay` + 699 of 2024-), or all of part number `part` when given.
 */
function csvChunk(start: number, end: number, firstDay = 0, part?: string): string {
  const lines = [
    "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests,partId",
  ];
  const day0 = Date.UTC(2024, 0, 1);
  for (let i = start; i < end; i++) {
    const date = new Date(day0 + (firstDay + (i % 700)) * 86_400_000).toISOString().slice(0, 10);
    lines.push(
      `${part ?? `GBX-${3232455 + (i % 50)}`},${4711 + (i % 4)},${date},${i % 17 === 0},${1 + (i % 5)},${randomUUID()}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? "1e5");
  const inWorker = process.argv.includes("--worker");
  const objects = process.argv.includes("--objects");
  const at = process.argv.indexOf("--append");
  const append = at > 0 ? Number(process.argv[at + 1]) : 0;
  const spread = process.argv.includes("--spread");
  const dir = await mkdtemp(path.join(os.tmpdir(), "partproof-uploads-rss-"));
  const store = await GatewayStore.open(dir);
  // `--stream-from M`: hash versions of M records or more from their rows (default 2^18 + 1)
  const sf = process.argv.indexOf("--stream-from");
  const pool = new IngestPool(
    1,
    600_000,
    undefined,
    sf > 0 ? { streamFrom: Number(process.argv[sf + 1]) } : {},
  );
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
    // as commitSession: the chunks' rows in one shared buffer, the version in a buffer of its own
    const req = {
      base: new Uint8Array(0),
      baseRoot: "",
      batches,
      depth: DEPTH,
      minMaxField: 3,
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
    const appended = append > 0 ? await appendStages(store, pool, version, n, append, spread) : {};
    console.log(
      JSON.stringify({
        records: n,
        ...appended,
        mode: inWorker ? "worker" : objects ? "inline, objects" : "inline, versionTree",
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

/**
 * Adds `k` records to `version` (at the end of the key order, or `spread` over every part and
 * plant): the worker's apply without and with the base's stored levels, then `commitUpload`.
 */
async function appendStages(
  store: GatewayStore,
  pool: IngestPool,
  version: Awaited<ReturnType<GatewayStore["putVersion"]>>,
  n: number,
  k: number,
  spread: boolean,
) {
  // a part number whose key range lies above the 50 the version holds
  const top = Math.max(
    ...Array.from({ length: 50 }, (_, i) =>
      Number(keyRange({ partNumber: `GBX-${3232455 + i}` }).keyHi >> 80n),
    ),
  );
  let part = "GBX-APPEND-0";
  for (let j = 1; Number(keyRange({ partNumber: part }).keyLo >> 80n) <= top; j++) {
    part = `GBX-APPEND-${j}`;
  }
  const csv = spread ? csvChunk(n, n + k, 700) : csvChunk(n, n + k, 0, part);
  const parsed = await pool.read(SCHEMA, { format: "csv", csv });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors.slice(0, 3)));
  // the request commitUpload makes: the base's rows, then the upload's, in one shared buffer
  // (the same salts both times, so that both builds must give the same root)
  const salts = Array.from({ length: k }, () => randomSalt());
  const request = async () => {
    let whole: Uint8Array = new Uint8Array(0);
    const base = await store.versionRows(version, 0, n, (bytes) => {
      whole = sharedBytes(bytes + parsed.batch.rows.length);
      return whole.subarray(0, bytes);
    });
    const rows = whole.subarray(base.length);
    rows.set(parsed.batch.rows);
    return {
      base,
      baseRoot: version.root,
      batches: [{ ...parsed.batch, rows }],
      salts,
      depth: DEPTH,
      minMaxField: 3,
    };
  };
  const applied = async (r: Awaited<ReturnType<IngestPool["apply"]>>) => {
    if ("tooMany" in r) throw new Error("too many records");
    return { root: r.root.toString(), sharedLeaves: r.sharedLeaves };
  };
  const before = await stage(
    `append ${k}${spread ? " spread" : " at the end"}: worker apply, no stored levels (before)`,
    async () => applied(await pool.apply(await request())),
  );
  const baseTree = (await store.versionTreeLevels(version))!;
  const after = await stage(
    `append ${k}${spread ? " spread" : " at the end"}: worker apply, stored levels reused`,
    async () => applied(await pool.apply({ ...(await request()), baseTree })),
  );
  if (after.root !== before.root) throw new Error("the reused levels gave another root");
  const lines: string[] = [];
  const ctx = commitContext(store, pool, {
    depth: DEPTH,
    log: pino({ level: "info" }, { write: (l: string) => void lines.push(l) }),
  });
  const committed = await stage(
    `append ${k}${spread ? " spread" : " at the end"}: commitUpload (gateway path)`,
    () =>
      commitUpload(ctx, {
        assetId: 1n,
        owner: "0x" + "11".repeat(20),
        schema: qualitySchema,
        replace: false,
        batches: [parsed.batch],
        batchHash: parsed.batchHash,
      }),
  );
  const built = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "version built");
  return {
    append: {
      records: k,
      where: spread ? "spread" : "end",
      sharedLeaves: after.sharedLeaves,
      commitSharedLeaves: built?.sharedLeaves,
      recordCount: committed.version.recordCount,
    },
  };
}

await main();
