/**
 * Encrypted backup and restore of a gateway's data folder: records and salts exist nowhere
 * else, so losing the folder loses the ability to answer for every published version.
 *
 *   npm run gateway -- backup  --data DIR --out FILE   [--key-file FILE]
 *   npm run gateway -- restore --in FILE  --data DIR   [--key-file FILE]
 *
 * The key: the environment variable PARTPROOF_BACKUP_KEY, or the first line of `--key-file`
 * (a keystore file readable by the operator only). 64 hex characters are used as the AES key
 * itself; anything else is a passphrase stretched with scrypt (N = 2^15, salt in the file).
 * The file is JSON: a header (format, version, schema version, entry count, scrypt salt, IV,
 * GCM tag) and the AES-256-GCM ciphertext of every LevelDB entry; the header is authenticated
 * too (GCM additional data), so a changed count or version fails the restore like a changed
 * byte of the data.
 *
 * The folder is read generically (every key and value of the LevelDB, whatever the store's
 * layout), with the gateway stopped (LevelDB's lock refuses a running gateway's folder). The
 * folder's schema version is kept in the store's settings (`schemaVersion`); a restore writes
 * every entry and then runs the migration hook from the backup's version to this code's.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { Level } from "level";

import { STORE_SCHEMA_VERSION } from "./store/index.js";

/** The data folder's layout version this code writes and reads (the store's). */
export { STORE_SCHEMA_VERSION };

/** The raw database a migration works on (keys and values as LevelDB holds them). */
export type RawDb = Level<Buffer, Buffer>;

/**
 * Raw migrations by the version they start from: `MIGRATIONS[n]` turns a version-n folder into
 * version n + 1 on the raw database. A step without an entry here is the store's own: e.g.
 * 1 → 2 (chunked rows) and 4 → 5 (every value given its schema version, through the value
 * codecs' migration hooks, `store/codec.ts`) run in `GatewayStore.open` when the gateway opens
 * the folder. A backup copies the values as stored, versions included.
 */
export const MIGRATIONS: Record<number, (db: RawDb) => Promise<void>> = {};

const FORMAT = "partproof-gateway-backup";
const FILE_VERSION = 1;
/** Where the schema version is kept: the store's `settings` sublevel, key `schemaVersion`. */
const SCHEMA_KEY = Buffer.from("!settings!schemaVersion");

/** A backup or restore that cannot be done, with the reason. */
export class BackupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

interface Header {
  format: string;
  version: number;
  schemaVersion: number;
  entries: number;
  createdAt: string;
  kdf: "raw" | "scrypt";
  salt: string;
  iv: string;
}

/** The backup key from PARTPROOF_BACKUP_KEY or a key file's first line. */
export async function backupSecret(keyFile?: string): Promise<string> {
  const secret = keyFile
    ? ((await readFile(keyFile, "utf8")).split(/\r?\n/)[0] ?? "")
    : (process.env.PARTPROOF_BACKUP_KEY ?? "");
  if (secret.trim().length < 12) {
    throw new BackupError(
      keyFile
        ? `the key file ${keyFile} holds no key (its first line must be 64 hex characters or a passphrase of at least 12 characters)`
        : "no backup key: set PARTPROOF_BACKUP_KEY (64 hex characters, or a passphrase of at least 12 characters) or pass --key-file FILE",
    );
  }
  return secret.trim();
}

function keyOf(secret: string, kdf: Header["kdf"], salt: Buffer): Buffer {
  if (kdf === "raw") return Buffer.from(secret, "hex");
  return scryptSync(secret, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}

async function openRaw(dir: string, createIfMissing: boolean): Promise<RawDb> {
  const db = new Level<Buffer, Buffer>(dir, {
    keyEncoding: "buffer",
    valueEncoding: "buffer",
    createIfMissing,
  });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code;
    throw new BackupError(
      cause === "LEVEL_LOCKED"
        ? `the data folder ${dir} is in use: stop the gateway first`
        : `cannot open the data folder ${dir}: ${(e as Error).message}`,
    );
  }
  return db;
}

/** The folder's schema version (1 when not yet recorded: the first layout). */
async function schemaVersionOf(db: RawDb): Promise<number> {
  const v = await db.get(SCHEMA_KEY);
  return v === undefined ? 1 : Number(JSON.parse(v.toString("utf8")));
}

/**
 * Runs the migration hook on an open folder: every migration from its schema version up to
 * {@link STORE_SCHEMA_VERSION}, then records the version. Refuses a folder newer than this code.
 */
export async function migrate(db: RawDb, what = "the data"): Promise<{ from: number; to: number }> {
  const from = await schemaVersionOf(db);
  if (from > STORE_SCHEMA_VERSION) {
    throw new BackupError(
      `${what} is of schema version ${from}, newer than this gateway's ${STORE_SCHEMA_VERSION}: use a gateway of schema version ${from} or newer, or restore a backup of version ${STORE_SCHEMA_VERSION} or older`,
    );
  }
  let v = from;
  for (; v < STORE_SCHEMA_VERSION && MIGRATIONS[v]; v++) await MIGRATIONS[v]!(db);
  if (v !== from) await db.put(SCHEMA_KEY, Buffer.from(JSON.stringify(v)));
  // the steps left (the store's own) run when the gateway opens the folder
  return { from, to: STORE_SCHEMA_VERSION };
}

/**
 * The migration hook at the gateway's start (the startup checks run it before the store opens):
 * refuses a folder of a newer schema version than this code's, naming both versions, and runs
 * the raw migrations of an older one (a folder restored from an old backup, or written by an
 * older gateway); the store's own steps follow as it opens (`GatewayStore.open`). A missing or
 * empty folder is a new one: nothing to do (undefined).
 */
export async function migrateAtStart(
  dataDir: string,
): Promise<{ from: number; to: number } | undefined> {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return undefined;
  const db = await openRaw(dataDir, false);
  try {
    return await migrate(db, `the data folder ${dataDir}`);
  } finally {
    await db.close();
  }
}

/** Writes an encrypted backup of the (stopped) gateway's folder `dataDir` to `outFile`. */
export async function backup(
  dataDir: string,
  outFile: string,
  secret: string,
): Promise<{ entries: number; schemaVersion: number; bytes: number }> {
  if (!existsSync(dataDir)) throw new BackupError(`the data folder ${dataDir} does not exist`);
  const db = await openRaw(dataDir, false);
  const parts: Buffer[] = [];
  let entries = 0;
  let schemaVersion: number;
  try {
    schemaVersion = await schemaVersionOf(db);
    for await (const [k, v] of db.iterator()) {
      // length-prefixed key and value: any bytes, no escaping
      const len = Buffer.alloc(8);
      len.writeUInt32BE(k.length, 0);
      len.writeUInt32BE(v.length, 4);
      parts.push(len, k, v);
      entries++;
    }
  } finally {
    await db.close();
  }
  const raw = /^[0-9a-fA-F]{64}$/.test(secret);
  const salt = raw ? Buffer.alloc(0) : randomBytes(16);
  const iv = randomBytes(12);
  const header: Header = {
    format: FORMAT,
    version: FILE_VERSION,
    schemaVersion,
    entries,
    createdAt: new Date().toISOString(),
    kdf: raw ? "raw" : "scrypt",
    salt: salt.toString("base64"),
    iv: iv.toString("base64"),
  };
  const cipher = createCipheriv("aes-256-gcm", keyOf(secret, header.kdf, salt), iv);
  cipher.setAAD(Buffer.from(JSON.stringify(header)));
  const ciphertext = Buffer.concat([cipher.update(Buffer.concat(parts)), cipher.final()]);
  const text = JSON.stringify({
    header,
    tag: cipher.getAuthTag().toString("base64"),
    data: ciphertext.toString("base64"),
  });
  await writeFile(outFile, text, { mode: 0o600 });
  return { entries, schemaVersion, bytes: text.length };
}

/**
 * Restores a backup into `dataDir`, which must be missing or empty, then runs the migration
 * hook. A wrong key or a changed file is refused before anything is written.
 */
export async function restore(
  inFile: string,
  dataDir: string,
  secret: string,
): Promise<{ entries: number; from: number; to: number }> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new BackupError(`the data folder ${dataDir} is not empty: restore into a new folder`);
  }
  let file: { header: Header; tag: string; data: string };
  try {
    file = JSON.parse(await readFile(inFile, "utf8"));
  } catch (e) {
    throw new BackupError(`${inFile} is not a PartProof backup: ${(e as Error).message}`);
  }
  const h = file?.header;
  if (h?.format !== FORMAT || h.version !== FILE_VERSION) {
    throw new BackupError(`${inFile} is not a version-${FILE_VERSION} PartProof backup`);
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      keyOf(secret, h.kdf, Buffer.from(h.salt, "base64")),
      Buffer.from(h.iv, "base64"),
    );
    decipher.setAAD(Buffer.from(JSON.stringify(h)));
    decipher.setAuthTag(Buffer.from(file.tag, "base64"));
    plain = Buffer.concat([decipher.update(Buffer.from(file.data, "base64")), decipher.final()]);
  } catch {
    throw new BackupError(
      `cannot decrypt ${inFile}: the backup key is wrong, or the file was changed`,
    );
  }
  const db = await openRaw(dataDir, true);
  let entries = 0;
  try {
    let batch = db.batch();
    for (let at = 0; at < plain.length;) {
      const kl = plain.readUInt32BE(at);
      const vl = plain.readUInt32BE(at + 4);
      const k = plain.subarray(at + 8, at + 8 + kl);
      const v = plain.subarray(at + 8 + kl, at + 8 + kl + vl);
      at += 8 + kl + vl;
      batch.put(Buffer.from(k), Buffer.from(v));
      if (++entries % 1000 === 0) {
        await batch.write();
        batch = db.batch();
      }
    }
    await batch.write();
    if (entries !== h.entries) {
      throw new BackupError(`${inFile} holds ${entries} entries, its header says ${h.entries}`);
    }
    const { from, to } = await migrate(db);
    return { entries, from, to };
  } finally {
    await db.close();
  }
}
