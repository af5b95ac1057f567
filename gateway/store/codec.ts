/**
 * Every value the store keeps carries the schema version of its type, and is read through one
 * codec per type that checks it: an older value is upgraded on read by the type's registered
 * migration hooks (version n → n + 1, one at a time), a value of a version newer than this code
 * knows is refused with an error naming the sublevel, the key and the version (never misread).
 *
 * Stored forms:
 * - JSON values: `{"v": <version>, "d": <value>}`. A value written before versions existed
 *   (store layout ≤ 4) is plain JSON, read as version 0 (none of the stored types has exactly
 *   the two fields `v` and `d`, so the two forms cannot be confused).
 * - Binary values: one version byte, then the value. Values written before (version 0) have no
 *   such byte; each binary type's length structure tells the two apart: rows are 96-byte rows
 *   and tree nodes 120-byte nodes (so a versioned value is 1 byte longer than a multiple), and a
 *   session chunk's header gives its length (`rows.ts` `encodeBatch`).
 *
 * The store's layout migration to 5 (`index.ts`) reads every value through its codec and
 * writes back the values of older versions: the same hooks serve reads and the migration.
 */
import { ROW_BYTES } from "./rows.js";
import { NODE_BYTES } from "../../circuits/lib/tree-engine.js";

/** A stored value this code cannot read: of a newer schema version, or not of its type. */
export class StoredValueError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "StoredValueError";
  }
}

/** How a type's values are laid out around their version. */
interface Form<R> {
  /** The stored form of a value of version `version`. */
  wrap(version: number, value: unknown): R;
  /** The version and the value of a stored form; a message when it is none of the type's. */
  unwrap(raw: R): { version: number; value: unknown } | string;
}

/** The JSON form: `{"v": n, "d": value}`, or plain JSON (version 0). */
const jsonForm: Form<string> = {
  wrap: (v, value) => JSON.stringify({ v, d: value }),
  unwrap(raw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return "it is not JSON";
    }
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      const keys = Object.keys(parsed);
      const o = parsed as { v?: unknown; d?: unknown };
      if (keys.length === 2 && "d" in o && Number.isInteger(o.v) && (o.v as number) >= 1) {
        return { version: o.v as number, value: o.d };
      }
    }
    return { version: 0, value: parsed };
  },
};

/** A binary form of whole units (`unit` bytes each) behind a version byte. */
function unitsForm(unit: number, what: string): Form<Uint8Array> {
  return {
    wrap(v, value) {
      const bytes = value as Uint8Array;
      const out = new Uint8Array(bytes.length + 1);
      out[0] = v;
      out.set(bytes, 1);
      return out;
    },
    unwrap(raw) {
      if (raw.length % unit === 0) return { version: 0, value: raw };
      if (raw.length % unit === 1 && raw[0]! >= 1) {
        return { version: raw[0]!, value: raw.subarray(1) };
      }
      return `its ${raw.length} bytes are not whole ${unit}-byte ${what}`;
    },
  };
}

/**
 * The length a session chunk (`uploads.ts`: 32-byte batch hash, then `encodeBatch`: u32 rows,
 * u32 removed, rows, keep flags, 16-byte removed ids) has when its header starts at `at`.
 */
function batchLength(raw: Uint8Array, at: number): number | undefined {
  if (raw.length < at + 40) return undefined;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const n = v.getUint32(at + 32, true);
  const m = v.getUint32(at + 36, true);
  return at + 40 + n * (ROW_BYTES + 1) + 16 * m;
}

/** A session chunk behind a version byte; its header's counts give its length either way. */
const sessionChunkForm: Form<Uint8Array> = {
  wrap: unitsForm(1, "bytes").wrap,
  unwrap(raw) {
    const plain = batchLength(raw, 0) === raw.length;
    const versioned = raw[0]! >= 1 && batchLength(raw, 1) === raw.length;
    if (versioned && !plain) return { version: raw[0]!, value: raw.subarray(1) };
    if (plain && !versioned) return { version: 0, value: raw };
    return plain
      ? "its length fits both the versioned and the unversioned form"
      : `its ${raw.length} bytes do not match its header`;
  },
};

/**
 * The codec of one stored type: its current schema version and the hooks that upgrade a value
 * of each older version to the next.
 */
export class ValueCodec<T, R extends string | Uint8Array = string | Uint8Array> {
  /**
   * `type` names the values (in errors); `version` is the one this code writes; `hooks[n]`
   * turns a version-n value into a version-(n + 1) one, for every n below `version`.
   */
  constructor(
    readonly type: string,
    readonly version: number,
    private readonly hooks: Readonly<Record<number, (old: unknown) => unknown>>,
    private readonly form: Form<R>,
  ) {
    for (let n = 0; n < version; n++) {
      if (!hooks[n]) throw new Error(`${type}: no migration hook from version ${n}`);
    }
  }

  /** The stored form of a value (current version). */
  encode(value: T): R {
    return this.form.wrap(this.version, value);
  }

  /** The schema version of a stored value (`where` names it in an error). */
  storedVersion(where: string, raw: R): number {
    return this.unwrap(where, raw).version;
  }

  /**
   * A stored value read back at the current version: older ones go through the hooks; a newer
   * one, or one that is not of this type, is refused naming `where` (sublevel and key).
   */
  decode(where: string, raw: R): T {
    const { version, value } = this.unwrap(where, raw);
    if (version > this.version) {
      throw new StoredValueError(
        `stored value ${where} (${this.type}) is of schema version ${version}, newer than this gateway's ${this.version}: run a gateway that knows it, or restore a backup this gateway wrote`,
      );
    }
    let out = value;
    for (let n = version; n < this.version; n++) out = this.hooks[n]!(out);
    return out as T;
  }

  private unwrap(where: string, raw: R): { version: number; value: unknown } {
    const got = this.form.unwrap(raw);
    if (typeof got === "string") {
      throw new StoredValueError(`stored value ${where} is not a ${this.type}: ${got}`);
    }
    return got;
  }
}

/** The hook of a version change that only added the version: the value is unchanged. */
const same = (old: unknown) => old;

/** A JSON type's codec. */
export function jsonCodec<T>(
  type: string,
  version: number,
  hooks: Record<number, (old: unknown) => unknown>,
): ValueCodec<T, string> {
  return new ValueCodec<T, string>(type, version, hooks, jsonForm);
}

/**
 * The codec of each stored type, by sublevel name. Version 1 of each is its layout-4 form with
 * the version added; its hook from 0 fills in what values written by older gateways may lack.
 */
export const CODECS = {
  versions: jsonCodec("version", 1, { 0: same }),
  byBatch: jsonCodec<number>("batch index", 1, { 0: same }),
  byRoot: jsonCodec<string>("root index", 1, { 0: same }),
  meta: jsonCodec<number>("counter", 1, { 0: same }),
  nonces: jsonCodec<string>("nonce", 1, { 0: same }),
  requests: jsonCodec<string>("request index", 1, { 0: same }),
  // jobs accepted before grants had thresholds stored none: none were allowed
  jobs: jsonCodec("job", 1, {
    0: (old) => {
      const j = old as { policy?: Record<string, unknown> };
      return j.policy && !("thresholds" in j.policy)
        ? { ...j, policy: { ...j.policy, thresholds: "" } }
        : j;
    },
  }),
  byConsumer: jsonCodec<string>("consumer index", 1, { 0: same }),
  outbox: jsonCodec("outbox entry", 1, { 0: same }),
  refusals: jsonCodec("refusal", 1, { 0: same }),
  // sessions stored before they could expire had no `updatedAt`: their start is their last step
  sessions: jsonCodec("upload session", 1, {
    0: (old) => {
      const s = old as { createdAt: number; updatedAt?: number };
      return s.updatedAt === undefined ? { ...s, updatedAt: s.createdAt } : s;
    },
  }),
  answered: jsonCodec("answered set", 1, { 0: same }),
  chunks: new ValueCodec<Uint8Array, Uint8Array>(
    "row chunk",
    1,
    { 0: same },
    unitsForm(ROW_BYTES, "rows"),
  ),
  treeNodes: new ValueCodec<Uint8Array, Uint8Array>(
    "tree node chunk",
    1,
    { 0: same },
    unitsForm(NODE_BYTES, "nodes"),
  ),
  sessionChunks: new ValueCodec<Uint8Array, Uint8Array>(
    "upload chunk",
    1,
    { 0: same },
    sessionChunkForm,
  ),
} as const;

/** The name of a sublevel whose values go through a codec. */
export type CodecName = keyof typeof CODECS;

/** The key range options the store uses. */
export interface Range {
  gt?: string;
  lt?: string;
  gte?: string;
  lte?: string;
  reverse?: boolean;
  limit?: number;
}

/** The part of a LevelDB sublevel (raw: utf8 or view values) that {@link Stored} uses. */
export interface RawSublevel<R> {
  get(key: string): Promise<R | undefined>;
  getMany(keys: string[]): Promise<(R | undefined)[]>;
  put(key: string, value: R): Promise<void>;
  del(key: string): Promise<void>;
  keys(options?: Range): AsyncIterable<string>;
  iterator(options?: Range): AsyncIterable<[string, R]>;
  clear(options?: Range): Promise<void>;
}

/**
 * A sublevel whose values are read and written through a codec: reads decode (and upgrade,
 * or refuse naming the key), writes encode at the current version.
 */
export class Stored<T, R extends string | Uint8Array = string | Uint8Array> {
  /** Wraps the raw sublevel `sub`, named `name`. */
  constructor(
    readonly name: string,
    readonly sub: RawSublevel<R>,
    readonly codec: ValueCodec<T, R>,
  ) {}

  private where(key: string): string {
    return `${this.name}/${key}`;
  }

  /** The value at `key`, if any. */
  async get(key: string): Promise<T | undefined> {
    const raw = await this.sub.get(key);
    return raw === undefined ? undefined : this.codec.decode(this.where(key), raw);
  }

  /** The values at `keys`, in order. */
  async getMany(keys: string[]): Promise<(T | undefined)[]> {
    const raws = await this.sub.getMany(keys);
    return raws.map((r, i) => (r === undefined ? r : this.codec.decode(this.where(keys[i]!), r)));
  }

  /** Writes one value. */
  async put(key: string, value: T): Promise<void> {
    await this.sub.put(key, this.codec.encode(value));
  }

  /** Deletes one value. */
  async del(key: string): Promise<void> {
    await this.sub.del(key);
  }

  /** Deletes the values in a range. */
  async clear(options: Range = {}): Promise<void> {
    await this.sub.clear(options);
  }

  /** The keys in a range. */
  keys(options: Range = {}): AsyncIterable<string> {
    return this.sub.keys(options);
  }

  /** The entries in a range, decoded. */
  async *iterator(options: Range = {}): AsyncGenerator<[string, T]> {
    for await (const [k, raw] of this.sub.iterator(options)) {
      yield [k, this.codec.decode(this.where(k), raw)];
    }
  }

  /** The values in a range, decoded. */
  async *values(options: Range = {}): AsyncGenerator<T> {
    for await (const [, v] of this.iterator(options)) yield v;
  }

  /** A batch put of `value` at `key` (encoded now). */
  putOp(key: string, value: T) {
    return { type: "put" as const, sublevel: this.sub, key, value: this.codec.encode(value) };
  }

  /** A batch delete of `key`. */
  delOp(key: string) {
    return { type: "del" as const, sublevel: this.sub, key };
  }

  /** A stored form written by a batch, read back (for write listeners). */
  decodeWritten(key: string, raw: unknown): T {
    return this.codec.decode(this.where(key), raw as R);
  }

  /**
   * The puts that rewrite, at the current version, every value of an older one, a few at a time
   * (`flush` writes each group of ops): the layout migration's pass over this sublevel.
   */
  async upgradeAll(flush: (ops: object[]) => Promise<void>, groupBytes = 4 << 20): Promise<number> {
    let group: object[] = [];
    let bytes = 0;
    let n = 0;
    for await (const [k, raw] of this.sub.iterator()) {
      if (this.codec.storedVersion(this.where(k), raw) === this.codec.version) continue;
      group.push(this.putOp(k, this.codec.decode(this.where(k), raw)));
      bytes += raw.length + k.length;
      n++;
      if (bytes >= groupBytes) {
        await flush(group);
        group = [];
        bytes = 0;
      }
    }
    if (group.length > 0) await flush(group);
    return n;
  }
}
