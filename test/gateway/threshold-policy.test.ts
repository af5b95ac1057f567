/**
 * The gateway's side of "thresholds from the policy" (issue 11): a THRESHOLD query at a
 * threshold the grant does not list is refused with POLICY_VIOLATION in `allowedByPolicy`,
 * before the version, the nonce or the data are looked at (it writes nothing). The circuit
 * enforces the same (test/circuits/threshold_policy.test.ts).
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import type { UploadData } from "../../protocol/records/index.js";
import { signQuery, signUpload, type QueryMessage } from "../../protocol/typed-data.js";
import {
  assetWithGrant,
  call,
  gateway,
  openPolicy,
  publishLocal,
  requestId,
  storeSnapshot,
  waitJob,
} from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "RFS-100";

/** Eight quality rows, three of them reworked: rework ratio 375,000 PPM. */
const DATA: UploadData = {
  format: "json",
  rows: Array.from({ length: 8 }, (_, i) => ({
    partNumber: PART,
    plant: "0815",
    productionDate: `2026-08-${String(i + 1).padStart(2, "0")}`,
    hasBeenReworked: i % 3 === 0,
    numberOfConductedEndOfLineTests: 1,
  })),
};

/** THRESHOLD allowed at 400,000 PPM only. */
const POLICY: Policy = { ...openPolicy(PART), thresholds: [400_000n] };

describe("Gateway: THRESHOLD thresholds from the grant's policy", function () {
  this.timeout(600_000);
  let gw: Awaited<ReturnType<typeof gateway>>;
  let env: Awaited<ReturnType<typeof assetWithGrant>>;
  let consumer: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let nonce = 1n;

  const query = (threshold: bigint): QueryMessage => ({
    grantId: 1n,
    assetId: 1n,
    versionId: 0n,
    kind: AggregateKind.ThresholdPpm,
    fieldA: 1, // reworked
    fieldB: 0, // quantity (1 per row)
    lo: POLICY.keyLo,
    hi: POLICY.keyHi,
    threshold,
    requestId: requestId(),
    nonce: nonce++,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  });

  before(async function () {
    const [, owner, c, relayer] = await ethers.getSigners();
    consumer = c!;
    env = await assetWithGrant(conn, owner!, consumer, QUALITY, POLICY);
    gw = await gateway(ethers, env.address, relayer!);
    const up = await call(
      gw.url,
      "POST",
      "/assets/1/uploads",
      await signUpload(owner!, env.domain, 1n, DATA),
    );
    expect(up.status, up.text).to.equal(201);
    const pub = await publishLocal(gw, env.pp, owner!, env.domain, 1n, up.body.version);
    expect(pub.status, pub.text).to.equal(201);
  });

  after(async function () {
    await gw?.close();
  });

  it("refuses the binary search on thresholds at its first probe, writing nothing", async function () {
    // the attack: halve [0, 2^20) by asking "ratio <= mid?"; ~20 answers give the exact ratio
    let low = 0n;
    let high = (1n << 20n) - 1n;
    let answered = 0;
    let refusal: { status: number; code?: string; message?: string } | undefined;
    while (low < high) {
      const mid = (low + high) / 2n;
      const before = await storeSnapshot(gw.ctx.store);
      const r = await call(
        gw.url,
        "POST",
        "/queries",
        await signQuery(consumer, env.domain, query(mid)),
      );
      if (r.status !== 202) {
        refusal = { status: r.status, code: r.body?.error?.code, message: r.body?.error?.message };
        expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(before);
        break;
      }
      const job = await waitJob(gw.url, r.body.jobId);
      answered++;
      if (job.answer.resultValue === "1") high = mid;
      else low = mid + 1n;
    }
    expect(answered, `the search narrowed the ratio to [${low}, ${high}]`).to.equal(0);
    expect(refusal).to.deep.equal({
      status: 403,
      code: "POLICY_VIOLATION",
      message: "the grant does not allow threshold 524287 (allowed: 400000)",
    });
  });

  it("answers a THRESHOLD at the grant's threshold with its one bit", async function () {
    const r = await call(
      gw.url,
      "POST",
      "/queries",
      await signQuery(consumer, env.domain, query(400_000n)),
    );
    expect(r.status, r.text).to.equal(202);
    const job = await waitJob(gw.url, r.body.jobId);
    expect(job.status).to.equal("logged");
    expect(job.answer).to.deep.include({ resultValue: "1", resultAux: "0" }); // 375,000 <= 400,000
  });
});
