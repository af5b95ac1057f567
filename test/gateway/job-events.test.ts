import { expect } from "chai";
import { network } from "hardhat";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { JobEvents } from "../../gateway/job-events.js";
import { GatewayStore, type Job } from "../../gateway/store/index.js";
import { GatewayClient } from "../../protocol/client.js";
import type { JobView } from "../../protocol/api.js";
import { keyRange } from "../../protocol/records/index.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import {
  call,
  deploy,
  domainOf,
  gateway,
  openPolicy,
  policyTuple,
  requestId,
  tempDir,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";
const ROWS = Array.from({ length: 8 }, (_, i) => ({
  partNumber: PART,
  plant: "4711",
  productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
  hasBeenReworked: i % 3 === 0,
  numberOfConductedEndOfLineTests: 1 + (i % 4),
}));
/** The order a job goes through; a follower may miss steps, never see them out of order. */
const ORDER: JobView["status"][] = ["queued", "proving", "proved", "logged"];

async function setup() {
  const [, owner, consumer, , relayer] = await ethers.getSigners();
  const pp = await deploy(conn);
  const address = await pp.getAddress();
  const domain = await domainOf(ethers, address);
  await pp.connect(owner).registerAsset(QUALITY, ethers.ZeroHash, "http://127.0.0.1/gw");
  const now = BigInt(await networkHelpers.time.latest());
  await pp
    .connect(owner)
    .grantAccess(1n, consumer!.address, policyTuple(openPolicy(PART)), now, now + 86_400n, 100);
  const gw = await gateway(ethers, address, relayer!);
  const client = new GatewayClient(gw.url, domain);
  const up = await client.upload(owner!, 1n, { format: "json", rows: ROWS });
  await client.publish(
    owner!,
    up.version,
    await pp.nonces(owner!.address),
    BigInt(Math.floor(Date.now() / 1000) + 600),
  );
  let nonce = 1n;
  const query = (): QueryMessage => ({
    grantId: 1n,
    assetId: 1n,
    versionId: 0n,
    kind: AggregateKind.Count,
    fieldA: 0,
    fieldB: 0,
    ...(({ keyLo, keyHi }) => ({ lo: keyLo, hi: keyHi }))(keyRange({ partNumber: PART })),
    threshold: 0n,
    requestId: requestId(),
    nonce: nonce++,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  });
  return { gw, client, consumer: consumer!, query };
}

/** Counts this process's fetch calls whose URL contains `part` while `fn` runs. */
async function countingFetches<T>(part: string, fn: () => Promise<T>) {
  const real = globalThis.fetch;
  let count = 0;
  globalThis.fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).includes(part)) count += 1;
    return real(input, init);
  };
  try {
    const result = await fn();
    return { result, count };
  } finally {
    globalThis.fetch = real;
  }
}

describe("Job events", function () {
  describe("GET /jobs/:id?wait=", function () {
    let env: Awaited<ReturnType<typeof setup>>;
    before(async function () {
      env = await setup();
    });
    after(async function () {
      await env.gw.close();
    });

    it("answers each change of the job's status as it happens, until logged, with its timeline", async function () {
      const accepted = await env.client.query(env.consumer, env.query());
      const seen: string[] = [accepted.status];
      let view: JobView | undefined;
      for (let i = 0; i < 10 && view?.status !== "logged"; i++) {
        const after = seen[seen.length - 1]!;
        const r = await call(
          env.gw.url,
          "GET",
          `/jobs/${accepted.jobId}?wait=30000&after=${after}`,
        );
        expect(r.status).to.equal(200);
        view = r.body as JobView;
        // held until the status moved on (a 30 s wait never passes for a range_d4 proof step
        // here; if it did, the same status comes back and the loop asks again)
        if (view.status !== after) seen.push(view.status);
      }
      expect(view!.status).to.equal("logged");
      const positions = seen.map((s) => ORDER.indexOf(s as JobView["status"]));
      expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!))).to.equal(
        true,
        `statuses seen in order: ${seen.join(" → ")}`,
      );
      const t = view!.timeline!;
      expect(t, "timeline").to.not.equal(undefined);
      expect(t.accepted).to.be.at.most(t.proving!);
      expect(t.proving).to.be.at.most(t.proved!);
      expect(t.proved).to.be.at.most(t.sent!);
      expect(t.sent).to.be.at.most(t.logged!);
      expect(t.steps!.proveMs).to.be.greaterThan(0);
      expect(t.steps!.witnessMs).to.be.greaterThan(0);
    });

    let loggedJob: string;
    it("answers a logged job at once, whatever the wait", async function () {
      const accepted = await env.client.query(env.consumer, env.query());
      await env.client.waitJob(accepted.jobId);
      loggedJob = accepted.jobId;
      const r = await call(env.gw.url, "GET", `/jobs/${accepted.jobId}?wait=30000&after=logged`);
      expect(r.status).to.equal(200);
      expect(r.body.status).to.equal("logged");
    });

    for (const [what, qs] of [
      ["a wait over 30 s", "wait=30001"],
      ["a negative wait", "wait=-1"],
      ["an unknown status", "wait=10&after=done"],
      ["an unknown parameter", "poll=10"],
    ] as const) {
      it(`refuses ${what} with VALIDATION_FAILED`, async function () {
        const r = await call(env.gw.url, "GET", `/jobs/${loggedJob}?${qs}`);
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal("VALIDATION_FAILED");
        expect(r.body.error.message).to.match(/wait=/);
      });
    }

    it("GatewayClient.waitJob follows a job with one request per status change, not polls", async function () {
      const accepted = await env.client.query(env.consumer, env.query());
      const statuses: string[] = [];
      const t0 = Date.now();
      const { result, count } = await countingFetches(`/jobs/${accepted.jobId}`, () =>
        env.client.waitJob(accepted.jobId, { onStatus: (s) => statuses.push(s) }),
      );
      expect(result.status).to.equal("logged");
      // one request per status seen, plus one per 30 s wait that saw no change (a loaded
      // machine); polls every 250 ms would make four a second
      const waitsOver = Math.floor((Date.now() - t0) / 30_000);
      expect(count).to.be.at.most(statuses.length + 1 + waitsOver);
    });
  });

  describe("JobEvents", function () {
    const job = (id: string, status: Job["status"]): Job => ({
      id,
      status,
      requestId: requestId(),
      consumer: "0x" + "11".repeat(20),
      grantId: "1",
      assetId: "1",
      versionId: "1",
      root: "1",
      circuit: "range_d4",
      query: {},
      policy: {},
      binding: "1",
      blind: "1",
      createdAt: 1000,
      updatedAt: 1000,
    });
    const id = "00000000-0000-4000-8000-000000000001";

    it("wakes a waiter at the job's next write, and only that job's", async function () {
      const store = await GatewayStore.open(tempDir());
      const events = new JobEvents(store);
      try {
        await store.acceptQuery(job(id, "queued"), 1n);
        const other = events.nextWrite("00000000-0000-4000-8000-000000000002", 60_000);
        const mine = events.nextWrite(id, 60_000);
        await store.updateJob(id, { status: "proving" });
        expect(await mine).to.equal(true);
        events.close(); // releases the other waiter
        expect(await other).to.equal(true);
        expect(events.timeline(id)).to.include({ accepted: 1000 });
        expect(events.timeline(id)!.proving).to.be.a("number");
      } finally {
        await store.close();
      }
    });

    it("lets a wait end unwoken when its time is over or its request is gone", async function () {
      const store = await GatewayStore.open(tempDir());
      const events = new JobEvents(store);
      try {
        expect(await events.nextWrite(id, 5)).to.equal(false);
        const gone = new AbortController();
        const waiting = events.nextWrite(id, 60_000, gone.signal);
        gone.abort();
        expect(await waiting).to.equal(false);
      } finally {
        events.close();
        await store.close();
      }
    });
  });
});
