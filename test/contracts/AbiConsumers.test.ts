import { expect } from "chai";
import { network } from "hardhat";
import { Interface } from "ethers";
import { PART_PROOF_ABI } from "../../gateway/chain.js";

const { ethers } = await network.create();

describe("PartProof ABI consumers", function () {
  describe("gateway/chain.ts PART_PROOF_ABI", function () {
    it("names only functions, events and errors the compiled PartProof has, with the same signatures", async function () {
      const compiled = (
        await ethers.getContractFactory("PartProof", {
          libraries: { PoseidonT5: ethers.ZeroAddress },
        })
      ).interface;
      const gateway = new Interface(PART_PROOF_ABI);
      const missing: string[] = [];
      gateway.forEachFunction((f) => {
        const c = compiled.getFunction(f.selector);
        const types = (fn: typeof f) => fn.outputs.map((o) => o.format("sighash")).join(",");
        if (!c || types(c) !== types(f) || c.constant !== f.constant) {
          missing.push(f.format("full"));
        }
      });
      gateway.forEachEvent((e) => {
        if (!compiled.getEvent(e.topicHash)) missing.push(e.format("full"));
      });
      gateway.forEachError((e) => {
        if (!compiled.getError(e.selector)) missing.push(e.format("full"));
      });
      expect(missing).to.deep.equal([]);
      expect(gateway.fragments.length).to.be.greaterThan(10);
    });
  });
});
