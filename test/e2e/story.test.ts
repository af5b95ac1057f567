/**
 * The whole exchange through the `partproof` CLI, against a real gateway (port 0, LevelDB in
 * a temp folder) on Hardhat's in-process chain with the real range_d4 verifier: a supplier
 * registers, uploads a Catena-X payload and grants; an automaker asks and verifies; the
 * supplier revokes; an auditor reconciles. Answers are checked against a plain TypeScript
 * computation over the generated records; the gateway refuses the second query of a differencing
 * pair (DIFFERENCING_RISK), and the auditor must flag the injected anomaly: an answer computed
 * (and withheld) while the relayer was stopped. (The auditor's own differencing-pair check, for a
 * gateway that does not guard, is tested on made-up exports in test/cli/reconcile.test.ts.)
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli } from "../../cli/partproof.js";
import { waitJob } from "../../cli/automaker.js";
import { openSession, type Session } from "../../cli/session.js";
import {
  generateQuality,
  toCatenaX,
  type DemoSupplier,
  type QualityRow,
} from "../../scripts/lib/demo-data.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { gateway, tempDir } from "../gateway/helpers.js";
import { setEnv } from "../support.js";
import { e2eChain, type E2EChain } from "./chain.js";

const SUPPLIER: DemoSupplier = {
  name: "Gearworks GmbH",
  bpnl: "BPNL00000000GEAR",
  plants: [
    {
      plantIdentifier: "4711",
      plantBPNS: "BPNS000000004711",
      plantCountryCode: "DEU",
      plantDescription: "Wolfsburg",
    },
    {
      plantIdentifier: "4712",
      plantBPNS: "BPNS000000004712",
      plantCountryCode: "DEU",
      plantDescription: "Zwickau",
    },
  ],
  // A high rework rate so that the small test data holds some reworked parts.
  parts: [
    {
      partNumber: "GBX-3232455",
      partName: "Gearbox ECU",
      reworkPpm: { 4711: 300_000, 4712: 400_000 },
    },
  ],
};
const K = 3;
const DAYS = [
  "2026-07-01",
  "2026-07-02",
  "2026-07-03",
  "2026-07-04",
  "2026-07-05",
  "2026-07-06",
  "2026-07-07",
];

/** What the automaker should get, computed from the raw rows (which it never sees). */
function expected(rows: QualityRow[], plant: string, from: string, to: string) {
  const sel = rows.filter(
    (r) =>
      r.partNumber === "GBX-3232455" &&
      r.plant === plant &&
      r.productionDate >= from &&
      r.productionDate <= to,
  );
  const reworked = sel.filter((r) => r.hasBeenReworked).length;
  return { count: sel.length, reworked, ppm: Math.floor((reworked * 1e6) / sel.length) };
}

describe("e2e: the PartProof story through the CLI", function () {
  let chain: E2EChain;
  let session: Session;
  let gw: Awaited<ReturnType<typeof gateway>>;
  let work: string;
  let rows: QualityRow[];
  const restoreEnv: (() => void)[] = [];
  const automakerAddr = devAccount(3).address;

  async function cli(role: "supplier" | "automaker" | "auditor", ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      ["--json", "--key-env", `E2E_${role.toUpperCase()}_KEY`, ...argv],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      { session },
    );
    return {
      code,
      out: out.join("\n"),
      err: err.join("\n"),
      json: () => JSON.parse(out.join("\n")),
    };
  }

  before(async function () {
    chain = await e2eChain(); // E2E_CHAIN: hardhat (default) or anvil (test/e2e/anvil.test.ts)
    // The CLI signs with keys from env vars (the dev mnemonic's accounts, funded on both chains)
    restoreEnv.push(
      setEnv({
        E2E_SUPPLIER_KEY: devAccount(1).privateKey,
        E2E_AUTOMAKER_KEY: devAccount(3).privateKey,
        E2E_AUDITOR_KEY: devAccount(4).privateKey,
      }),
    );
    gw = await chain.gateway({
      over: { bodyLimitBytes: 1024 * 1024, auditors: [devAccount(4).address] },
    });
    session = await openSession({
      provider: chain.provider,
      deployment: {
        chainId: 31337,
        partProof: chain.partProof,
        deploymentBlock: 0,
        verifiers: {},
      },
      gatewayUrl: gw.url,
    });
    work = await mkdtemp(path.join(tmpdir(), "partproof-e2e-"));
    // the automaker's CLI keeps what it signed per job here (cli/signed-queries.ts)
    restoreEnv.push(setEnv({ PARTPROOF_DATA_DIR: path.join(work, "data") }));
    rows = generateQuality(SUPPLIER, {
      from: DAYS[0]!,
      days: DAYS.length,
      perDay: [1, 1],
      seed: "e2e",
    });
    expect(rows.length).to.equal(14); // depth-4 tree: 16 leaves, two of them sentinels
    // the seeded data, worked out by hand from its rows (4711: days 1, 2, 7 reworked; 4712: all
    // but day 5), so that every expectation below is a fixed number
    expect(expected(rows, "4711", DAYS[0]!, DAYS[6]!)).to.deep.equal({
      count: 7,
      reworked: 3,
      ppm: 428_571,
    });
    expect(expected(rows, "4712", DAYS[0]!, DAYS[6]!)).to.deep.equal({
      count: 7,
      reworked: 6,
      ppm: 857_142,
    });
    await writeFile(path.join(work, "quality.json"), JSON.stringify(toCatenaX(SUPPLIER, rows)));
  });

  after(async function () {
    await gw?.close();
    await chain?.close();
    for (const restore of restoreEnv.reverse()) restore();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let assetId: string;
  let grantId: string;

  it("a supplier registers an asset, uploads a Catena-X payload and publishes it via the gateway", async function () {
    const reg = await cli(
      "supplier",
      "supplier",
      "register",
      "--schema",
      "quality",
      "--endpoint",
      gw.url,
    );
    expect(reg.code, reg.err).to.equal(0);
    assetId = String(reg.json().assetId);
    const up = await cli(
      "supplier",
      "supplier",
      "upload",
      assetId,
      path.join(work, "quality.json"),
    );
    expect(up.code, up.err).to.equal(0);
    const r = up.json() as {
      version: { recordCount: number; root: string };
      published: { versionId: string };
    };
    expect(r.version.recordCount).to.equal(14);
    const v = await session.partProof.getVersion(BigInt(r.published.versionId));
    expect(v.root.toString()).to.equal(r.version.root);
  });

  it("the supplier grants the automaker under a policy with k = 3", async function () {
    // the grant fixes the thresholds a threshold query may use: here the two the test asks
    const ppm = expected(rows, "4712", DAYS[0]!, DAYS[6]!).ppm;
    expect(ppm).to.be.greaterThan(1);
    const g = await cli(
      "supplier",
      "supplier",
      "grant",
      assetId,
      automakerAddr,
      "--aggregates",
      "count,sum,ratio,threshold",
      "--fields",
      "quantity,reworked",
      "--part",
      "GBX-3232455",
      "--k",
      String(K),
      "--thresholds",
      `${ppm},${ppm - 1}`,
      "--quota",
      "10",
      "--valid-until",
      "30d",
    );
    expect(g.code, g.err).to.equal(0);
    grantId = String(g.json().grantId);
    const grant = await session.partProof.getGrant(BigInt(grantId));
    expect(grant.consumer).to.equal(automakerAddr);
    expect(grant.quota).to.equal(10n);
  });

  /** CLI flags of one plant's production days DAYS[from]..DAYS[to]. */
  const days = (plant: string, from: number, to: number) => [
    "--plant",
    plant,
    "--from",
    DAYS[from]!,
    "--to",
    DAYS[to]!,
  ];
  const RATIO = ["--aggregate", "ratio", "--field", "reworked", "--of", "quantity"];
  const ask = (...q: string[]) =>
    cli(
      "automaker",
      "automaker",
      "query",
      "--asset",
      assetId,
      "--grant",
      grantId,
      "--part",
      "GBX-3232455",
      ...q,
    );

  it("the automaker gets the rework PPM of a plant, proved, logged and verified", async function () {
    const r = await ask(...RATIO, ...days("4711", 0, 6));
    expect(r.code, r.err).to.equal(0);
    const { job, check } = r.json();
    expect(job.status).to.equal("logged");
    expect(job.answer.resultValue).to.equal(String(expected(rows, "4711", DAYS[0]!, DAYS[6]!).ppm));
    expect(check).to.deep.equal({
      proofValid: true,
      commitmentOpens: true,
      rootRegistered: true,
      loggedOnChain: true,
      logMatches: true,
      questionMatches: true,
      grantMatches: true,
      assetMatches: true,
      versionRuleMatches: true,
      requestMatches: true,
      bindingMatches: true,
    });
    // and again later, from the signed query this machine kept for the job
    const again = await cli("automaker", "automaker", "verify", job.jobId);
    expect(again.code, again.err).to.equal(0);
    const { attestation, ...checked } = again.json();
    expect(checked).to.deep.equal(check);
    expect(attestation).to.deep.equal(r.json().attestation); // read from the chain by both
  });

  it("answers a SUM (with its cohort) and a yes/no threshold that reveals only the bit", async function () {
    const e = expected(rows, "4712", DAYS[0]!, DAYS[6]!);
    const sum = await ask("--aggregate", "sum", "--field", "reworked", ...days("4712", 0, 6));
    expect(sum.code, sum.err).to.equal(0);
    expect(sum.json().job.answer).to.deep.include({
      resultValue: String(e.reworked),
      resultAux: String(e.count),
    });
    /** "Is the rework PPM of plant 4712 over the week at most `limit`?" */
    const atMost = (limit: number) =>
      ask(
        "--aggregate",
        "threshold",
        "--field",
        "reworked",
        "--of",
        "quantity",
        "--threshold",
        String(limit),
        ...days("4712", 0, 6),
      );
    const limit = e.ppm; // exactly at the limit: "at most" holds
    const yes = await atMost(limit);
    expect(yes.code, yes.err).to.equal(0);
    expect(yes.json().job.answer).to.deep.include({ resultValue: "1", resultAux: "0" });
    expect(limit).to.equal(857_142); // > 0: one below the limit is a "no"
    const no = await atMost(limit - 1);
    expect(no.code, no.err).to.equal(0);
    expect(no.json().job.answer).to.deep.include({ resultValue: "0", resultAux: "0" });
  });

  it("refuses a query over fewer than k records, and nothing is logged for it", async function () {
    const before = await session.provider.getLogs({
      address: session.deployment.partProof,
      fromBlock: 0,
    });
    const r = await ask("--aggregate", "count", ...days("4711", 0, 1));
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/COHORT_BELOW_K/);
    const after = await session.provider.getLogs({
      address: session.deployment.partProof,
      fromBlock: 0,
    });
    expect(after.length).to.equal(before.length);
  });

  it("refuses the second of a differencing pair (nested ranges one record apart)", async function () {
    // the COUNT of the week the SUM above covered is the same record set: answered
    const a = await ask("--aggregate", "count", ...days("4712", 0, 6));
    expect(a.code, a.err).to.equal(0);
    // the week without its last day (one record per day and plant) would single out that day
    const b = await ask("--aggregate", "count", ...days("4712", 0, 5));
    expect(b.code).to.equal(2);
    expect(b.err).to.match(/DIFFERENCING_RISK/);
  });

  let unloggedRequest: string;
  it("computes an answer while the relayer is stopped: proved, not logged, and withheld", async function () {
    const dataDir = gw.dataDir;
    await gw.close();
    gw = await chain.gateway({
      dataDir,
      over: {
        relayer: { enabled: false, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 },
        auditors: [devAccount(4).address],
      },
    });
    session.gatewayUrl = gw.url;
    const r = await ask("--no-wait", "--aggregate", "count", ...days("4711", 0, 6));
    expect(r.code, r.err).to.equal(0);
    const job = await waitJob(session, r.json().jobId, { until: "proved" });
    expect(job.status).to.equal("proved");
    expect([job.answer, job.blind]).to.deep.equal([null, null]);
    const early = await cli("automaker", "automaker", "verify", job.jobId);
    expect(early.code).to.equal(2);
    expect(early.err).to.match(/no answer yet \(status proved\)/);
    unloggedRequest = job.requestId;
    expect(await session.partProof.isRequestLogged(BigInt(job.grantId), job.requestId)).to.equal(
      false,
    );
  });

  it("refuses every query after the supplier revokes the grant", async function () {
    const rev = await cli("supplier", "supplier", "revoke", grantId);
    expect(rev.code, rev.err).to.equal(0);
    const r = await ask("--aggregate", "count", ...days("4711", 0, 6));
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/GRANT_REVOKED/);
  });

  it("the supplier sees who asked what of its asset in the on-chain log", async function () {
    const r = await cli("supplier", "supplier", "asked");
    expect(r.code, r.err).to.equal(0);
    const rows = r.json() as { assetId: string; consumer: string }[];
    const logged = await session.partProof.queryFilter(
      session.partProof.filters.AnswerRecorded(),
      0,
    );
    expect(rows.length).to.equal(logged.length).and.to.be.greaterThan(0);
    for (const row of rows)
      expect([row.assetId, row.consumer]).to.deep.equal([assetId, automakerAddr]);
    const stranger = await cli("automaker", "supplier", "asked");
    expect(stranger.code, stranger.err).to.equal(0);
    expect(stranger.json()).to.deep.equal([]);
  });

  it("the auditor's report re-verifies every entry and flags the computed-but-unlogged answer", async function () {
    // the CLI fetches the gateway's export with a Read signed by the auditor's key
    const out = path.join(work, "report");
    const r = await cli("auditor", "auditor", "report", "--out", out, "--from-block", "0");
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(await readFile(path.join(out, "report.json"), "utf8"));
    // logged: ratio, sum, threshold yes, threshold no, the first count of the pair (the second
    // is refused by the differencing guard)
    const logged = report.counts.logEntries as number;
    expect(logged).to.equal(5);
    expect(report.counts.proofsVerified).to.equal(logged);
    expect(report.counts).to.include({
      computed: logged + 1,
      served: logged,
      computedNotLogged: 1,
      failed: 0,
    });
    const types = (report.anomalies as { type: string; requestId?: string }[])
      .map((a) => a.type)
      .sort();
    expect(types).to.deep.equal(["COMPUTED_NOT_LOGGED"]);
    const unlogged = report.anomalies.find(
      (a: { type: string }) => a.type === "COMPUTED_NOT_LOGGED",
    );
    expect(unlogged.requestId).to.equal(unloggedRequest);
    expect(report.perConsumer).to.deep.include({
      consumer: automakerAddr.toLowerCase(),
      answers: logged,
      grants: 1,
      anomalies: 1,
    });
    expect(await readFile(path.join(out, "report.md"), "utf8")).to.match(/COMPUTED_NOT_LOGGED/);
  });
});
