/**
 * Backup and restore of the gateway's data folder (gateway/backup.ts): a restored folder answers
 * the same question with the same, verifying proof; a wrong key, a changed file or a used
 * folder is refused; the migration hook records the schema version, and a gateway started on a
 * restored folder of an older schema version migrates it and answers (a newer one is refused).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { Level } from "level";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { keyRange } from "../../protocol/records/index.js";
import { signQuery, signUpload, type QueryMessage } from "../../protocol/typed-data.js";
import { backup, BackupError, restore, STORE_SCHEMA_VERSION } from "../../gateway/backup.js";
import { StartupCheckError } from "../../gateway/startup-checks.js";
import { GatewayStore } from "../../gateway/store/index.js";
import { toLayout4, unversionedValues } from "./legacy-layout.js";
import {
  assetWithGrant,
  call,
  gateway,
  openPolicy,
  publishLocal,
  requestId,
  snarkjsVerify,
  tempDir,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";
const KEY = "a passphrase only the operator knows";

describe("Gateway backup and restore", function () {
  let owner: Signer, consumer: Signer, relayer: Signer;

  before(async function () {
    [, owner, consumer, relayer] = (await ethers.getSigners()) as Signer[] as [
      Signer,
      Signer,
      Signer,
      Signer,
    ];
  });

  /**
   * A gateway folder holding a published version and one logged answer (then the gateway is
   * stopped), and `answersAgain`, which starts a gateway on a restored folder and checks that it
   * answers the same question anew with the same result, root and a verifying proof.
   */
  async function folderWithAnAnswer() {
    const { pp, address, domain } = await assetWithGrant(
      conn,
      owner,
      consumer,
      QUALITY,
      openPolicy(PART),
    );
    const ask = (nonce: bigint): QueryMessage => ({
      grantId: 1n,
      assetId: 1n,
      versionId: 0n,
      kind: AggregateKind.Count,
      fieldA: 0,
      fieldB: 0,
      ...(({ keyLo, keyHi }) => ({ lo: keyLo, hi: keyHi }))(
        keyRange({ partNumber: PART, plant: "4711", from: "2026-07-01", to: "2026-07-31" }),
      ),
      threshold: 0n,
      requestId: requestId(),
      nonce,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    });

    const dataDir = tempDir();
    const gw = await gateway(ethers, address, relayer, { dataDir });
    let first;
    try {
      const up = await call(
        gw.url,
        "POST",
        "/assets/1/uploads",
        await signUpload(owner, domain, 1n, {
          format: "json",
          rows: Array.from({ length: 12 }, (_, i) => ({
            partNumber: PART,
            plant: "4711",
            productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
            hasBeenReworked: i % 4 === 0,
            numberOfConductedEndOfLineTests: 2,
          })),
        }),
      );
      expect(up.status, up.text).to.equal(201);
      const pub = await publishLocal(gw, pp, owner, domain, 1n, up.body.version);
      expect(pub.status, pub.text).to.equal(201);
      const q = await call(gw.url, "POST", "/queries", await signQuery(consumer, domain, ask(1n)));
      expect(q.status, q.text).to.equal(202);
      first = await waitJob(gw.url, q.body.jobId);
      expect(first.status).to.equal("logged");
    } finally {
      await gw.close();
    }

    const answersAgain = async (restored: string) => {
      const gw = await gateway(ethers, address, relayer, { dataDir: restored });
      try {
        // the old answer is there, as it was
        const again = await call(gw.url, "GET", `/jobs/${first.jobId}`);
        // the timeline is what a running gateway saw happen (kept in memory), not restored data
        const { timeline: _seen, ...stored } = first;
        expect(again.body).to.deep.equal(stored);
        // the same question, asked anew, gets the same answer from the restored records and salts
        const q = await call(
          gw.url,
          "POST",
          "/queries",
          await signQuery(consumer, domain, ask(2n)),
        );
        expect(q.status, q.text).to.equal(202);
        const second = await waitJob(gw.url, q.body.jobId);
        expect(second.status).to.equal("logged");
        expect(second.answer.resultValue).to.equal(first.answer.resultValue);
        expect(second.answer.resultValue).to.equal("12");
        expect(second.publicSignals[0]).to.equal(first.publicSignals[0]); // the same root
        expect(
          await snarkjsVerify(gw.ctx.artifacts.vkey, second.publicSignals, second.proof),
        ).to.equal(true);
        // the restored nonce store still refuses the first query's nonce
        const replay = await call(
          gw.url,
          "POST",
          "/queries",
          await signQuery(consumer, domain, { ...ask(1n) }),
        );
        expect(replay.body.error.code).to.equal("NONCE_REUSED");
        return gw.logs.lines;
      } finally {
        await gw.close();
      }
    };
    return { dataDir, first, answersAgain };
  }

  it("restores into a fresh folder that answers the same question with the same result and a verifying proof", async function () {
    const { dataDir, first, answersAgain } = await folderWithAnAnswer();
    const file = path.join(tempDir(), "gateway.backup");
    const b = await backup(dataDir, file, KEY);
    expect(b.entries).to.be.greaterThan(5);
    // encrypted: no stored value is readable in the file
    const text = readFileSync(file, "utf8");
    expect(text).to.not.include(PART);
    expect(text).to.not.include(first.requestId.slice(2));

    const restored = path.join(tempDir(), "restored");
    const r = await restore(file, restored, KEY);
    expect(r).to.deep.equal({
      entries: b.entries,
      from: STORE_SCHEMA_VERSION,
      to: STORE_SCHEMA_VERSION,
    });
    await answersAgain(restored);
  });

  it("restores a backup of schema version 1, which the gateway migrates as it starts and answers from", async function () {
    const { dataDir, answersAgain } = await folderWithAnAnswer();
    // the folder as a gateway of layout 1 wrote it: each version's records and salts in its
    // JSON value, no chunked rows, no schema version recorded
    const store = await GatewayStore.open(dataDir);
    const versions = [];
    try {
      for (const v of await store.listVersions("1"))
        versions.push({ ...v, ...(await store.versionData(v)) });
    } finally {
      await store.close();
    }
    expect(versions.length).to.equal(1);
    // layout 1 stored its values without schema versions, as layout 4 did
    await toLayout4(dataDir);
    const db = new Level<string, unknown>(dataDir, { valueEncoding: "json" });
    await db.open();
    try {
      // neither layout 2's rows nor layout 3's shared chunks: the rows live in each version
      for (const name of ["rows", "chunks"]) {
        const sub = db.sublevel<string, unknown>(name, { valueEncoding: "json" });
        for await (const k of sub.keys()) await sub.del(k);
      }
      const vs = db.sublevel<string, Record<string, unknown>>("versions", {
        valueEncoding: "json",
      });
      for await (const [k, v] of vs.iterator()) {
        const { chunkFirstKeys: _k, chunkIds: _i, chunkStarts: _s, ...meta } = v;
        const data = versions.find((x) => x.root === v.root)!;
        await vs.put(k, { ...meta, records: data.records, salts: data.salts });
      }
      await db.sublevel("settings", { valueEncoding: "json" }).del("schemaVersion");
    } finally {
      await db.close();
    }

    const file = path.join(tempDir(), "old.backup");
    const b = await backup(dataDir, file, KEY);
    expect(b.schemaVersion).to.equal(1);
    const restored = path.join(tempDir(), "restored-old");
    expect(await restore(file, restored, KEY)).to.deep.include({ from: 1 });
    const lines = await answersAgain(restored);
    expect(lines.join("")).to.include(
      `holds data of schema version 1; it is migrated to ${STORE_SCHEMA_VERSION}`,
    );
    const after = await GatewayStore.open(restored);
    try {
      expect(await after.schemaVersion()).to.equal(STORE_SCHEMA_VERSION);
    } finally {
      await after.close();
    }
  });

  it("starts on a folder of layout 4 (values without schema versions), rewrites every value with its version and answers from it", async function () {
    const { dataDir, answersAgain } = await folderWithAnAnswer();
    const plain = await toLayout4(dataDir);
    expect((await unversionedValues(dataDir)).off).to.have.length(plain);
    expect(plain).to.be.greaterThan(5);
    const lines = await answersAgain(dataDir);
    expect(lines.join("")).to.include(
      `holds data of schema version 4; it is migrated to ${STORE_SCHEMA_VERSION}`,
    );
    const after = await unversionedValues(dataDir);
    expect(after.off).to.deep.equal([]);
    expect(after.checked).to.be.greaterThan(plain);
  });

  it("refuses to start on a data folder of a newer schema version, naming both versions", async function () {
    const { address } = await assetWithGrant(conn, owner, consumer, QUALITY, openPolicy(PART));
    const dir = tempDir();
    const db = new Level(dir);
    await db.put("!settings!schemaVersion", JSON.stringify(STORE_SCHEMA_VERSION + 1));
    await db.close();
    const e = await gateway(ethers, address, relayer, { dataDir: dir }).then(
      async (gw) => {
        await gw.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(StartupCheckError);
    expect((e as Error).message).to.include(
      `is of schema version ${STORE_SCHEMA_VERSION + 1}, newer than this gateway's ${STORE_SCHEMA_VERSION}`,
    );
  });

  describe("refusals", function () {
    let dataDir: string;
    let file: string;

    before(async function () {
      dataDir = tempDir();
      const db = new Level(dataDir);
      await db.put("!settings!gatewayId", JSON.stringify("gw-test"));
      await db.close();
      file = path.join(tempDir(), "b.backup");
      await backup(dataDir, file, KEY);
    });

    async function refusal(p: Promise<unknown>): Promise<string> {
      const e = await p.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).to.be.instanceOf(BackupError);
      return (e as Error).message;
    }

    it("refuses a wrong key before writing anything", async function () {
      const target = path.join(tempDir(), "t");
      expect(await refusal(restore(file, target, "another passphrase entirely"))).to.match(
        /the backup key is wrong, or the file was changed/,
      );
    });

    it("refuses a file whose header was changed", async function () {
      const f = JSON.parse(readFileSync(file, "utf8"));
      f.header.entries += 1;
      const changed = path.join(tempDir(), "changed.backup");
      writeFileSync(changed, JSON.stringify(f));
      expect(await refusal(restore(changed, path.join(tempDir(), "t"), KEY))).to.match(
        /the backup key is wrong, or the file was changed/,
      );
    });

    it("refuses to restore into a folder that is not empty", async function () {
      expect(await refusal(restore(file, dataDir, KEY))).to.match(/is not empty/);
    });

    it("refuses to back up a folder a running gateway holds", async function () {
      const db = new Level(dataDir);
      await db.open();
      try {
        expect(await refusal(backup(dataDir, file, KEY))).to.match(/stop the gateway first/);
      } finally {
        await db.close();
      }
    });

    it("refuses data of a newer schema version than the code's", async function () {
      const dir = tempDir();
      const db = new Level(dir);
      await db.put("!settings!schemaVersion", JSON.stringify(STORE_SCHEMA_VERSION + 1));
      await db.close();
      const f = path.join(tempDir(), "newer.backup");
      await backup(dir, f, KEY);
      expect(await refusal(restore(f, path.join(tempDir(), "t"), KEY))).to.match(
        /newer than this gateway's/,
      );
    });
  });
});
