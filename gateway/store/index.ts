/**
 * The gateway's LevelDB store: versions (records, salts), nonces, jobs, answers and the
 * chain outbox. Every state change that must not be torn is one LevelDB batch: a version with
 * its indexes; an accepted query with its nonce; a proved answer with its outbox entry; a
 * logged answer with the removal of its outbox entry.
 *
 * Sublevels (keys):
 * - `versions`   `<assetId>!<localId>` → StoredVersion (metadata only: root, counts, changes,
 *                the first key of each row chunk)
 * - `chunks`     `<assetId>!<chunkId>` → a chunk of rows (`rows.ts`: key, values, salt,
 *                identity; binary), content-addressed: a version lists its chunks in tree
 *                order, and versions of an asset share the chunks they have in common
 * - `treeNodes`  `<assetId>!<localId>!<level>!<chunk>` → nodes of a stored level of the
 *                version's tree (`tree-levels.ts`: levels 4 and above, 64 nodes a chunk), and
 *                `<assetId>!<localId>!pads` → the padding node of every level (layout 4)
 * - `rows`       layout 2 only (`<assetId>!<localId>!<chunk>`), emptied by the migration to 3
 * - `sessions`   `<assetId>!<sessionId>` → UploadSession; `sessionChunks`
 *                `<assetId>!<sessionId>!<index>` → a parsed chunk (`encodeBatch`)
 * - `byBatch`    `<assetId>!<batchHash>` → localId (idempotent ingest)
 * - `byRoot`     `<root>` → `<assetId>!<localId>` (the chain's root → local records)
 * - `meta`       `seq!<assetId>` → last local version number of the asset
 * - `nonces`     `<signer>!<nonce>` → requestId
 * - `requests`   `<grantId>!<requestId>` → jobId (a request id is answered once per grant, as
 *                on-chain: another grant's use of the same id neither blocks nor fails it)
 * - `jobs`       `<jobId>` → Job
 * - `byConsumer` `<consumer>!<createdAt>!<jobId>` → jobId
 * - `outbox`     `<grantId>!<requestId>` → OutboxEntry
 * - `answered`   the differencing guard's answered sets (`answered.ts`)
 * - `settings`   `schemaVersion` → {@link STORE_SCHEMA_VERSION}; older stores are migrated at open
 *
 * Every value but `settings` (plain, so that any gateway reads a folder's layout first) carries
 * its type's schema version and is read through the type's codec (`codec.ts`), which upgrades an
 * older value and refuses a newer one naming its key.
 *
 * Writes that a client's 2xx acknowledges (versions, upload chunks and sessions) are synced.
 */
import { randomUUID } from "node:crypto";
import { Level } from "level";
import { KeyedMutex } from "../locks.js";
import type { MappedRecord } from "../../protocol/records/types.js";
import type { StoredPolicy, StoredQuery } from "./job-codec.js";
import {
  ROW_BYTES,
  chunkId,
  chunkStarts,
  concatBytes,
  readRow,
  rowCount,
  rowKey,
  rowValues,
  writeRow,
} from "./rows.js";
import {
  buildTree,
  DEFAULT_MINMAX_FIELD,
  nodeTupleAt,
  treeNodeBytes,
} from "../../circuits/lib/tree.js";
import {
  levelChunks,
  levelsFromRows,
  levelsToStore,
  type TreeLevels,
  type TreeSource,
} from "./tree-levels.js";
import { CODECS, Stored, type CodecName, type ValueCodec } from "./codec.js";

/**
 * The layout of the stored data; 1 = records and salts as one JSON value per version, 2 = rows
 * in fixed chunks per version, 3 = content-addressed chunks shared between versions, 4 = and
 * the upper levels of each version's tree (`treeNodes`), 5 = every value carries the schema
 * version of its type (`codec.ts`).
 */
export const STORE_SCHEMA_VERSION = 5;

/** What a version changed against the version it was built on. */
export interface VersionChanges {
  /** Records new in this version. */
  added: number;
  /** Records that replaced an earlier record of the same identity. */
  replaced: number;
  /** Records removed (`recordStatus` deleted, or a deprecated footprint). */
  removed: number;
}

/**
 * A stored version's metadata; its records and salts are in chunks of rows (`rows.ts`), read
 * with {@link GatewayStore.versionRows}, {@link GatewayStore.versionData} or
 * {@link GatewayStore.rangeStats}.
 */
export interface StoredVersion {
  /** On-chain asset id (decimal string). */
  assetId: string;
  /** Local version number (1, 2, …) of this asset on this gateway. */
  localId: number;
  /** Schema URN. */
  schemaId: string;
  /** keccak256 of the canonical batch (see `batchHash`). */
  batchHash: string;
  /** Tree root (decimal string). */
  root: string;
  /** Tree depth. */
  depth: number;
  /** Number of records. */
  recordCount: number;
  /** Creation time (ms since epoch). */
  createdAt: number;
  /** The local version this one adds to (0: a new data set, an upload with `replace`). */
  base?: number;
  /** What changed against `base`. */
  changes?: VersionChanges;
  /** The first key of each chunk of rows (decimal strings), for range reads. */
  chunkFirstKeys?: string[];
  /** The content ids of the version's chunks, in tree order (layout 3). */
  chunkIds?: string[];
  /** The index of each chunk's first row. */
  chunkStarts?: number[];
  /** The lowest level of the version's tree kept in `treeNodes` (absent: not stored). */
  treeLevelsFrom?: number;
}

/** A new version for {@link GatewayStore.putVersion}: its rows, or records and salts. */
export type NewVersion = Omit<
  StoredVersion,
  "localId" | "chunkFirstKeys" | "chunkIds" | "chunkStarts" | "treeLevelsFrom"
> & { /** The tree's levels to keep (the build's), when at hand. */ tree?: TreeLevels } & (
    | { rows: Uint8Array }
    | {
        /** Records sorted by key: [key, v0, v1, v2, v3] as decimal strings. */
        records: string[][];
        /** Per-record salts (decimal strings), same order as `records`. */
        salts: string[];
      }
  );

/** An upload session (`routes/uploads.ts`): chunks received so far, committed or not. */
export interface UploadSession {
  assetId: string;
  /** Chosen by the client (bytes32 hex). */
  sessionId: string;
  /** The owner who started it. */
  owner: string;
  /** Start a new data set instead of adding to the latest version. */
  replace: boolean;
  /** Number of chunks the upload has. */
  chunkCount: number;
  /** Records received so far (in stored chunks). */
  records: number;
  /** Bytes of data received so far. */
  bytes: number;
  /** The version made by the commit, once committed. */
  localId?: number;
  createdAt: number;
  /** Last chunk received (or start): an uncommitted session expires a lifetime after it. */
  updatedAt: number;
  /** When the session expired and its chunks were deleted (a tombstone until forgotten). */
  expiredAt?: number;
}

/** Status of a query job. */
export type JobStatus = "queued" | "proving" | "proved" | "logged" | "failed";

/** A query job: the accepted query and, once proved, its answer. */
export interface Job {
  /** Random job id (a capability: whoever holds it may read the job). */
  id: string;
  /** Current status. */
  status: JobStatus;
  /** The consumer's request id (bytes32 hex). */
  requestId: string;
  /** The signer of the query (the grant's consumer). */
  consumer: string;
  /** Grant id (decimal string). */
  grantId: string;
  /** Asset id (decimal string). */
  assetId: string;
  /** On-chain version id the answer is computed over (decimal string). */
  versionId: string;
  /** Root of that version (decimal string). */
  root: string;
  /** The circuit instance name (e.g. range_d4). */
  circuit: string;
  /** The query as signed (decimal strings for big numbers; `job-codec.ts`). */
  query: StoredQuery;
  /** Number of records the answer covers (its cohort, at least the grant's k). */
  cohort?: number;
  /** The grant's policy at acceptance (decimal strings; `job-codec.ts`). */
  policy: StoredPolicy;
  /** Binding public signal (decimal string). */
  binding: string;
  /**
   * The consumer's AnswerConsent for recordAnswer: the version rule it signed (the query's
   * versionId, 0 = latest) and the signature.
   */
  consent?: { versionId: string; signature: string };
  /** The blind of the result commitment (decimal string); only the consumer gets it. */
  blind: string;
  /** The answer: resultValue and resultAux (decimal strings), once proved. */
  answer?: { resultValue: string; resultAux: string };
  /** snarkjs proof, once proved. */
  proof?: unknown;
  /** Public signals (decimal strings), once proved. */
  publicSignals?: string[];
  /** Proving wall time in ms. */
  provingMs?: number;
  /** Transaction that logged the answer on-chain. */
  logTx?: { hash: string; blockNumber: number };
  /** Why the job failed (no record data). */
  error?: { code: string; message: string };
  /** Creation time (ms). */
  createdAt: number;
  /** Last update (ms). */
  updatedAt: number;
  /** Where the proving time went (prover pool): tree, witness, Groth16 proof, ms. */
  provingSteps?: { treeMs: number; witnessMs: number; proveMs: number };
}

/** A pending chain submission of a proved answer. */
export interface OutboxEntry {
  /** Grant id (decimal string); with the request id, the key. */
  grantId: string;
  /** Request id (bytes32 hex). */
  requestId: string;
  /** Job it belongs to. */
  jobId: string;
  /** Submission attempts so far. */
  attempts: number;
  /** Earliest time of the next attempt (ms). */
  nextAttemptAt: number;
  /** Hash of a sent, not yet confirmed transaction. */
  txHash?: string;
  /** Last error code (no record data). */
  lastError?: string;
  /** Creation time (ms). */
  createdAt: number;
}

type Json = unknown;

/** Serialises records for storage. */
export function encodeRecords(records: readonly MappedRecord[]): string[][] {
  return records.map((r) => [r.key.toString(), ...r.values.map((v) => v.toString())]);
}

/** Reads stored records back. */
export function decodeRecords(rows: readonly string[][]): MappedRecord[] {
  return rows.map((r) => ({
    key: BigInt(r[0]!),
    values: [BigInt(r[1]!), BigInt(r[2]!), BigInt(r[3]!), BigInt(r[4]!)],
  }));
}

/** A refused query whose refusal depended on the data (charged to its grant, exported). */
export interface Refusal {
  /** The request id the consumer signed. */
  requestId: string;
  /** Grant the query was made under. */
  grantId: string;
  /** The signer. */
  consumer: string;
  /** Asset asked. */
  assetId: string;
  /** Version the query was checked against. */
  versionId: string;
  /** What was asked (stored form). */
  query: StoredQuery;
  /** The refusal's code (COHORT_BELOW_K, UNSUPPORTED_QUERY). */
  code: string;
  /** When (ms). */
  at: number;
}

/** The gateway's LevelDB store. */
export class GatewayStore {
  private readonly db: Level<string, Json>;
  private readonly versions;
  private readonly byBatch;
  private readonly byRoot;
  private readonly meta;
  private readonly nonces;
  private readonly requests;
  private readonly jobs;
  private readonly byConsumer;
  private readonly outbox;
  private readonly settings;
  private readonly refusals;
  private readonly rows;
  private readonly chunks;
  private readonly treeNodes;
  /** Serialises the writes and collections of an asset's chunks. */
  private readonly chunkLocks = new KeyedMutex();
  private readonly sessions;
  private readonly sessionChunks;
  private readonly answered;

  private constructor(db: Level<string, Json>) {
    this.db = db;
    const json = <V>(name: CodecName) =>
      new Stored<V, string>(
        name,
        db.sublevel<string, string>(name, { valueEncoding: "utf8" }),
        CODECS[name] as unknown as ValueCodec<V, string>,
      );
    const bytes = (name: "chunks" | "treeNodes" | "sessionChunks") =>
      new Stored<Uint8Array, Uint8Array>(
        name,
        db.sublevel<string, Uint8Array>(name, { valueEncoding: "view" }),
        CODECS[name],
      );
    this.versions = json<StoredVersion>("versions");
    this.byBatch = json<number>("byBatch");
    this.byRoot = json<string>("byRoot");
    this.meta = json<number>("meta");
    this.nonces = json<string>("nonces");
    this.requests = json<string>("requests");
    this.jobs = json<Job>("jobs");
    this.byConsumer = json<string>("byConsumer");
    this.outbox = json<OutboxEntry>("outbox");
    // the layout's own record (`schemaVersion`) and the gateway id: plain JSON, unversioned, so
    // that a gateway of any layout reads which layout the folder has before anything else
    this.settings = db.sublevel<string, string>("settings", { valueEncoding: "json" });
    this.refusals = json<Refusal>("refusals");
    // layout 2's rows: only ever read (and emptied) by the migration to layout 3
    this.rows = db.sublevel<string, Uint8Array>("rows", { valueEncoding: "view" });
    this.chunks = bytes("chunks");
    this.treeNodes = bytes("treeNodes");
    this.sessions = json<UploadSession>("sessions");
    this.sessionChunks = bytes("sessionChunks");
    this.answered = json<unknown>("answered");
  }

  /** Opens (creating if needed) the store in `dir`; migrates an older layout first. */
  static async open(dir: string): Promise<GatewayStore> {
    const db = new Level<string, Json>(dir, { valueEncoding: "json" });
    await db.open();
    const store = new GatewayStore(db);
    try {
      await store.migrate();
    } catch (e) {
      // e.g. a value of a newer schema version: the error names it; the folder is left as it is
      await db.close();
      throw e;
    }
    return store;
  }

  /**
   * One LevelDB batch of operations on sublevels of different value types, written through
   * to disk before it resolves (what a 2xx acknowledges must survive a crash of the machine).
   */
  private async synced(ops: readonly object[]): Promise<void> {
    await this.write(ops, true);
  }

  /** One LevelDB batch of operations on sublevels of different value types (`putOp`s…). */
  private async write(ops: readonly object[], sync = false): Promise<void> {
    const batch = this.db.batch as unknown as (
      ops: readonly object[],
      o: { sync: boolean },
    ) => Promise<void>;
    await batch.call(this.db, ops, { sync });
  }

  /** The stored layout's version (1 when the store predates the setting). */
  async schemaVersion(): Promise<number> {
    const v = await this.settings.get("schemaVersion");
    return v === undefined ? 1 : Number(v);
  }

  /**
   * Migration hook, run at open: brings a store of an older layout to
   * {@link STORE_SCHEMA_VERSION}, then records the new layout.
   */
  private async migrate(): Promise<void> {
    const from = await this.schemaVersion();
    if (from >= STORE_SCHEMA_VERSION) return;
    if (from < 3) await this.migrateToSharedChunks();
    if (from < 4) await this.migrateToStoredLevels();
    if (from < 5) await this.migrateToVersionedValues();
    await this.synced([
      {
        type: "put",
        sublevel: this.settings,
        key: "schemaVersion",
        value: String(STORE_SCHEMA_VERSION),
      },
    ]);
  }

  /**
   * 1 → 3 and 2 → 3: each version's rows (layout 1: JSON records and salts in the version;
   * layout 2: fixed chunks under the version) become content-addressed chunks that versions
   * share, and the old form is deleted; a version at a time, each in one synced batch, so a
   * migration stopped half-way continues where it stopped.
   */
  private async migrateToSharedChunks(): Promise<void> {
    const refs: string[] = [];
    for await (const k of this.versions.keys()) refs.push(k);
    for (const ref of refs) {
      const old = (await this.versions.get(ref)) as StoredVersion & {
        records?: string[][];
        salts?: string[];
      };
      if (!old || old.chunkIds) continue;
      const { records, salts, ...meta } = old;
      let rows: Uint8Array;
      if (records && salts) rows = legacyRows(records, salts);
      else {
        const parts: Uint8Array[] = [];
        for await (const c of this.rows.values({ gt: `${ref}!`, lt: `${ref}!~` })) parts.push(c);
        rows = concatBytes(parts);
      }
      const layout = chunkLayout(rows);
      await this.chunkLocks.run(meta.assetId, async () =>
        this.synced([
          ...(await this.chunkOps(meta.assetId, layout)),
          this.versions.putOp(ref, { ...meta, ...layout.meta }),
          ...layoutTwoKeys(ref, meta.recordCount).map((key) => ({
            type: "del" as const,
            sublevel: this.rows,
            key,
          })),
        ]),
      );
    }
  }

  /**
   * 3 → 4: each version's upper tree levels are hashed from its rows a window at a time
   * (`levelsFromRows`: bounded memory, where a tree build from every record held ~1 GB at 10^6
   * records) and stored, a version at a time, its nodes in synced groups and then its metadata's
   * `treeLevelsFrom`, so a migration stopped half-way continues with the versions left (their
   * nodes are written again). A version whose rows do not rebuild its root keeps no levels (its
   * queries rebuild the tree).
   */
  private async migrateToStoredLevels(): Promise<void> {
    const refs: string[] = [];
    for await (const k of this.versions.keys()) refs.push(k);
    const pads = new Map<number, Uint8Array>();
    for (const ref of refs) {
      const v = await this.versions.get(ref);
      if (!v || v.treeLevelsFrom !== undefined) continue;
      // the production circuits carry MIN/MAX on field 3; a version built for another field
      // does not rebuild its root with it and is left without stored levels
      const m = DEFAULT_MINMAX_FIELD;
      if (!pads.has(v.depth)) {
        // the padding nodes depend on the depth and the MIN/MAX field only: an empty tree's
        const empty = await buildTree([], [], v.depth, { minMaxField: m });
        pads.set(v.depth, levelsToStore(treeNodeBytes(empty)!).pads);
      }
      const levels = await levelsFromRows(v, m, pads.get(v.depth)!, (a, b) =>
        this.versionRows(v, a, b),
      );
      const root = nodeTupleAt(levels.levels.at(-1)!, 0)[0]!;
      if (root.toString() !== v.root) continue;
      await this.syncedInGroups(this.levelOps(v.assetId, v.localId, levels));
      await this.synced([this.versions.putOp(ref, { ...v, treeLevelsFrom: levels.from })]);
    }
  }

  /**
   * 4 → 5: every value of an older schema version than its type's (values without one: version
   * 0) is read through its codec, which upgrades it with the type's migration hooks, and written
   * back at the current version, in synced groups of ~4 MiB; a value of a newer version stops
   * the start, naming its key. Values already rewritten are skipped, so a stop half-way resumes.
   */
  private async migrateToVersionedValues(): Promise<void> {
    for (const s of [
      this.versions,
      this.byBatch,
      this.byRoot,
      this.meta,
      this.nonces,
      this.requests,
      this.jobs,
      this.byConsumer,
      this.outbox,
      this.refusals,
      this.sessions,
      this.answered,
      this.chunks,
      this.treeNodes,
      this.sessionChunks,
    ] as Stored<unknown>[]) {
      await s.upgradeAll((ops) => this.synced(ops));
    }
  }

  /** Puts of a version's stored tree levels and pads. */
  private levelOps(assetId: string, localId: number, t: TreeLevels) {
    const ref = versionRef(assetId, localId);
    const ops = [this.treeNodes.putOp(`${ref}!pads`, t.pads)];
    for (const [level, c, bytes] of levelChunks(t)) {
      ops.push(this.treeNodes.putOp(levelKey(ref, level, c), bytes));
    }
    return ops;
  }

  /**
   * What {@link loadTreeSlice} reads a version's stored tree from: its rows, the chunks of its
   * stored levels, its padding nodes.
   */
  treeSource(v: StoredVersion): TreeSource {
    const ref = versionRef(v.assetId, v.localId);
    return {
      rows: (from, to) => this.versionRows(v, from, to),
      levelChunks: async (wanted) => {
        const got = await this.treeNodes.getMany(wanted.map(([l, c]) => levelKey(ref, l, c)));
        const out = new Map<number, Uint8Array>();
        wanted.forEach(([l, c], k) => {
          if (got[k] === undefined) {
            throw new Error(`tree level ${l} chunk ${c} of version ${ref} is missing`);
          }
          out.set(l * 2 ** 32 + c, got[k]!);
        });
        return out;
      },
      pads: async () => {
        const p = await this.treeNodes.get(`${ref}!pads`);
        if (p === undefined) throw new Error(`the tree of version ${ref} is not stored`);
        return p;
      },
    };
  }

  /**
   * Every stored level of version `v`'s tree and its pads (~15 MB at 10^6 records), or
   * undefined when its levels are not stored: what an append's build copies its unchanged
   * nodes from (`levelsFromRows`' shared prefix).
   */
  async versionTreeLevels(v: StoredVersion): Promise<TreeLevels | undefined> {
    if (v.treeLevelsFrom === undefined) return undefined;
    const ref = versionRef(v.assetId, v.localId);
    let pads: Uint8Array | undefined;
    const chunks = new Map<number, Uint8Array[]>();
    // keys `<ref>!<level, 2 digits>!<chunk, 10 digits>` and `<ref>!pads`, in key order
    for await (const [k, bytes] of this.treeNodes.iterator({ gt: `${ref}!`, lt: `${ref}!~` })) {
      const rest = k.slice(ref.length + 1);
      if (rest === "pads") pads = bytes;
      else {
        const level = Number(rest.slice(0, rest.indexOf("!")));
        if (!chunks.has(level)) chunks.set(level, []);
        chunks.get(level)!.push(bytes);
      }
    }
    if (!pads) return undefined;
    const levels: Uint8Array[] = [];
    for (let l = v.treeLevelsFrom; l <= v.depth; l++) {
      const parts = chunks.get(l);
      if (!parts) return undefined;
      const level = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
      parts.reduce((at, b) => (level.set(b, at), at + b.length), 0);
      levels.push(level);
    }
    return { from: v.treeLevelsFrom, levels, pads };
  }

  /**
   * The number of records of version `v` whose key is below `key` (= the index of the last
   * leaf with a smaller key), reading one chunk of rows.
   */
  async leafBelow(v: StoredVersion, key: bigint): Promise<number> {
    const firsts = v.chunkFirstKeys ?? [];
    let lo = 0;
    let hi = firsts.length; // first chunk whose first key is >= key
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (BigInt(firsts[mid]!) >= key) hi = mid;
      else lo = mid + 1;
    }
    if (lo === 0) return 0;
    const [chunk] = await this.readChunks(v, lo - 1, lo - 1);
    let below = 0;
    while (below < rowCount(chunk!) && rowKey(chunk!, below) < key) below++;
    return v.chunkStarts![lo - 1]! + below;
  }

  /**
   * A JSON sublevel of this database, for a store module of its own (`answered.ts`): its
   * entries live and close with the rest of the gateway's state.
   */
  sublevel(name: "answered"): Stored<unknown, string> {
    return this.answered;
  }

  /** Closes the database. */
  async close(): Promise<void> {
    await this.db.close();
  }

  // ---- versions

  /** The local version already made from this batch (key `batchKey`), if any. */
  async findVersionByBatch(assetId: string, batchKey: string): Promise<StoredVersion | undefined> {
    const localId = await this.byBatch.get(`${assetId}!${batchKey}`);
    return localId === undefined ? undefined : this.getVersion(assetId, localId);
  }

  /** The newest local version of an asset (the data set an upload adds to), if any. */
  async latestVersion(assetId: string): Promise<StoredVersion | undefined> {
    for await (const v of this.versions.values({
      gt: `${assetId}!`,
      lt: `${assetId}!~`,
      reverse: true,
      limit: 1,
    })) {
      return v;
    }
    return undefined;
  }

  /**
   * Rows `from` .. `to` − 1 of a version (binary, `rows.ts`), reading only their chunks, a group
   * at a time, into a buffer from `alloc` (e.g. `sharedBytes`, for a worker).
   */
  async versionRows(
    v: StoredVersion,
    from = 0,
    to = v.recordCount,
    alloc: (bytes: number) => Uint8Array = (b) => new Uint8Array(b),
  ): Promise<Uint8Array> {
    const end = Math.min(to, v.recordCount);
    if (end <= from) return alloc(0);
    const starts = v.chunkStarts ?? [];
    const first = chunkOf(starts, from);
    const last = chunkOf(starts, end - 1);
    const out = alloc((end - from) * ROW_BYTES);
    const GROUP = 64;
    for (let c0 = first; c0 <= last; c0 += GROUP) {
      const chunks = await this.readChunks(v, c0, Math.min(c0 + GROUP - 1, last));
      for (const [k, chunk] of chunks.entries()) {
        const base = starts[c0 + k]!;
        const a = Math.max(from - base, 0);
        const b = Math.min(end - base, rowCount(chunk));
        out.set(chunk.subarray(a * ROW_BYTES, b * ROW_BYTES), (base + a - from) * ROW_BYTES);
      }
    }
    return out;
  }

  /** Chunks `first` .. `last` of a version, in order. */
  private async readChunks(v: StoredVersion, first: number, last: number): Promise<Uint8Array[]> {
    const ids = (v.chunkIds ?? []).slice(first, last + 1);
    const got = await this.chunks.getMany(ids.map((id) => `${v.assetId}!${id}`));
    return got.map((c, k) => {
      if (c === undefined) {
        throw new Error(`chunk ${ids[k]} of version ${v.assetId}/${v.localId} is missing`);
      }
      return c;
    });
  }

  /** A version's records and salts as decimal strings (what the proving worker rebuilds from). */
  async versionData(v: StoredVersion): Promise<{ records: string[][]; salts: string[] }> {
    const rows = await this.versionRows(v);
    const records: string[][] = [];
    const salts: string[] = [];
    for (let i = 0; i < rowCount(rows); i++) {
      const r = readRow(rows, i);
      records.push([r.key.toString(), ...r.values.map(String)]);
      salts.push(r.salt.toString());
    }
    return { records, salts };
  }

  /**
   * Count and field sums of the records with lo <= key <= hi that `match` accepts, and the
   * indexes bounding the range (a = number of records below lo, l = number at most hi),
   * reading only the chunks that can hold the range.
   */
  async rangeStats(
    v: StoredVersion,
    lo: bigint,
    hi: bigint,
    match: (values: [bigint, bigint, bigint, bigint]) => boolean = () => true,
  ): Promise<{ count: number; sums: bigint[]; a: number; l: number }> {
    const firsts = (v.chunkFirstKeys ?? []).map(BigInt);
    // the chunk before the first one starting at or above lo may hold keys >= lo
    let c0 = firsts.findIndex((k) => k >= lo);
    c0 = c0 === -1 ? Math.max(firsts.length - 1, 0) : Math.max(c0 - 1, 0);
    let c1 = c0;
    while (c1 + 1 < firsts.length && firsts[c1 + 1]! <= hi) c1++;
    const sums = [0n, 0n, 0n, 0n];
    let count = 0;
    if (v.recordCount === 0) return { count, sums, a: 0, l: 0 };
    const starts = v.chunkStarts ?? [];
    let a = starts[c0]!;
    let l = a;
    for (const [k, chunk] of (await this.readChunks(v, c0, c1)).entries()) {
      const base = starts[c0 + k]!;
      for (let i = 0; i < rowCount(chunk); i++) {
        const key = rowKey(chunk, i);
        if (key < lo) a = base + i + 1;
        if (key <= hi) l = base + i + 1;
        if (key < lo || key > hi) continue;
        const values = rowValues(chunk, i);
        if (!match(values)) continue;
        count += 1;
        for (let f = 0; f < 4; f++) sums[f]! += values[f]!;
      }
    }
    return { count, sums, a, l: Math.max(l, a) };
  }

  /** A local version by asset and local number. */
  async getVersion(assetId: string, localId: number): Promise<StoredVersion | undefined> {
    return this.versions.get(versionRef(assetId, localId));
  }

  /** The local version whose tree has this root. */
  async getVersionByRoot(root: bigint | string): Promise<StoredVersion | undefined> {
    // (a version whose records are all carried over has its base's root: ingest returns the base)
    const ref = await this.byRoot.get(root.toString());
    if (ref === undefined) return undefined;
    return this.versions.get(ref);
  }

  /** Every local version of an asset, oldest first. */
  async listVersions(assetId: string): Promise<StoredVersion[]> {
    const out: StoredVersion[] = [];
    for await (const v of this.versions.values({ gt: `${assetId}!`, lt: `${assetId}!~` })) {
      out.push(v);
    }
    return out;
  }

  /**
   * Stores a new version with its batch and root indexes in one batch; the local number is
   * assigned here, and the version counts towards `owner`'s stored versions when given. The
   * caller serialises ingests per owner.
   */
  async putVersion(
    nv: NewVersion,
    owner?: string,
    extra: { batchKey?: string; session?: UploadSession } = {},
  ): Promise<StoredVersion> {
    const last = (await this.meta.get(`seq!${nv.assetId}`)) ?? 0;
    const rows = "rows" in nv ? nv.rows : legacyRows(nv.records, nv.salts);
    const { ...meta } = nv as Partial<{ rows: unknown; records: unknown; salts: unknown }> &
      StoredVersion;
    delete meta.rows;
    delete meta.records;
    delete meta.salts;
    const tree = (meta as { tree?: TreeLevels }).tree;
    delete (meta as { tree?: TreeLevels }).tree;
    const layout = chunkLayout(rows);
    const v = {
      ...meta,
      ...layout.meta,
      ...(tree ? { treeLevelsFrom: tree.from } : {}),
    } as Omit<StoredVersion, "localId">;
    const owned = await this.ownerCountOps(owner, +1);
    const version: StoredVersion = { ...v, localId: last + 1 };
    const ref = versionRef(v.assetId, version.localId);
    const session = extra.session
      ? [
          this.sessions.putOp(`${v.assetId}!${extra.session.sessionId}`, {
            ...extra.session,
            localId: version.localId,
            updatedAt: Date.now(),
          }),
        ]
      : [];
    await this.chunkLocks.run(v.assetId, async () => {
      // the bulk first, in synced groups of a few MiB (one 10^6-record batch held ~200 MB in
      // LevelDB's write batch and memtable at once): rows chunks are content-addressed and
      // unlisted until the version is, and a version's tree nodes are keyed by its number, so
      // nodes a crash left under this number are deleted first; the version itself, with its
      // indexes, is one synced batch after them: nothing partial is ever a version
      const stale: string[] = [];
      for await (const k of this.treeNodes.keys({ gt: `${ref}!`, lt: `${ref}!~` })) stale.push(k);
      await this.syncedInGroups([
        ...stale.map((key) => this.treeNodes.delOp(key)),
        ...(await this.chunkOps(v.assetId, layout)),
        ...(tree ? this.levelOps(v.assetId, version.localId, tree) : []),
      ]);
      await this.synced([
        this.versions.putOp(ref, version),
        this.byBatch.putOp(`${v.assetId}!${extra.batchKey ?? v.batchHash}`, version.localId),
        this.byRoot.putOp(v.root, ref),
        this.meta.putOp(`seq!${v.assetId}`, version.localId),
        ...owned,
        ...session,
      ]);
    });
    return version;
  }

  /** Writes `ops` in synced batches of at most ~4 MiB of values each. */
  private async syncedInGroups(ops: readonly object[]): Promise<void> {
    const LIMIT = 4 << 20;
    let group: object[] = [];
    let bytes = 0;
    for (const op of ops) {
      group.push(op);
      const value = (op as { value?: unknown }).value;
      bytes += value instanceof Uint8Array ? value.length : 64;
      if (bytes >= LIMIT) {
        await this.synced(group);
        group = [];
        bytes = 0;
      }
    }
    if (group.length > 0) await this.synced(group);
  }

  /** The op that changes `owner`'s count of stored versions by `delta` (none without owner). */
  private async ownerCountOps(owner: string | undefined, delta: number) {
    if (owner === undefined) return [];
    const value = Math.max((await this.versionsOfOwner(owner)) + delta, 0);
    const key = `owner-versions!${owner.toLowerCase()}`;
    return [this.meta.putOp(key, value)];
  }

  /**
   * Puts of the chunks of `layout` that the asset does not hold yet (the caller holds the
   * asset's chunk lock until its batch is written, so a collection cannot remove them between).
   */
  private async chunkOps(assetId: string, layout: ChunkLayout) {
    const keys = layout.meta.chunkIds.map((id) => `${assetId}!${id}`);
    const held = await this.chunks.getMany(keys);
    const seen = new Set<string>();
    const ops = [];
    for (const [c, key] of keys.entries()) {
      if (held[c] !== undefined || seen.has(key)) continue;
      seen.add(key);
      ops.push(this.chunks.putOp(key, layout.chunks[c]!));
    }
    return ops;
  }

  /**
   * Deletes a local version (metadata, root and batch indexes; it no longer counts towards
   * `owner`'s versions when given), then every chunk of the asset that no remaining version
   * lists. The caller serialises it with the owner's ingests.
   */
  async deleteVersion(assetId: string, localId: number, owner?: string): Promise<boolean> {
    const ref = versionRef(assetId, localId);
    const v = await this.versions.get(ref);
    if (!v) return false;
    const batchKeys: string[] = [];
    for await (const [k, id] of this.byBatch.iterator({ gt: `${assetId}!`, lt: `${assetId}!~` })) {
      if (id === localId) batchKeys.push(k);
    }
    const owned = await this.ownerCountOps(owner, -1);
    await this.synced([
      this.versions.delOp(ref),
      ...((await this.byRoot.get(v.root)) === ref ? [this.byRoot.delOp(v.root)] : []),
      ...batchKeys.map((key) => this.byBatch.delOp(key)),
      ...owned,
    ]);
    await this.collectChunks(assetId);
    return true;
  }

  /**
   * Deletes the asset's chunks that no version lists (mark and sweep under the asset's chunk
   * lock, so a version being stored keeps the chunks it found); returns how many.
   */
  async collectChunks(assetId: string): Promise<number> {
    return this.chunkLocks.run(assetId, async () => {
      const live = new Set<string>();
      for (const v of await this.listVersions(assetId)) {
        for (const id of v.chunkIds ?? []) live.add(`${assetId}!${id}`);
      }
      const dead: string[] = [];
      for await (const k of this.chunks.keys({ gt: `${assetId}!`, lt: `${assetId}!~` })) {
        if (!live.has(k)) dead.push(k);
      }
      // a version's tree levels live under its own key (`<asset>!<localId>!…`): swept with it
      const liveRefs = new Set(
        (await this.listVersions(assetId)).map((v) => versionRef(assetId, v.localId)),
      );
      const deadNodes: string[] = [];
      for await (const k of this.treeNodes.keys({ gt: `${assetId}!`, lt: `${assetId}!~` })) {
        if (!liveRefs.has(k.slice(0, k.indexOf("!", assetId.length + 1)))) deadNodes.push(k);
      }
      if (dead.length + deadNodes.length > 0) {
        await this.synced([
          ...dead.map((key) => this.chunks.delOp(key)),
          ...deadNodes.map((key) => this.treeNodes.delOp(key)),
        ]);
      }
      return dead.length;
    });
  }

  // ---- upload sessions

  /** An upload session, if started. */
  async getSession(assetId: string, sessionId: string): Promise<UploadSession | undefined> {
    return this.sessions.get(`${assetId}!${sessionId.toLowerCase()}`);
  }

  /** Stores a session's state (synced: its start is acknowledged to the client). */
  async putSession(s: UploadSession): Promise<void> {
    await this.synced([this.sessions.putOp(`${s.assetId}!${s.sessionId.toLowerCase()}`, s)]);
  }

  /**
   * Stores a received chunk and the session's new totals in one synced batch, unless the chunk
   * is already stored; returns the session as it then is.
   */
  async putSessionChunk(
    s: UploadSession,
    index: number,
    chunk: Uint8Array,
    records: number,
    bytes: number,
  ): Promise<UploadSession> {
    const key = `${s.assetId}!${s.sessionId.toLowerCase()}!${pad(index, 8)}`;
    if ((await this.sessionChunks.get(key)) !== undefined) return s;
    const next = {
      ...s,
      records: s.records + records,
      bytes: s.bytes + bytes,
      updatedAt: Date.now(),
    };
    await this.synced([
      this.sessionChunks.putOp(key, chunk),
      this.sessions.putOp(`${s.assetId}!${s.sessionId.toLowerCase()}`, next),
    ]);
    return next;
  }

  /** The indexes of a session's stored chunks, in order. */
  async sessionChunkIndexes(assetId: string, sessionId: string): Promise<number[]> {
    const prefix = `${assetId}!${sessionId.toLowerCase()}!`;
    const out: number[] = [];
    for await (const k of this.sessionChunks.keys({ gt: prefix, lt: `${prefix}~` })) {
      out.push(Number(k.slice(prefix.length)));
    }
    return out;
  }

  /** A session's stored chunks, in order. */
  async *sessionChunkValues(assetId: string, sessionId: string): AsyncGenerator<Uint8Array> {
    const prefix = `${assetId}!${sessionId.toLowerCase()}!`;
    for await (const v of this.sessionChunks.values({ gt: prefix, lt: `${prefix}~` })) yield v;
  }

  /** Deletes a session's chunks (after its commit, or when it is abandoned). */
  async dropSessionChunks(assetId: string, sessionId: string): Promise<void> {
    const prefix = `${assetId}!${sessionId.toLowerCase()}!`;
    await this.sessionChunks.clear({ gt: prefix, lt: `${prefix}~` });
  }

  /** Every stored upload session (committed, open and expired). */
  async *allSessions(): AsyncGenerator<UploadSession> {
    for await (const s of this.sessions.values()) yield s;
  }

  /**
   * Expires a session: its tombstone (`expiredAt`) is written first, then its chunks are
   * deleted, so a crash in between leaves a tombstone whose chunks the next sweep deletes.
   */
  async expireSession(s: UploadSession, at: number): Promise<UploadSession> {
    const next = { ...s, expiredAt: at };
    await this.putSession(next);
    await this.dropSessionChunks(s.assetId, s.sessionId);
    return next;
  }

  /** Deletes a session and its chunks. */
  async forgetSession(assetId: string, sessionId: string): Promise<void> {
    await this.dropSessionChunks(assetId, sessionId);
    await this.sessions.del(`${assetId}!${sessionId.toLowerCase()}`);
  }

  /** Marks `root` as published by this gateway's relay (so it is not published twice). */
  async markPublished(root: string, versionId: string): Promise<void> {
    await this.meta.put(`published!${root}`, Number(BigInt(versionId) & 0xffffffffn));
  }

  /** True when this gateway relayed a publication of `root`. */
  async isPublished(root: string): Promise<boolean> {
    return (await this.meta.get(`published!${root}`)) !== undefined;
  }

  /** Number of versions stored for assets of `owner` (counted by putVersion). */
  async versionsOfOwner(owner: string): Promise<number> {
    return (await this.meta.get(`owner-versions!${owner.toLowerCase()}`)) ?? 0;
  }

  /** Gas the relayer spent for `owner` on UTC day `day` (days since 1970-01-01). */
  async relayedGas(owner: string, day: number): Promise<number> {
    return (await this.meta.get(`gas!${owner.toLowerCase()}!${day}`)) ?? 0;
  }

  /** Adds gas the relayer spent for `owner` on `day`. */
  async addRelayedGas(owner: string, day: number, gas: number): Promise<void> {
    const key = `gas!${owner.toLowerCase()}!${day}`;
    await this.meta.put(key, (await this.relayedGas(owner, day)) + gas);
  }

  /** This gateway's id, made (random) and kept on first use. */
  async gatewayId(): Promise<string> {
    const kept = await this.settings.get("gatewayId");
    if (kept !== undefined) return kept;
    const id = `gw-${randomUUID()}`;
    await this.settings.put("gatewayId", id);
    return id;
  }

  // ---- queries

  /** True if this signer already used this nonce. */
  async isNonceUsed(signer: string, nonce: bigint): Promise<boolean> {
    return (await this.nonces.get(`${signer.toLowerCase()}!${nonce}`)) !== undefined;
  }

  /** The job that answers a grant's request id, if any. */
  async jobOfRequest(grantId: string, requestId: string): Promise<string | undefined> {
    return this.requests.get(requestKey(grantId, requestId));
  }

  /** Stores an accepted query: its nonce, request id, job and consumer index, in one batch. */
  async acceptQuery(job: Job, nonce: bigint): Promise<void> {
    await this.write([
      this.nonces.putOp(`${job.consumer.toLowerCase()}!${nonce}`, job.requestId),
      this.requests.putOp(requestKey(job.grantId, job.requestId), job.id),
      this.jobs.putOp(job.id, job),
      this.byConsumer.putOp(
        `${job.consumer.toLowerCase()}!${pad(job.createdAt, 15)}!${job.id}`,
        job.id,
      ),
    ]);
  }

  /** Number of data-dependent refusals charged to a grant. */
  async refusalCount(grantId: string): Promise<number> {
    return (await this.meta.get(`refusals!${grantId}`)) ?? 0;
  }

  /**
   * Stores a data-dependent refusal in one batch: the consumer's nonce is used up, the refusal
   * is kept for the audit export, and the grant's refusal count goes up. The caller holds the
   * acceptance lock.
   */
  async recordRefusal(r: Refusal, nonce: bigint): Promise<void> {
    const n = (await this.refusalCount(r.grantId)) + 1;
    await this.write([
      this.nonces.putOp(`${r.consumer.toLowerCase()}!${nonce}`, r.requestId),
      this.refusals.putOp(`${r.grantId}!${pad(n)}`, r),
      this.meta.putOp(`refusals!${r.grantId}`, n),
    ]);
  }

  /** Every recorded refusal, by grant then in order. */
  async allRefusals(): Promise<Refusal[]> {
    const out: Refusal[] = [];
    for await (const r of this.refusals.values()) out.push(r);
    return out;
  }

  /** A job by id. */
  async getJob(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  /** Updates a job's fields. */
  async updateJob(id: string, patch: Partial<Job>): Promise<Job> {
    const job = await this.jobs.get(id);
    if (!job) throw new Error(`job ${id} not found`);
    const next = { ...job, ...patch, updatedAt: Date.now() };
    await this.jobs.put(id, next);
    return next;
  }

  /** Jobs in one of the given states (for restart recovery and metrics). */
  async jobsWithStatus(...statuses: JobStatus[]): Promise<Job[]> {
    const out: Job[] = [];
    for await (const j of this.jobs.values()) if (statuses.includes(j.status)) out.push(j);
    return out;
  }

  /** Every job. */
  async allJobs(): Promise<Job[]> {
    const out: Job[] = [];
    for await (const j of this.jobs.values()) out.push(j);
    return out;
  }

  /** A consumer's jobs, oldest first. */
  async jobsOfConsumer(consumer: string): Promise<Job[]> {
    const prefix = `${consumer.toLowerCase()}!`;
    const out: Job[] = [];
    for await (const id of this.byConsumer.values({ gt: prefix, lt: `${prefix}~` })) {
      const j = await this.jobs.get(id);
      if (j) out.push(j);
    }
    return out;
  }

  /** Stores a proved answer and its outbox entry in one batch. */
  async storeProved(id: string, patch: Partial<Job>, entry: OutboxEntry): Promise<Job> {
    const job = await this.jobs.get(id);
    if (!job) throw new Error(`job ${id} not found`);
    const next: Job = { ...job, ...patch, status: "proved", updatedAt: Date.now() };
    await this.write([
      this.jobs.putOp(id, next),
      this.outbox.putOp(requestKey(entry.grantId, entry.requestId), entry),
    ]);
    return next;
  }

  // ---- outbox

  /** Every pending outbox entry. */
  async listOutbox(): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    for await (const e of this.outbox.values()) out.push(e);
    return out;
  }

  /** Number of pending outbox entries. */
  async outboxDepth(): Promise<number> {
    let n = 0;
    for await (const _ of this.outbox.keys()) n += 1;
    return n;
  }

  /** Updates an outbox entry (attempts, backoff, sent tx). */
  async updateOutbox(entry: OutboxEntry): Promise<void> {
    await this.outbox.put(requestKey(entry.grantId, entry.requestId), entry);
  }

  /** Marks the job logged and removes its outbox entry, in one batch. */
  async completeOutbox(
    entry: OutboxEntry,
    logTx: { hash: string; blockNumber: number },
  ): Promise<Job> {
    const job = await this.jobs.get(entry.jobId);
    if (!job) throw new Error(`job ${entry.jobId} not found`);
    const next: Job = { ...job, status: "logged", logTx, updatedAt: Date.now() };
    await this.write([
      this.jobs.putOp(job.id, next),
      this.outbox.delOp(requestKey(entry.grantId, entry.requestId)),
    ]);
    return next;
  }

  /** Marks the job failed and removes its outbox entry (a permanent chain refusal). */
  async failOutbox(entry: OutboxEntry, error: { code: string; message: string }): Promise<void> {
    const job = await this.jobs.get(entry.jobId);
    const ops = [this.outbox.delOp(requestKey(entry.grantId, entry.requestId))];
    if (job) {
      await this.write([
        ...ops,
        this.jobs.putOp(job.id, { ...job, status: "failed", error, updatedAt: Date.now() }),
      ]);
    } else await this.write(ops);
  }

  /** Counts entries of every sublevel (tests use it to show that a refusal wrote nothing). */
  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const subs = {
      versions: this.versions,
      rows: this.rows,
      chunks: this.chunks,
      treeNodes: this.treeNodes,
      sessions: this.sessions,
      sessionChunks: this.sessionChunks,
      byBatch: this.byBatch,
      byRoot: this.byRoot,
      nonces: this.nonces,
      requests: this.requests,
      jobs: this.jobs,
      outbox: this.outbox,
      refusals: this.refusals,
    };
    for (const [name, s] of Object.entries(subs)) {
      let n = 0;
      for await (const _ of (s as { keys(): AsyncIterable<unknown> }).keys()) n += 1;
      out[name] = n;
    }
    return out;
  }

  /**
   * Calls `listener` after each write of a job or an outbox entry (put or delete), with the
   * sublevel, the key and, for a put, a reader of the value written; returns the function that
   * stops it. For following jobs (GET /jobs/:id?wait=) and their timelines.
   */
  onWritten(
    listener: (w: { sublevel: "jobs" | "outbox"; key: string; value?: () => unknown }) => void,
  ): () => void {
    const fn = (ops: { type: string; key: unknown; value?: unknown }[]) => {
      for (const op of ops) {
        const m = /^!(jobs|outbox)!(.*)$/s.exec(String(op.key));
        if (!m) continue;
        const raw = op.value;
        const sub = m[1] === "jobs" ? this.jobs : this.outbox;
        listener({
          sublevel: m[1] as "jobs" | "outbox",
          key: m[2]!,
          ...(op.type === "put" ? { value: () => sub.decodeWritten(m[2]!, raw) as unknown } : {}),
        });
      }
    };
    this.db.on("write", fn);
    return () => void this.db.off("write", fn);
  }
}

/** Rows of records and salts given as decimal strings (the layout 1 form). */
function legacyRows(records: readonly string[][], salts: readonly string[]): Uint8Array {
  const rows = new Uint8Array(records.length * ROW_BYTES);
  records.forEach((r, i) =>
    writeRow(rows, i, { key: BigInt(r[0]!), values: r.slice(1).map(BigInt) }, BigInt(salts[i]!)),
  );
  return rows;
}

/** A version's rows cut into content-defined chunks, and what its metadata lists of them. */
interface ChunkLayout {
  chunks: Uint8Array[];
  meta: { chunkIds: string[]; chunkStarts: number[]; chunkFirstKeys: string[] };
}

function chunkLayout(rows: Uint8Array): ChunkLayout {
  const starts = chunkStarts(rows);
  const chunks = starts.map((a, c) =>
    rows.subarray(a * ROW_BYTES, (starts[c + 1] ?? rowCount(rows)) * ROW_BYTES),
  );
  return {
    chunks,
    meta: {
      chunkIds: chunks.map(chunkId),
      chunkStarts: starts,
      chunkFirstKeys: starts.map((a) => rowKey(rows, a).toString()),
    },
  };
}

/** The chunk holding row `i` (binary search over the chunks' first rows). */
function chunkOf(starts: readonly number[], i: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The keys a version's rows had in layout 2 (fixed chunks of 4,096 rows under the version). */
function layoutTwoKeys(ref: string, recordCount: number): string[] {
  return Array.from(
    { length: Math.ceil(recordCount / 4096) },
    (_, c) => `${ref}!${c.toString().padStart(8, "0")}`,
  );
}

function versionRef(assetId: string, localId: number): string {
  return `${assetId}!${pad(localId)}`;
}

/** The key of chunk `c` of stored level `level` of the version `ref`. */
function levelKey(ref: string, level: number, c: number): string {
  return `${ref}!${String(level).padStart(2, "0")}!${String(c).padStart(10, "0")}`;
}

/** The key of a request: request ids are unique per grant, as in the on-chain log. */
function requestKey(grantId: string, requestId: string): string {
  return `${grantId}!${requestId.toLowerCase()}`;
}

function pad(n: number, width = 10): string {
  return n.toString().padStart(width, "0");
}
