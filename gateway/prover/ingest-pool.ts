/**
 * The ingest pool: reads uploads and builds version trees in worker threads of its own, with a
 * queue of its own (so that uploads never starve proofs) and a time budget per task.
 */
import type { RowError, UploadData } from "../../protocol/records/index.js";
import type { VersionChanges } from "../store/index.js";
import { ROW_BYTES, type PackedBatch } from "../store/rows.js";
import type { TreeLevels } from "../store/tree-levels.js";
import {
  REUSE_MAX_RECORDS,
  STREAM_MIN_RECORDS,
  type ApplyRequest,
  type IngestRequest,
  type IngestResponse,
} from "./ingest-worker.js";
import { WorkerPool } from "./pool.js";

/** A batch read in a worker: its packed records, batch hash and count, or every row error. */
export type ReadBatch =
  | { ok: true; batch: PackedBatch; batchHash: string; records: number }
  | { ok: false; errors: RowError[] };

/** A version made by {@link IngestPool.apply}: its rows in tree order, root and changes. */
export interface AppliedVersion {
  rows: Uint8Array;
  root: bigint;
  changes: VersionChanges;
  /** The levels of its tree that the store keeps. */
  tree: TreeLevels;
  /** Whether the previous tree (kept, or the base's stored levels) was at hand for reuse. */
  reusedPrevious: boolean;
  /** Leaves shared with the base's stored tree, whose stored nodes were copied, not hashed. */
  sharedLeaves: number;
}

/**
 * The old-generation heap of an ingest worker, MiB. Its large data are typed arrays outside the
 * heap; the heap holds a chunk's parsed records (a 2 MiB body: tens of MB) or the record objects
 * of a tree built to be kept (at most 2^18 records: ~100 MB, with the kept one as much again).
 * Without a bound V8 let the heap of garbage from parsing 2 MiB chunks grow by ~300 MB before
 * collecting it (`scripts/lib/bench/uploads-rss.ts`), which counted in the gateway's peak.
 */
export const INGEST_HEAP_MB = 384;

/** Worker threads that read uploads and build trees, each task within `budgetMs`. */
export class IngestPool extends WorkerPool<IngestRequest, IngestResponse> {
  /**
   * Creates a pool of `size` ingest workers whose tasks get `budgetMs` each. A worker that built
   * a version of more than `retireAfterRecords` records (default: the largest tree it keeps,
   * `REUSE_MAX_RECORDS`) is stopped and replaced: an idle thread is seldom collected, and what
   * the build left (~100–200 MB at 10^6 records) otherwise stayed resident while the gateway
   * answers queries.
   */
  constructor(
    size: number,
    private readonly budgetMs: number,
    private readonly retireAfterRecords = REUSE_MAX_RECORDS,
    opts: {
      /**
       * Records from which a version's tree is hashed from its rows, reusing the base's stored
       * levels (default `STREAM_MIN_RECORDS`; tests take the same path on small versions).
       */
      streamFrom?: number;
      /** The old-generation heap of each worker, MiB (default {@link INGEST_HEAP_MB}). */
      heapMb?: number;
    } = {},
  ) {
    super(size, "./ingest-worker.ts", { name: "ingest" }, "thread", {
      maxOldGenerationSizeMb: opts.heapMb ?? INGEST_HEAP_MB,
    });
    this.heapMb = opts.heapMb ?? INGEST_HEAP_MB;
    this.streamFrom = opts.streamFrom ?? STREAM_MIN_RECORDS;
  }

  /** Records from which a version's tree is hashed from its rows (and the base's levels reused). */
  readonly streamFrom: number;
  /** The old-generation heap of each worker, MiB. */
  readonly heapMb: number;

  protected override retires(reply: IngestResponse): boolean {
    return (
      reply.ok &&
      reply.kind === "applied" &&
      reply.rows.length / ROW_BYTES > this.retireAfterRecords
    );
  }

  /** The Upload message's `dataHash` of an upload's data (`uploadDataHash`), in a worker. */
  async dataHash(data: unknown): Promise<string> {
    const r = await this.run({ kind: "hash", data }, this.budgetMs);
    if (r.ok && r.kind === "hashed") return r.dataHash;
    throw new Error("ingest worker returned no hash");
  }

  /** Validates and maps a batch of `schemaId` (protocol/records `parseBatch`) in a worker. */
  async read(schemaId: string, data: UploadData): Promise<ReadBatch> {
    const r = await this.run({ kind: "parse", schemaId, data }, this.budgetMs);
    if (r.ok && r.kind === "parsed") {
      return { ok: true, batch: r.batch, batchHash: r.batchHash, records: r.records };
    }
    if (r.ok && r.kind === "invalid") return { ok: false, errors: r.errors };
    throw new Error("ingest worker returned no batch");
  }

  /**
   * Applies an upload's batches to its base version and builds the new tree, in a worker; the
   * budget grows with the records involved (one budget per 5·10^3 records: the chunks were
   * validated already and the commit is the owner's, so the bound only stops a runaway task;
   * one per 2·10^4 stopped a 10^5-record commit on a machine at load 20).
   */
  async apply(req: ApplyRequest): Promise<AppliedVersion | { tooMany: number }> {
    const n = (req.base.length + req.batches.reduce((s, b) => s + b.rows.length, 0)) / 96;
    const budget = this.budgetMs * Math.max(1, Math.ceil(n / 5_000));
    const r = await this.run({ kind: "apply", streamFrom: this.streamFrom, ...req }, budget);
    if (r.ok && r.kind === "tooMany") return { tooMany: r.records };
    if (!r.ok || r.kind !== "applied") throw new Error("tree build returned no root");
    return {
      rows: r.rows,
      root: BigInt(r.root),
      changes: r.changes,
      tree: r.tree,
      reusedPrevious: r.reused,
      sharedLeaves: r.sharedLeaves,
    };
  }
}
