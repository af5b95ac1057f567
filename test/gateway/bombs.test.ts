/**
 * Input bombs: uploads crafted to stall the gateway (a decimal whose exponent never ends, a
 * number with a billion-digit value, a million-digit number, a CSV row of 10^5 cells, JSON
 * nested 10^4 deep). Each must be refused with a 4xx naming the problem while `/health`
 * keeps answering. The gateway runs in this process: a bomb that blocks its event loop also
 * blocks the test, which then fails on mocha's timeout (the harness), never on a timed
 * assertion.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { signUpload, type Domain } from "../../protocol/typed-data.js";
import { deliverySchema, pcfSchema, type UploadData } from "../../protocol/records/index.js";
import { call, deploy, domainOf, gateway } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const PCF = "urn:samm:io.catenax.pcf:10.0.0";
const DELIVERY = "urn:samm:io.catenax.delivery_information:2.0.0";

/** A PCF CSV whose first row carries `cell` as its PCF value. */
function pcfCsv(cell: string): UploadData {
  const header = pcfSchema.columns.map((c) => c.name).join(",");
  return { format: "csv", csv: `${header}\nP-1,BPNL000000000001,2026-07-01,${cell},1.5,50\n` };
}

/** A delivery CSV whose first row carries `cell` as its quantity. */
function deliveryCsv(cell: string): UploadData {
  const header = deliverySchema.columns.map((c) => c.name).join(",");
  return { format: "csv", csv: `${header}\nP-1,BPNS000000000001,2026-07-01,${cell},3\n` };
}

describe("Gateway input bombs", function () {
  // the harness's limit: a bomb that stalls the event loop fails here
  this.timeout(120_000);
  let gw: Awaited<ReturnType<typeof gateway>>;
  let owner: Signer;
  let relayer: Signer;
  let domain: Domain;

  before(async function () {
    const [, o, , , r] = await ethers.getSigners();
    owner = o!;
    relayer = r!;
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    domain = await domainOf(ethers, address);
    // anyone may register an asset: the attacker registers its own and uploads to it
    await pp.connect(owner).registerAsset(PCF, ethers.ZeroHash, "http://gw"); // asset 1
    await pp.connect(owner).registerAsset(DELIVERY, ethers.ZeroHash, "http://gw"); // asset 2
    gw = await gateway(ethers, address, relayer, {
      over: { bodyLimitBytes: 4 * 1024 * 1024 },
    });
  });

  after(async function () {
    await gw?.close();
  });

  /**
   * Sends the bomb and, while it is in flight, polls /health until the bomb is answered;
   * returns the bomb's answer and every /health status seen.
   */
  async function whileHealthy(send: () => Promise<{ status: number; body: any }>) {
    let done = false;
    const bomb = send().finally(() => {
      done = true;
    });
    const health: number[] = [];
    do {
      const h = await fetch(`${gw.url}/health`);
      await h.arrayBuffer();
      health.push(h.status);
    } while (!done);
    return { bomb: await bomb, health };
  }

  async function upload(assetId: bigint, data: UploadData) {
    return call(
      gw.url,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(owner, domain, assetId, data),
    );
  }

  function expectRefused(r: { status: number; body: any }, position: RegExp, reason: RegExp) {
    expect(r.status).to.equal(422);
    expect(r.body.error.code).to.equal("INVALID_RECORDS");
    expect(r.body.error.details).to.have.length(1);
    expect(r.body.error.details[0].position).to.match(position);
    expect(r.body.error.details[0].reason).to.match(reason);
  }

  it("refuses a decimal with a huge negative exponent (0e-99999999999999999999)", async function () {
    const { bomb, health } = await whileHealthy(() =>
      upload(1n, pcfCsv("0e-99999999999999999999")),
    );
    expectRefused(bomb, /^line 2\.pcfExcludingBiogenicUptake$/, /exponent/);
    expect(health).to.not.be.empty;
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses a decimal with a huge positive exponent (1e300000000)", async function () {
    const { bomb, health } = await whileHealthy(() => upload(1n, pcfCsv("1e300000000")));
    expectRefused(bomb, /^line 2\.pcfExcludingBiogenicUptake$/, /exponent/);
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses a number of 10^6 digits in a CSV cell", async function () {
    const { bomb, health } = await whileHealthy(() => upload(2n, deliveryCsv("7".repeat(1e6))));
    // the row is longer than a CSV row may be: refused while reading the CSV
    expectRefused(bomb, /^csv$/, /line 2: a row is longer than/);
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses a decimal of 10^6 digits in a CSV cell", async function () {
    const { bomb, health } = await whileHealthy(() => upload(1n, pcfCsv("1." + "3".repeat(1e6))));
    expectRefused(bomb, /^csv$/, /line 2: a row is longer than/);
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses a CSV of 10^5 columns", async function () {
    const cells = Array.from({ length: 1e5 }, (_, i) => `c${i}`).join(",");
    const { bomb, health } = await whileHealthy(() =>
      upload(1n, { format: "csv", csv: `${cells}\n${cells}\n` }),
    );
    expectRefused(bomb, /^csv$/, /^line 1: (a row is longer than|has 100000 columns)/);
    expect(JSON.stringify(bomb.body).length).to.be.below(1000);
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses JSON nested 10^4 deep with JSON_TOO_DEEP", async function () {
    const depth = 10_000;
    const payload = "[".repeat(depth) + "]".repeat(depth);
    // well-formed otherwise, so that nothing but the nesting can refuse it early
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = "0x" + "11".repeat(65);
    const body = `{"data":{"format":"catenax","payload":${payload}},"timestamp":"${timestamp}","signature":"${signature}"}`;
    const { bomb, health } = await whileHealthy(() =>
      call(gw.url, "POST", "/assets/1/uploads", body),
    );
    expect(bomb.status).to.equal(400);
    expect(bomb.body.error.code).to.equal("JSON_TOO_DEEP");
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses a number of 10^6 digits in JSON rows", async function () {
    // JSON.parse reads the number as Infinity, whose canonical JSON (the signed form) is null
    const row = {
      partNumber: "P-1",
      plant: "BPNS000000000001",
      departureDate: "2026-07-01",
      quantity: null,
      leadTimeDays: 3,
    };
    const signed = await signUpload(owner, domain, 2n, { format: "json", rows: [row] });
    const text = JSON.stringify(signed).replace('"quantity":null', `"quantity":${"7".repeat(1e6)}`);
    const { bomb, health } = await whileHealthy(() =>
      call(gw.url, "POST", "/assets/2/uploads", text),
    );
    expectRefused(bomb, /^rows\[0\]\.quantity$/, /./);
    expect(health.every((x) => x === 200)).to.equal(true);
  });

  it("refuses CSV cells of 1000 digits by their length", async function () {
    const header = deliverySchema.columns.map((c) => c.name).join(",");
    const cell = "9".repeat(1000);
    const { bomb } = await whileHealthy(() =>
      upload(2n, {
        format: "csv",
        csv: `${header}
P-1,BPNS000000000001,2026-07-01,${cell},${cell}
`,
      }),
    );
    expect(bomb.status).to.equal(422);
    expect(bomb.body.error.details.map((d: any) => d.reason)).to.deep.equal([
      "has more than 64 digits",
      "has more than 64 digits",
    ]);
  });

  it("refuses a stray quote inside a CSV cell", async function () {
    const header = pcfSchema.columns.map((c) => c.name).join(",");
    const r = await upload(1n, {
      format: "csv",
      csv: `${header}\nP-1,BPNL0000"00000001,2026-07-01,1.5,1.5,50\n`,
    });
    expect(r.status).to.equal(422);
    expect(r.body.error.code).to.equal("INVALID_RECORDS");
    expect(r.body.error.details[0].position).to.equal("csv");
    expect(r.body.error.details[0].reason).to.match(/quote/);
  });

  it("stops work on an upload that overruns its time budget with WORK_BUDGET_EXCEEDED", async function () {
    // a budget of 1 ms, and 2 MB of data to hash (keccak in JS: tens of ms at the very least)
    const tight = await gateway(ethers, gw.ctx.domain.partProof, relayer, {
      over: { ingest: { workers: 1, budgetMs: 1 }, bodyLimitBytes: 4 * 1024 * 1024 },
    });
    try {
      const big: UploadData = { format: "csv", csv: "x".repeat(2_000_000) };
      const body = JSON.stringify(await signUpload(owner, domain, 1n, big));
      const send = async () => call(tight.url, "POST", "/assets/1/uploads", body);
      for (const r of [await send(), await send()]) {
        expect(r.status).to.equal(422);
        expect(r.body.error.code).to.equal("WORK_BUDGET_EXCEEDED");
        expect(r.body.error.message).to.match(/took longer than 1 ms/);
      }
      expect((await call(tight.url, "GET", "/health")).status).to.equal(200);
      expect(await tight.ctx.store.listVersions("1")).to.have.length(0);
    } finally {
      await tight.close();
    }
  });

  it("still stores an ordinary CSV batch after the bombs", async function () {
    const r = await upload(1n, pcfCsv("2.5e-3"));
    expect(r.status).to.equal(201);
    expect(r.body.version.recordCount).to.equal(1);
  });
});
