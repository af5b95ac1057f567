/**
 * The ingest pool: reads uploads and builds version trees in worker threads of its own, with a
 * queue of its own (so that uploads never starve proofs) and a time budget per task.
 */
import type { MappedRecord, RowError, UploadData } from "../../protocol/records/index.js";
import type { IngestRequest, IngestResponse } from "./ingest-worker.js";
import { WorkerPool } from "./pool.js";
import type { VersionPayload } from "./worker.js";

/** A batch read in a worker: its sorted records and batch hash, or every row error. */
export type ReadBatch =
  { ok: true; records: MappedRecord[]; batchHash: string } | { ok: false; errors: RowError[] };

/** Worker threads that read uploads and build trees, each task within `budgetMs`. */
export class IngestPool extends WorkerPool<IngestRequest, IngestResponse> {
  /** Creates a pool of `size` ingest workers whose tasks get `budgetMs` each. */
  constructor(
    size: number,
    private readonly budgetMs: number,
  ) {
    super(size, "./ingest-worker.ts", { name: "ingest" });
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
    if (r.ok && r.kind === "parsed")
      return { ok: true, records: r.records, batchHash: r.batchHash };
    if (r.ok && r.kind === "invalid") return { ok: false, errors: r.errors };
    throw new Error("ingest worker returned no batch");
  }

  /** Builds a version's tree in a worker; resolves with its root. */
  async buildRoot(v: VersionPayload): Promise<bigint> {
    const r = await this.run({ kind: "build", ...v }, this.budgetMs);
    if (!r.ok || r.kind !== "built") throw new Error("tree build returned no root");
    return BigInt(r.root);
  }
}
