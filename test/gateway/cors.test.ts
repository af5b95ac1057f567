/**
 * Cross-origin access (issue 17, the browser console): a gateway answers cross-origin requests
 * only from the origins in its config's `corsOrigins`; by default from none.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ConfigError, loadConfig } from "../../gateway/config.js";
import { deploy, gateway, testConfig } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;
const CONSOLE = "http://127.0.0.1:5173";

/** A preflight of a signed read, as a browser sends it from `origin`. */
function preflight(url: string, origin: string) {
  return fetch(`${url}/audit/answers`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-partproof-signature,x-partproof-timestamp",
    },
  });
}

describe("Gateway CORS", function () {
  it("allows no cross-origin access by default", async function () {
    const [, , , , relayer] = await ethers.getSigners();
    const pp = await deploy(conn);
    const gw = await gateway(ethers, await pp.getAddress(), relayer!);
    try {
      expect(loadConfig(testConfig(await pp.getAddress(), gw.dataDir)).corsOrigins).to.deep.equal(
        [],
      );
      const res = await fetch(`${gw.url}/health`, { headers: { origin: CONSOLE } });
      expect(res.status).to.equal(200);
      expect(res.headers.get("access-control-allow-origin")).to.equal(null);
      const pre = await preflight(gw.url, CONSOLE);
      expect(pre.headers.get("access-control-allow-origin")).to.equal(null);
    } finally {
      await gw.close();
    }
  });

  it("allows the configured origin, with the signed-read headers, and no other origin", async function () {
    const [, , , , relayer] = await ethers.getSigners();
    const pp = await deploy(conn);
    const gw = await gateway(ethers, await pp.getAddress(), relayer!, {
      over: { corsOrigins: [CONSOLE] },
    });
    try {
      const res = await fetch(`${gw.url}/health`, { headers: { origin: CONSOLE } });
      expect(res.headers.get("access-control-allow-origin")).to.equal(CONSOLE);
      expect(res.headers.get("access-control-allow-credentials")).to.equal(null);
      const pre = await preflight(gw.url, CONSOLE);
      expect(pre.status).to.equal(204);
      expect(pre.headers.get("access-control-allow-origin")).to.equal(CONSOLE);
      const allowed = pre.headers.get("access-control-allow-headers") ?? "";
      expect(allowed).to.include("x-partproof-signature").and.to.include("content-type");
      expect(pre.headers.get("access-control-allow-methods")).to.equal("GET,POST");

      const other = await fetch(`${gw.url}/health`, { headers: { origin: "http://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).to.equal(null);
      const otherPre = await preflight(gw.url, "http://127.0.0.1:5174");
      expect(otherPre.headers.get("access-control-allow-origin")).to.equal(null);
    } finally {
      await gw.close();
    }
  });

  it("refuses a corsOrigins entry that is not an origin, naming it", function () {
    for (const bad of ["*", "http://127.0.0.1:5173/", "127.0.0.1:5173", "http://x/console"]) {
      let message = "";
      try {
        loadConfig(testConfig("0x" + "12".repeat(20), "/tmp/x", { corsOrigins: [bad] }));
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        message = (e as Error).message;
      }
      expect(message, bad).to.include("corsOrigins").and.to.include("must be an origin");
    }
  });
});
