/**
 * Both directions of the supply chain through the `partproof` CLI, on Hardhat's in-process chain
 * with real gateways (port 0, LevelDB in temp folders) and the real range_d4 verifier.
 *
 * Reverse: the automaker registers a field-claims asset, publishes claims through its own
 * gateway and grants the supplier access to the supplier's own part number only; the supplier's
 * CLI (`consumer …`) asks claims per month, the share marked causal and replaced parts per 10^6
 * delivered (joined with its own delivery asset, under a grant to itself), and verifies every
 * answer exactly as an automaker does; a question about another supplier's part is refused.
 * Forward: the supplier publishes stock, the demand it received and a capacity group; the
 * automaker asks stock coverage in weeks and the share of a quarter's weeks whose capacity covers
 * demand. Every answer is compared with plain TypeScript over the generated records.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { runCli } from "../../cli/partproof.js";
import { openSession, type Session } from "../../cli/session.js";
import { dayNumber } from "../../protocol/records/keys.js";
import { DemoRandom } from "../../scripts/lib/demo-data.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { deploy, gateway } from "../gateway/helpers.js";

const OWN_PART = "GBX-3232455";
/** A part another supplier makes: the supplier's grant does not cover it. */
const OTHER_PART = "BRK-7712003";
const SITE = "BPNS000000000AUT";
const SUPPLIER_BPNL = "BPNL00000000GEAR";
const MATERIAL = "urn:uuid:48878d48-6f1d-47f5-8ded-a441d0d879df";
const GROUP = "0157ba42-d2a8-4e28-8565-7b07830c1110";
const K = 2;

interface ClaimRow {
  partNumber: string;
  plant: string;
  repairDate: string;
  isPartCausal: boolean;
  replacedParts: number;
  monthInService: number;
}
interface DeliveryRow {
  partNumber: string;
  plant: string;
  departureDate: string;
  quantity: number;
  leadTimeDays: number;
}
interface StockRow {
  partNumber: string;
  plant: string;
  stockDate: string;
  quantity: number;
  direction: "INBOUND" | "OUTBOUND";
  isBlocked: boolean;
}
interface DemandRow {
  partNumber: string;
  plant: string;
  week: string;
  demand: number;
  inactive: boolean;
}
interface CapacityRow {
  partNumber: string;
  plant: string;
  week: string;
  actualCapacity: number;
  maximumCapacity: number;
  demand: number | null;
}

const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const inWindow = (d: string, from: string, to: string) => d >= from && d <= to;
const sum = <T>(rows: T[], f: (r: T) => number) => rows.reduce((s, r) => s + BigInt(f(r)), 0n);
/** ⌊num · 10^d / den⌋ with d decimals, as the CLI prints it. */
const fixed = (num: bigint, den: bigint, d: number) => {
  const q = ((num * 10n ** BigInt(d)) / den).toString().padStart(d + 1, "0");
  return d === 0 ? q : `${q.slice(0, -d)}.${q.slice(-d)}`;
};

/** Claims of the supplier's part in July (6) and August (5), two countries; three of another part. */
function claimRows(rnd: DemoRandom): ClaimRow[] {
  const claim = (partNumber: string, repairDate: string): ClaimRow => {
    const replaced = rnd.next() < 0.7;
    return {
      partNumber,
      plant: rnd.next() < 0.5 ? "DEU" : "FRA",
      repairDate,
      isPartCausal: rnd.next() < 0.5,
      replacedParts: replaced ? rnd.int(1, 2) : 0,
      monthInService: rnd.int(1, 30),
    };
  };
  const rows = [
    ...Array.from({ length: 6 }, (_, i) => claim(OWN_PART, addDays("2026-07-02", i * 5))),
    ...Array.from({ length: 5 }, (_, i) => claim(OWN_PART, addDays("2026-08-03", i * 6))),
    ...Array.from({ length: 3 }, (_, i) => claim(OTHER_PART, addDays("2026-07-10", i * 9))),
  ];
  // both flags must occur, so that the shares below are neither 0 nor 100 %
  rows[0]!.isPartCausal = true;
  rows[1]!.isPartCausal = false;
  return rows;
}

describe("e2e: claims, stock, demand and capacity in both directions through the CLI", function () {
  const automaker = devAccount(3);
  const supplier = devAccount(1);
  let gws: Awaited<ReturnType<typeof gateway>>[] = [];
  let autoS: Session;
  let supS: Session;
  let work: string;
  let claims: ClaimRow[];
  let deliveries: DeliveryRow[];
  let stock: StockRow[];
  let demand: DemandRow[];
  let capacity: CapacityRow[];
  const assets: Record<string, string> = {};
  const grants: Record<string, string> = {};

  const cli = (who: "automaker" | "supplier", ...argv: string[]) =>
    cliAt(who, who === "automaker" ? autoS : supS, ...argv);
  /** The CLI with `who`'s key and `session`'s gateway (as `--gateway URL` would give it). */
  async function cliAt(who: "automaker" | "supplier", session: Session, ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = who === "automaker" ? "CLAIMS_AUTOMAKER_KEY" : "CLAIMS_SUPPLIER_KEY";
    const code = await runCli(
      ["--json", "--key-env", env, ...argv],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      { session },
    );
    return { code, err: err.join("\n"), json: () => JSON.parse(out.join("\n")) };
  }

  /** `publisher register` + `upload` + `grant` by `who` on its own gateway. */
  async function publish(
    who: "automaker" | "supplier",
    name: string,
    schema: string,
    rows: unknown[],
    grantee: string,
    policy: string[],
  ) {
    const url = (who === "automaker" ? autoS : supS).gatewayUrl!;
    const reg = await cli(who, "publisher", "register", "--schema", schema, "--endpoint", url);
    expect(reg.code, reg.err).to.equal(0);
    const assetId = String(reg.json().assetId);
    const file = path.join(work, `${name}.json`);
    await writeFile(file, JSON.stringify(rows));
    const up = await cli(who, "publisher", "upload", assetId, file);
    expect(up.code, up.err).to.equal(0);
    expect(up.json().version.recordCount).to.equal(rows.length);
    const g = await cli(who, "publisher", "grant", assetId, grantee, ...policy);
    expect(g.code, g.err).to.equal(0);
    assets[name] = assetId;
    grants[name] = String(g.json().grantId);
  }
  const terms = ["--k", String(K), "--quota", "20", "--valid-until", "30d"];

  before(async function () {
    const conn = await network.create();
    const { ethers } = conn;
    process.env.CLAIMS_AUTOMAKER_KEY = automaker.privateKey;
    process.env.CLAIMS_SUPPLIER_KEY = supplier.privateKey;
    const partProof = await deploy(conn as never);
    const signers = await ethers.getSigners();
    // the automaker's own gateway and the supplier's, each with its own relayer account
    for (const r of [5, 7]) {
      gws.push(await gateway(ethers, await partProof.getAddress(), signers[r]!));
    }
    const deployment = {
      chainId: 31337,
      partProof: await partProof.getAddress(),
      deploymentBlock: 0,
      verifiers: {},
    };
    const sessions = await Promise.all(
      gws.map((gw) => openSession({ provider: ethers.provider, deployment, gatewayUrl: gw.url })),
    );
    autoS = sessions[0]!;
    supS = sessions[1]!;
    work = await mkdtemp(path.join(tmpdir(), "partproof-claims-"));
    process.env.PARTPROOF_DATA_DIR = path.join(work, "data");
    const rnd = new DemoRandom("claims-e2e");
    claims = claimRows(rnd);
    deliveries = Array.from({ length: 7 }, (_, i) => ({
      partNumber: OWN_PART,
      plant: SITE,
      departureDate: addDays("2026-06-25", i * 10),
      quantity: rnd.int(2_000, 9_000),
      leadTimeDays: rnd.int(1, 6),
    }));
    // stock: two snapshot days; on the later one two outbound sites, one inbound, one blocked
    stock = [
      ["2026-09-21", "BPNS0000000000S1", "OUTBOUND", false],
      ["2026-09-21", "BPNS0000000000S2", "OUTBOUND", false],
      ["2026-09-28", "BPNS0000000000S1", "OUTBOUND", false],
      ["2026-09-28", "BPNS0000000000S2", "OUTBOUND", true],
      ["2026-09-28", "BPNS0000000000S3", "INBOUND", false],
    ].map(([stockDate, plant, direction, isBlocked]) => ({
      partNumber: MATERIAL,
      plant: plant as string,
      stockDate: stockDate as string,
      quantity: rnd.int(500, 3_000),
      direction: direction as "INBOUND" | "OUTBOUND",
      isBlocked: isBlocked as boolean,
    }));
    // demand received from the automaker: nine Mondays at its site, two inactive extra entries
    demand = [
      ...Array.from({ length: 9 }, (_, i) => ({
        partNumber: MATERIAL,
        plant: SITE,
        week: addDays("2026-08-03", i * 7),
        demand: rnd.int(800, 1_600),
        inactive: false,
      })),
      ...["2026-08-10", "2026-09-07"].map((week) => ({
        partNumber: MATERIAL,
        plant: "BPNS000000000AU2",
        week,
        demand: rnd.int(100, 400),
        inactive: true,
      })),
    ];
    // capacity: the 13 Mondays of Q3 2026, the linked demand known for 11 of them
    capacity = Array.from({ length: 13 }, (_, i) => ({
      partNumber: GROUP,
      plant: SUPPLIER_BPNL,
      week: addDays("2026-07-06", i * 7),
      actualCapacity: rnd.int(900, 1_100),
      maximumCapacity: 2_000,
      demand: i === 4 || i === 9 ? null : rnd.int(850, 1_150),
    }));
    expect(dayNumber("2026-07-06") % 7).to.equal(4); // a Monday

    // reverse: the automaker publishes claims and grants the supplier its own part only
    await publish("automaker", "claims", "claims-by-day", claims, supplier.address, [
      "--aggregates",
      "count,sum,ratio",
      "--fields",
      "claims,causal,replacedParts",
      "--part",
      OWN_PART,
      ...terms,
    ]);
    // the supplier's own deliveries, under a grant to itself (its proven delivery count)
    await publish("supplier", "delivery", "delivery-by-day", deliveries, supplier.address, [
      "--aggregates",
      "sum",
      "--fields",
      "quantity",
      "--part",
      OWN_PART,
      ...terms,
    ]);
    // forward: the supplier publishes stock, received demand and capacity for the automaker
    const forward = (fields: string, part: string, aggregates = "sum") => [
      "--aggregates",
      aggregates,
      "--fields",
      fields,
      "--part",
      part,
      ...terms,
    ];
    await publish(
      "supplier",
      "stock",
      "stock-by-day",
      stock,
      automaker.address,
      forward("outboundQuantity", MATERIAL),
    );
    await publish(
      "supplier",
      "demand",
      "demand-by-day",
      demand,
      automaker.address,
      forward("activeDemand", MATERIAL),
    );
    await publish(
      "supplier",
      "capacity",
      "capacity",
      capacity,
      automaker.address,
      forward("demandKnown,covered", GROUP, "ratio"),
    );
  });

  after(async function () {
    for (const gw of gws) await gw.close();
    gws = [];
    delete process.env.PARTPROOF_DATA_DIR;
    if (work) await rm(work, { recursive: true, force: true });
  });

  const everyCheck = (parts: any[]) =>
    parts.every((p) => Object.values(p.check).every((v) => v === true));
  /** `consumer ask QUESTION --grant NAME=ID … --part P --from F --to T …`. */
  const ask = (
    who: "automaker" | "supplier",
    question: string,
    grantSpecs: string[],
    part: string,
    from: string,
    to: string,
    ...extra: string[]
  ) =>
    cli(
      who,
      "consumer",
      "ask",
      question,
      ...grantSpecs.flatMap((g) => ["--grant", g]),
      "--part",
      part,
      "--from",
      from,
      "--to",
      to,
      ...extra,
    );
  /** The supplier's `consumer query` of SUM(field) on the claims asset (the automaker's gateway). */
  const claimsSum = (field: string, part: string, ...window: string[]) =>
    cliAt(
      "supplier",
      autoS,
      "consumer",
      "query",
      "--asset",
      assets.claims!,
      "--grant",
      grants.claims!,
      "--aggregate",
      "sum",
      "--field",
      field,
      "--part",
      part,
      ...window,
    );

  it("the supplier asks claims of its part per month; each month proved, verified, equal to plain TypeScript", async function () {
    const r = await ask(
      "supplier",
      "claims-per-month",
      [`claims=${grants.claims}`],
      OWN_PART,
      "2026-07-01",
      "2026-08-31",
    );
    expect(r.code, r.err).to.equal(0);
    const points = r.json().points as any[];
    expect(points.map((p) => p.period.label)).to.deep.equal(["2026-07", "2026-08"]);
    for (const [i, month] of ["2026-07", "2026-08"].entries()) {
      const n = claims.filter((c) => c.partNumber === OWN_PART && c.repairDate.startsWith(month));
      expect(points[i].value, month).to.equal(String(n.length));
      expect(points[i].parts[0].gatewayUrl).to.equal(autoS.gatewayUrl);
      expect(everyCheck(points[i].parts)).to.equal(true);
    }
  });

  it("the supplier asks the share marked causal, and verifies it later as an automaker does", async function () {
    const from = "2026-07-01";
    const to = "2026-08-31";
    const sel = claims.filter((c) => c.partNumber === OWN_PART && inWindow(c.repairDate, from, to));
    const causal = BigInt(sel.filter((c) => c.isPartCausal).length);
    const r = await ask(
      "supplier",
      "causal-share",
      [`claims=${grants.claims}`],
      OWN_PART,
      from,
      to,
    );
    expect(r.code, r.err).to.equal(0);
    const [p] = r.json().points as any[];
    const ppm = (1_000_000n * causal) / BigInt(sel.length);
    expect(p.parts[0].value).to.equal(String(ppm));
    expect(p.value).to.equal(fixed(ppm, 10_000n, 2));
    // the same question through `consumer query`, and `consumer verify` of its job
    const q = await claimsSum("causal", OWN_PART, "--from", from, "--to", to);
    expect(q.code, q.err).to.equal(0);
    expect(q.json().job.answer).to.deep.include({
      resultValue: String(causal),
      resultAux: String(sel.length),
    });
    const v = await cliAt("supplier", autoS, "consumer", "verify", q.json().job.jobId);
    expect(v.code, v.err).to.equal(0);
    // every check passes; whether the version is attested on-chain is shown beside them
    const { attestation, ...checks } = v.json();
    expect(Object.values(checks).every((x) => x === true)).to.equal(true);
    expect(attestation).to.include({ attested: false });
  });

  it("replaced parts per 10^6 delivered: the automaker's claim count and the supplier's own delivery count, two proven answers", async function () {
    const from = "2026-07-01";
    const to = "2026-08-31";
    const replaced = sum(
      claims.filter((c) => c.partNumber === OWN_PART && inWindow(c.repairDate, from, to)),
      (c) => c.replacedParts,
    );
    const delivered = sum(
      deliveries.filter((d) => inWindow(d.departureDate, from, to)),
      (d) => d.quantity,
    );
    expect(replaced > 0n).to.equal(true);
    const r = await ask(
      "supplier",
      "replaced-ppm",
      [`claims=${grants.claims}`, `delivery=${grants.delivery}`],
      OWN_PART,
      from,
      to,
    );
    expect(r.code, r.err).to.equal(0);
    const [p] = r.json().points as any[];
    expect(p.parts.map((x: any) => [x.name, x.value, x.gatewayUrl])).to.deep.equal([
      ["claims", String(replaced), autoS.gatewayUrl],
      ["delivery", String(delivered), supS.gatewayUrl],
    ]);
    expect(p.value).to.equal(fixed(1_000_000n * replaced, delivered, 0));
    expect(p.shown).to.equal(`10^6 × ${replaced} pieces replaced ÷ ${delivered} pieces delivered`);
    expect(everyCheck(p.parts)).to.equal(true);
  });

  it("refuses the supplier a question about another supplier's part, naming the grant's key range", async function () {
    const r = await ask(
      "supplier",
      "claims-per-month",
      [`claims=${grants.claims}`],
      OTHER_PART,
      "2026-07-01",
      "2026-07-31",
    );
    expect(r.code).to.equal(2);
    expect(r.err).to.match(
      new RegExp(
        `grant ${grants.claims} \\(claims\\) refused the question: POLICY_VIOLATION — the key range lies outside the grant's key range`,
      ),
    );
    const q = await claimsSum("claims", OTHER_PART);
    expect(q.code).to.equal(2);
    expect(q.err).to.match(/POLICY_VIOLATION.*outside the grant's key range/);
  });

  it("the automaker asks stock coverage in weeks: outbound stock on a day ÷ average weekly active demand", async function () {
    const at = "2026-09-28";
    const [from, to] = ["2026-08-03", "2026-09-27"]; // eight weeks
    const onStock = sum(
      stock.filter((s) => s.stockDate === at && s.direction === "OUTBOUND"),
      (s) => s.quantity,
    );
    const weekly = sum(
      demand.filter((d) => !d.inactive && inWindow(d.week, from, to)),
      (d) => d.demand,
    );
    const r = await ask(
      "automaker",
      "stock-coverage",
      [`stock=${grants.stock}`, `demand=${grants.demand}`],
      MATERIAL,
      from,
      to,
      "--at",
      at,
    );
    expect(r.code, r.err).to.equal(0);
    const [p] = r.json().points as any[];
    expect(p.parts.map((x: any) => [x.name, x.value, x.from, x.to])).to.deep.equal([
      ["stock", String(onStock), at, at],
      ["demand", String(weekly), from, to],
    ]);
    // stock ÷ (demand ÷ 8 weeks)
    expect(p.value).to.equal(fixed(onStock * 8n, weekly, 2));
    expect(everyCheck(p.parts)).to.equal(true);
  });

  it("the automaker asks the share of Q3's weeks whose capacity covers the linked demand", async function () {
    const known = capacity.filter((c) => c.demand !== null);
    const covered = BigInt(known.filter((c) => c.actualCapacity >= c.demand!).length);
    expect(covered > 0n && covered < BigInt(known.length)).to.equal(true);
    const r = await ask(
      "automaker",
      "capacity-share",
      [`capacity=${grants.capacity}`],
      GROUP,
      "2026-07-01",
      "2026-09-30",
      "--plant",
      `capacity=${SUPPLIER_BPNL}`,
    );
    expect(r.code, r.err).to.equal(0);
    const [p] = r.json().points as any[];
    const ppm = (1_000_000n * covered) / BigInt(known.length);
    expect(p.parts[0].value).to.equal(String(ppm));
    expect(p.value).to.equal(fixed(ppm, 10_000n, 2));
  });

  it("refuses a question whose grant is on another schema, before anything is asked", async function () {
    const r = await ask(
      "automaker",
      "stock-coverage",
      [`stock=${grants.demand}`, `demand=${grants.demand}`],
      MATERIAL,
      "2026-08-03",
      "2026-09-27",
    );
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/is on a demand-by-day asset; the stock answer reads stock/);
  });
});
