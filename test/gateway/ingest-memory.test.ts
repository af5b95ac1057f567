/**
 * An upload that needs more memory than the gateway's ingest workers have (`ingest.heapMb`, the
 * old-generation heap of each worker thread; INGEST_HEAP_MB = 384 MiB by default) is refused
 * with 413 INGEST_MEMORY_EXCEEDED naming the cap and the records, not a generic 500: the worker
 * is replaced, nothing is stored, and an upload session keeps its terms and other chunks (it
 * stays resumable: the chunk sent again smaller is taken and the commit makes a version).
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain, with a test-sized
 * cap (64 MiB: a worker loads its code in ~30 MiB; hashing and reading ~9 MB of JSON rows needs
 * several times the cap).
 */
import { expect } from "chai";
import { hexlify, randomBytes, ZeroHash } from "ethers";
import { network } from "hardhat";
import { randomUUID } from "node:crypto";
import { GatewayClient, GatewayRefusal } from "../../protocol/client.js";
import { qualitySchema, type UploadData } from "../../protocol/records/index.js";
import { deploy, domainOf, gateway, storeSnapshot, qualityRowsWithIds } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const HEAP_MB = 64;
/** Quality rows (~185 bytes each as JSON): 50,000 are ~9 MB, within the test's body limit. */
function manyRows(n: number): UploadData {
  return {
    format: "json",
    rows: Array.from({ length: n }, (_, i) => ({
      partNumber: "GBX-3232455",
      plant: "4711",
      productionDate: `2026-07-${String((i % 28) + 1).padStart(2, "0")}`,
      hasBeenReworked: i % 2 === 0,
      numberOfConductedEndOfLineTests: 1 + (i % 9),
      partId: randomUUID(),
    })),
  };
}

describe("Gateway ingest memory", function () {
  this.timeout(300_000);
  let gw: Awaited<ReturnType<typeof gateway>>;
  let client: GatewayClient;
  let owner: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  const big = manyRows(50_000);

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    await (pp.connect(owner) as any).registerAsset(qualitySchema.id, ZeroHash, "http://gw");
    gw = await gateway(ethers, address, signers[3]!, {
      over: {
        relayer: { enabled: false },
        bodyLimitBytes: 16 * 1024 * 1024,
        ingest: { workers: 1, budgetMs: 120_000, heapMb: HEAP_MB },
      },
    });
    client = new GatewayClient(gw.url, await domainOf(ethers, address));
  });

  after(async function () {
    await gw?.close();
  });

  /** Expects `act` refused with 413 INGEST_MEMORY_EXCEEDED naming the cap, the store unchanged. */
  async function refusedForMemory(act: () => Promise<unknown>) {
    const before = await storeSnapshot(gw.ctx.store);
    const e = await act().then(
      () => expect.fail("expected 413 INGEST_MEMORY_EXCEEDED, the gateway accepted"),
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(GatewayRefusal);
    const r = e as GatewayRefusal;
    expect([r.status, r.code], r.reason).to.deep.equal([413, "INGEST_MEMORY_EXCEEDED"]);
    expect(r.reason).to.include(`ingest.heapMb = ${HEAP_MB} MiB`);
    expect(r.reason).to.include("INGEST_HEAP_MB");
    expect(r.reason).to.include("50000 records");
    expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(before);
  }

  it("refuses an upload too big for the ingest workers' memory with INGEST_MEMORY_EXCEEDED, and takes the next one", async function () {
    await refusedForMemory(() => client.upload(owner, 1n, big));
    // the worker was replaced: a small upload goes through
    const r = await client.upload(owner, 1n, qualityRowsWithIds(3));
    expect(r.version.recordCount).to.equal(3);
  });

  it("refuses such a chunk, and the session stays resumable: the chunk sent again smaller is taken and committed", async function () {
    const terms = {
      assetId: 1n,
      sessionId: hexlify(randomBytes(32)),
      replace: true,
      chunkCount: 2,
    };
    await client.startUploadSession(owner, terms);
    await client.uploadChunk(owner, terms, 0, qualityRowsWithIds(4));
    await refusedForMemory(() => client.uploadChunk(owner, terms, 1, big));
    const held = await client.uploadSession(owner, 1n, terms.sessionId);
    expect(held.received).to.deep.equal([0]);
    await client.uploadChunk(owner, terms, 1, qualityRowsWithIds(5));
    const v = await client.commitUploadSession(owner, terms);
    expect(v.version.recordCount).to.equal(9);
  });
});
