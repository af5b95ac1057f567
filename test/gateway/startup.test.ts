/**
 * The gateway's startup checks against the chain (gateway/startup-checks.ts): each circuit
 * mismatch stops the start with a message naming the setting; a relayer balance below the floor
 * starts with a warning and the metric.
 */
import { copyFileSync, cpSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { circuitId } from "../../circuits/lib/signals.js";
import { partProofModule } from "../../ignition/modules/PartProof.js";
import { StartupCheckError } from "../../gateway/startup-checks.js";
import { CIRCUIT, deploy, gateway, tempDir } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

/** What starting a gateway with `over` throws (fails the test when it starts). */
async function startError(partProof: string, relayer: Signer, over: Record<string, unknown>) {
  let gw;
  try {
    gw = await gateway(ethers, partProof, relayer, { over });
  } catch (e) {
    return e as Error;
  }
  await gw.close();
  throw new Error("the gateway started");
}

describe("Gateway startup checks", function () {
  let relayer: Signer;
  let address: string;

  before(async function () {
    [, relayer] = (await ethers.getSigners()) as Signer[] as [Signer, Signer];
    address = await (await deploy(conn)).getAddress();
  });

  it("starts when the circuit is registered, active, made from the local key and of the configured depth, and reports the relayer's balance", async function () {
    const gw = await gateway(ethers, address, relayer);
    try {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).to.match(/^partproof_relayer_balance_low 0$/m);
      const balance = await ethers.provider.getBalance(await relayer.getAddress());
      expect(metrics).to.include(`partproof_relayer_balance_wei ${Number(balance)}`);
      expect(gw.logs.lines.filter((l) => l.includes("relayerBalanceFloorWei"))).to.deep.equal([]);
    } finally {
      await gw.close();
    }
  });

  it("refuses to start when the configured circuit is not registered on-chain", async function () {
    // a deployment with no test verifiers registered
    const { partProof } = await conn.ignition.deploy(partProofModule(["production"]), {
      displayUi: false,
    });
    const e = await startError(await partProof.getAddress(), relayer, {});
    expect(e).to.be.instanceOf(StartupCheckError);
    expect(e.message).to.include(
      `config.circuit.name: circuit ${CIRCUIT.name} (id ${circuitId(CIRCUIT.name)}) is not registered`,
    );
  });

  it("refuses to start when the local verification key is not the one the registered verifier was made from", async function () {
    // the range circuit's files, but the scan circuit's verification key
    const dir = tempDir();
    cpSync(CIRCUIT.artifactsDir, dir, { recursive: true });
    copyFileSync(
      "circuits/build/scan_d4_c4/scan_d4_c4.vkey.json",
      path.join(dir, `${CIRCUIT.name}.vkey.json`),
    );
    const e = await startError(address, relayer, { circuit: { ...CIRCUIT, artifactsDir: dir } });
    expect(e).to.be.instanceOf(StartupCheckError);
    expect(e.message).to.match(
      /config\.circuit\.artifactsDir: the verification key .* \(hash 0x[0-9a-f]{64}\) does not match the verifier registered on-chain for range_d4 at 0x[0-9a-fA-F]{40} \(\d+ of \d+ key constants absent\)/,
    );
  });

  it("refuses to start when the configured depth is not the circuit's", async function () {
    const e = await startError(address, relayer, { circuit: { ...CIRCUIT, depth: 5 } });
    expect(e).to.be.instanceOf(StartupCheckError);
    expect(e.message).to.include(
      "config.circuit.depth: 5, but circuit range_d4 is built for depth 4",
    );
  });

  it("starts with a warning and partproof_relayer_balance_low 1 when the relayer holds less than the floor", async function () {
    const gw = await gateway(ethers, address, relayer, {
      over: { relayerBalanceFloorWei: (10n ** 30n).toString() },
    });
    try {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).to.match(/^partproof_relayer_balance_low 1$/m);
      const warned = gw.logs.lines
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.msg.includes("below config.relayerBalanceFloorWei"));
      expect(warned.map((l) => l.level)).to.deep.equal([40]);
      expect(warned[0]!.msg).to.include(await relayer.getAddress());
    } finally {
      await gw.close();
    }
  });

  it("refuses to start when the configured circuit is retired on-chain", async function () {
    const pp = await deploy(conn);
    // fresh deployments share the in-process chain: retire on this file's last deployment only
    await pp.retireCircuit(circuitId(CIRCUIT.name));
    const e = await startError(await pp.getAddress(), relayer, {});
    expect(e).to.be.instanceOf(StartupCheckError);
    expect(e.message).to.include(
      `config.circuit.name: circuit ${CIRCUIT.name} is retired on-chain`,
    );
  });
});
