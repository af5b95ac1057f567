import { expect } from "chai";
import { GatewayStore, type Job } from "../../gateway/store/index.js";
import { KeyedMutex } from "../../gateway/locks.js";
import { tempDir } from "./helpers.js";

function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id,
    status: "queued",
    requestId: "0x" + id.padStart(64, "0"),
    consumer: "0x00000000000000000000000000000000000000aA",
    grantId: "1",
    assetId: "1",
    versionId: "18446744073709551617",
    root: "123",
    circuit: "range_d4",
    query: {},
    policy: {},
    binding: "1",
    blind: "2",
    createdAt: Date.now(),
    updatedAt: Date.now(),
    ...over,
  };
}

describe("GatewayStore", function () {
  let store: GatewayStore;
  beforeEach(async function () {
    store = await GatewayStore.open(tempDir());
  });
  afterEach(async function () {
    await store.close();
  });

  describe("putVersion", function () {
    it("numbers versions per asset and indexes them by batch hash and root", async function () {
      const base = {
        assetId: "7",
        schemaId: "s",
        depth: 4,
        recordCount: 1,
        records: [["5", "1", "0", "0", "2"]],
        salts: ["9"],
        createdAt: 1,
      };
      const a = await store.putVersion({ ...base, batchHash: "0xa", root: "100" });
      const b = await store.putVersion({ ...base, batchHash: "0xb", root: "200" });
      const other = await store.putVersion({
        ...base,
        assetId: "8",
        batchHash: "0xa",
        root: "300",
      });
      expect([a.localId, b.localId, other.localId]).to.deep.equal([1, 2, 1]);
      expect((await store.findVersionByBatch("7", "0xb"))!.root).to.equal("200");
      expect(await store.findVersionByBatch("7", "0xc")).to.equal(undefined);
      expect((await store.getVersionByRoot(300n))!.assetId).to.equal("8");
      expect((await store.listVersions("7")).map((v) => v.localId)).to.deep.equal([1, 2]);
    });
  });

  describe("acceptQuery", function () {
    it("stores nonce, request id, job and consumer index together", async function () {
      const j = job("1");
      await store.acceptQuery(j, 42n);
      expect(await store.isNonceUsed(j.consumer.toUpperCase().replace("0X", "0x"), 42n)).to.equal(
        true,
      );
      expect(await store.isNonceUsed(j.consumer, 43n)).to.equal(false);
      expect(
        await store.jobOfRequest(j.grantId, j.requestId.toUpperCase().replace("0X", "0x")),
      ).to.equal("1");
      // request ids are scoped by grant, as on-chain: another grant's same id is free
      expect(await store.jobOfRequest(`${j.grantId}0`, j.requestId)).to.equal(undefined);
      expect((await store.jobsOfConsumer(j.consumer)).map((x) => x.id)).to.deep.equal(["1"]);
      expect(await store.counts()).to.include({ nonces: 1, requests: 1, jobs: 1, outbox: 0 });
    });
  });

  describe("outbox", function () {
    it("moves a job from proved (with an entry) to logged (without)", async function () {
      const j = job("2");
      await store.acceptQuery(j, 1n);
      const entry = {
        grantId: j.grantId,
        requestId: j.requestId,
        jobId: j.id,
        attempts: 0,
        nextAttemptAt: 0,
        createdAt: 1,
      };
      const proved = await store.storeProved(j.id, { publicSignals: ["1"] }, entry);
      expect(proved.status).to.equal("proved");
      expect(await store.outboxDepth()).to.equal(1);
      await store.updateOutbox({ ...entry, attempts: 2, txHash: "0xabc" });
      expect((await store.listOutbox())[0]!.attempts).to.equal(2);
      const logged = await store.completeOutbox(entry, { hash: "0xabc", blockNumber: 9 });
      expect(logged.status).to.equal("logged");
      expect(logged.logTx).to.deep.equal({ hash: "0xabc", blockNumber: 9 });
      expect(await store.outboxDepth()).to.equal(0);
      expect((await store.getJob(j.id))!.status).to.equal("logged");
    });

    it("marks a job failed when its entry is refused for good", async function () {
      const j = job("3");
      await store.acceptQuery(j, 1n);
      const entry = {
        grantId: j.grantId,
        requestId: j.requestId,
        jobId: j.id,
        attempts: 1,
        nextAttemptAt: 0,
        createdAt: 1,
      };
      await store.storeProved(j.id, {}, entry);
      await store.failOutbox(entry, { code: "CHAIN_REFUSED", message: "x" });
      expect((await store.getJob(j.id))!.status).to.equal("failed");
      expect(await store.outboxDepth()).to.equal(0);
    });
  });
});

describe("KeyedMutex", function () {
  describe("run", function () {
    it("runs calls with one key one after the other, and other keys alongside", async function () {
      const m = new KeyedMutex();
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const a = m.run("k", async () => {
        order.push("a start");
        await gate;
        order.push("a end");
      });
      const b = m.run("k", async () => {
        order.push("b");
      });
      const c = m.run("other", async () => {
        order.push("c");
      });
      await c;
      expect(order).to.deep.equal(["a start", "c"]);
      release();
      await Promise.all([a, b]);
      expect(order).to.deep.equal(["a start", "c", "a end", "b"]);
    });

    it("keeps going after a failed call", async function () {
      const m = new KeyedMutex();
      const failed = await m
        .run("k", async () => {
          throw new Error("boom");
        })
        .catch((e: Error) => e.message);
      expect(failed).to.equal("boom");
      expect(await m.run("k", async () => 5)).to.equal(5);
    });
  });
});
