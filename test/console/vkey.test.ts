/**
 * The console's check that the verification key it ships is the one the chain registered: a
 * circuit's key is matched with the bytecode of the verifier contract the chain holds for it
 * (protocol/vkey.ts), so a key of another circuit, or one with a single coordinate changed,
 * does not pass.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { codeHoldsVkey, vkeyWords } from "../../protocol/vkey.js";
import { circuitId } from "../../circuits/lib/signals.js";
import { circuitPaths } from "../../protocol/manifest.js";
import { deploy } from "../gateway/helpers.js";

const conn = await network.create();

async function vkeyOf(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(circuitPaths(name).vkey, "utf8")) as Record<string, unknown>;
}

describe("Console vkey check", function () {
  it("finds every coordinate of a circuit's key in the verifier the chain registered for it", async function () {
    const pp = await deploy(conn as never);
    const { verifier } = await pp.getCircuit(circuitId("range_d4"));
    const code = await conn.ethers.provider.getCode(verifier);
    const vkey = await vkeyOf("range_d4");
    expect(vkeyWords(vkey)).to.have.length(2 + 4 * 3 + 2 * (vkey.IC as unknown[]).length);
    expect(codeHoldsVkey(code, vkey)).to.equal(true);
  });

  it("refuses another circuit's key and a key with one coordinate changed", async function () {
    const pp = await deploy(conn as never);
    const { verifier } = await pp.getCircuit(circuitId("range_d4"));
    const code = await conn.ethers.provider.getCode(verifier);
    expect(codeHoldsVkey(code, await vkeyOf("scan_d4_c4"))).to.equal(false);
    const forged = await vkeyOf("range_d4");
    const delta = forged.vk_delta_2 as string[][];
    delta[0]![0] = (BigInt(delta[0]![0]!) + 1n).toString();
    expect(codeHoldsVkey(code, forged)).to.equal(false);
  });
});
