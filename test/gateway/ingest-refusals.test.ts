/**
 * Refusals of uploads and publication (usecases/ingest.ts) that the other files leave out: an
 * asset of a schema the gateway does not serve, an append that would overfill the tree, and the
 * chain's own refusals of a relayed publication (AssetIsRetired, ExpiredSignature at inclusion)
 * mapped to their codes rather than PUBLISH_FAILED. Status, code, and nothing written.
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain.
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { network } from "hardhat";
import { qualitySchema, type UploadData } from "../../protocol/records/index.js";
import { signUpload } from "../../protocol/typed-data.js";
import { INGEST_QUEUE_MAX } from "../../gateway/usecases/ingest.js";
import { call, deploy, domainOf, gateway, publishLocal, storeSnapshot } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

/** `n` quality rows of one plant, one per day from `day`. */
function rows(n: number, plant: string, day = 1): UploadData {
  return {
    format: "json",
    rows: Array.from({ length: n }, (_, i) => ({
      partNumber: "GBX-3232455",
      plant,
      productionDate: `2026-07-${String(day + i).padStart(2, "0")}`,
      hasBeenReworked: i % 2 === 0,
      numberOfConductedEndOfLineTests: i + 1,
    })),
  };
}

describe("Gateway upload and publication refusals", function () {
  let gw: Awaited<ReturnType<typeof gateway>>;
  let owner: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let pp: Awaited<ReturnType<typeof deploy>>;
  let domain: Awaited<ReturnType<typeof domainOf>>;

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    pp = await deploy(conn);
    const address = await pp.getAddress();
    domain = await domainOf(ethers, address);
    // assets 1-3: quality data; 4: a schema no gateway serves
    for (let i = 0; i < 3; i++) {
      await (pp.connect(owner) as any).registerAsset(qualitySchema.id, ZeroHash, "http://gw");
    }
    await (pp.connect(owner) as any).registerAsset(
      "urn:example:unknown:1.0.0",
      ZeroHash,
      "http://gw",
    );
    gw = await gateway(ethers, address, signers[3]!);
  });

  after(async function () {
    await gw?.close();
  });

  const upload = async (assetId: bigint, data: UploadData) =>
    call(
      gw.url,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(owner, domain, assetId, data),
    );

  /** Expects `res` refused with `status`/`code` and the store as `before`. */
  async function refusedUnchanged(
    res: { status: number; body: any; text: string },
    status: number,
    code: string,
    before: Awaited<ReturnType<typeof storeSnapshot>>,
  ) {
    expect([res.status, res.body?.error?.code], res.text).to.deep.equal([status, code]);
    expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(before);
  }

  it("refuses an upload to an asset of a schema it does not serve with UNSUPPORTED_SCHEMA", async function () {
    const before = await storeSnapshot(gw.ctx.store);
    await refusedUnchanged(await upload(4n, rows(3, "0001")), 422, "UNSUPPORTED_SCHEMA", before);
  });

  it("refuses an append that would hold more records than the tree with TOO_MANY_RECORDS", async function () {
    expect((await upload(1n, rows(10, "0002"))).status).to.equal(201);
    const before = await storeSnapshot(gw.ctx.store);
    // 10 + 10 records: each upload alone fits the depth-4 tree, together they do not
    await refusedUnchanged(await upload(1n, rows(10, "0003")), 413, "TOO_MANY_RECORDS", before);
  });

  it("refuses to publish a version of an asset retired on-chain with ASSET_RETIRED (the chain's AssetIsRetired)", async function () {
    const up = await upload(2n, rows(4, "0004"));
    expect(up.status).to.equal(201);
    await (await (pp.connect(owner) as any).retireAsset(2n)).wait();
    const before = await storeSnapshot(gw.ctx.store);
    const res = await publishLocal(gw, pp, owner, domain, 2n, up.body.version);
    await refusedUnchanged(res, 409, "ASSET_RETIRED", before);
    expect((await pp.getAsset(2n)).versionCount).to.equal(0n);
  });

  it("refuses a publication the chain refuses for another reason with PUBLISH_FAILED naming it (here: paused)", async function () {
    const up = await upload(3n, rows(3, "0006"));
    expect(up.status).to.equal(201);
    await (await pp.pause()).wait(); // the deployer holds the pauser role
    try {
      const before = await storeSnapshot(gw.ctx.store);
      const res = await publishLocal(gw, pp, owner, domain, 3n, up.body.version);
      await refusedUnchanged(res, 502, "PUBLISH_FAILED", before);
      expect(res.body.error.message).to.include("EnforcedPause");
    } finally {
      await (await pp.unpause()).wait();
    }
    expect((await pp.getAsset(3n)).versionCount).to.equal(0n);
  });

  it("refuses a publish signature that expires at the latest block with DEADLINE_EXPIRED (the chain's ExpiredSignature)", async function () {
    const up = await upload(3n, rows(4, "0005"));
    expect(up.status).to.equal(201);
    // not yet past at the gateway's check; past in the block that would include it
    const latest = (await ethers.provider.getBlock("latest"))!.timestamp;
    const before = await storeSnapshot(gw.ctx.store);
    const res = await publishLocal(gw, pp, owner, domain, 3n, up.body.version, BigInt(latest));
    await refusedUnchanged(res, 401, "DEADLINE_EXPIRED", before);
    expect((await pp.getAsset(3n)).versionCount).to.equal(0n);
  });

  it("refuses an upload with INGEST_BUSY before hashing it while the ingest queue is full (an unsigned flood cannot queue bodies without bound), and takes it once the queue drains", async function () {
    // fill the ingest pool's queue past its bound with real work (hashing a large upload); the
    // workers start lazily and each task takes a while, so the queue stays full meanwhile
    const big = rows(20_000, "0008");
    const filler = Array.from({ length: INGEST_QUEUE_MAX + 8 }, () => gw.ctx.ingest.dataHash(big));
    try {
      expect(gw.ctx.ingest.waiting).to.be.at.least(INGEST_QUEUE_MAX);
      const before = await storeSnapshot(gw.ctx.store);
      await refusedUnchanged(await upload(3n, rows(3, "0007")), 503, "INGEST_BUSY", before);
    } finally {
      await Promise.all(filler);
    }
    expect((await upload(3n, rows(3, "0007"))).status).to.equal(201);
  });
});
