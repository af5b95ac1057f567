/**
 * Attacks on when an answer leaves the gateway and on whose request id it is logged under:
 * a grant revoked while its answer waits for the relayer (the answer must never be served, the
 * audit export must still list the job), and a squatter who logs the victim's request id under
 * its own grant first (the victim's job must still end logged).
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import {
  signPublish,
  signQuery,
  signRead,
  signUpload,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  call,
  CIRCUIT,
  deploy,
  domainOf,
  gateway,
  policyTuple,
  requestId,
  tempDir,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";
const PLANT = "4711";
const DATA: UploadData = {
  format: "json",
  rows: Array.from({ length: 10 }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
    hasBeenReworked: i % 3 === 0,
    numberOfConductedEndOfLineTests: 1 + (i % 4),
  })),
};
const POLICY: Policy = {
  aggregateMask: 0b1111111,
  fieldMask: 0b1111,
  filterMask: 0,
  ...keyRange({ partNumber: PART }),
  minCohort: 3,
};
const RELAYER_OFF = {
  relayer: { enabled: false, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 },
};

describe("Gateway: answers leave only with their log entry", function () {
  let owner: Signer, consumer: Signer, squatter: Signer, relayer: Signer, auditor: Signer;
  let pp: Awaited<ReturnType<typeof deploy>>;
  let address: string;
  let domain: Awaited<ReturnType<typeof domainOf>>;
  let nonce = 1n;

  before(async function () {
    [, owner, consumer, squatter, relayer, auditor] = (await ethers.getSigners()) as Signer[] as [
      Signer,
      Signer,
      Signer,
      Signer,
      Signer,
      Signer,
    ];
    pp = await deploy(conn);
    address = await pp.getAddress();
    domain = await domainOf(ethers, address);
  });

  /** Registers an asset of `who`, uploads DATA through `gwUrl`, publishes it; returns its id. */
  async function assetWithData(who: Signer, gwUrl: string): Promise<bigint> {
    await pp.connect(who).registerAsset(QUALITY, ethers.ZeroHash, gwUrl);
    const assetId = await pp.assetCount();
    const up = await call(
      gwUrl,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(who, domain, assetId, DATA),
    );
    expect(up.status, up.text).to.equal(201);
    const v = up.body.version;
    const pub = await call(
      gwUrl,
      "POST",
      `/assets/${assetId}/versions/${v.localId}/publish`,
      await signPublish(
        who,
        domain,
        {
          assetId,
          root: BigInt(v.root),
          recordCount: BigInt(v.recordCount),
          treeDepth: BigInt(CIRCUIT.depth),
          paramsHash: v.paramsHash,
        },
        await pp.nonces(await who.getAddress()),
        BigInt(Math.floor(Date.now() / 1000) + 600),
      ),
    );
    expect(pub.status, pub.text).to.equal(201);
    return assetId;
  }

  /** A grant of `assetId` by `from` to `to`; returns its id. */
  async function grant(from: Signer, assetId: bigint, to: string): Promise<bigint> {
    const now = BigInt(await networkHelpers.time.latest());
    await pp
      .connect(from)
      .grantAccess(assetId, to, policyTuple(POLICY), now, now + 30n * 86400n, 10);
    return pp.grantCount();
  }

  function countQuery(grantId: bigint, assetId: bigint, rid = requestId()): QueryMessage {
    const { keyLo, keyHi } = keyRange({
      partNumber: PART,
      plant: PLANT,
      from: "2026-07-01",
      to: "2026-07-31",
    });
    return {
      grantId,
      assetId,
      versionId: 0n,
      kind: AggregateKind.Count,
      fieldA: 0,
      fieldB: 0,
      lo: keyLo,
      hi: keyHi,
      threshold: 0n,
      requestId: rid,
      nonce: nonce++,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    };
  }

  async function exported(url: string) {
    const { gatewayId } = (await call(url, "GET", "/health")).body as { gatewayId: string };
    const r = await call(
      url,
      "GET",
      `/audit/answers?auditor=${await auditor.getAddress()}`,
      undefined,
      await signRead(auditor, domain, "audit", 0n, gatewayId),
    );
    expect(r.status, r.text).to.equal(200);
    return r.body.answers as { requestId: string; status: string; grantId: string }[];
  }

  it("withholds answer and blind of a proved job whose grant is revoked before the relayer logs it, says why, and still exports the job", async function () {
    const dataDir = tempDir();
    const over = { auditors: [await auditor.getAddress()] };
    let gw = await gateway(ethers, address, relayer, {
      dataDir,
      over: { ...over, ...RELAYER_OFF },
    });
    try {
      const assetId = await assetWithData(owner, gw.url);
      const grantId = await grant(owner, assetId, await consumer.getAddress());
      const q = countQuery(grantId, assetId);
      const r = await call(gw.url, "POST", "/queries", await signQuery(consumer, domain, q));
      expect(r.status, r.text).to.equal(202);
      const proved = await waitJob(gw.url, r.body.jobId, ["proved"]);
      // proved but not logged: nothing of the answer leaves the gateway yet
      expect(proved.status).to.equal("proved");
      expect([proved.answer, proved.blind]).to.deep.equal([null, null]);

      // the attack: the owner revokes while the answer waits for the relayer
      await pp.connect(owner).revokeGrant(grantId);
      await gw.close();
      gw = await gateway(ethers, address, relayer, { dataDir, over });
      const failed = await waitJob(gw.url, r.body.jobId);
      expect(failed.status).to.equal("failed");
      expect(failed.error.code).to.equal("CHAIN_REFUSED");
      expect(failed.error.message).to.match(/UnexpectedGrantStatus/);
      expect([failed.answer, failed.blind]).to.deep.equal([null, null]);
      expect(await pp.isRequestLogged(grantId, q.requestId)).to.equal(false);

      // the auditor still sees that an answer was computed and what became of it
      const rows = (await exported(gw.url)).filter((a) => a.requestId === q.requestId);
      expect(rows.map((a) => [a.grantId, a.status])).to.deep.equal([
        [grantId.toString(), "failed"],
      ]);
    } finally {
      await gw.close();
    }
  });

  it("logs the victim's answer although a squatter logged the victim's request id under its own grant first, through the same gateway", async function () {
    const gw = await gateway(ethers, address, relayer, {
      over: { auditors: [await auditor.getAddress()] },
    });
    try {
      const victimAsset = await assetWithData(owner, gw.url);
      const victimGrant = await grant(owner, victimAsset, await consumer.getAddress());
      // the squatter owns an asset of its own and grants itself access
      const squatAsset = await assetWithData(squatter, gw.url);
      const squatGrant = await grant(squatter, squatAsset, await squatter.getAddress());
      const rid = requestId(); // the id the victim is about to send (seen in transit)

      const squat = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(squatter, domain, countQuery(squatGrant, squatAsset, rid)),
      );
      expect(squat.status, squat.text).to.equal(202);
      expect((await waitJob(gw.url, squat.body.jobId)).status).to.equal("logged");
      expect(await pp.isRequestLogged(squatGrant, rid)).to.equal(true);

      const victim = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(consumer, domain, countQuery(victimGrant, victimAsset, rid)),
      );
      expect(victim.status, victim.text).to.equal(202);
      const job = await waitJob(gw.url, victim.body.jobId);
      expect(job.status).to.equal("logged");
      expect(job.answer.resultValue).to.equal("10");
      expect(await pp.isRequestLogged(victimGrant, rid)).to.equal(true);
      expect((await pp.getGrant(victimGrant)).used).to.equal(1n);
      const rows = (await exported(gw.url)).filter((a) => a.requestId === rid);
      expect(rows.map((a) => [a.grantId, a.status]).sort()).to.deep.equal(
        [
          [squatGrant.toString(), "logged"],
          [victimGrant.toString(), "logged"],
        ].sort(),
      );
    } finally {
      await gw.close();
    }
  });
});
