/**
 * The product on a node that is not Hardhat's: Foundry's anvil (npm `@foundry-rs/anvil`), started
 * as a separate process. The e2e story plays against it (story.test.ts with E2E_CHAIN=anvil, in
 * a child `hardhat test`), and a reorganisation that takes a logged answer's block away before
 * its confirmations ends with the answer logged again, exactly once, in both honest orders:
 * the node forgets the transaction (the gateway sends it again) or mines it again in a new block
 * (nothing is sent again). Each is counted once as a reorganisation (metric, log, timeline).
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import type { Wallet } from "ethers";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { partProofAt, policyStruct } from "../../protocol/contract.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import { signQuery, signUpload, type Domain } from "../../protocol/typed-data.js";
import { devAccount, runCommand, startAnvil, type LocalNode } from "../../scripts/lib/processes.js";
import { call, gateway, openPolicy, publishLocal, requestId, waitJob } from "../gateway/helpers.js";
import { deployOnAnvil, RELAYER_ACCOUNT, RELAYER_KEY_ENV } from "./chain.js";

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "GBX-3232455";

describe("e2e on anvil (Foundry's node, a separate process)", function () {
  // The story runs in a child `hardhat test` with its own anvil: it starts here and plays while
  // the reorganisations below run on theirs (about 30 s each, on two cores); its test, after
  // them, awaits its result. `--no-compile`: this run has built the contracts already.
  let story: Promise<{ tests: number; passing: number; out: string }>;
  before(function () {
    story = (async () => {
      const source = await readFile("test/e2e/story.test.ts", "utf8");
      const tests = source.match(/^\s+it\(/gm)!.length;
      let passing = 0;
      const out = await runCommand("hardhat", ["test", "--no-compile", "test/e2e/story.test.ts"], {
        env: { E2E_CHAIN: "anvil" },
        onLine: (l) => {
          if (/✔/.test(l)) passing++;
        },
      });
      return { tests, passing, out };
    })();
    story.catch(() => undefined); // reported by the story's test
  });

  describe("a reorganisation", function () {
    let node: LocalNode;
    let partProof: string;

    before(async function () {
      node = await startAnvil();
      partProof = await deployOnAnvil(node.url);
    });

    after(async function () {
      await node?.stop();
    });

    /**
     * One answer through a gateway on the node, its transaction mined, seen mined by the
     * gateway's sender, then its block reorganised away before its 4 confirmations: by `reorg`
     * (given the block's number and the answer's transaction); returns what the test asserts on.
     */
    async function answerThroughAReorg(
      reorg: (first: { hash: string; blockNumber: number; blockHash: string }) => Promise<void>,
    ) {
      const provider = node.provider;
      const owner = devAccount(1).connect(provider) as unknown as Wallet;
      const consumer = devAccount(3).connect(provider) as unknown as Wallet;
      const pp = partProofAt(partProof, owner);
      const domain: Domain = { chainId: 31337n, partProof };
      // blocks every second from now on, so that confirmations come without transactions
      await provider.send("evm_setIntervalMining", [1]);
      process.env[RELAYER_KEY_ENV] = devAccount(RELAYER_ACCOUNT).privateKey;
      // the helper's injected provider and relayer are unused: the config names the node
      const gw = await gateway({} as never, partProof, undefined as never, {
        over: {
          chain: { rpcUrl: node.url, confirmations: 4 },
          relayerKey: { source: "env", name: RELAYER_KEY_ENV },
          sender: {
            stuckAfterMs: 60_000,
            feeBumpPercent: 25,
            maxFeeBumps: 5,
            pollMs: 50,
            confirmTimeoutMs: 300_000,
          },
        },
      });
      try {
        await (await pp.registerAsset(QUALITY, "0x" + "00".repeat(32), gw.url)).wait();
        const assetId = await pp.assetCount();
        const data: UploadData = {
          format: "json",
          rows: Array.from({ length: 10 }, (_, i) => ({
            partNumber: PART,
            plant: "4711",
            productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
            hasBeenReworked: i % 3 === 0,
            numberOfConductedEndOfLineTests: 1,
          })),
        };
        const up = await call(
          gw.url,
          "POST",
          `/assets/${assetId}/uploads`,
          await signUpload(owner, domain, assetId, data),
        );
        expect(up.status, up.text).to.equal(201);
        const pub = await publishLocal(gw, pp, owner, domain, assetId, up.body.version);
        expect(pub.status, pub.text).to.equal(201);
        const now = BigInt((await provider.getBlock("latest"))!.timestamp);
        await (
          await pp.grantAccess(
            assetId,
            consumer.address,
            policyStruct(openPolicy(PART)),
            now - 60n,
            now + 86400n,
            10,
          )
        ).wait();
        const grantId = await pp.grantCount();
        const { keyLo, keyHi } = keyRange({ partNumber: PART });
        const rid = requestId();
        const q = await call(
          gw.url,
          "POST",
          "/queries",
          await signQuery(consumer, domain, {
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
            nonce: 1n,
            deadline: BigInt(Math.floor(Date.now() / 1000) + 900),
          }),
        );
        expect(q.status, q.text).to.equal(202);

        // the answer's transaction is mined and the gateway's sender has seen it so (what it did
        // not see mined it cannot call reorganised: that is counted as dropped, not asserted here)
        const sender = gw.ctx.chain.sender!;
        let first: { hash: string; blockNumber: number; blockHash: string } | undefined;
        while (!first) {
          const entry = (await gw.ctx.store.listOutbox()).find((e) => e.jobId === q.body.jobId);
          const seen = entry?.txHash ? sender.seen(entry.txHash) : undefined;
          if (seen) first = seen;
          else await new Promise((r) => setTimeout(r, 20));
        }
        const sentBefore = sender.stats.sent;
        await provider.send("evm_setIntervalMining", [0]); // hold the head still
        await reorg(first);
        await provider.send("evm_setIntervalMining", [1]);
        expect((await provider.getBlock(first.blockNumber))!.hash).to.not.equal(first.blockHash);

        const job = await waitJob(gw.url, q.body.jobId);
        expect(job.status).to.equal("logged");
        expect(job.answer.resultValue).to.equal("10");
        // logged again, exactly once, on the chain as it is now
        const events = await pp.queryFilter(pp.filters.AnswerRecorded(grantId, undefined, rid), 0);
        expect(events.length).to.equal(1);
        expect(job.logTx).to.deep.equal({
          hash: events[0]!.transactionHash,
          blockNumber: events[0]!.blockNumber,
        });
        expect(events[0]!.blockHash).to.not.equal(first.blockHash);
        expect((await pp.getGrant(grantId)).used).to.equal(1n);
        // the one detection path counted it once, logged it and marked the job's timeline
        expect((await gw.ctx.metrics.reorgs.get()).values).to.deep.equal([
          { value: 1, labels: { label: "recordAnswer" } },
        ]);
        expect(sender.stats.reorged).to.equal(1);
        expect(sender.stats.dropped).to.equal(0);
        const reorgLines = gw.logs.lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((l) => /\(REORGED\)/.test(String(l.msg)));
        expect(reorgLines.length, JSON.stringify(reorgLines)).to.equal(1);
        expect(reorgLines[0]).to.include({ requestId: rid, txHash: first.hash, error: "REORGED" });
        expect(job.timeline?.reorged, JSON.stringify(job.timeline)).to.be.a("number");
        return { first, job, resent: sender.stats.sent - sentBefore };
      } finally {
        await gw.close();
      }
    }

    it("that takes a logged answer's block and transaction away before its confirmations is counted once and ends with the answer sent and logged again, exactly once", async function () {
      const { first, job, resent } = await answerThroughAReorg(async (first) => {
        const head = await node.provider.getBlockNumber();
        await node.provider.send("anvil_reorg", [head - first.blockNumber + 1, []]);
        // anvil forgets the reorganised transactions: the gateway must send the answer again
        expect(await node.provider.getTransaction(first.hash)).to.equal(null);
      });
      expect(resent).to.equal(1);
      expect(job.logTx.blockNumber).to.be.at.least(first.blockNumber);
    });

    it("whose reorganised answer the node mines again in a new block is counted once and not sent again", async function () {
      const { first, job, resent } = await answerThroughAReorg(async (first) => {
        const raw = (await node.provider.send("eth_getRawTransactionByHash", [
          first.hash,
        ])) as string;
        const head = await node.provider.getBlockNumber();
        // the same signed transaction goes into the first of the new blocks
        await node.provider.send("anvil_reorg", [head - first.blockNumber + 1, [[raw, 0]]]);
      });
      expect(resent).to.equal(0);
      expect(job.logTx.hash).to.equal(first.hash);
    });
  });

  describe("the CLI story", function () {
    it("plays the whole CLI story of story.test.ts against anvil", async function () {
      const { tests, passing, out } = await story;
      expect(out).to.match(new RegExp(`\\b${tests} passing`));
      expect(out).to.not.match(/failing/);
      expect(passing).to.equal(tests);
    });
  });
});
