/**
 * The start-up checks of startup-checks.ts that startup.test.ts leaves out: the MIN/MAX field
 * against the circuit's main file, a circuit the manifest does not list, and each check of the
 * scan circuit (its verification key, its depth and h). Each stops the start with a message
 * naming the setting.
 */
import { copyFileSync, cpSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { circuitId } from "../../circuits/lib/signals.js";
import { StartupCheckError } from "../../gateway/startup-checks.js";
import { CIRCUIT, deploy, gateway, tempDir } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const SCAN = { name: "scan_d4_c4", h: 1, artifactsDir: "circuits/build/scan_d4_c4" };

describe("Gateway startup checks of the circuits' shape", function () {
  let relayer: Signer;
  let pp: Awaited<ReturnType<typeof deploy>>;

  before(async function () {
    [, relayer] = (await ethers.getSigners()) as Signer[] as [Signer, Signer];
    pp = await deploy(conn);
  });

  /** The StartupCheckError that starting a gateway with `over` throws (fails when it starts). */
  async function startProblems(over: Record<string, unknown>): Promise<string[]> {
    let gw;
    try {
      gw = await gateway(ethers, await pp.getAddress(), relayer, { over });
    } catch (e) {
      expect(e).to.be.instanceOf(StartupCheckError);
      return (e as StartupCheckError).problems;
    }
    await gw.close();
    throw new Error("the gateway started");
  }

  it("starts with the scan circuit as built (the cases below differ from it in one setting)", async function () {
    const gw = await gateway(ethers, await pp.getAddress(), relayer, {
      over: { scanCircuit: SCAN },
    });
    await gw.close();
  });

  it("refuses to start when the configured MIN/MAX field is not the one the circuit computes", async function () {
    expect(await startProblems({ circuit: { ...CIRCUIT, minMaxField: 2 } })).to.deep.equal([
      "config.circuit.minMaxField: 2, but circuit range_d4 computes MIN/MAX on field 3",
    ]);
  });

  it("refuses to start with a registered circuit that circuits/circuits.json does not list (its depth cannot be checked)", async function () {
    // range_d4's artifacts and on-chain verifier under a name the manifest does not know
    const name = "range_unlisted";
    const verifier = (await pp.getCircuit(circuitId(CIRCUIT.name))).verifier;
    await (await pp.registerCircuit(circuitId(name), verifier)).wait();
    const dir = tempDir();
    const from = CIRCUIT.artifactsDir;
    copyFileSync(path.join(from, "range_d4_js", "range_d4.wasm"), path.join(dir, `${name}.wasm`));
    copyFileSync(path.join(from, "range_d4.zkey"), path.join(dir, `${name}.zkey`));
    copyFileSync(path.join(from, "range_d4.vkey.json"), path.join(dir, `${name}.vkey.json`));
    expect(await startProblems({ circuit: { ...CIRCUIT, name, artifactsDir: dir } })).to.deep.equal(
      [
        `config.circuit.name: circuit ${name} is not in circuits/circuits.json, so its depth cannot be checked`,
      ],
    );
  });

  it("refuses to start when the scan circuit's verification key is not its verifier's", async function () {
    const dir = tempDir();
    cpSync(SCAN.artifactsDir, dir, { recursive: true });
    copyFileSync(
      path.join(CIRCUIT.artifactsDir, "range_d4.vkey.json"),
      path.join(dir, "scan_d4_c4.vkey.json"),
    );
    const problems = await startProblems({ scanCircuit: { ...SCAN, artifactsDir: dir } });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(
      /^config\.scanCircuit\.artifactsDir: the verification key .* does not match the verifier registered on-chain for scan_d4_c4/,
    );
  });

  it("refuses to start when the scan circuit is built for another h than configured", async function () {
    expect(await startProblems({ scanCircuit: { ...SCAN, h: 2 } })).to.deep.equal([
      "config.scanCircuit: circuit scan_d4_c4 is built for depth 4 and h = 1, the config says depth 4 and h = 2",
    ]);
  });
});
