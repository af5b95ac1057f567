/**
 * Refusals that depend on the data (a cohort below k, a zero denominator, a range wider than a
 * scan window) are answers too: a grant holder who binary-searches `hi` learns per-day counts
 * from them. Nonce, deadline and quota are checked before them; each costs one unit of the
 * grant's quota at this gateway and of its refusal budget, and shows in the auditor's export.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { signQuery, signRead, signUpload } from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import type { QueryMessage } from "../../protocol/typed-data.js";
import { assetWithGrant, openPolicy, call, gateway, publishLocal, requestId } from "./helpers.js";

const conn = await network.create();
const { ethers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "P-ORACLE";
const PLANT = "4711";
/** Records per day, 1st to 6th of July: what k is meant to hide. */
const PER_DAY = [1, 0, 2, 1, 3, 1];

function rows() {
  return PER_DAY.flatMap((n, d) =>
    Array.from({ length: n }, () => ({
      partNumber: PART,
      plant: PLANT,
      productionDate: `2026-07-0${d + 1}`,
      hasBeenReworked: false,
      numberOfConductedEndOfLineTests: 1,
    })),
  );
}

async function setup(over: Record<string, unknown> = {}) {
  const [, owner, consumer, auditor, relayer] = await ethers.getSigners();
  const { pp, address, domain } = await assetWithGrant(
    conn,
    owner!,
    consumer!,
    QUALITY,
    openPolicy(PART),
    20,
  );
  const gw = await gateway(ethers, address, relayer!, {
    over: { auditors: [auditor!.address], ...over },
  });
  const data: UploadData = { format: "json", rows: rows() };
  const up = await call(
    gw.url,
    "POST",
    "/assets/1/uploads",
    await signUpload(owner!, domain, 1n, data),
  );
  const v = up.body.version;
  const pub = await publishLocal(gw, pp, owner!, domain, 1n, v);
  expect(pub.status).to.equal(201);
  let nonce = 1n;
  const query = (to: string, over: Partial<QueryMessage> = {}): QueryMessage => {
    const r = keyRange({ partNumber: PART, plant: PLANT, from: "2026-07-01", to });
    return {
      grantId: 1n,
      assetId: 1n,
      versionId: 0n,
      kind: AggregateKind.Count,
      fieldA: 0,
      fieldB: 0,
      lo: r.keyLo,
      hi: r.keyHi,
      threshold: 0n,
      requestId: requestId(),
      nonce: nonce++,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
      ...over,
    };
  };
  const ask = async (q: QueryMessage) =>
    call(gw.url, "POST", "/queries", await signQuery(consumer!, domain, q));
  return { gw, domain, consumer: consumer!, auditor: auditor!, query, ask };
}

describe("Gateway refusals", function () {
  it("charges each COHORT_BELOW_K probe of a binary search and lists it in the audit export", async function () {
    const env = await setup({ refusalBudgetPerGrant: 3 });
    try {
      // probing `hi` day by day: July 1 (1 record), July 2 (still 1), July 3 (3 records)
      const probes = [];
      for (const to of ["2026-07-01", "2026-07-02"]) probes.push(await env.ask(env.query(to)));
      expect(probes.map((p) => p.body.error?.code)).to.deep.equal([
        "COHORT_BELOW_K",
        "COHORT_BELOW_K",
      ]);
      const third = await env.ask(env.query("2026-07-01"));
      expect(third.body.error.code).to.equal("COHORT_BELOW_K");
      // the budget is spent: the next probe is refused before the data is looked at, so its
      // answer is the same whether its range holds k records or not
      const below = await env.ask(env.query("2026-07-02"));
      const above = await env.ask(env.query("2026-07-06"));
      expect([below.status, above.status]).to.deep.equal([429, 429]);
      expect([below.body.error.code, above.body.error.code]).to.deep.equal([
        "REFUSAL_BUDGET_SPENT",
        "REFUSAL_BUDGET_SPENT",
      ]);
      const exp = await call(
        env.gw.url,
        "GET",
        `/audit/answers?auditor=${env.auditor.address}`,
        undefined,
        await signRead(env.auditor, env.domain, "audit", 0n, env.gw.ctx.gatewayId),
      );
      expect(exp.status).to.equal(200);
      expect(exp.body.refusals).to.have.length(3);
      expect(exp.body.refusals.map((r: any) => r.code)).to.deep.equal([
        "COHORT_BELOW_K",
        "COHORT_BELOW_K",
        "COHORT_BELOW_K",
      ]);
      expect(exp.body.refusals[0]).to.include({ grantId: "1", consumer: env.consumer.address });
      expect(exp.body.refusalsPerGrant).to.deep.equal({ "1": 3 });
    } finally {
      await env.gw.close();
    }
  });

  it("answers a reused nonce with NONCE_REUSED whether or not the range holds k records", async function () {
    const env = await setup();
    try {
      const first = await env.ask(env.query("2026-07-06"));
      expect(first.status).to.equal(202);
      const nonce = 1n; // the first query's
      const small = await env.ask(env.query("2026-07-01", { nonce }));
      const large = await env.ask(env.query("2026-07-06", { nonce }));
      expect([small.status, large.status]).to.deep.equal([409, 409]);
      expect([small.body.error.code, large.body.error.code]).to.deep.equal([
        "NONCE_REUSED",
        "NONCE_REUSED",
      ]);
    } finally {
      await env.gw.close();
    }
  });

  it("counts data-dependent refusals against the grant's quota at this gateway", async function () {
    const env = await setup({ refusalBudgetPerGrant: 100 });
    try {
      const costs: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await env.ask(env.query("2026-07-01"));
        costs.push(r.body.error.code);
      }
      expect(costs.filter((c) => c === "COHORT_BELOW_K")).to.have.length(20);
      const after = await env.ask(env.query("2026-07-06"));
      expect(after.status).to.equal(403);
      expect(after.body.error.code).to.equal("QUOTA_EXCEEDED");
    } finally {
      await env.gw.close();
    }
  });
});
