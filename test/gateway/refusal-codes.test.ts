/**
 * Every refusal the gateway documents (gateway/errors.ts, gateway/README.md) that
 * gateway.test.ts does not already exercise: status, code, and that the refusal wrote nothing
 * (the store's versions, nonces, request index, jobs and outbox are unchanged).
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain, without a scan
 * circuit (so a query with filters is refused as unsupported).
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { network } from "hardhat";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { PredicateOp } from "../../circuits/lib/query.js";
import { versionIdOf } from "../../gateway/chain.js";
import { AppError } from "../../gateway/errors.js";
import { allowedByPolicy } from "../../gateway/usecases/query-checks.js";
import { answeredStore } from "../../gateway/store/answered.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  ANSWER_CONSENT_TYPES,
  answerConsentOf,
  packPredicates,
  QUERY_TYPES,
  queryTypedMessage,
  typedDomain,
  signPublish,
  signQuery,
  signRead,
  signUpload,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import {
  call,
  CIRCUIT,
  deploy,
  domainOf,
  gateway,
  policyTuple,
  requestId,
  storeSnapshot,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "RFS-100";
const PLANT = "0815";
const DAY = 86400n;
const U128_MAX = (1n << 128n) - 1n;

/** Eight quality rows of one part in August 2026; field 2 (reserved) is 0 in every row. */
const DATA: UploadData = {
  format: "json",
  rows: Array.from({ length: 8 }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: `2026-08-${String(i + 1).padStart(2, "0")}`,
    hasBeenReworked: i % 2 === 0,
    numberOfConductedEndOfLineTests: 1 + i,
  })),
};

const FULL: Policy = {
  aggregateMask: 0b1111111,
  fieldMask: 0b1111,
  filterMask: 0b1111,
  ...keyRange({ partNumber: PART }),
  minCohort: 3,
  thresholds: [1n], // the THRESHOLD of the zero-denominator case
};

/**
 * A refusal that depends on the data (cohort below k, zero denominator, scan window) is charged:
 * its nonce is used and the refusal is recorded for the auditor (issue 11). Every refusal writes
 * at most that: no job, no request index, no outbox entry, no version.
 */
function expectOnlyChargedRefusals(
  before: Awaited<ReturnType<typeof storeSnapshot>>,
  after: Awaited<ReturnType<typeof storeSnapshot>>,
): void {
  const charged = (after.counts.refusals ?? 0) - (before.counts.refusals ?? 0);
  expect(charged).to.be.at.least(0);
  expect((after.counts.nonces ?? 0) - (before.counts.nonces ?? 0)).to.equal(charged);
  const rest = (x: typeof after) => ({ ...x, counts: { ...x.counts, nonces: 0, refusals: 0 } });
  expect(rest(after)).to.deep.equal(rest(before));
}

describe("Gateway refusals", function () {
  let gw: Awaited<ReturnType<typeof gateway>>;
  let env: Awaited<ReturnType<typeof setup>>;
  let nonce = 1n;

  async function setup() {
    const [, owner, consumer, relayer] = await ethers.getSigners();
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    const domain = await domainOf(ethers, address);
    // asset 1: served here; 2: retired below; 3: no version; 4: versions this gateway lacks
    for (let i = 0; i < 4; i++) {
      await pp.connect(owner!).registerAsset(QUALITY, ethers.ZeroHash, "http://127.0.0.1/gw");
    }
    const now = BigInt(await networkHelpers.time.latest());
    const grant = (assetId: bigint, p: Policy, from = now, until = now + 30n * DAY) =>
      pp.connect(owner!).grantAccess(assetId, consumer!.address, policyTuple(p), from, until, 10);
    await grant(1n, FULL); // grant 1
    await grant(1n, { ...FULL, aggregateMask: 0b11, fieldMask: 0b0001, filterMask: 0b0001 }); // grant 2: COUNT, SUM(0), filters on 0
    await grant(1n, FULL, now + 10n * DAY, now + 30n * DAY); // grant 3: starts in 10 days
    await grant(2n, FULL); // grant 4: asset 2, retired below
    await grant(3n, FULL); // grant 5: asset 3, never published
    await grant(4n, FULL); // grant 6: asset 4, versions not held here
    await grant(1n, { ...FULL, keyLo: 0n, keyHi: U128_MAX }); // grant 7: every key
    await pp.connect(consumer!).requestGrant(1n, policyTuple(FULL), now, now + 30n * DAY, 10); // grant 8: requested only
    await pp.connect(owner!).retireAsset(2n);
    return { pp, address, domain, owner: owner!, consumer: consumer!, relayer: relayer! };
  }

  const query = (over: Partial<QueryMessage> = {}): QueryMessage => {
    const { keyLo, keyHi } = keyRange({ partNumber: PART, plant: PLANT });
    return {
      grantId: 1n,
      assetId: 1n,
      versionId: 0n,
      kind: AggregateKind.Sum,
      fieldA: 1,
      fieldB: 0,
      lo: keyLo,
      hi: keyHi,
      threshold: 0n,
      requestId: requestId(),
      nonce: nonce++,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
      ...over,
    };
  };

  before(async function () {
    env = await setup();
    gw = await gateway(ethers, env.address, env.relayer, {
      over: { auditors: [env.consumer.address] },
    });
    const up = await call(
      gw.url,
      "POST",
      "/assets/1/uploads",
      await signUpload(env.owner, env.domain, 1n, DATA),
    );
    expect(up.status).to.equal(201);
    const v = up.body.version;
    const body = await signPublish(
      env.owner,
      env.domain,
      {
        assetId: 1n,
        root: BigInt(v.root),
        recordCount: BigInt(v.recordCount),
        treeDepth: BigInt(v.treeDepth),
        paramsHash: v.paramsHash,
      },
      await env.pp.nonces(env.owner.address),
      BigInt(Math.floor(Date.now() / 1000) + 600),
    );
    const pub = await call(gw.url, "POST", `/assets/1/versions/${v.localId}/publish`, body);
    expect(pub.status).to.equal(201);
  });

  after(async function () {
    await gw?.close();
  });

  describe("POST /queries", function () {
    let before: Awaited<ReturnType<typeof storeSnapshot>>;
    beforeEach(async function () {
      before = await storeSnapshot(gw.ctx.store);
    });
    afterEach(async function () {
      expectOnlyChargedRefusals(before, await storeSnapshot(gw.ctx.store));
    });

    /** Sends the signed query; asserts the status and code; returns the error message. */
    async function refused(q: QueryMessage, status: number, code: string): Promise<string> {
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, q),
      );
      expect([r.status, r.body?.error?.code], r.text).to.deep.equal([status, code]);
      return r.body.error.message;
    }

    it("refuses a grant that is only requested, not approved, with NO_GRANT", async function () {
      expect(await refused(query({ grantId: 8n }), 403, "NO_GRANT")).to.match(/not active/);
    });

    it("refuses a grant whose window has not started with GRANT_NOT_YET_VALID", async function () {
      expect(await refused(query({ grantId: 3n }), 403, "GRANT_NOT_YET_VALID")).to.match(
        /not valid yet/,
      );
    });

    it("refuses a query on a retired asset with ASSET_RETIRED", async function () {
      const q = query({ grantId: 4n, assetId: 2n });
      expect(await refused(q, 409, "ASSET_RETIRED")).to.match(/asset 2 is retired/);
    });

    it("refuses an aggregate kind outside the grant's aggregate mask with POLICY_VIOLATION", async function () {
      const q = query({ grantId: 2n, kind: AggregateKind.Avg, fieldA: 0 });
      expect(await refused(q, 403, "POLICY_VIOLATION")).to.match(/aggregate kind 2/);
    });

    it("refuses a field outside the grant's field mask with POLICY_VIOLATION", async function () {
      const q = query({ grantId: 2n, kind: AggregateKind.Sum, fieldA: 1 });
      expect(await refused(q, 403, "POLICY_VIOLATION")).to.match(/aggregating field 1/);
    });

    it("refuses a ratio whose denominator field is outside the field mask with POLICY_VIOLATION", async function () {
      const p = { ...FULL, aggregateMask: 0b100000, fieldMask: 0b0010 };
      const now = BigInt(await networkHelpers.time.latest());
      await env.pp
        .connect(env.owner)
        .grantAccess(1n, env.consumer.address, policyTuple(p), now, now + DAY, 5); // grant 9
      const q = query({ grantId: 9n, kind: AggregateKind.RatioPpm, fieldA: 1, fieldB: 0 });
      expect(await refused(q, 403, "POLICY_VIOLATION")).to.match(/allow field 0$/);
    });

    it("refuses a key range ending after the grant's with POLICY_VIOLATION", async function () {
      const q = query({ hi: FULL.keyHi + 1n });
      expect(await refused(q, 403, "POLICY_VIOLATION")).to.match(/key range/);
    });

    it("refuses a filter field outside the filter mask with POLICY_VIOLATION", async function () {
      const predicates = packPredicates([{ field: 2, op: PredicateOp.Eq, value: 0n }]);
      const q = query({ grantId: 2n, kind: AggregateKind.Count, predicates });
      expect(await refused(q, 403, "POLICY_VIOLATION")).to.match(/filters on field 2/);
    });

    it("refuses MIN and MAX on a field without a min/max proof with UNSUPPORTED_QUERY", async function () {
      expect(CIRCUIT.depth).to.equal(4);
      for (const kind of [AggregateKind.Min, AggregateKind.Max]) {
        const message = await refused(query({ kind, fieldA: 1 }), 422, "UNSUPPORTED_QUERY");
        expect(message).to.match(/MIN\/MAX are proved on field 3 only/);
      }
    });

    it("refuses a ratio whose denominator is zero over the range with UNSUPPORTED_QUERY", async function () {
      // field 2 (reserved) is 0 in every record
      for (const kind of [AggregateKind.RatioPpm, AggregateKind.ThresholdPpm]) {
        const q = query({ kind, fieldA: 1, fieldB: 2, threshold: 1n });
        expect(await refused(q, 422, "UNSUPPORTED_QUERY")).to.match(/denominator is zero/);
      }
    });

    it("refuses key ranges outside 1 <= lo <= hi <= 2^128 - 2 with UNSUPPORTED_QUERY", async function () {
      const ranges: [bigint, bigint][] = [
        [0n, FULL.keyHi],
        [FULL.keyHi, FULL.keyLo],
        [FULL.keyLo, U128_MAX],
      ];
      for (const [lo, hi] of ranges) {
        const q = query({ grantId: 7n, kind: AggregateKind.Count, lo, hi });
        expect(await refused(q, 422, "UNSUPPORTED_QUERY")).to.match(/1 <= lo <= hi/);
      }
    });

    it("refuses a predicate value wider than 64 bits before any other check (no consent can name it)", async function () {
      // The AnswerConsent is over the query hash, which is only defined for 64-bit predicate
      // values: no consent over such a query exists, so consentOf refuses it (BAD_SIGNATURE)
      // before allowedByPolicy's own 64-bit check (see bench/MUTATION.md).
      const predicates = packPredicates([{ field: 0, op: PredicateOp.Ge, value: 1n << 64n }]);
      const q = query({ kind: AggregateKind.Count, predicates });
      expect(() => answerConsentOf(q)).to.throw(RangeError, /64-bit/);
      const signature = await env.consumer.signTypedData(
        typedDomain(env.domain),
        QUERY_TYPES,
        queryTypedMessage(q),
      );
      const { query: body } = await signQuery(env.consumer, env.domain, { ...q, predicates: [] });
      const wide = { ...body, predicates: predicates.map(String) };
      const r = await call(gw.url, "POST", "/queries", {
        query: wide,
        signature,
        consent: await env.consumer.signTypedData(typedDomain(env.domain), ANSWER_CONSENT_TYPES, {
          grantId: q.grantId,
          requestId: q.requestId,
          versionId: q.versionId,
          queryHash: 0n,
        }),
      });
      expect([r.status, r.body.error.code]).to.deep.equal([401, "BAD_SIGNATURE"]);
      expect(r.body.error.message).to.match(/^consent: /);
    });

    it("allowedByPolicy refuses a predicate value wider than 64 bits itself (UNSUPPORTED_QUERY)", async function () {
      // Defence in depth behind consentOf (previous test): the step alone, on this gateway's
      // real context, with the signed query as the route hands it over.
      const predicates = packPredicates([{ field: 0, op: PredicateOp.Ge, value: 1n << 64n }]);
      const q = { ...query({ kind: AggregateKind.Count }), predicates };
      expect(() => allowedByPolicy(gw.ctx, FULL, q))
        .to.throw(AppError, /64-bit/)
        .with.property("code", "UNSUPPORTED_QUERY");
    });

    it("refuses filters on a gateway without a scan circuit with UNSUPPORTED_QUERY", async function () {
      const predicates = packPredicates([{ field: 0, op: PredicateOp.Ge, value: 1n }]);
      const q = query({ kind: AggregateKind.Count, predicates });
      expect(await refused(q, 422, "UNSUPPORTED_QUERY")).to.match(/no queries with predicates/);
    });

    it("refuses the latest version of an asset with none published with UNKNOWN_VERSION", async function () {
      const q = query({ grantId: 5n, assetId: 3n });
      expect(await refused(q, 404, "UNKNOWN_VERSION")).to.match(/no published version/);
    });

    it("refuses a version id of another asset with UNKNOWN_VERSION", async function () {
      const q = query({ versionId: versionIdOf(4n, 1) });
      expect(await refused(q, 404, "UNKNOWN_VERSION")).to.match(/not a version of asset 1/);
    });

    it("refuses a published version whose records this gateway does not hold with VERSION_NOT_AVAILABLE", async function () {
      await env.pp
        .connect(env.owner)
        .publishVersion(4n, 12345n, 8n, BigInt(CIRCUIT.depth), ethers.ZeroHash);
      before = await storeSnapshot(gw.ctx.store);
      for (const versionId of [0n, versionIdOf(4n, 1)]) {
        const q = query({ grantId: 6n, assetId: 4n, versionId });
        expect(await refused(q, 409, "VERSION_NOT_AVAILABLE")).to.match(/holds no records/);
      }
    });

    it("refuses a version held for another circuit depth with VERSION_NOT_AVAILABLE", async function () {
      // The records of asset 4's second version, as a gateway configured with depth 5 stored
      // them (the store outlives a change of circuit).
      const root = 67890n;
      await env.pp.connect(env.owner).publishVersion(4n, root, 1n, 5n, ethers.ZeroHash);
      await gw.ctx.store.putVersion({
        assetId: "4",
        schemaId: QUALITY,
        batchHash: "0x" + "44".repeat(32),
        root: root.toString(),
        depth: 5,
        recordCount: 1,
        records: [["1", "1", "0", "0", "1"]],
        salts: ["7"],
        createdAt: Date.now(),
      });
      before = await storeSnapshot(gw.ctx.store);
      const q = query({ grantId: 6n, assetId: 4n, versionId: versionIdOf(4n, 2) });
      expect(await refused(q, 409, "VERSION_NOT_AVAILABLE")).to.match(/another circuit depth/);
    });

    it("refuses a query when the records of a version the signer was answered on are gone, with VERSION_NOT_AVAILABLE (the differencing guard cannot count them)", async function () {
      // the guard's entry of an earlier answer on a version whose records this gateway no
      // longer holds (as a store restored without them would be); removed again below
      const jobId = randomUUID();
      const { keyLo, keyHi } = keyRange({ partNumber: PART, plant: PLANT });
      await answeredStore(gw.ctx.store).add("1", env.consumer.address, jobId, {
        versionId: versionIdOf(1n, 99).toString(),
        root: "424242",
        lo: keyLo.toString(),
        hi: keyHi.toString(),
        predicates: [],
      });
      try {
        const q = query({ kind: AggregateKind.Count });
        expect(await refused(q, 409, "VERSION_NOT_AVAILABLE")).to.match(
          /answered before, are gone/,
        );
      } finally {
        await gw.ctx.store
          .sublevel("answered")
          .del(`1!${env.consumer.address.toLowerCase()}!${jobId}`);
      }
    });
  });

  describe("POST /queries with a request id already used", function () {
    it("refuses a second query with the same request id (new nonce) with REQUEST_REUSED", async function () {
      const first = query({ kind: AggregateKind.Count });
      const ok = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, first),
      );
      expect(ok.status).to.equal(202);
      const before = await storeSnapshot(gw.ctx.store);
      const again = query({ kind: AggregateKind.Count, requestId: first.requestId });
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, again),
      );
      expect([r.status, r.body.error.code]).to.deep.equal([409, "REQUEST_REUSED"]);
      // The first job is proved and logged meanwhile (its own writes); compare without it.
      const job = await waitJob(gw.url, ok.body.jobId);
      expect(job.status).to.equal("logged");
      const after = await storeSnapshot(gw.ctx.store);
      expect(after.counts.nonces).to.equal(before.counts.nonces);
      expect(after.counts.requests).to.equal(before.counts.requests);
      expect(after.jobs.map((j) => j.id)).to.deep.equal(before.jobs.map((j) => j.id));
      expect(after.jobs.filter((j) => j.requestId === first.requestId)).to.have.length(1);
      expect(await env.pp.isRequestLogged(1n, first.requestId)).to.equal(true);
    });
  });

  describe("uploads and publication", function () {
    let before: Awaited<ReturnType<typeof storeSnapshot>>;
    let versions: bigint;
    beforeEach(async function () {
      before = await storeSnapshot(gw.ctx.store);
      versions = (await env.pp.getAsset(1n)).versionCount;
    });
    afterEach(async function () {
      expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(before);
      expect((await env.pp.getAsset(1n)).versionCount).to.equal(versions);
    });

    it("refuses an upload to a retired asset with ASSET_RETIRED", async function () {
      const body = await signUpload(env.owner, env.domain, 2n, DATA);
      const r = await call(gw.url, "POST", "/assets/2/uploads", body);
      expect([r.status, r.body.error.code]).to.deep.equal([409, "ASSET_RETIRED"]);
    });

    it("refuses to publish a local version that does not exist with UNKNOWN_VERSION", async function () {
      const body = await signPublish(
        env.owner,
        env.domain,
        { assetId: 1n, root: 1n, recordCount: 1n, treeDepth: 4n, paramsHash: ethers.ZeroHash },
        await env.pp.nonces(env.owner.address),
        BigInt(Math.floor(Date.now() / 1000) + 600),
      );
      const r = await call(gw.url, "POST", "/assets/1/versions/9/publish", body);
      expect([r.status, r.body.error.code]).to.deep.equal([404, "UNKNOWN_VERSION"]);
    });

    it("refuses a publish signature whose deadline has passed with DEADLINE_EXPIRED", async function () {
      const [v] = await gw.ctx.store.listVersions("1");
      const body = await signPublish(
        env.owner,
        env.domain,
        {
          assetId: 1n,
          root: BigInt(v!.root),
          recordCount: BigInt(v!.recordCount),
          treeDepth: BigInt(v!.depth),
          paramsHash: (await env.pp.getVersion(versionIdOf(1n, 1))).paramsHash,
        },
        await env.pp.nonces(env.owner.address),
        BigInt(await networkHelpers.time.latest()) - 1n,
      );
      const r = await call(gw.url, "POST", `/assets/1/versions/${v!.localId}/publish`, body);
      expect([r.status, r.body.error.code]).to.deep.equal([401, "DEADLINE_EXPIRED"]);
    });
  });

  describe("signed reads", function () {
    let before: Awaited<ReturnType<typeof storeSnapshot>>;
    beforeEach(async function () {
      before = await storeSnapshot(gw.ctx.store);
    });
    afterEach(async function () {
      expectOnlyChargedRefusals(before, await storeSnapshot(gw.ctx.store));
    });

    const reads = () =>
      [
        ["/assets/1/records", env.owner, "records", 1n],
        [`/consumers/${env.consumer.address}/answers`, env.consumer, "answers", 0n],
        [`/audit/answers?auditor=${env.consumer.address}`, env.consumer, "audit", 0n],
      ] as const;

    it("refuses a read signed more than signatureMaxAgeSec ago or ahead with DEADLINE_EXPIRED", async function () {
      const maxAge = BigInt(gw.ctx.config.signatureMaxAgeSec);
      const now = BigInt(Math.floor(Date.now() / 1000));
      const id = gw.ctx.gatewayId;
      for (const [url, signer, action, assetId] of reads()) {
        for (const t of [now - maxAge - 60n, now + maxAge + 60n]) {
          const headers = await signRead(signer, env.domain, action, assetId, id, t);
          const r = await call(gw.url, "GET", url, undefined, headers);
          expect([r.status, r.body.error.code], `${url} at ${t}`).to.deep.equal([
            401,
            "DEADLINE_EXPIRED",
          ]);
        }
        // the same read signed now is answered
        const fresh = await call(
          gw.url,
          "GET",
          url,
          undefined,
          await signRead(signer, env.domain, action, assetId, id),
        );
        expect(fresh.status, url).to.equal(200);
      }
    });

    it("refuses an owner read of a local version that does not exist with UNKNOWN_VERSION", async function () {
      const headers = await signRead(env.owner, env.domain, "records", 1n, gw.ctx.gatewayId);
      const r = await call(gw.url, "GET", "/assets/1/records?version=9", undefined, headers);
      expect([r.status, r.body.error.code]).to.deep.equal([404, "UNKNOWN_VERSION"]);
    });

    it("refuses an unknown job id with UNKNOWN_JOB", async function () {
      const r = await call(gw.url, "GET", "/jobs/00000000-0000-4000-8000-000000000000");
      expect([r.status, r.body.error.code]).to.deep.equal([404, "UNKNOWN_JOB"]);
    });

    it("refuses an audit export whose ?auditor= is missing or not an address with VALIDATION_FAILED", async function () {
      const headers = await signRead(env.consumer, env.domain, "audit", 0n, gw.ctx.gatewayId);
      for (const q of ["", "?auditor=", "?auditor=0x1234", "?auditor=nobody"]) {
        const r = await call(gw.url, "GET", `/audit/answers${q}`, undefined, headers);
        expect([r.status, r.body.error.code], q).to.deep.equal([400, "VALIDATION_FAILED"]);
      }
    });

    it("refuses a job id that is not a UUID with UNKNOWN_JOB, before any store read", async function () {
      for (const id of ["not-a-uuid", "1", "00000000-0000-4000-8000-00000000000"]) {
        const r = await call(gw.url, "GET", `/jobs/${id}`);
        expect([r.status, r.body.error.code], id).to.deep.equal([404, "UNKNOWN_JOB"]);
      }
    });
  });
});
