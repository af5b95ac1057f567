/**
 * The refusals of resumable upload sessions (usecases/uploads.ts, the owner's session read in
 * usecases/reads.ts): status, code, and that the refusal wrote nothing (store snapshot). The
 * session kill-and-resume story is uploads.test.ts; this file runs the gateway in-process.
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain.
 */
import { expect } from "chai";
import { hexlify, randomBytes, ZeroHash } from "ethers";
import { network } from "hardhat";
import { GatewayClient, GatewayRefusal } from "../../protocol/client.js";
import { qualitySchema } from "../../protocol/records/index.js";
import { signUploadStep } from "../../protocol/typed-data.js";
import { call, deploy, domainOf, gateway, storeSnapshot, qualityRowsWithIds } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const rows = qualityRowsWithIds;

const newSessionId = () => hexlify(randomBytes(32));

describe("Gateway upload session refusals", function () {
  let gw: Awaited<ReturnType<typeof gateway>>;
  let client: GatewayClient;
  let owner: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let heir: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let pp: Awaited<ReturnType<typeof deploy>>;
  let domain: Awaited<ReturnType<typeof domainOf>>;

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    heir = signers[2]!;
    pp = await deploy(conn);
    const address = await pp.getAddress();
    domain = await domainOf(ethers, address);
    // asset 1: the sessions below; asset 2: handed to `heir` mid-session
    for (let i = 0; i < 2; i++) {
      await (pp.connect(owner) as any).registerAsset(qualitySchema.id, ZeroHash, "http://gw");
    }
    gw = await gateway(ethers, address, signers[3]!, { over: { relayer: { enabled: false } } });
    client = new GatewayClient(gw.url, domain);
  });

  after(async function () {
    await gw?.close();
  });

  /** Runs `act`, expects it refused with `status`/`code`, and the store unchanged by it. */
  async function refusedUnchanged(status: number, code: string, act: () => Promise<unknown>) {
    const before = await storeSnapshot(gw.ctx.store);
    const e = await act().then(
      () => expect.fail(`expected ${status} ${code}, the gateway accepted`),
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(GatewayRefusal);
    const r = e as GatewayRefusal;
    expect([r.status, r.code], r.reason).to.deep.equal([status, code]);
    expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(before);
  }

  /** POSTs a hand-made step body (the client signs only good ones). */
  async function post(url: string, body: unknown) {
    const res = await call(gw.url, "POST", url, body);
    if (res.status >= 400) {
      throw new GatewayRefusal(res.status, res.body.error.code, res.body.error.message);
    }
    return res;
  }

  it("refuses a chunk, a commit and the owner's read of a session never started with UNKNOWN_UPLOAD", async function () {
    const terms = { assetId: 1n, sessionId: newSessionId(), replace: false, chunkCount: 1 };
    await refusedUnchanged(404, "UNKNOWN_UPLOAD", () =>
      client.uploadChunk(owner, terms, 0, rows(3)),
    );
    await refusedUnchanged(404, "UNKNOWN_UPLOAD", () => client.commitUploadSession(owner, terms));
    await refusedUnchanged(404, "UNKNOWN_UPLOAD", () =>
      client.uploadSession(owner, 1n, terms.sessionId),
    );
  });

  it("refuses a start, chunk or commit signed with other terms than the session's with UPLOAD_MISMATCH", async function () {
    const terms = { assetId: 1n, sessionId: newSessionId(), replace: false, chunkCount: 2 };
    await client.startUploadSession(owner, terms);
    for (const other of [
      { ...terms, chunkCount: 3 },
      { ...terms, replace: true },
    ]) {
      await refusedUnchanged(409, "UPLOAD_MISMATCH", () => client.startUploadSession(owner, other));
      await refusedUnchanged(409, "UPLOAD_MISMATCH", () =>
        client.uploadChunk(owner, other, 0, rows(2)),
      );
      await refusedUnchanged(409, "UPLOAD_MISMATCH", () =>
        client.commitUploadSession(owner, other),
      );
    }
    expect((await client.uploadSession(owner, 1n, terms.sessionId)).received).to.deep.equal([]);
  });

  it("refuses a chunk index beyond the session's chunk count with VALIDATION_FAILED", async function () {
    const terms = { assetId: 1n, sessionId: newSessionId(), replace: false, chunkCount: 2 };
    await client.startUploadSession(owner, terms);
    await refusedUnchanged(400, "VALIDATION_FAILED", () =>
      client.uploadChunk(owner, terms, 2, rows(2)),
    );
  });

  it("refuses a chunk sent to a committed session with UPLOAD_MISMATCH (the version stays as committed)", async function () {
    const terms = { assetId: 1n, sessionId: newSessionId(), replace: true, chunkCount: 1 };
    await client.startUploadSession(owner, terms);
    await client.uploadChunk(owner, terms, 0, rows(4));
    const done = await client.commitUploadSession(owner, terms);
    expect(done.version.recordCount).to.equal(4);
    await refusedUnchanged(409, "UPLOAD_MISMATCH", () =>
      client.uploadChunk(owner, terms, 0, rows(5)),
    );
    // the commit sent again is the same version
    const again = await client.commitUploadSession(owner, terms);
    expect([again.created, again.version.localId]).to.deep.equal([false, done.version.localId]);
  });

  it("refuses a malformed step signature with BAD_SIGNATURE and a stale or future one with DEADLINE_EXPIRED", async function () {
    const terms = { assetId: 1n, sessionId: newSessionId(), replace: false, chunkCount: 1 };
    const url = `/assets/1/upload-sessions/${terms.sessionId}`;
    const good = await signUploadStep(owner, domain, terms, "start", 0);
    await refusedUnchanged(401, "BAD_SIGNATURE", () =>
      post(url, { ...good, signature: "0x" + "11".repeat(65) }),
    );
    const now = Math.floor(Date.now() / 1000);
    const window = gw.ctx.config.signatureMaxAgeSec;
    const skew = gw.ctx.config.clockSkewSec;
    for (const t of [now - window - 60, now + skew + 60]) {
      const body = await signUploadStep(owner, domain, terms, "start", 0, undefined, BigInt(t));
      await refusedUnchanged(401, "DEADLINE_EXPIRED", () => post(url, body));
    }
    // the same terms signed now start the session
    expect((await post(url, good)).status).to.equal(201);
  });

  it("refuses the new owner of an asset the old owner's session (NOT_OWNER): its chunks stay the old owner's", async function () {
    const terms = { assetId: 2n, sessionId: newSessionId(), replace: false, chunkCount: 2 };
    await client.startUploadSession(owner, terms);
    await client.uploadChunk(owner, terms, 0, rows(3));
    await (await (pp.connect(owner) as any).transferAssetOwnership(2n, heir.address)).wait();
    await refusedUnchanged(403, "NOT_OWNER", () => client.uploadChunk(heir, terms, 1, rows(3)));
    await refusedUnchanged(403, "NOT_OWNER", () => client.commitUploadSession(heir, terms));
    // the heir's own session on the asset is accepted
    const own = { ...terms, sessionId: newSessionId(), chunkCount: 1 };
    await client.startUploadSession(heir, own);
    await client.uploadChunk(heir, own, 0, rows(2));
    expect((await client.commitUploadSession(heir, own)).version.recordCount).to.equal(2);
  });
});
