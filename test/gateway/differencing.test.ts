/**
 * Differencing: answers whose record sets, added and subtracted, leave fewer than k records
 * (issue 11). Each attack below was first run against the gateway without the guard and was
 * answered (202); with the guard, the query that would isolate fewer than k records is refused
 * with DIFFERENCING_RISK (charged like COHORT_BELOW_K and listed in the audit export), while
 * queries that reveal nothing new (SUM then AVG of one range) and honest queries are answered.
 *
 * A real gateway on port 0 with a real LevelDB against the in-process chain. The queries are
 * accepted (202) or refused; the tests do not wait for proofs.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, type Signer } from "ethers";
import { AggregateKind, cohortMapBits, type Policy } from "../../circuits/lib/signals.js";
import { PredicateOp } from "../../circuits/lib/query.js";
import { versionIdOf } from "../../gateway/chain.js";
import { DATA_DEPENDENT_REFUSALS } from "../../protocol/api.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  packPredicates,
  signQuery,
  signRead,
  signUpload,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import {
  call,
  deploy,
  domainOf,
  gateway,
  openPolicy,
  policyTuple,
  publishLocal,
  queryMessage,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "P-DIFF";
const PLANT = "4711";
/** Records per day, July 1st to 8th (13 records; the test circuit holds at most 14). */
const PER_DAY = [0, 3, 1, 4, 0, 0, 2, 3];
/** End-of-line tests of the records of July 2nd (what the predicate attack tells apart). */
const JULY_2_TESTS = [2, 3, 3];

function rows(extra = 0) {
  const out = PER_DAY.flatMap((n, d) =>
    Array.from({ length: n }, (_, i) => ({
      partNumber: PART,
      plant: PLANT,
      productionDate: `2026-07-0${d + 1}`,
      hasBeenReworked: false,
      numberOfConductedEndOfLineTests: d === 1 ? JULY_2_TESTS[i]! : 1 + i,
    })),
  );
  for (let i = 0; i < extra; i++) {
    out.push({
      partNumber: PART,
      plant: PLANT,
      productionDate: "2026-07-04",
      hasBeenReworked: true,
      numberOfConductedEndOfLineTests: 9,
    });
  }
  return out;
}

/** The key range of July `from`..`to` (day numbers of the month). */
function days(from: number, to: number) {
  const r = keyRange({
    partNumber: PART,
    plant: PLANT,
    from: `2026-07-0${from}`,
    to: `2026-07-0${to}`,
  });
  return { lo: r.keyLo, hi: r.keyHi };
}

/** The deployment and the one gateway every test uses (each test on an asset of its own). */
interface Shared {
  gw: Awaited<ReturnType<typeof gateway>>;
  pp: any;
  owner: Signer;
  auditor: Signer;
  domain: Awaited<ReturnType<typeof domainOf>>;
}
let shared: Shared;
let nonce = 1n;

interface Env {
  assetId: bigint;
  consumers: Signer[];
  /** The grant ids of `consumers`, in order. */
  grants: bigint[];
  ask(who: Signer, grantId: bigint, over: Partial<QueryMessage>): Promise<any>;
  grant(consumer: Signer, policy?: Policy): Promise<bigint>;
  publish(data: UploadData): Promise<void>;
}

/**
 * A fresh asset (quality) owned by the shared owner, its data uploaded and published, and one
 * grant per consumer (signers `from`, `from + 1`, …) under `policy` (k = 3 by default).
 */
async function setup(
  opts: { consumers?: number; from?: number; policy?: Policy; data?: UploadData } = {},
): Promise<Env> {
  const { gw, pp, owner, domain } = shared;
  const signers = await ethers.getSigners();
  const from = opts.from ?? 5;
  const consumers = signers.slice(from, from + (opts.consumers ?? 1));
  await (pp.connect(owner) as any).registerAsset(QUALITY, ZeroHash, "http://gw");
  const assetId = (await pp.assetCount()) as bigint;
  const policy = opts.policy ?? openPolicy(PART, 3);
  const grant = async (consumer: Signer, p = policy) => {
    const now = BigInt(await networkHelpers.time.latest());
    await (pp.connect(owner) as any).grantAccess(
      assetId,
      await consumer.getAddress(),
      policyTuple(p),
      now,
      now + 86400n,
      20,
    );
    return (await pp.grantCount()) as bigint;
  };
  const grants: bigint[] = [];
  for (const c of consumers) grants.push(await grant(c));
  const publish = async (data: UploadData) => {
    const up = await call(
      gw.url,
      "POST",
      `/assets/${assetId}/uploads`,
      await signUpload(owner, domain, assetId, data),
    );
    expect(up.status).to.equal(201);
    const pub = await publishLocal(gw, pp, owner, domain, assetId, up.body.version);
    expect(pub.status).to.equal(201);
  };
  await publish(opts.data ?? { format: "json", rows: rows() });
  const ask = async (who: Signer, grantId: bigint, over: Partial<QueryMessage>) => {
    const q = queryMessage({ grantId, assetId, ...days(1, 8), nonce: nonce++, ...over });
    return call(gw.url, "POST", "/queries", await signQuery(who, domain, q));
  };
  return { assetId, consumers, grants, ask, grant, publish };
}

/** The codes (or 202) of a sequence of answers. */
function outcomes(rs: { status: number; body: any }[]): string[] {
  return rs.map((r) => (r.status === 202 ? "202" : `${r.status} ${r.body.error.code}`));
}

const REFUSED = "422 DIFFERENCING_RISK";

describe("Gateway differencing guard", function () {
  before(async function () {
    const signers = await ethers.getSigners();
    const [owner, auditor, relayer] = [signers[1]!, signers[3]!, signers[4]!];
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    const gw = await gateway(ethers, address, relayer, {
      over: {
        auditors: [await auditor.getAddress()],
        scanCircuit: { name: "scan_d4_c4", h: 1, artifactsDir: "circuits/build/scan_d4_c4" },
      },
    });
    shared = { gw, pp, owner, auditor, domain: await domainOf(ethers, address) };
  });

  after(async function () {
    await shared?.gw.close();
  });

  it("answers SUM then AVG of the same range (the same record set: no new atom)", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    const rs = [
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Sum, fieldA: 3, ...days(2, 8) }),
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Avg, fieldA: 3, ...days(2, 8) }),
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Count, ...days(1, 8) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", "202", "202"]);
  });

  it("refuses a nested range that differs by fewer than k records", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    // July 3-4 holds 5 records, July 4 holds 4: their difference is the one record of July 3
    const rs = [
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Sum, fieldA: 3, ...days(3, 4) }),
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Sum, fieldA: 3, ...days(4, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
  });

  it("refuses [lo, hi] then [lo + 1 day, hi + 2 empty days] (counted in records, not keys)", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    const rs = [
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Sum, fieldA: 3, ...days(3, 4) }),
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Avg, fieldA: 3, ...days(4, 6) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
  });

  it("refuses the third of three ranges that isolate one record although no two do", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    // A = July 2 (3 records), B = July 3 (1), C = July 4 (4): A+B+C, A+B, then B+C gives
    // (A+B) + (B+C) − (A+B+C) = B; every pairwise set difference holds at least k = 3
    const rs = [
      await env.ask(c, env.grants[0]!, { ...days(2, 4) }),
      await env.ask(c, env.grants[0]!, { ...days(2, 3) }),
      await env.ask(c, env.grants[0]!, { ...days(3, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", "202", REFUSED]);
  });

  it("refuses shifted predicates whose matching sets differ by fewer than k records", async function () {
    const policy: Policy = { ...openPolicy(PART, 2), filterMask: 0b1000 };
    const env = await setup({ policy });
    const c = env.consumers[0]!;
    // July 2 (one scan window): tests >= 2 matches 3 records, tests >= 3 matches 2 (k = 2)
    const ge = (value: bigint) => packPredicates([{ field: 3, op: PredicateOp.Ge, value }]);
    const rs = [
      await env.ask(c, env.grants[0]!, { predicates: ge(2n), ...days(2, 2) }),
      await env.ask(c, env.grants[0]!, { predicates: ge(3n), ...days(2, 2) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
  });

  it("refuses two ranges that differ by k records of which one is selected by a filtered field", async function () {
    // field 0 defined over the records with field 1 = 1 (a cohort map, as an indicator schema's
    // filtered field: 0 outside its selection); the records of July 2 and one of July 4 selected
    const policy: Policy = { ...openPolicy(PART, 3), fieldMask: 0b1111 | cohortMapBits([1]) };
    let july4 = 0;
    const data = rows().map((r) => {
      const selected =
        r.productionDate === "2026-07-02" || (r.productionDate === "2026-07-04" && july4++ === 0);
      return { ...r, hasBeenReworked: selected };
    });
    const env = await setup({ policy, data: { format: "json", rows: data } });
    const c = env.consumers[0]!;
    // July 2-3: 4 records, 3 selected; July 2-4: 8 records, 4 selected. In records of the range
    // they differ by July 4's 4 (>= k = 3), but field 0's sums differ by one selected record's
    const sum = { kind: AggregateKind.Sum, fieldA: 0 };
    const rs = [
      await env.ask(c, env.grants[0]!, { ...sum, ...days(2, 3) }),
      await env.ask(c, env.grants[0]!, { ...sum, ...days(2, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
    // a COUNT reads no filtered field: its sets are compared with the range family only
    const count = await env.ask(c, env.grants[0]!, { kind: AggregateKind.Count, ...days(2, 4) });
    expect(outcomes([count])).to.deep.equal(["202"]);
  });

  it("refuses the same range on a later version that added one record", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    // an upload adds to the data set: the new version is the first one's records + this one
    await env.publish({ format: "json", rows: rows(1).slice(-1) });
    const rs = [
      await env.ask(c, env.grants[0]!, { versionId: versionIdOf(env.assetId, 1), ...days(2, 4) }),
      await env.ask(c, env.grants[0]!, { versionId: versionIdOf(env.assetId, 2), ...days(2, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
  });

  it("refuses a query under a second grant of the same consumer", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    const second = await env.grant(c);
    const rs = [
      await env.ask(c, env.grants[0]!, { ...days(3, 4) }),
      await env.ask(c, second, { ...days(4, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED]);
  });

  it("refuses two addresses the chain links (an asset handed from one to the other, who took it up)", async function () {
    // signers nobody else in this file uses: the link made here stays on the chain
    const env = await setup({ consumers: 3, from: 8 });
    const [a, b, stranger] = env.consumers as [Signer, Signer, Signer];
    // a registers an asset of its own and transfers it to b: the chain links a and b
    const pp = shared.pp;
    await (pp.connect(a) as any).registerAsset(QUALITY, ZeroHash, "http://a");
    const handed = await pp.assetCount();
    await (pp.connect(a) as any).transferAssetOwnership(handed, await b.getAddress());
    await (pp.connect(b) as any).updateEndpoint(handed, "http://b"); // b acts as its owner
    // a hands an asset to the stranger too, who never acts on it: a one-sided transfer links
    // nobody (else anyone could merge their answers with a stranger's)
    await (pp.connect(a) as any).registerAsset(QUALITY, ZeroHash, "http://a");
    await (pp.connect(a) as any).transferAssetOwnership(
      await pp.assetCount(),
      await stranger.getAddress(),
    );
    const rs = [
      await env.ask(a, env.grants[0]!, { ...days(3, 4) }),
      await env.ask(b, env.grants[1]!, { ...days(4, 4) }),
      // an address the chain does not link keeps its own state (what remains possible:
      // collusion between unrelated grant holders, README "What an answer reveals")
      await env.ask(stranger, env.grants[2]!, { ...days(4, 4) }),
    ];
    expect(outcomes(rs)).to.deep.equal(["202", REFUSED, "202"]);
  });

  it("answers honest queries: disjoint ranges, a covering range, and large differences", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    const rs = [
      await env.ask(c, env.grants[0]!, { ...days(2, 3) }), // 4 records
      await env.ask(c, env.grants[0]!, { ...days(7, 8) }), // 5 records, disjoint
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Sum, fieldA: 3, ...days(1, 8) }), // adds July 4 (4)
      await env.ask(c, env.grants[0]!, { ...days(1, 4) }), // whole atoms only
      await env.ask(c, env.grants[0]!, { kind: AggregateKind.Avg, fieldA: 3, ...days(2, 8) }), // same set as all
    ];
    expect(outcomes(rs)).to.deep.equal(["202", "202", "202", "202", "202"]);
  });

  it("charges a differencing refusal to the grant and lists it in the audit export", async function () {
    const env = await setup();
    const c = env.consumers[0]!;
    expect((await env.ask(c, env.grants[0]!, { ...days(3, 4) })).status).to.equal(202);
    const refused = await env.ask(c, env.grants[0]!, { ...days(4, 4), nonce: 7_777_777n });
    expect(refused.body.error.code).to.equal("DIFFERENCING_RISK");
    // its nonce is used: the same nonce again is refused before the data is looked at
    const again = await env.ask(c, env.grants[0]!, { ...days(2, 8), nonce: 7_777_777n });
    expect(again.body.error.code).to.equal("NONCE_REUSED");
    const grantId = env.grants[0]!.toString();
    expect(await shared.gw.ctx.store.refusalCount(grantId)).to.equal(1);
    const { gw, auditor, domain } = shared;
    const exp = await call(
      gw.url,
      "GET",
      `/audit/answers?auditor=${await auditor.getAddress()}`,
      undefined,
      await signRead(auditor, domain, "audit", 0n, gw.ctx.gatewayId),
    );
    expect(exp.status).to.equal(200);
    const mine = exp.body.refusals.filter((r: any) => r.grantId === grantId);
    expect(mine.map((r: any) => r.code)).to.deep.equal(["DIFFERENCING_RISK"]);
    expect(DATA_DEPENDENT_REFUSALS).to.include("DIFFERENCING_RISK");
    expect(exp.body.refusalsPerGrant[grantId]).to.equal(1);
  });
});
