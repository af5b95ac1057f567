import { expect } from "chai";
import { network } from "hardhat";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { signPublish, signQuery, signRead, signUpload } from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import {
  assetWithGrant,
  openPolicy,
  call,
  deploy,
  domainOf,
  gateway,
  policyTuple,
  publishLocal,
  requestId,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
/** A record value that appears nowhere else. */
const CANARY_VALUE = 987_654_321_987n;
/** Salts: this base plus the record's index. */
const CANARY_SALT = 0xc0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17n;
const PART = "CANARY-PART-7731";
const PLANT = "CANARY-PLANT-0042";

function rows(extra: Record<string, unknown> = {}) {
  return Array.from({ length: 6 }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: `2026-09-0${i + 1}`,
    hasBeenReworked: i === 2,
    numberOfConductedEndOfLineTests: i === 4 ? Number(CANARY_VALUE) : 2,
    ...extra,
  }));
}

/** Every textual form in which a canary could leak. */
function needles(): string[] {
  const out = [CANARY_VALUE.toString(), CANARY_VALUE.toString(16)];
  // salts differ in the last digits only: search for long prefixes of both forms
  out.push(CANARY_SALT.toString().slice(0, 40), CANARY_SALT.toString(16).slice(0, 40));
  return out;
}

describe("Gateway privacy", function () {
  describe("canary records and salts", function () {
    it("appear in no response, log line or chain event across every endpoint and error path", async function () {
      const [, owner, consumer, stranger, relayer] = await ethers.getSigners();
      const pp = await deploy(conn);
      const address = await pp.getAddress();
      const domain = await domainOf(ethers, address);
      await pp.connect(owner!).registerAsset(QUALITY, ethers.ZeroHash, "http://gw");
      const policy: Policy = {
        aggregateMask: 0b1100111, // COUNT, SUM, AVG, RATIO, THRESHOLD (no MIN/MAX)
        fieldMask: 0b1111,
        filterMask: 0,
        ...keyRange({ partNumber: PART }),
        minCohort: 3,
        thresholds: [200_000n], // the one THRESHOLD the test asks
      };
      const now = BigInt(await networkHelpers.time.latest());
      await pp
        .connect(owner!)
        .grantAccess(1n, consumer!.address, policyTuple(policy), now, now + 86400n, 10);

      let i = 0n;
      const gw = await gateway(ethers, address, relayer!, {
        deps: { salt: () => CANARY_SALT + i++ },
        over: { auditors: [stranger!.address] },
      });
      const responses: string[] = [];
      const ownerRecordResponses: string[] = [];
      const req = async (
        method: string,
        url: string,
        body?: unknown,
        headers?: Record<string, string>,
      ) => {
        const r = await call(gw.url, method, url, body, headers);
        responses.push(r.text);
        return r;
      };
      try {
        const data: UploadData = { format: "json", rows: rows() };
        // ---- uploads: ok, idempotent, and every error path with canaries in the bad rows
        const up = await req(
          "POST",
          "/assets/1/uploads",
          await signUpload(owner!, domain, 1n, data),
        );
        expect(up.status).to.equal(201);
        expect(
          (await gw.ctx.store.versionData((await gw.ctx.store.getVersion("1", 1))!)).salts[0],
        ).to.equal(CANARY_SALT.toString());
        await req("POST", "/assets/1/uploads", await signUpload(owner!, domain, 1n, data));
        const bad = rows({ numberOfConductedEndOfLineTests: `${CANARY_VALUE}x` });
        const badUp = await req(
          "POST",
          "/assets/1/uploads",
          await signUpload(owner!, domain, 1n, { format: "json", rows: bad }),
        );
        expect(badUp.body.error.code).to.equal("INVALID_RECORDS");
        const csv = `partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests\n${PART},${PLANT},2026-09-31,maybe,${CANARY_VALUE}${CANARY_VALUE}${CANARY_VALUE}\n`;
        expect(
          (
            await req(
              "POST",
              "/assets/1/uploads",
              await signUpload(owner!, domain, 1n, { format: "csv", csv }),
            )
          ).body.error.code,
        ).to.equal("INVALID_RECORDS");
        await req("POST", "/assets/1/uploads", await signUpload(stranger!, domain, 1n, data));
        await req("POST", "/assets/9/uploads", await signUpload(owner!, domain, 9n, data));
        await req(
          "POST",
          "/assets/1/uploads",
          `{"data": {"format": "json", "rows": [${CANARY_VALUE}`,
        );
        await req("POST", "/assets/1/uploads", {
          data,
          timestamp: CANARY_VALUE.toString(),
          signature: "0x" + "33".repeat(65),
        });

        // ---- publish (bad signature, then good)
        const v = up.body.version;
        const message = {
          assetId: 1n,
          root: BigInt(v.root),
          recordCount: 6n,
          treeDepth: 4n,
          paramsHash: v.paramsHash,
        };
        const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
        await req(
          "POST",
          "/assets/1/versions/1/publish",
          await signPublish(stranger!, domain, message, 0n, deadline),
        );
        const pub = await req(
          "POST",
          "/assets/1/versions/1/publish",
          await signPublish(owner!, domain, message, await pp.nonces(owner!.address), deadline),
        );
        expect(pub.status).to.equal(201);

        // ---- queries: one answered, and refusals
        const range = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-09-01",
          to: "2026-09-30",
        });
        let nonce = 1n;
        const q = (over: Partial<QueryMessage> = {}): QueryMessage => ({
          grantId: 1n,
          assetId: 1n,
          versionId: 0n,
          kind: AggregateKind.Sum,
          fieldA: 3,
          fieldB: 0,
          lo: range.keyLo,
          hi: range.keyHi,
          threshold: 0n,
          requestId: requestId(),
          nonce: nonce++,
          deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          ...over,
        });
        const ok = await req(
          "POST",
          "/queries",
          await signQuery(
            consumer!,
            domain,
            q({ kind: AggregateKind.ThresholdPpm, fieldA: 1, fieldB: 0, threshold: 200_000n }),
          ),
        );
        expect(ok.status).to.equal(202);
        const job = await waitJob(gw.url, ok.body.jobId);
        expect(job.status).to.equal("logged");
        expect(job.answer.resultValue).to.equal("1"); // 1 of 6 reworked ≤ 20 %
        const jobText = await req("GET", `/jobs/${ok.body.jobId}`);
        expect(jobText.status).to.equal(200);
        await req("POST", "/queries", await signQuery(consumer!, domain, q({ nonce: 1n })));
        await req("POST", "/queries", await signQuery(consumer!, domain, q({ deadline: 1n })));
        await req("POST", "/queries", await signQuery(stranger!, domain, q()));
        await req(
          "POST",
          "/queries",
          await signQuery(consumer!, domain, q({ kind: AggregateKind.Max })),
        );
        const small = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-09-05",
          to: "2026-09-05",
        });
        expect(
          (
            await req(
              "POST",
              "/queries",
              await signQuery(consumer!, domain, q({ lo: small.keyLo, hi: small.keyHi })),
            )
          ).body.error.code,
        ).to.equal("COHORT_BELOW_K");
        // September 1-5 beside the answered September: day 6 alone would be singled out
        const five = keyRange({
          partNumber: PART,
          plant: PLANT,
          from: "2026-09-01",
          to: "2026-09-05",
        });
        expect(
          (
            await req(
              "POST",
              "/queries",
              await signQuery(consumer!, domain, q({ lo: five.keyLo, hi: five.keyHi })),
            )
          ).body.error.code,
        ).to.equal("DIFFERENCING_RISK");
        await req("POST", "/queries", { query: { lo: CANARY_VALUE.toString() }, signature: "0x" });

        // ---- reads
        await req("GET", "/assets");
        await req("GET", "/assets/1");
        await req("GET", "/assets/2");
        await req(
          "GET",
          `/consumers/${consumer!.address}/answers`,
          undefined,
          await signRead(consumer!, domain, "answers", 0n, gw.ctx.gatewayId),
        );
        await req(
          "GET",
          `/consumers/${consumer!.address}/answers`,
          undefined,
          await signRead(stranger!, domain, "answers", 0n, gw.ctx.gatewayId),
        );
        await req(
          "GET",
          "/assets/1/records",
          undefined,
          await signRead(stranger!, domain, "records", 1n, gw.ctx.gatewayId),
        );
        await req("GET", "/audit/answers");
        const exported = await req(
          "GET",
          `/audit/answers?auditor=${stranger!.address}`,
          undefined,
          await signRead(stranger!, domain, "audit", 0n, gw.ctx.gatewayId),
        );
        // the export lists the charged refusals (code and query, no count, no value)
        expect(exported.status).to.equal(200);
        expect(exported.body.refusals.map((r: { code: string }) => r.code)).to.deep.equal([
          "COHORT_BELOW_K",
          "DIFFERENCING_RISK",
        ]);
        expect(exported.body.refusalsPerGrant).to.deep.equal({ "1": 2 });
        expect(Object.keys(exported.body.refusals[0]).sort()).to.deep.equal([
          "assetId",
          "code",
          "consumer",
          "grantId",
          "query",
          "refusedAt",
          "requestId",
          "versionId",
        ]);
        await req("GET", "/health");
        await req("GET", "/metrics");
        await req("GET", "/jobs/00000000-0000-4000-8000-000000000000");
        await req("GET", "/nowhere");
        // the owner's own records: values by design (to the owner only), never salts
        const mine = await call(
          gw.url,
          "GET",
          "/assets/1/records",
          undefined,
          await signRead(owner!, domain, "records", 1n, gw.ctx.gatewayId),
        );
        expect(mine.status).to.equal(200);
        expect(mine.text).to.include(CANARY_VALUE.toString());
        ownerRecordResponses.push(mine.text);
      } finally {
        await gw.close();
      }

      const logs = await ethers.provider.getLogs({ address, fromBlock: 0, toBlock: "latest" });
      const chainText = logs
        .map((l) => [...l.topics, l.data].join(" "))
        .join("\n")
        .toLowerCase();
      const logText = gw.logs.lines.join("\n");
      expect(gw.logs.lines.length).to.be.greaterThan(20);
      expect(responses.length).to.be.greaterThan(25);
      const haystacks: [string, string][] = [
        ["responses", responses.join("\n").toLowerCase()],
        ["logs", logText.toLowerCase()],
        ["chain events", chainText],
      ];
      for (const needle of needles()) {
        for (const [name, text] of haystacks) {
          expect(text.includes(needle.toLowerCase()), `${needle} found in ${name}`).to.equal(false);
        }
      }
      for (const needle of needles().slice(2)) {
        expect(ownerRecordResponses.join("\n").toLowerCase()).to.not.include(needle.toLowerCase());
      }
      for (const s of [PART, PLANT]) {
        expect(logText + responses.join("\n")).to.not.include(s);
      }
    });
  });

  describe("what only the owner sees, and what no log holds", function () {
    it("shows batch hashes and unpublished versions to the owner only, and logs no job id", async function () {
      const [, owner, consumer, , relayer] = await ethers.getSigners();
      const { pp, address, domain } = await assetWithGrant(
        conn,
        owner!,
        consumer!,
        QUALITY,
        openPolicy(PART),
      );
      const gw = await gateway(ethers, address, relayer!);
      try {
        const up = async (data: UploadData) =>
          call(gw.url, "POST", "/assets/1/uploads", await signUpload(owner!, domain, 1n, data));
        const published = (await up({ format: "json", rows: rows() })).body.version;
        const unpublished = (await up({ format: "json", rows: rows({ hasBeenReworked: true }) }))
          .body.version;
        expect(published.batchHash).to.match(/^0x[0-9a-f]{64}$/);
        const pub = await publishLocal(gw, pp, owner!, domain, 1n, published);
        expect(pub.status).to.equal(201);
        const range = keyRange({ partNumber: PART, plant: PLANT });
        const ok = await call(
          gw.url,
          "POST",
          "/queries",
          await signQuery(consumer!, domain, {
            grantId: 1n,
            assetId: 1n,
            versionId: 0n,
            kind: AggregateKind.Count,
            fieldA: 0,
            fieldB: 0,
            lo: range.keyLo,
            hi: range.keyHi,
            threshold: 0n,
            requestId: requestId(),
            nonce: 1n,
            deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          }),
        );
        expect(ok.status).to.equal(202);
        await waitJob(gw.url, ok.body.jobId);

        const open = [
          await call(gw.url, "GET", "/assets"),
          await call(gw.url, "GET", "/assets/1"),
          await call(gw.url, "GET", "/health"),
          await call(gw.url, "GET", "/metrics"),
        ].map((r) => r.text);
        expect(open[1]).to.include(published.root); // the published version is listed
        for (const text of open) {
          expect(text).to.not.include(published.batchHash.slice(2));
          expect(text).to.not.include(unpublished.batchHash.slice(2));
          expect(text).to.not.include(unpublished.root);
        }
        // the owner's signed read shows both, with their batch hashes
        const mine = await call(
          gw.url,
          "GET",
          "/assets/1/records?version=2",
          undefined,
          await signRead(owner!, domain, "records", 1n, gw.ctx.gatewayId),
        );
        expect(mine.body.version.batchHash).to.equal(unpublished.batchHash);
        const logText = gw.logs.lines.join("\n");
        expect(logText).to.include(ok.body.requestId);
        expect(logText).to.not.include(ok.body.jobId);
      } finally {
        await gw.close();
      }
    });
  });
});
