/**
 * One sender per key: every transaction the gateway sends (relayed publications, logged answers)
 * goes through one nonce-managed queue. The race of issue 16 — a supplier's publication and the
 * relayer's answer sent from the same key at the same moment — must not cost either of them its
 * nonce ("Nonce too low" → 502 PUBLISH_FAILED before the queue existed).
 */
import { expect } from "chai";
import { parseEther, Wallet, type Signer } from "ethers";
import { network } from "hardhat";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { signQuery, signUpload } from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import { Relayer } from "../../gateway/relayer.js";
import { SendError, TxSender, SENDER_DEFAULTS, type LostTx } from "../../gateway/sender.js";
import {
  call,
  deploy,
  domainOf,
  gateway,
  openPolicy,
  policyTuple,
  publishLocal,
  requestId,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";

/** Ten quality rows of PART; `salt` varies the plant so that each batch is a new version. */
function data(plant: string): UploadData {
  return {
    format: "json",
    rows: Array.from({ length: 10 }, (_, i) => ({
      partNumber: PART,
      plant,
      productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
      hasBeenReworked: i % 3 === 0,
      numberOfConductedEndOfLineTests: 1 + (i % 4),
    })),
  };
}

const RELAYER_OFF = {
  relayer: { enabled: false, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 },
};

describe("Gateway sender: one nonce-managed queue per relayer key", function () {
  let deployer: Signer, consumer: Signer;
  let suppliers: Signer[];
  let pp: Awaited<ReturnType<typeof deploy>>;
  let address: string;
  let domain: Awaited<ReturnType<typeof domainOf>>;

  before(async function () {
    const signers = (await ethers.getSigners()) as Signer[];
    [deployer, consumer] = signers as [Signer, Signer];
    suppliers = signers.slice(2, 6);
    pp = await deploy(conn);
    address = await pp.getAddress();
    domain = await domainOf(ethers, address);
  });

  /** A relayer key of its own (signs locally, as a gateway's Wallet does), funded. */
  async function fundedWallet(): Promise<Wallet> {
    const w = Wallet.createRandom(ethers.provider) as unknown as Wallet;
    await (await deployer.sendTransaction({ to: w.address, value: parseEther("10") })).wait();
    return w;
  }

  /** Registers an asset of `who` and uploads a batch through the gateway; returns both ids. */
  async function uploaded(gwUrl: string, who: Signer, plant: string) {
    await pp.connect(who).registerAsset(QUALITY, ethers.ZeroHash, gwUrl);
    const assetId = await pp.assetCount();
    const up = await call(
      gwUrl,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(who, domain, assetId, data(plant)),
    );
    expect(up.status, up.text).to.equal(201);
    return { assetId, version: up.body.version };
  }

  it("relays three suppliers' publications and logs an answer sent from the same key at the same moment, with no nonce lost", async function () {
    const wallet = await fundedWallet();
    const gw = await gateway(ethers, address, wallet, { over: RELAYER_OFF });
    try {
      // supplier 0: a published asset, a grant and a proved answer waiting in the outbox
      const a = await uploaded(gw.url, suppliers[0]!, "4711");
      const pub = await publishLocal(gw, pp, suppliers[0]!, domain, a.assetId, a.version);
      expect(pub.status, pub.text).to.equal(201);
      const now = BigInt(await networkHelpers.time.latest());
      await pp
        .connect(suppliers[0]!)
        .grantAccess(
          a.assetId,
          await consumer.getAddress(),
          policyTuple(openPolicy(PART)),
          now,
          now + 86400n,
          10,
        );
      const grantId = await pp.grantCount();
      const { keyLo, keyHi } = keyRange({ partNumber: PART });
      const q = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(consumer, domain, {
          grantId,
          assetId: a.assetId,
          versionId: 0n,
          kind: AggregateKind.Count,
          fieldA: 0,
          fieldB: 0,
          lo: keyLo,
          hi: keyHi,
          threshold: 0n,
          requestId: requestId(),
          nonce: 1n,
          deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
        }),
      );
      expect(q.status, q.text).to.equal(202);
      expect((await waitJob(gw.url, q.body.jobId, ["proved"])).status).to.equal("proved");

      // suppliers 1..3: uploaded versions, ready to publish
      const others = [];
      for (const [i, s] of suppliers.slice(1).entries()) {
        others.push({ ...(await uploaded(gw.url, s, `52${i}`)), owner: s });
      }

      // the race: the relayer's pass and three publications from the same key at once
      const relayer = new Relayer(gw.ctx);
      relayer.start();
      const results = await Promise.all(
        others.map((o) => publishLocal(gw, pp, o.owner, domain, o.assetId, o.version)),
      );
      const job = await waitJob(gw.url, q.body.jobId);
      await relayer.stop();

      expect(results.map((r) => [r.status, r.body.error?.code])).to.deep.equal(
        others.map(() => [201, undefined]),
      );
      for (const o of others) expect((await pp.getAsset(o.assetId)).versionCount).to.equal(1n);
      expect(job.status).to.equal("logged");
      expect(await pp.isRequestLogged(grantId, job.requestId)).to.equal(true);
      // the answer went through on its first attempt: no "Nonce too low" retry
      const retries = gw.logs.lines.filter((l) => l.includes("recordAnswer failed, retrying"));
      expect(retries).to.deep.equal([]);
      // five transactions from the key (one publication before the race, three in it, one answer)
      expect(await ethers.provider.getTransactionCount(wallet.address, "latest")).to.equal(5);
    } finally {
      await gw.close();
    }
  });

  describe("TxSender", function () {
    const fast = { ...SENDER_DEFAULTS, stuckAfterMs: 200, pollMs: 25, confirmTimeoutMs: 120_000 };

    it("re-prices a transaction that stays pending past stuckAfterMs, with the same nonce and higher fees, and returns the re-priced one's receipt", async function () {
      const wallet = await fundedWallet();
      const sender = new TxSender(wallet, ethers.provider, fast);
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const sent = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
        const first = await ethers.provider.getTransaction(sent.hashes[0]!);
        const replaced: string[] = [];
        const waiting = sender.wait(sent, 1, { onReplaced: (h) => void replaced.push(h) });
        while (sender.stats.repriced < 1) await new Promise((r) => setTimeout(r, 25));
        await ethers.provider.send("evm_mine", []);
        const receipt = await waiting;

        expect(sent.hashes.length).to.be.greaterThan(1);
        expect(replaced).to.deep.equal(sent.hashes.slice(1));
        expect(receipt.hash).to.equal(sent.hashes.at(-1));
        const mined = await ethers.provider.getTransaction(receipt.hash);
        expect(mined!.nonce).to.equal(first!.nonce);
        expect(mined!.maxFeePerGas! * 100n >= first!.maxFeePerGas! * 125n).to.equal(true);
        expect(mined!.maxPriorityFeePerGas! * 100n >= first!.maxPriorityFeePerGas! * 125n).to.equal(
          true,
        );
        expect(await ethers.provider.getTransactionCount(wallet.address, "latest")).to.equal(1);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
    });

    it("uses no nonce for a transaction whose gas estimate reverts (the next one takes it)", async function () {
      const wallet = await fundedWallet();
      const sender = new TxSender(wallet, ethers.provider, fast);
      // revokeGrant of a grant that does not exist reverts in the estimate
      const bad = await pp.connect(wallet).revokeGrant.populateTransaction(999_999n);
      let error: unknown;
      await sender.send("revokeGrant", bad).catch((e) => (error = e));
      expect(String((error as Error)?.message)).to.match(/revert|GrantNotFound|execution/i);
      const ok = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
      expect(ok.nonce).to.equal(0);
      const receipt = await sender.wait(ok, 1);
      expect(receipt.status).to.equal(1);
      expect(await ethers.provider.getTransactionCount(wallet.address, "latest")).to.equal(1);
    });

    it("takes the account's nonce again after another process used the key", async function () {
      const wallet = await fundedWallet();
      const sender = new TxSender(wallet, ethers.provider, fast);
      const a = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
      await sender.wait(a, 1);
      // another process with the same key sends two transactions the sender knows nothing of
      const other = wallet.connect(ethers.provider);
      await (await other.sendTransaction({ to: await consumer.getAddress(), value: 2n })).wait();
      await (await other.sendTransaction({ to: await consumer.getAddress(), value: 3n })).wait();
      const b = await sender.send("transfer", { to: await consumer.getAddress(), value: 4n });
      expect((await sender.wait(b, 1)).status).to.equal(1);
      expect(b.nonce).to.equal(3);
      expect(sender.stats.resynced).to.be.greaterThan(0);
    });

    it("reports REORGED when the block of a transaction waiting for its confirmations is reorganised away", async function () {
      const wallet = await fundedWallet();
      const sender = new TxSender(wallet, ethers.provider, fast);
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      const sent = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
      expect(await ethers.provider.getTransactionReceipt(sent.hashes[0]!)).to.not.equal(null);
      const lost: LostTx[] = [];
      const waiting = sender.wait(sent, 3, { onLost: (l) => void lost.push(l) }).then(
        () => "confirmed",
        (e) => e,
      );
      while (!sender.seen(sent.hashes[0]!)) await new Promise((r) => setTimeout(r, 10));
      await ethers.provider.send("evm_revert", [snapshot]); // the block and its transaction go
      await ethers.provider.send("hardhat_mine", ["0x5"]);
      const outcome = await waiting;
      expect(outcome).to.be.instanceOf(SendError);
      expect((outcome as SendError).code).to.equal("REORGED");
      expect(await ethers.provider.getTransactionReceipt(sent.hashes[0]!)).to.equal(null);
      // detected, counted and reported once
      expect(sender.stats.reorged).to.equal(1);
      expect(lost.map((l) => [l.kind, l.hash])).to.deep.equal([["reorged", sent.hashes[0]]]);
      // the sender reads the account again: the next transaction gets the freed nonce
      const again = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
      expect(again.nonce).to.equal(sent.nonce);
      expect((await sender.wait(again, 1)).status).to.equal(1);
    });

    it("reports DROPPED, counted once and not re-priced, when the node forgets a pending transaction", async function () {
      const wallet = await fundedWallet();
      const sender = new TxSender(wallet, ethers.provider, fast);
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const sent = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
        await ethers.provider.send("hardhat_dropTransaction", [sent.hashes[0]]);
        const lost: LostTx[] = [];
        const outcome = await sender.wait(sent, 1, { onLost: (l) => void lost.push(l) }).then(
          () => "confirmed",
          (e) => e,
        );
        expect(outcome).to.be.instanceOf(SendError);
        expect((outcome as SendError).code).to.equal("DROPPED");
        expect([sender.stats.dropped, sender.stats.reorged, sender.stats.repriced]).to.deep.equal([
          1, 0, 0,
        ]);
        expect(lost.map((l) => [l.kind, l.nonce])).to.deep.equal([["dropped", sent.nonce]]);
        // a later adopt of the forgotten hash reports it again, through the same detector
        const adopted = await sender.adopt(sent.hashes[0]!, "transfer", (l) => void lost.push(l));
        expect(adopted).to.equal(undefined);
        expect(lost.map((l) => l.kind)).to.deep.equal(["dropped", "dropped"]);
        // the freed nonce goes to the next transaction
        const again = await sender.send("transfer", { to: await consumer.getAddress(), value: 1n });
        expect(again.nonce).to.equal(sent.nonce);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
    });
  });
});
