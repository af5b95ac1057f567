/**
 * Data folders of store layout 4 for the tests of the layout migration to 5: layout 4 stored
 * every value without its schema version (JSON values plain, binary values without the version
 * byte), which {@link toLayout4} gives back to a folder the current code wrote; and
 * {@link unversionedValues} lists the values of a folder that do not carry their type's current
 * version (none, once migrated).
 */
import { Level } from "level";
import { CODECS, type CodecName } from "../../gateway/store/codec.js";

/** The sublevel name and the rest of a raw LevelDB key (`!name!rest`). */
function split(key: Buffer): { name: string; rest: string } | undefined {
  const m = /^!([^!]+)!(.*)$/s.exec(key.toString("latin1"));
  return m ? { name: m[1]!, rest: m[2]! } : undefined;
}

const BINARY = new Set(["chunks", "treeNodes", "sessionChunks"]);

async function openRaw(dir: string): Promise<Level<Buffer, Buffer>> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  return db;
}

/**
 * Rewrites the (closed) store folder `dir` as a layout-4 gateway would have written it: each
 * value of a sublevel with a codec without its version, and the layout recorded as 4. The
 * sublevels named in `keep` stay versioned (a migration to 5 stopped after it rewrote them).
 */
export async function toLayout4(dir: string, keep: readonly CodecName[] = []): Promise<number> {
  const db = await openRaw(dir);
  let n = 0;
  try {
    const ops: { type: "put"; key: Buffer; value: Buffer }[] = [];
    for await (const [k, v] of db.iterator()) {
      const s = split(k);
      if (!s || !(s.name in CODECS) || keep.includes(s.name as CodecName)) continue;
      const plain = BINARY.has(s.name)
        ? v.subarray(1)
        : Buffer.from(JSON.stringify((JSON.parse(v.toString("utf8")) as { d: unknown }).d));
      ops.push({ type: "put", key: k, value: Buffer.from(plain) });
      n++;
    }
    ops.push({
      type: "put",
      key: Buffer.from("!settings!schemaVersion"),
      value: Buffer.from(JSON.stringify("4")),
    });
    await db.batch(ops);
  } finally {
    await db.close();
  }
  return n;
}

/**
 * The values of the (closed) folder `dir` whose stored schema version is not their type's
 * current one (`sublevel/key@version`), and the number of values checked.
 */
export async function unversionedValues(dir: string): Promise<{ off: string[]; checked: number }> {
  const db = await openRaw(dir);
  const off: string[] = [];
  let checked = 0;
  try {
    for await (const [k, v] of db.iterator()) {
      const s = split(k);
      if (!s || !(s.name in CODECS)) continue;
      const codec = CODECS[s.name as CodecName];
      const raw = BINARY.has(s.name) ? new Uint8Array(v) : v.toString("utf8");
      const at = `${s.name}/${s.rest}`;
      const version = (codec as { storedVersion(w: string, r: unknown): number }).storedVersion(
        at,
        raw,
      );
      checked++;
      if (version !== codec.version) off.push(`${at}@${version}`);
    }
  } finally {
    await db.close();
  }
  return { off, checked };
}
