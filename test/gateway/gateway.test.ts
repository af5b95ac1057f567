import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import {
  AggregateKind,
  circuitId,
  cohortMapBits,
  policyHash,
  type Policy,
} from "../../circuits/lib/signals.js";
import { evaluate, PredicateOp } from "../../circuits/lib/query.js";
import {
  packPredicates,
  signPublish,
  signQuery,
  signRead,
  signUpload,
} from "../../protocol/typed-data.js";
import { versionIdOf } from "../../gateway/chain.js";
import {
  dayNumber,
  findSchema,
  indexKey,
  keyRange,
  parseBatch,
  qualitySchema,
  type UploadData,
} from "../../protocol/records/index.js";
import type { QueryMessage, ReadAction } from "../../protocol/typed-data.js";
import {
  call,
  CIRCUIT,
  deploy,
  domainOf,
  gateway,
  policyTuple,
  requestId,
  snarkjsVerify,
  tempDir,
  waitJob,
} from "./helpers.js";
import { waitUntil } from "../support.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const DELIVERY = "urn:samm:io.catenax.delivery_information:2.0.0";
const PCF = "urn:samm:io.catenax.pcf:10.0.0";
const PART = "GBX-3232455";
const PLANT = "4711";
const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/catenax/${name}.sample.json`, import.meta.url), "utf8"),
  );

/** Ten quality rows of one part at plant 4711 in July 2026; three reworked. */
function qualityRows() {
  return Array.from({ length: 10 }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
    hasBeenReworked: i % 3 === 0,
    numberOfConductedEndOfLineTests: 1 + (i % 4),
  }));
}
const QUALITY_DATA: UploadData = { format: "json", rows: qualityRows() };

const POLICY: Policy = {
  aggregateMask: 0b1111111,
  fieldMask: 0b1111,
  filterMask: 0,
  ...keyRange({ partNumber: PART }),
  minCohort: 3,
};

async function setup() {
  const [admin, owner, consumer, other, relayer] = await ethers.getSigners();
  const pp = await deploy(conn);
  const address = await pp.getAddress();
  const domain = await domainOf(ethers, address);
  for (const schema of [QUALITY, DELIVERY, PCF, QUALITY]) {
    await pp.connect(owner).registerAsset(schema, ethers.ZeroHash, "http://127.0.0.1/gw");
  }
  const now = BigInt(await networkHelpers.time.latest());
  const grant = (consumerAddr: string, quota: number, p: Policy = POLICY) =>
    pp.connect(owner).grantAccess(1n, consumerAddr, policyTuple(p), now, now + 30n * 86400n, quota);
  await grant(consumer!.address, 10); // grant 1
  await grant(other!.address, 1); // grant 2: quota 1
  await grant(consumer!.address, 5); // grant 3: revoked below
  await pp.connect(owner).revokeGrant(3n);
  await grant(consumer!.address, 5, { ...POLICY, filterMask: 0b1111, minCohort: 2 }); // grant 4: filters
  await pp
    .connect(owner)
    .grantAccess(1n, consumer!.address, policyTuple(POLICY), now, now + 30n, 5); // grant 5: expires soon
  // grant 6: field 0 is defined over the records with field 1 = 1 (a cohort map, as an
  // indicator schema's grant has), so answers on it need k such records
  await grant(consumer!.address, 5, { ...POLICY, fieldMask: 0b1111 | cohortMapBits([1]) });
  // grant 7: on the delivery asset, a policy without the schema's cohort map (as a consumer could
  // propose it with requestGrant): lead time would be bounded by the range's records only
  await pp
    .connect(owner)
    .grantAccess(2n, consumer!.address, policyTuple(POLICY), now, now + 30n * 86400n, 5);
  return {
    pp,
    address,
    domain,
    admin: admin!,
    owner: owner!,
    consumer: consumer!,
    other: other!,
    relayer: relayer!,
  };
}

describe("Gateway", function () {
  let env: Awaited<ReturnType<typeof setup>>;
  let gw: Awaited<ReturnType<typeof gateway>>;
  let nonce = 1000n;

  const query = (over: Partial<QueryMessage> = {}): QueryMessage => {
    const { keyLo, keyHi } = keyRange({
      partNumber: PART,
      plant: PLANT,
      from: "2026-07-01",
      to: "2026-07-31",
    });
    return {
      grantId: 1n,
      assetId: 1n,
      versionId: 0n,
      kind: AggregateKind.RatioPpm,
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

  /** A GET with the Read signature of `signer` for `action` on `assetId`. */
  async function signedGet(url: string, signer: Signer, action: ReadAction, assetId: bigint) {
    return call(
      gw.url,
      "GET",
      url,
      undefined,
      await signRead(signer, env.domain, action, assetId, gw.ctx.gatewayId),
    );
  }

  async function upload(assetId: bigint, data: UploadData, signer = env.owner) {
    return call(
      gw.url,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(signer, env.domain, assetId, data),
    );
  }

  async function publishLocal(assetId: bigint, v: any) {
    const nonceOnChain = await env.pp.nonces(env.owner.address);
    const body = await signPublish(
      env.owner,
      env.domain,
      {
        assetId,
        root: BigInt(v.root),
        recordCount: BigInt(v.recordCount),
        treeDepth: BigInt(v.treeDepth),
        paramsHash: v.paramsHash,
      },
      nonceOnChain,
      BigInt(Math.floor(Date.now() / 1000) + 600),
    );
    return call(gw.url, "POST", `/assets/${assetId}/versions/${v.localId}/publish`, body);
  }

  before(async function () {
    env = await setup();
    gw = await gateway(ethers, env.address, env.relayer, {
      over: {
        scanCircuit: { name: "scan_d4_c4", h: 1, artifactsDir: "circuits/build/scan_d4_c4" },
        auditors: [env.other.address],
      },
    });
  });

  after(async function () {
    await gw?.close();
  });

  describe("POST /assets/:assetId/uploads", function () {
    it("stores JSON rows as a version whose root the owner publishes by signature", async function () {
      const r = await upload(1n, QUALITY_DATA);
      expect(r.status).to.equal(201);
      expect(r.body.created).to.equal(true);
      expect(r.body.version.recordCount).to.equal(10);
      expect(r.body.version.treeDepth).to.equal(CIRCUIT.depth);
      const stored = await gw.ctx.store.getVersion("1", r.body.version.localId);
      expect(stored!.root).to.equal(r.body.version.root);
      expect((await gw.ctx.store.versionData(stored!)).salts).to.have.length(10);
      const p = await publishLocal(1n, r.body.version);
      expect(p.status).to.equal(201);
      expect(p.body.versionId).to.equal(versionIdOf(1n, 1).toString());
      const onChain = await env.pp.getVersion(versionIdOf(1n, 1));
      expect(onChain.root.toString()).to.equal(r.body.version.root);
      expect(onChain.recordCount).to.equal(10n);
    });

    it("returns the same version for the same records sent again as CSV", async function () {
      const header = qualitySchema.columns.map((c) => c.name).join(",");
      const csv =
        header +
        "\n" +
        qualityRows()
          .reverse()
          .map((r) =>
            [
              r.partNumber,
              r.plant,
              r.productionDate,
              r.hasBeenReworked,
              r.numberOfConductedEndOfLineTests,
            ].join(","),
          )
          .join("\n");
      const before = await gw.ctx.store.counts();
      const r = await upload(1n, { format: "csv", csv });
      expect(r.status).to.equal(200);
      expect(r.body.created).to.equal(false);
      expect(r.body.version.localId).to.equal(1);
      expect(await gw.ctx.store.counts()).to.deep.equal(before);
    });

    it("ingests the Catena-X quality, delivery and PCF samples", async function () {
      const cases: [bigint, string][] = [
        [4n, "io.catenax.manufactured_parts_quality_information_3.0.0"],
        [2n, "io.catenax.delivery_information_2.0.0"],
        [3n, "io.catenax.pcf_10.0.0"],
      ];
      // the PCF schema keeps footprints per piece; the public sample declares one per liter
      const sample = (name: string) => {
        const payload = fixture(name) as any;
        if (name.startsWith("io.catenax.pcf")) {
          payload.companyAndProductInformation[0].productInformation[0].declaredUnitOfMeasurement =
            "piece";
        }
        return payload;
      };
      for (const [assetId, name] of cases) {
        const r = await upload(assetId, { format: "catenax", payload: sample(name) });
        expect(r.status, name).to.equal(201);
        expect(r.body.version.recordCount, name).to.equal(1);
        const asset = await env.pp.getAsset(assetId);
        const parsed = parseBatch(findSchema(asset.schemaId)!, {
          format: "catenax",
          payload: sample(name),
        });
        const stored = await gw.ctx.store.getVersion(assetId.toString(), 1);
        const { records } = await gw.ctx.store.versionData(stored!);
        expect(parsed.ok && records[0]![0]).to.equal(
          parsed.ok ? parsed.records[0]!.key.toString() : "",
        );
      }
      const q = await gw.ctx.store.getVersion("4", 1);
      expect((await gw.ctx.store.versionData(q!)).records[0]![0]).to.equal(
        indexKey("GBX-3232455", "4711", dayNumber("2022-02-04")).toString(),
      );
    });

    describe("refusals (nothing is written)", function () {
      let before: Record<string, number>;
      beforeEach(async function () {
        before = await gw.ctx.store.counts();
      });
      afterEach(async function () {
        expect(await gw.ctx.store.counts()).to.deep.equal(before);
      });

      it("refuses malformed JSON with MALFORMED_JSON", async function () {
        const r = await call(gw.url, "POST", "/assets/1/uploads", '{"data": {');
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal("MALFORMED_JSON");
      });

      it("refuses a body of the wrong shape with VALIDATION_FAILED", async function () {
        const r = await call(gw.url, "POST", "/assets/1/uploads", {
          data: { format: "xml", rows: [] },
          timestamp: "x",
          signature: "0x00",
        });
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal("VALIDATION_FAILED");
        expect(r.body.error.details.map((d: any) => d.position)).to.include.members([
          "data.format",
          "timestamp",
          "signature",
        ]);
      });

      it("refuses rows with wrong types, naming each row", async function () {
        const rows: unknown[] = qualityRows();
        rows[2] = { ...(rows[2] as object), numberOfConductedEndOfLineTests: "three" };
        rows[5] = { ...(rows[5] as object), hasBeenReworked: 1 };
        const r = await upload(1n, { format: "json", rows });
        expect(r.status).to.equal(422);
        expect(r.body.error.code).to.equal("INVALID_RECORDS");
        expect(r.body.error.details.map((d: any) => d.position)).to.deep.equal([
          "rows[2].numberOfConductedEndOfLineTests",
          "rows[5].hasBeenReworked",
        ]);
      });

      it("refuses out-of-range values", async function () {
        const rows: unknown[] = qualityRows();
        rows[1] = { ...(rows[1] as object), numberOfConductedEndOfLineTests: 2 ** 70 };
        rows[3] = { ...(rows[3] as object), productionDate: "1969-12-31" };
        const r = await upload(1n, { format: "json", rows });
        expect(r.status).to.equal(422);
        expect(r.body.error.details).to.deep.equal([
          {
            position: "rows[1].numberOfConductedEndOfLineTests",
            reason: "is not an integer (or not exactly representable)",
          },
          { position: "rows[3].productionDate", reason: "is before 1970-01-01" },
        ]);
      });

      it("refuses more records than the circuit's tree holds", async function () {
        const rows = Array.from({ length: 15 }, (_, i) => ({
          ...qualityRows()[0]!,
          productionDate: `2026-08-${String(i + 1).padStart(2, "0")}`,
        }));
        const r = await upload(1n, { format: "json", rows });
        expect(r.status).to.equal(413);
        expect(r.body.error.code).to.equal("TOO_MANY_RECORDS");
      });

      it("refuses an unknown asset with UNKNOWN_ASSET", async function () {
        const r = await upload(99n, QUALITY_DATA);
        expect(r.status).to.equal(404);
        expect(r.body.error.code).to.equal("UNKNOWN_ASSET");
      });

      it("refuses an upload not signed by the owner with NOT_OWNER", async function () {
        const r = await upload(1n, QUALITY_DATA, env.other);
        expect(r.status).to.equal(403);
        expect(r.body.error.code).to.equal("NOT_OWNER");
      });

      it("refuses a signature over other data with NOT_OWNER or BAD_SIGNATURE", async function () {
        const body = await signUpload(env.owner, env.domain, 1n, QUALITY_DATA);
        const tampered = { ...body, data: { format: "json", rows: qualityRows().slice(1) } };
        const r = await call(gw.url, "POST", "/assets/1/uploads", tampered);
        expect(r.status).to.equal(403); // recovers some other address
        expect(r.body.error.code).to.equal("NOT_OWNER");
        const bad = await call(gw.url, "POST", "/assets/1/uploads", {
          ...body,
          signature: "0x" + "11".repeat(65),
        });
        expect(bad.status).to.equal(401);
        expect(bad.body.error.code).to.equal("BAD_SIGNATURE");
      });

      it("refuses a stale upload signature with DEADLINE_EXPIRED", async function () {
        const old = BigInt(Math.floor(Date.now() / 1000) - 3600);
        const body = await signUpload(env.owner, env.domain, 1n, QUALITY_DATA, old);
        const r = await call(gw.url, "POST", "/assets/1/uploads", body);
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal("DEADLINE_EXPIRED");
      });

      it("refuses an oversized body with BODY_TOO_LARGE", async function () {
        const r = await call(gw.url, "POST", "/assets/1/uploads", {
          data: { format: "csv", csv: "x".repeat(100_000) },
        });
        expect(r.status).to.equal(413);
        expect(r.body.error.code).to.equal("BODY_TOO_LARGE");
      });
    });
  });

  describe("POST /queries", function () {
    it("proves an answer, logs it on-chain, and the proof verifies with snarkjs", async function () {
      const q = query();
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, q),
      );
      expect(r.status).to.equal(202);
      expect(r.body.status).to.equal("queued");
      expect(r.body.versionId).to.equal(versionIdOf(1n, 1).toString());
      // the HTTP loop keeps answering while the proof runs in a worker: the prover's task is held
      // at the thread boundary (the pool counts it busy, the worker has not got it yet) until the
      // HTTP checks below are done, so "busy" is observed for certain, not caught in a race
      let release!: () => void;
      const held = new Promise<void>((res) => (release = res));
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, msg: unknown, ...rest: never[]) {
        if ((msg as { kind?: string } | null)?.kind !== "prove")
          return post.call(this, msg, ...rest);
        void held.then(() => post.call(this, msg, ...rest));
      };
      try {
        const health = await waitUntil(
          "the prover pool reporting the query's proof as busy on /health",
          async () => {
            const h = await call(gw.url, "GET", "/health");
            expect(h.status).to.equal(200);
            return h.body.provers.busy === 1 ? h.body : undefined;
          },
        );
        expect(health.provers).to.deep.include({ busy: 1, waiting: 0 });
        const j = await call(gw.url, "GET", `/jobs/${r.body.jobId}`);
        expect([j.status, j.body.status]).to.deep.equal([200, "proving"]);
      } finally {
        Worker.prototype.postMessage = post;
        release();
      }
      const job = await waitJob(gw.url, r.body.jobId);
      expect(job.status).to.equal("logged");

      // the answer is the plain evaluation over the uploaded records
      const parsed = parseBatch(qualitySchema, QUALITY_DATA);
      const expected = evaluate(
        {
          kind: q.kind,
          fieldA: q.fieldA,
          fieldB: q.fieldB,
          lo: q.lo,
          hi: q.hi,
          threshold: 0n,
          nonce: q.nonce,
        },
        parsed.ok ? parsed.records : [],
      );
      expect(job.answer.resultValue).to.equal(expected.resultValue.toString());
      expect(expected.resultValue).to.equal(400_000n); // 4 of 10 reworked

      // independent verification against the verification key
      const vkey = gw.ctx.artifacts.vkey;
      expect(await snarkjsVerify(vkey, job.publicSignals, job.proof)).to.equal(true);
      expect(job.publicSignals[1]).to.equal(policyHash(POLICY).toString());
      const tampered = [...job.publicSignals];
      tampered[3] = (BigInt(tampered[3]) + 1n).toString();
      expect(await snarkjsVerify(vkey, tampered, job.proof)).to.equal(false);

      // logged once on-chain, in the transaction the job reports
      expect(await env.pp.isRequestLogged(q.grantId, q.requestId)).to.equal(true);
      const events = await env.pp.queryFilter(
        env.pp.filters.AnswerRecorded(undefined, undefined, q.requestId),
      );
      expect(events).to.have.length(1);
      expect(events[0]!.transactionHash).to.equal(job.logTx.hash);
      expect(events[0]!.args.consumer).to.equal(env.consumer.address);
      expect((await env.pp.getGrant(1n)).used).to.equal(1n);
      expect(await gw.ctx.store.outboxDepth()).to.equal(0);
    });

    it("proves a filtered query with the scan circuit and logs it", async function () {
      const { keyLo, keyHi } = keyRange({
        partNumber: PART,
        plant: PLANT,
        from: "2026-07-03",
        to: "2026-07-05",
      });
      const predicates = [{ field: 3, op: PredicateOp.Ge, value: 2n }];
      const q = query({
        grantId: 4n,
        kind: AggregateKind.Sum,
        fieldA: 1,
        lo: keyLo,
        hi: keyHi,
        predicates: packPredicates(predicates),
      });
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, q),
      );
      expect(r.status, JSON.stringify(r.body)).to.equal(202);
      const job = await waitJob(gw.url, r.body.jobId);
      expect(job.status).to.equal("logged");
      expect(job.circuit).to.equal("scan_d4_c4");
      const parsed = parseBatch(qualitySchema, QUALITY_DATA);
      const expected = evaluate(
        {
          kind: q.kind,
          fieldA: 1,
          fieldB: 0,
          lo: keyLo,
          hi: keyHi,
          threshold: 0n,
          nonce: q.nonce,
          predicates,
        },
        parsed.ok ? parsed.records : [],
      );
      expect(expected.count).to.equal(2n); // 07-03 (3 tests) and 07-04 (4 tests)
      expect(job.answer.resultValue).to.equal(expected.resultValue.toString());
      expect(job.answer.resultAux).to.equal("2");
      expect(
        await snarkjsVerify(gw.ctx.scanArtifacts!.vkey, job.publicSignals, job.proof),
      ).to.equal(true);
      const events = await env.pp.queryFilter(
        env.pp.filters.AnswerRecorded(undefined, undefined, q.requestId),
      );
      expect(events).to.have.length(1);
      expect(events[0]!.args.circuitId).to.equal(circuitId("scan_d4_c4"));
    });

    it("accepts one of two copies of a query that arrive at once", async function () {
      const body = await signQuery(env.consumer, env.domain, query({ kind: AggregateKind.Count }));
      const [a, b] = await Promise.all([
        call(gw.url, "POST", "/queries", body),
        call(gw.url, "POST", "/queries", body),
      ]);
      expect([a.status, b.status].sort()).to.deep.equal([202, 409]);
      const refused = a.status === 409 ? a : b;
      expect(refused.body.error.code).to.equal("NONCE_REUSED");
      const accepted = a.status === 202 ? a : b;
      expect((await waitJob(gw.url, accepted.body.jobId)).status).to.equal("logged");
    });

    describe("refusals (nothing is written, but a data-dependent refusal is charged)", function () {
      let before: Record<string, number>;
      /** What a test's refusals write: a data-dependent refusal uses its nonce and is kept. */
      let written: Record<string, number>;
      beforeEach(async function () {
        before = await gw.ctx.store.counts();
        written = {};
      });
      afterEach(async function () {
        const expected = { ...before };
        for (const [k, n] of Object.entries(written)) expected[k] = (expected[k] ?? 0) + n;
        expect(await gw.ctx.store.counts()).to.deep.equal(expected);
      });

      const refuse = async (body: unknown, status: number, code: string) => {
        const r = await call(gw.url, "POST", "/queries", body);
        expect(r.status, JSON.stringify(r.body)).to.equal(status);
        expect(r.body.error.code).to.equal(code);
        return r;
      };

      it("refuses malformed JSON and wrong types", async function () {
        await refuse("{nope", 400, "MALFORMED_JSON");
        const body = await signQuery(env.consumer, env.domain, query());
        await refuse(
          { ...body, query: { ...body.query, kind: "COUNT" } },
          400,
          "VALIDATION_FAILED",
        );
        await refuse(
          { ...body, query: { ...body.query, lo: "2".padEnd(40, "0") } },
          400,
          "VALIDATION_FAILED",
        );
      });

      it("refuses a bad signature with BAD_SIGNATURE", async function () {
        const body = await signQuery(env.consumer, env.domain, query());
        await refuse({ ...body, signature: "0x" + "22".repeat(65) }, 401, "BAD_SIGNATURE");
      });

      it("refuses a query without the consumer's AnswerConsent, naming it", async function () {
        const { consent: _omitted, ...body } = await signQuery(env.consumer, env.domain, query());
        const r = await refuse(body, 400, "VALIDATION_FAILED");
        expect(r.body.error.message).to.match(/^consent: .*AnswerConsent/);
      });

      it("refuses an AnswerConsent for another query or by another account with BAD_SIGNATURE", async function () {
        const body = await signQuery(env.consumer, env.domain, query());
        const otherQuery = await signQuery(env.consumer, env.domain, query({ nonce: 4242n }));
        const byOther = await signQuery(env.other, env.domain, query());
        for (const consent of [otherQuery.consent, byOther.consent, "0x" + "11".repeat(65)]) {
          const r = await refuse({ ...body, consent }, 401, "BAD_SIGNATURE");
          expect(r.body.error.message).to.match(/^consent: /);
        }
      });

      it("refuses a query signed for another request with NO_GRANT (signer is not the consumer)", async function () {
        const body = await signQuery(env.consumer, env.domain, query());
        await refuse({ ...body, query: { ...body.query, nonce: "1" } }, 403, "NO_GRANT");
      });

      it("refuses an expired deadline with DEADLINE_EXPIRED", async function () {
        const body = await signQuery(env.consumer, env.domain, query({ deadline: 1n }));
        await refuse(body, 401, "DEADLINE_EXPIRED");
      });

      it("refuses a reused nonce with NONCE_REUSED", async function () {
        const body = await signQuery(env.consumer, env.domain, query({ nonce: 1000n }));
        await refuse(body, 409, "NONCE_REUSED");
      });

      it("refuses a grant of someone else with NO_GRANT", async function () {
        await refuse(
          await signQuery(env.consumer, env.domain, query({ grantId: 2n })),
          403,
          "NO_GRANT",
        );
        await refuse(
          await signQuery(env.consumer, env.domain, query({ grantId: 77n })),
          403,
          "NO_GRANT",
        );
      });

      it("refuses a revoked grant with GRANT_REVOKED", async function () {
        await refuse(
          await signQuery(env.consumer, env.domain, query({ grantId: 3n })),
          403,
          "GRANT_REVOKED",
        );
      });

      it("refuses an unknown asset with NO_GRANT / UNKNOWN_ASSET", async function () {
        await refuse(
          await signQuery(env.consumer, env.domain, query({ assetId: 99n })),
          403,
          "NO_GRANT",
        );
      });

      it("refuses an expired grant with GRANT_EXPIRED", async function () {
        await networkHelpers.time.increase(60);
        await refuse(
          await signQuery(env.consumer, env.domain, query({ grantId: 5n })),
          403,
          "GRANT_EXPIRED",
        );
      });

      it("refuses a range smaller than k with COHORT_BELOW_K", async function () {
        const { keyLo, keyHi } = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-07-01",
          to: "2026-07-02",
        });
        const body = await signQuery(env.consumer, env.domain, query({ lo: keyLo, hi: keyHi }));
        await refuse(body, 422, "COHORT_BELOW_K");
        written = { nonces: 1, refusals: 1 };
      });

      it("refuses with COHORT_BELOW_K, in the same words, a ratio over >= k records of which < k are selected", async function () {
        // July 1-6: 6 records (k = 3), of which 2 reworked (field 1), the cohort of field 0 under
        // grant 6; the rework ratio's own cohort (field 1: none) is the range
        const { keyLo, keyHi } = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-07-01",
          to: "2026-07-06",
        });
        const rows = qualityRows().slice(0, 6);
        expect([rows.length, rows.filter((r) => r.hasBeenReworked).length]).to.deep.equal([6, 2]);
        const selected = await refuse(
          await signQuery(env.consumer, env.domain, query({ grantId: 6n, lo: keyLo, hi: keyHi })),
          422,
          "COHORT_BELOW_K",
        );
        // the range's own k refusal says the same (no count, not which fell short)
        const short = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-07-01",
          to: "2026-07-02",
        });
        const range = await refuse(
          await signQuery(
            env.consumer,
            env.domain,
            query({ grantId: 6n, lo: short.keyLo, hi: short.keyHi }),
          ),
          422,
          "COHORT_BELOW_K",
        );
        expect(selected.body.error.message).to.equal(range.body.error.message);
        expect(selected.body.error.message.replace("(k = 3)", "")).to.not.match(/\d/);
        written = { nonces: 2, refusals: 2 };
      });

      it("refuses with POLICY_VIOLATION, uncharged, a grant that lacks the schema's cohort map for the fields asked", async function () {
        // average lead time = RATIO(leadTimeDays, leadTimeKnown): leadTimeDays is defined over the
        // arrived deliveries only, counted by leadTimeKnown
        const lead = {
          grantId: 7n,
          assetId: 2n,
          kind: AggregateKind.RatioPpm,
          fieldA: 3,
          fieldB: 1,
        };
        const r = await refuse(
          await signQuery(env.consumer, env.domain, query(lead)),
          403,
          "POLICY_VIOLATION",
        );
        expect(r.body.error.message).to.match(/field 3 \(leadTimeDays\).*leadTimeKnown/);
        // delivered quantity has no cohort field: not refused for the map (the asset has no
        // published version here)
        const qty = { ...lead, kind: AggregateKind.Sum, fieldA: 0, fieldB: 0 };
        await refuse(await signQuery(env.consumer, env.domain, query(qty)), 404, "UNKNOWN_VERSION");
      });

      it("refuses a query outside the policy with POLICY_VIOLATION", async function () {
        const other = keyRange({ partNumber: "OTHER-PART" });
        await refuse(
          await signQuery(env.consumer, env.domain, query({ lo: other.keyLo, hi: other.keyHi })),
          403,
          "POLICY_VIOLATION",
        );
      });

      it("refuses filters the grant does not allow, and ranges wider than a scan window", async function () {
        const predicates = packPredicates([{ field: 3, op: PredicateOp.Ge, value: 2n }]);
        await refuse(
          await signQuery(env.consumer, env.domain, query({ predicates })),
          403,
          "POLICY_VIOLATION",
        );
        await refuse(
          await signQuery(
            env.consumer,
            env.domain,
            query({ grantId: 4n, kind: AggregateKind.Count, predicates }),
          ),
          422,
          "UNSUPPORTED_QUERY",
        );
        written = { nonces: 1, refusals: 1 }; // the scan window depends on the data
      });

      it("refuses a version the gateway does not hold with UNKNOWN_VERSION", async function () {
        const body = await signQuery(
          env.consumer,
          env.domain,
          query({ versionId: versionIdOf(1n, 9) }),
        );
        await refuse(body, 404, "UNKNOWN_VERSION");
      });
    });

    it("retries a refused submission with backoff and logs it once the chain accepts", async function () {
      await env.pp.connect(env.admin).pause();
      const q = query({ kind: AggregateKind.Count });
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.consumer, env.domain, q),
      );
      expect(r.status).to.equal(202);
      // wait until the relayer has failed at least twice (contract paused: EnforcedPause)
      const entry = await waitUntil(
        "the outbox entry of the query failing its second submission (contract paused)",
        async () => {
          const [e] = await gw.ctx.store.listOutbox();
          return e && e.attempts >= 2 ? e : undefined;
        },
        {
          describe: async () =>
            JSON.stringify(await gw.ctx.store.listOutbox(), (_, v) =>
              typeof v === "bigint" ? v.toString() : v,
            ),
        },
      );
      expect(entry.lastError).to.equal("EnforcedPause");
      expect(entry.nextAttemptAt).to.be.greaterThan(entry.createdAt);
      expect((await call(gw.url, "GET", `/jobs/${r.body.jobId}`)).body.status).to.equal("proved");
      await env.pp.connect(env.admin).unpause();
      const job = await waitJob(gw.url, r.body.jobId);
      expect(job.status).to.equal("logged");
      expect(
        await env.pp.queryFilter(env.pp.filters.AnswerRecorded(undefined, undefined, q.requestId)),
      ).to.have.length(1);
    });

    it("refuses a query over quota with QUOTA_EXCEEDED, counting answers in flight", async function () {
      const first = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.other, env.domain, query({ grantId: 2n, kind: AggregateKind.Count })),
      );
      expect(first.status).to.equal(202);
      const before = await gw.ctx.store.counts();
      const second = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(env.other, env.domain, query({ grantId: 2n, kind: AggregateKind.Count })),
      );
      expect(second.status).to.equal(403);
      expect(second.body.error.code).to.equal("QUOTA_EXCEEDED");
      expect(await gw.ctx.store.counts()).to.deep.equal(before);
      expect((await waitJob(gw.url, first.body.jobId)).status).to.equal("logged");
    });
  });

  describe("reads", function () {
    it("lists the catalogue with schema descriptions and published versions", async function () {
      const all = await call(gw.url, "GET", "/assets");
      expect(all.body.assets.map((a: any) => a.schemaId)).to.deep.equal([
        QUALITY,
        DELIVERY,
        PCF,
        QUALITY,
      ]);
      const one = await call(gw.url, "GET", "/assets/1");
      expect(one.body.schema.fields.map((f: any) => f.name)).to.deep.equal(qualitySchema.fields);
      expect(one.body.versions[0].servedHere).to.equal(true);
      expect(one.body.circuit.name).to.equal(CIRCUIT.name);
    });

    it("shows the owner its own records, never salts, and refuses anyone else", async function () {
      const ok = await signedGet("/assets/1/records", env.owner, "records", 1n);
      expect(ok.status).to.equal(200);
      expect(ok.body.records).to.have.length(10);
      expect(ok.body.records[0].values.endOfLineTests).to.equal("1");
      expect(ok.text).to.not.match(/salt/i);
      const no = await signedGet("/assets/1/records", env.consumer, "records", 1n);
      expect(no.status).to.equal(401);
      expect(no.body.error.code).to.equal("BAD_SIGNATURE");
      const unsigned = await call(gw.url, "GET", "/assets/1/records");
      expect(unsigned.status).to.equal(401);
    });

    it("shows a consumer its own answers only", async function () {
      const mine = await signedGet(
        `/consumers/${env.consumer.address}/answers`,
        env.consumer,
        "answers",
        0n,
      );
      expect(mine.status).to.equal(200);
      expect(mine.body.answers.length).to.be.greaterThan(0);
      expect(mine.body.answers.every((a: any) => a.consumer === env.consumer.address)).to.equal(
        true,
      );
      const theirs = await signedGet(
        `/consumers/${env.other.address}/answers`,
        env.consumer,
        "answers",
        0n,
      );
      expect(theirs.status).to.equal(401);
    });

    it("exports served answers to a configured auditor, without results or blinds", async function () {
      const url = `/audit/answers?auditor=${env.other.address}`;
      const r = await signedGet(url, env.other, "audit", 0n);
      expect(r.status).to.equal(200);
      expect(r.body.answers.length).to.be.greaterThan(0);
      for (const a of r.body.answers) {
        expect(a).to.not.have.property("answer");
        expect(a).to.not.have.property("blind");
        expect(a.publicSignals).to.have.length(5);
        expect(a.cohort).to.be.a("number");
        expect(a.query).to.have.keys("kind", "fieldA", "fieldB", "lo", "hi", "predicates");
      }
    });

    it("refuses the audit export unsigned, signed by someone else, or to a non-auditor", async function () {
      const unsigned = await call(gw.url, "GET", `/audit/answers?auditor=${env.other.address}`);
      expect([unsigned.status, unsigned.body.error.code]).to.deep.equal([401, "BAD_SIGNATURE"]);
      const forged = await signedGet(
        `/audit/answers?auditor=${env.other.address}`,
        env.consumer,
        "audit",
        0n,
      );
      expect([forged.status, forged.body.error.code]).to.deep.equal([401, "BAD_SIGNATURE"]);
      const notAuditor = await signedGet(
        `/audit/answers?auditor=${env.consumer.address}`,
        env.consumer,
        "audit",
        0n,
      );
      expect([notAuditor.status, notAuditor.body.error.code]).to.deep.equal([403, "NOT_AUDITOR"]);
      const noAuditor = await call(gw.url, "GET", "/audit/answers");
      expect([noAuditor.status, noAuditor.body.error.code]).to.deep.equal([
        400,
        "VALIDATION_FAILED",
      ]);
    });

    it("serves /health and Prometheus /metrics", async function () {
      const h = await call(gw.url, "GET", "/health");
      expect(h.body.status).to.equal("ok");
      const res = await fetch(gw.url + "/metrics");
      const text = await res.text();
      expect(text).to.match(/partproof_queries_total\{status="logged"\} [1-9]/);
      expect(text).to.match(/partproof_queries_total\{status="refused:NONCE_REUSED"\} [1-9]/);
      // refusals of the body parser and of the rate limit's first step count too
      expect(text).to.match(/partproof_queries_total\{status="refused:MALFORMED_JSON"\} [1-9]/);
      expect(text).to.match(/partproof_queries_total\{status="refused:BAD_SIGNATURE"\} [1-9]/);
      expect(text).to.match(/partproof_uploads_total\{status="created"\} [1-9]/);
      expect(text).to.match(/partproof_uploads_total\{status="existing"\} [1-9]/);
      expect(text).to.match(/partproof_uploads_total\{status="refused:BODY_TOO_LARGE"\} [1-9]/);
      expect(text).to.match(/partproof_uploads_total\{status="refused:NOT_OWNER"\} [1-9]/);
      // a refused read is no query and no upload
      expect(text).to.not.match(/refused:NOT_AUDITOR/);
      expect(text).to.match(/partproof_proving_seconds_count [1-9]/);
      expect(text).to.match(/partproof_outbox_depth 0/);
    });
  });

  describe("restart", function () {
    it("logs a pending outbox entry exactly once after a restart", async function () {
      const dataDir = tempDir();
      const a = await gateway(ethers, env.address, env.relayer, {
        dataDir,
        over: { relayer: { enabled: false, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 } },
      });
      // the same records: a version with a new root, published as asset 1's latest
      try {
        const body = await signUpload(env.owner, env.domain, 1n, QUALITY_DATA);
        const up = await call(a.url, "POST", "/assets/1/uploads", body);
        expect(up.status).to.equal(201);
        const nonceOnChain = await env.pp.nonces(env.owner.address);
        const pub = await call(
          a.url,
          "POST",
          `/assets/1/versions/${up.body.version.localId}/publish`,
          await signPublish(
            env.owner,
            env.domain,
            {
              assetId: 1n,
              root: BigInt(up.body.version.root),
              recordCount: 10n,
              treeDepth: BigInt(CIRCUIT.depth),
              paramsHash: up.body.version.paramsHash,
            },
            nonceOnChain,
            BigInt(Math.floor(Date.now() / 1000) + 600),
          ),
        );
        expect(pub.status).to.equal(201);
        const q = query({ kind: AggregateKind.Sum, fieldA: 3 });
        const r = await call(
          a.url,
          "POST",
          "/queries",
          await signQuery(env.consumer, env.domain, q),
        );
        expect(r.status).to.equal(202);
        const proved = await waitJob(a.url, r.body.jobId, ["proved"]);
        expect(proved.status).to.equal("proved");
        expect(await a.ctx.store.outboxDepth()).to.equal(1);
        expect(await env.pp.isRequestLogged(q.grantId, q.requestId)).to.equal(false);
        await a.close();

        const b = await gateway(ethers, env.address, env.relayer, { dataDir });
        try {
          const job = await waitJob(b.url, r.body.jobId);
          expect(job.status).to.equal("logged");
          expect(job.answer.resultValue).to.equal("23"); // Σ end-of-line tests
          const events = await env.pp.queryFilter(
            env.pp.filters.AnswerRecorded(undefined, undefined, q.requestId),
          );
          expect(events).to.have.length(1);
          expect(await b.ctx.store.outboxDepth()).to.equal(0);
          // a further relayer pass finds nothing to do
          await (b.ctx as any).kickRelayer();
          expect(
            await env.pp.queryFilter(
              env.pp.filters.AnswerRecorded(undefined, undefined, q.requestId),
            ),
          ).to.have.length(1);
        } finally {
          await b.close();
        }
      } finally {
        await a.close();
      }
    });
  });
});
