/**
 * What a gateway serves and for whom: signed reads bound to one gateway and a short window,
 * the assets (owners) it serves, per-owner caps, and rate limits per connection then per signer.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { signQuery, signRead, signUpload } from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  call,
  deploy,
  domainOf,
  gateway,
  openPolicy,
  policyTuple,
  publishLocal,
  queryMessage,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const PCF = "urn:samm:io.catenax.pcf:10.0.0";

/** One PCF row; `n` makes batches differ. */
function pcf(n = 1): UploadData {
  return {
    format: "json",
    rows: [
      {
        partNumber: "P",
        plant: "C",
        referencePeriodEnd: "2026-01-01",
        pcfExcludingBiogenicUptake: n,
        productMassPerDeclaredUnit: 2,
        primaryDataShare: 50,
      },
    ],
  };
}

async function setup() {
  const [, owner, auditor, stranger, relayer] = await ethers.getSigners();
  const pp = await deploy(conn);
  const address = await pp.getAddress();
  const domain = await domainOf(ethers, address);
  await pp.connect(owner!).registerAsset(PCF, ethers.ZeroHash, "http://gw"); // 1: owner's
  await pp.connect(stranger!).registerAsset(PCF, ethers.ZeroHash, "http://gw"); // 2: stranger's
  return {
    pp,
    address,
    domain,
    owner: owner!,
    auditor: auditor!,
    stranger: stranger!,
    relayer: relayer!,
  };
}

describe("Gateway tenancy", function () {
  describe("signed reads", function () {
    it("refuses an auditor's export request replayed to another gateway", async function () {
      const env = await setup();
      const over = { auditors: [env.auditor.address] };
      const gwA = await gateway(ethers, env.address, env.relayer, { over });
      const gwB = await gateway(ethers, env.address, env.relayer, { over });
      try {
        const url = `/audit/answers?auditor=${env.auditor.address}`;
        const headers = await signRead(env.auditor, env.domain, "audit", 0n, gwA.ctx.gatewayId);
        const a = await call(gwA.url, "GET", url, undefined, headers);
        expect(a.status).to.equal(200);
        // the same headers, captured, sent to gateway B
        const b = await call(gwB.url, "GET", url, undefined, headers);
        expect(b.status).to.equal(401);
        expect(b.body.error.code).to.equal("BAD_SIGNATURE");
        expect(b.body.error.message).to.match(/another gateway/);
        // without the gateway header the signature does not match B's id either
        const { "x-partproof-gateway": _dropped, ...bare } = headers;
        const c = await call(gwB.url, "GET", url, undefined, bare);
        expect(c.status).to.equal(401);
        expect(c.body.error.code).to.equal("BAD_SIGNATURE");
        // the two gateways have different ids, served in /health
        const [ha, hb] = await Promise.all([
          call(gwA.url, "GET", "/health"),
          call(gwB.url, "GET", "/health"),
        ]);
        expect(ha.body.gatewayId).to.equal(gwA.ctx.gatewayId);
        expect(hb.body.gatewayId).to.not.equal(ha.body.gatewayId);
      } finally {
        await gwA.close();
        await gwB.close();
      }
    });

    it("refuses reads signed in the future or older than the read window", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { auditors: [env.auditor.address], readMaxAgeSec: 60, clockSkewSec: 5 },
      });
      try {
        const url = `/audit/answers?auditor=${env.auditor.address}`;
        const now = BigInt(Math.floor(Date.now() / 1000));
        const at = async (t: bigint) =>
          call(
            gw.url,
            "GET",
            url,
            undefined,
            await signRead(env.auditor, env.domain, "audit", 0n, gw.ctx.gatewayId, t),
          );
        const future = await at(now + 120n);
        expect(future.status).to.equal(401);
        expect(future.body.error.message).to.match(/in the future/);
        const old = await at(now - 120n);
        expect(old.status).to.equal(401);
        expect(old.body.error.message).to.match(/more than 60 s old/);
        expect((await at(now)).status).to.equal(200);
      } finally {
        await gw.close();
      }
    });

    it("keeps a gateway's generated id across restarts, and a configured id wins", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer);
      const id = gw.ctx.gatewayId;
      await gw.close();
      const again = await gateway(ethers, env.address, env.relayer, { dataDir: gw.dataDir });
      expect(again.ctx.gatewayId).to.equal(id);
      await again.close();
      const named = await gateway(ethers, env.address, env.relayer, {
        over: { gatewayId: "supplier-a.gw1" },
      });
      expect((await call(named.url, "GET", "/health")).body.gatewayId).to.equal("supplier-a.gw1");
      await named.close();
    });
  });

  describe("served assets", function () {
    it("refuses an upload to an asset it does not serve before reading the body", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { serve: { owners: [env.owner.address] } },
      });
      try {
        const bomb = await call(gw.url, "POST", "/assets/2/uploads", "{not json at all");
        expect(bomb.status).to.equal(403);
        expect(bomb.body.error.code).to.equal("NOT_SERVED");
        expect(bomb.body.error.message).to.match(/does not serve asset 2/);
        const signed = await call(
          gw.url,
          "POST",
          "/assets/2/uploads",
          await signUpload(env.stranger, env.domain, 2n, pcf()),
        );
        expect(signed.body.error.code).to.equal("NOT_SERVED");
        const publish = await call(gw.url, "POST", "/assets/2/versions/1/publish", "{}");
        expect(publish.body.error.code).to.equal("NOT_SERVED");
        expect(await gw.ctx.store.listVersions("2")).to.have.length(0);
        // the listed owner's asset is served
        const ok = await call(
          gw.url,
          "POST",
          "/assets/1/uploads",
          await signUpload(env.owner, env.domain, 1n, pcf()),
        );
        expect(ok.status).to.equal(201);
      } finally {
        await gw.close();
      }
    });

    it("refuses a query and the reads of an asset it does not serve before any other check", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { serve: { owners: [env.owner.address] } },
      });
      try {
        const query = (assetId: bigint) =>
          queryMessage({ grantId: 1n, assetId, lo: 1n, hi: 2n, nonce: 1n });
        const signed = await signQuery(env.stranger, env.domain, query(2n));
        // a signature that recovers to nobody: NOT_SERVED comes before the signature is looked at
        const forged = { ...signed, signature: "0x" + "11".repeat(65) };
        for (const body of [signed, forged]) {
          const r = await call(gw.url, "POST", "/queries", body);
          expect([r.status, r.body.error.code]).to.deep.equal([403, "NOT_SERVED"]);
        }
        // the served owner's asset gets past it (to the grant check: there is no grant)
        const served = await call(
          gw.url,
          "POST",
          "/queries",
          await signQuery(env.stranger, env.domain, query(1n)),
        );
        expect(served.body.error.code).to.equal("NO_GRANT");
        // reads: the catalogue entry and the owner's records (not even a signature is asked for)
        for (const url of ["/assets/2", "/assets/2/records"]) {
          const r = await call(gw.url, "GET", url);
          expect([r.status, r.body.error.code], url).to.deep.equal([403, "NOT_SERVED"]);
        }
        expect((await call(gw.url, "GET", "/assets/1")).status).to.equal(200);
        expect(await gw.ctx.store.allJobs()).to.have.length(0);
      } finally {
        await gw.close();
      }
    });

    it("serves listed assets by id, and warns at start when it serves every asset", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { serve: { assets: ["2"] } },
      });
      try {
        const r1 = await call(gw.url, "POST", "/assets/1/uploads", "{}");
        expect(r1.body.error.code).to.equal("NOT_SERVED");
        const r2 = await call(
          gw.url,
          "POST",
          "/assets/2/uploads",
          await signUpload(env.stranger, env.domain, 2n, pcf()),
        );
        expect(r2.status).to.equal(201);
        expect(gw.logs.lines.join("")).to.not.match(/config.serve is not set/);
      } finally {
        await gw.close();
      }
      const open = await gateway(ethers, env.address, env.relayer);
      await open.close();
      const warning = open.logs.lines.map((l) => JSON.parse(l)).find((l) => l.level === 40);
      expect(warning?.msg).to.match(/config.serve is not set/);
    });
  });

  describe("per-owner caps", function () {
    it("refuses a version over the owner's cap with OWNER_CAP_REACHED", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { limits: { versionsPerOwner: 2 } },
      });
      try {
        const up = async (n: number) =>
          call(
            gw.url,
            "POST",
            "/assets/1/uploads",
            await signUpload(env.owner, env.domain, 1n, pcf(n)),
          );
        expect((await up(1)).status).to.equal(201);
        expect((await up(2)).status).to.equal(201);
        expect((await up(1)).status).to.equal(200); // the same batch again is no new version
        const over = await up(3);
        expect(over.status).to.equal(429);
        expect(over.body.error.code).to.equal("OWNER_CAP_REACHED");
        expect(over.body.error.message).to.match(/2 stored versions/);
        expect(await gw.ctx.store.listVersions("1")).to.have.length(2);
      } finally {
        await gw.close();
      }
    });

    it("stops relaying publications once the owner's gas of the day is spent", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { limits: { relayerGasPerOwnerPerDay: 1 } },
      });
      try {
        const publish = async (n: number) => {
          const up = await call(
            gw.url,
            "POST",
            "/assets/1/uploads",
            await signUpload(env.owner, env.domain, 1n, pcf(n)),
          );
          return publishLocal(gw, env.pp, env.owner, env.domain, 1n, up.body.version);
        };
        expect((await publish(1)).status).to.equal(201);
        const over = await publish(2);
        expect(over.status).to.equal(429);
        expect(over.body.error.code).to.equal("OWNER_CAP_REACHED");
        expect(over.body.error.message).to.match(/daily gas cap/);
        expect((await env.pp.getAsset(1n)).versionCount).to.equal(1n);
      } finally {
        await gw.close();
      }
    });
  });

  describe("relayed gas of answers", function () {
    it("counts an answer's log transaction in the owner's gas of the day, and refuses queries once it is spent", async function () {
      const env = await setup();
      const consumer = env.auditor; // any account other than the owner
      const now = BigInt(await conn.networkHelpers.time.latest());
      await env.pp
        .connect(env.owner)
        .grantAccess(1n, consumer.address, policyTuple(openPolicy("P", 1)), now, now + 86400n, 5);
      const gw = await gateway(ethers, env.address, env.relayer);
      const day = Math.floor(Date.now() / 86_400_000);
      const owner = env.owner.address;
      let nonce = 1n;
      const ask = async (url: string) => {
        const r = keyRange({ partNumber: "P" });
        const q = queryMessage({
          grantId: 1n,
          assetId: 1n,
          lo: r.keyLo,
          hi: r.keyHi,
          nonce: nonce++,
        });
        return call(url, "POST", "/queries", await signQuery(consumer, env.domain, q));
      };
      let used: number;
      try {
        const up = await call(
          gw.url,
          "POST",
          "/assets/1/uploads",
          await signUpload(env.owner, env.domain, 1n, pcf()),
        );
        expect(
          (await publishLocal(gw, env.pp, env.owner, env.domain, 1n, up.body.version)).status,
        ).to.equal(201);
        const published = await gw.ctx.store.relayedGas(owner, day);
        expect(published).to.be.greaterThan(0);
        const accepted = await ask(gw.url);
        expect(accepted.status).to.equal(202);
        const job = await waitJob(gw.url, accepted.body.jobId);
        expect(job.status).to.equal("logged");
        const receipt = await ethers.provider.getTransactionReceipt(job.logTx.hash);
        used = await gw.ctx.store.relayedGas(owner, day);
        expect(used - published).to.equal(Number(receipt!.gasUsed));
      } finally {
        await gw.close();
      }
      // the same store with a cap the day's gas has reached: the next query is refused before
      // its nonce, grant quota or data are used
      const capped = await gateway(ethers, env.address, env.relayer, {
        dataDir: gw.dataDir,
        over: { limits: { relayerGasPerOwnerPerDay: used } },
      });
      try {
        const before = await capped.ctx.store.counts();
        const refused = await ask(capped.url);
        expect([refused.status, refused.body.error.code]).to.deep.equal([429, "OWNER_CAP_REACHED"]);
        expect(await capped.ctx.store.counts()).to.deep.equal(before);
      } finally {
        await capped.close();
      }
    });
  });

  describe("rate limits", function () {
    it("limits each connection before reading bodies, whatever keys sign", async function () {
      const env = await setup();
      const gw = await gateway(ethers, env.address, env.relayer, {
        over: { ipRateLimitPerMinute: 3 },
      });
      try {
        const codes: string[] = [];
        for (const signer of [env.owner, env.stranger, env.auditor]) {
          const r = await call(
            gw.url,
            "POST",
            "/assets/1/uploads",
            await signUpload(signer, env.domain, 1n, pcf()),
          );
          codes.push(r.body.error?.code ?? String(r.status));
        }
        const r = await call(gw.url, "POST", "/assets/1/uploads", "{not json");
        codes.push(r.body.error.code);
        expect(codes).to.deep.equal(["201", "NOT_OWNER", "NOT_OWNER", "RATE_LIMITED"]);
        expect(r.status).to.equal(429);
      } finally {
        await gw.close();
      }
    });
  });
});
