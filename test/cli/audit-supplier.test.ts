/**
 * The supplier checks a version the gateway built before it signs PublishVersion: AuditPath
 * proofs of the boundary links and of random leaves on the supplier's own challenge, whose public
 * inputs must be the root and record count the gateway reports. The lying gateway is a real one
 * whose LevelDB store the test alters after the upload.
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet } from "ethers";
import * as supplier from "../../cli/supplier.js";
import { versionIdOf } from "../../protocol/contract.js";
import { readRow, writeRow } from "../../gateway/store/rows.js";
import { generateQuality, toCatenaX } from "../../scripts/lib/demo-data.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { startCliWorld, SUPPLIER, type CliWorld } from "./world.js";

/** The store's private sublevels, which a test may alter as a dishonest operator would. */
interface Sublevel<V> {
  iterator(): AsyncIterable<[string, V]>;
  put(k: string, v: V): Promise<void>;
}

describe("supplier checks a gateway-built version before signing it", function () {
  let w: CliWorld;
  let owner: Wallet;
  let n = 0;

  before(async function () {
    w = await startCliWorld({
      envPrefix: "AUDIT_SUPPLIER",
      seed: "audit-supplier",
      aggregates: "count",
    });
    owner = new Wallet(devAccount(1).privateKey, w.session.provider);
  });

  after(async function () {
    await w?.close();
  });

  /** Uploads a fresh data set without publishing it; returns the gateway's local version. */
  async function unpublished() {
    const rows = generateQuality(SUPPLIER, {
      from: `2026-10-${String(++n * 5).padStart(2, "0")}`,
      days: 4,
      perDay: [1, 1],
      seed: `s${n}`,
    });
    const file = path.join(w.work, `unpublished-${n}.json`);
    await writeFile(file, JSON.stringify(toCatenaX(SUPPLIER, rows)));
    const up = await w.cli(
      "supplier",
      "supplier",
      "upload",
      w.assetId,
      file,
      "--replace",
      "--no-publish",
    );
    expect(up.code, up.err).to.equal(0);
    return up.json().version as supplier.LocalVersion;
  }

  const store = () => w.gw.ctx.store as unknown as Record<string, Sublevel<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

  async function versionsPublished(): Promise<number> {
    return (await w.session.reader.getAsset(BigInt(w.assetId)))!.versionCount;
  }

  it("signs an honest version after checking it", async function () {
    const v = await unpublished();
    const before = await versionsPublished();
    const r = await supplier.publishViaGateway(w.session, owner, v);
    expect(r.versionId).to.equal(versionIdOf(BigInt(w.assetId), before + 1));
    expect((await w.session.reader.getVersion(r.versionId))!.recordCount).to.equal(
      BigInt(v.recordCount),
    );
  });

  it("refuses to sign a version whose record count the gateway inflated, and says where", async function () {
    const v = await unpublished();
    for await (const [k, sv] of store().versions!.iterator()) {
      if (sv.assetId === w.assetId && sv.localId === v.localId) {
        await store().versions!.put(k, { ...sv, recordCount: sv.recordCount + 1 });
      }
    }
    const claimed = (await supplier.versionsOf(w.session, owner, BigInt(w.assetId))).versions.find(
      (x) => x.localId === v.localId,
    )!;
    expect(claimed.recordCount).to.equal(v.recordCount + 1); // the gateway now lies to its owner
    const before = await versionsPublished();
    const err = await supplier.publishViaGateway(w.session, owner, claimed).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/refusing to sign local version \d+/);
    expect(err?.message).to.include("could not prove");
    expect(await versionsPublished()).to.equal(before);
  });

  it("refuses to sign a version whose stored records do not rebuild the root it reports", async function () {
    const v = await unpublished();
    for await (const [k, rows] of store().chunks!.iterator()) {
      if (!k.startsWith(`${w.assetId}!`)) continue;
      const buf = new Uint8Array(rows);
      const r = readRow(buf, 0);
      writeRow(
        buf,
        0,
        {
          key: r.key,
          values: [r.values[0] + 1n, r.values[1], r.values[2], r.values[3]],
          ...(r.id ? { id: r.id } : {}),
        },
        r.salt,
      );
      await store().chunks!.put(k, buf);
    }
    const before = await versionsPublished();
    const err = await supplier.publishViaGateway(w.session, owner, v).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/refusing to sign local version \d+/);
    expect(err?.message).to.include("do not rebuild the root");
    expect(await versionsPublished()).to.equal(before);
  });
});
