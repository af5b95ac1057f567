/**
 * The failures TxSender.wait reports that sender.test.ts leaves out: a transaction mined but
 * reverted (REVERTED: the relayer must not take it for a logged answer or a publication) and
 * one that never gets its confirmations (TIMEOUT: the wait ends instead of polling for ever).
 * Real transactions on the in-process chain, mining held back with evm_setAutomine.
 */
import { expect } from "chai";
import { parseEther, Wallet, type Signer } from "ethers";
import { network } from "hardhat";
import { SendError, TxSender, SENDER_DEFAULTS } from "../../gateway/sender.js";
import { deploy } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

describe("Gateway sender: failed waits", function () {
  let deployer: Signer;
  let pp: Awaited<ReturnType<typeof deploy>>;

  before(async function () {
    [deployer] = (await ethers.getSigners()) as Signer[] as [Signer];
    pp = await deploy(conn);
  });

  /** A funded key of its own and its sender (no re-pricing: these waits test only the outcome). */
  async function sender(confirmTimeoutMs: number) {
    const w = Wallet.createRandom(ethers.provider) as unknown as Wallet;
    await (await deployer.sendTransaction({ to: w.address, value: parseEther("1") })).wait();
    const s = new TxSender(w, ethers.provider, {
      ...SENDER_DEFAULTS,
      pollMs: 25,
      maxFeeBumps: 0,
      confirmTimeoutMs,
    });
    return { wallet: w, sender: s };
  }

  /** Runs `fn` with automatic mining off, and turns it on again. */
  async function withoutAutomine<T>(fn: () => Promise<T>): Promise<T> {
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      return await fn();
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  }

  it("reports REVERTED, with the receipt, for a transaction mined with status 0", async function () {
    const { wallet, sender: s } = await sender(120_000);
    // revokeGrant of a grant that does not exist reverts; a fixed gas limit skips the estimate
    const tx = await pp.connect(wallet).revokeGrant.populateTransaction(999_999n);
    const outcome = await withoutAutomine(async () => {
      const sent = await s.send("revokeGrant", { ...tx, gasLimit: 200_000n });
      await ethers.provider.send("evm_mine", []);
      return s.wait(sent, 1).then(
        () => "confirmed",
        (e: unknown) => e,
      );
    });
    expect(outcome).to.be.instanceOf(SendError);
    const e = outcome as SendError;
    expect(e.code).to.equal("REVERTED");
    expect(e.receipt?.status).to.equal(0);
    expect(await ethers.provider.getTransactionCount(wallet.address, "latest")).to.equal(1);
  });

  it("reports TIMEOUT for a transaction still pending after confirmTimeoutMs", async function () {
    // a sender that never gives up fails here in a minute, not after mocha's 20-minute default
    this.timeout(60_000);
    const { wallet, sender: s } = await sender(300);
    const outcome = await withoutAutomine(async () => {
      const sent = await s.send("transfer", { to: await deployer.getAddress(), value: 1n });
      const result = await s.wait(sent, 1).then(
        () => "confirmed",
        (e: unknown) => e,
      );
      await ethers.provider.send("evm_mine", []); // the transaction is mined after all
      return result;
    });
    expect(outcome).to.be.instanceOf(SendError);
    expect((outcome as SendError).code).to.equal("TIMEOUT");
    expect(await ethers.provider.getTransactionCount(wallet.address, "latest")).to.equal(1);
  });
});
