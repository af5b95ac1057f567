/**
 * Abandoned upload sessions expire (config `uploads.sessionLifetimeSec`): a real gateway on a
 * real LevelDB deletes the chunks of a session that received nothing for the lifetime, at start
 * and then periodically; the expired session's chunks and commit are refused with 410
 * UPLOAD_EXPIRED; a committed session is kept; a start with the same id begins it again.
 * The gateway is restarted on the same folder with different lifetimes (no fake clock).
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { network } from "hardhat";
import { GatewayClient, GatewayRefusal } from "../../protocol/client.js";
import { qualitySchema } from "../../protocol/records/index.js";
import { sweepUploadSessions } from "../../gateway/usecases/uploads.js";
import { deploy, domainOf, gateway, tempDir, qualityRowsWithIds } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const chunk = qualityRowsWithIds;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The refusal a call ends with (fails the test when it succeeds). */
async function refusal(p: Promise<unknown>): Promise<GatewayRefusal> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, "the call is refused").to.be.instanceOf(GatewayRefusal);
  return e as GatewayRefusal;
}

describe("Gateway upload sessions: expiry", function () {
  it("deletes an abandoned session's chunks at start and periodically, refuses its chunks and commit with 410 UPLOAD_EXPIRED, keeps committed sessions, and starts it again", async function () {
    const [relayer, owner] = await ethers.getSigners();
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    const domain = await domainOf(ethers, address);
    await (pp.connect(owner!) as any).registerAsset(qualitySchema.id, ZeroHash, "http://gw");
    const dataDir = tempDir();
    const start = (uploads: { sessionLifetimeSec: number; sweepIntervalSec: number }) =>
      gateway(ethers, address, relayer!, { dataDir, over: { uploads, logLevel: "warn" } });
    const terms = (id: string, chunkCount: number) => ({
      assetId: 1n,
      sessionId: "0x" + id.repeat(64),
      replace: true,
      chunkCount,
    });
    const abandoned = terms("a", 3);
    const committed = terms("b", 1);
    const late = terms("c", 2);
    const chunksA = [chunk(2), chunk(2), chunk(2)];

    // a long lifetime: one session is left with a chunk, another is committed
    let gw = await start({ sessionLifetimeSec: 3600, sweepIntervalSec: 3600 });
    let client = new GatewayClient(gw.url, domain);
    try {
      await client.startUploadSession(owner!, abandoned);
      await client.uploadChunk(owner!, abandoned, 0, chunksA[0]!);
      await client.startUploadSession(owner!, committed);
      await client.uploadChunk(owner!, committed, 0, chunk(2));
      const made = await client.commitUploadSession(owner!, committed);
      expect(made.version.localId).to.equal(1);
      expect((await gw.ctx.store.counts()).sessionChunks).to.equal(1);
    } finally {
      await gw.close();
    }

    // restarted with an 8 s lifetime once the abandoned session is older than that: the sweep
    // at start has deleted its chunks before the gateway serves
    await sleep(8100);
    gw = await start({ sessionLifetimeSec: 8, sweepIntervalSec: 1 });
    client = new GatewayClient(gw.url, domain);
    try {
      expect((await gw.ctx.store.counts()).sessionChunks).to.equal(0);
      const view = await client.uploadSession(owner!, 1n, abandoned.sessionId);
      expect([view.expired, view.received, view.records]).to.deep.equal([true, [], 0]);
      const c = await refusal(client.uploadChunk(owner!, abandoned, 1, chunksA[1]!));
      expect([c.status, c.code]).to.deep.equal([410, "UPLOAD_EXPIRED"]);
      const m = await refusal(client.commitUploadSession(owner!, abandoned));
      expect([m.status, m.code]).to.deep.equal([410, "UPLOAD_EXPIRED"]);
      // the committed session is kept: its commit again answers its version
      const again = await client.commitUploadSession(owner!, committed);
      expect([again.created, again.version.localId]).to.deep.equal([false, 1]);

      // a session started now is swept by the periodic sweep once it is 8 s idle
      await client.startUploadSession(owner!, late);
      await client.uploadChunk(owner!, late, 0, chunk(2));
      expect((await gw.ctx.store.counts()).sessionChunks).to.equal(1);
      for (let i = 0; i < 80 && (await gw.ctx.store.counts()).sessionChunks! > 0; i++) {
        await sleep(500);
      }
      expect((await gw.ctx.store.counts()).sessionChunks, "swept").to.equal(0);
      const l = await refusal(client.uploadChunk(owner!, late, 1, chunk(2)));
      expect([l.status, l.code]).to.deep.equal([410, "UPLOAD_EXPIRED"]);

      // a week after expiring, expired sessions are forgotten (the sweep takes its clock);
      // the committed one is kept
      const later = await sweepUploadSessions(gw.ctx, Date.now() + 8 * 86_400_000);
      expect(later).to.deep.equal({ expired: 0, forgotten: 2 });
      const f = await refusal(client.uploadChunk(owner!, late, 1, chunk(2)));
      expect([f.status, f.code]).to.deep.equal([404, "UNKNOWN_UPLOAD"]);
      expect((await gw.ctx.store.getSession("1", committed.sessionId))?.localId).to.equal(1);
    } finally {
      await gw.close();
    }

    // the expired session's id starts again from nothing and commits every record
    gw = await start({ sessionLifetimeSec: 3600, sweepIntervalSec: 3600 });
    client = new GatewayClient(gw.url, domain);
    try {
      const restarted = await client.startUploadSession(owner!, abandoned);
      expect([restarted.expired, restarted.received, restarted.records]).to.deep.equal([
        false,
        [],
        0,
      ]);
      for (const [i, data] of chunksA.entries()) {
        await client.uploadChunk(owner!, abandoned, i, data);
      }
      const done = await client.commitUploadSession(owner!, abandoned);
      expect([done.created, done.version.recordCount]).to.deep.equal([true, 6]);
      expect((await client.versions(owner!, 1n)).versions.map((v) => v.localId)).to.deep.equal([
        1, 2,
      ]);
    } finally {
      await gw.close();
    }
  });
});
