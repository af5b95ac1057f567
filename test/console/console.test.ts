/**
 * The browser console (issue 17) driven in Debian's chromium through playwright-core, against a
 * real local chain (Hardhat node), PartProof deployed, and one real gateway per demo supplier
 * (the sandbox's set-up code, scripts/lib/sandbox.ts), with the test-size circuit range_d4.
 *
 * It plays the demo's story through the UI, one page per role: Brakeline approves the grant the
 * automaker requested; the automaker reads the catalogue and its grants, asks rework questions
 * (answers compared with a plain computation over the generated rows, which the console never
 * sees) and watches every check pass, the proof verified in the browser first; a question nested
 * in an answered one and one record larger is refused by the gateway's differencing guard
 * (DIFFERENCING_RISK, nothing logged); a one-day window is refused for k; Gearworks revokes and
 * the next question is refused; Brakeline's gateway, restarted with its relayer stopped, proves
 * an answer it never logs; the auditor's view flags that answer (COMPUTED_NOT_LOGGED), with
 * tables, charts and the report downloads. Along the way: no console request ever reads records, the pages keep the
 * CSP (no violation), fit a phone's width, and the question form works from the keyboard.
 *
 * Set PARTPROOF_SCREENSHOTS=1 to write each role's main page to docs/ (the README shows them).
 * Chromium: /usr/bin/chromium (scripts/install-browser.sh) or PARTPROOF_CHROMIUM.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { chromium, type Browser, type Page } from "playwright-core";
import { policyOf, schemaOf } from "../../cli/policy.js";
import { openSession, type Session } from "../../cli/session.js";
import * as automakerCli from "../../cli/automaker.js";
import * as supplierCli from "../../cli/supplier.js";
import type { RunningConsole } from "../../console/server.js";
import { ROOT } from "../../scripts/lib/circuit-build.js";
import { startConsoleOn } from "../../scripts/lib/console.js";
import {
  DEMO_SUPPLIERS,
  generateQuality,
  toCatenaX,
  type DemoSupplier,
  type QualityRow,
} from "../../scripts/lib/demo-data.js";
import type { DeliveryRow } from "../../scripts/lib/demo-shapes.js";
import { devAccount, freePort } from "../../scripts/lib/processes.js";
import {
  buildFor,
  demoRoles,
  startPlayground,
  type Playground,
} from "../../scripts/lib/sandbox.js";

// page.evaluate callbacks run in the page, whose DOM types the tests' tsconfig does not load
declare const document: {
  querySelectorAll(s: string): { length: number };
  activeElement: { id: string; textContent: string | null } | null;
  documentElement: { scrollWidth: number; clientWidth: number };
};

const CHROMIUM = process.env.PARTPROOF_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOTS = process.env.PARTPROOF_SCREENSHOTS === "1";
const K = 2;

/** The demo's suppliers with high rework rates, so that the small test data holds reworks. */
const GEARWORKS: DemoSupplier = {
  ...DEMO_SUPPLIERS[0]!,
  parts: [
    {
      partNumber: "GBX-3232455",
      partName: "Gearbox ECU",
      reworkPpm: { 4711: 400_000, 4712: 300_000 },
    },
  ],
};
const BRAKELINE: DemoSupplier = {
  ...DEMO_SUPPLIERS[1]!,
  parts: [
    {
      partNumber: "BRK-7712003",
      partName: "Brake caliper",
      reworkPpm: { "0815": 350_000, "0816": 100_000 },
    },
  ],
};

/** The rework PPM the automaker should get, computed from the raw rows (it never sees them). */
function expectedPpm(rows: QualityRow[], part: string, plant: string, from = "", to = "9999") {
  const sel = rows.filter(
    (r) =>
      r.partNumber === part &&
      r.plant === plant &&
      r.productionDate >= from &&
      r.productionDate <= to,
  );
  const reworked = sel.filter((r) => r.hasBeenReworked).length;
  return { count: sel.length, ppm: Math.floor((reworked * 1e6) / sel.length) };
}

/** A question in the form's terms. */
interface Question {
  grant: bigint;
  aggregate: string;
  fieldA: string;
  fieldB?: string;
  part: string;
  plant?: string;
  from?: string;
  to?: string;
}

/** What one answer card shows once its job is over. */
interface Card {
  status: string;
  jobId: string | null;
  verified: string | null;
  value: string | null;
  refusal: string | null;
  checks: Record<string, string>;
  browserVerifyNote: string;
}

const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

/** The on-time share in % (two decimals, rounded down) of the arrived deliveries. */
function onTimePercent(rows: DeliveryRow[]): string {
  const known = rows.filter((r) => r.leadTimeDays !== null);
  const onTime = known.filter(
    (r) => r.dueDate !== null && dayOf(r.departureDate) + r.leadTimeDays! <= dayOf(r.dueDate),
  );
  const ppm = Math.floor((onTime.length * 1e6) / known.length);
  return (Math.floor(ppm / 100) / 100).toFixed(2);
}

/** The average lead time in days (two decimals, rounded down) of the arrived deliveries. */
function leadTimeDays(rows: DeliveryRow[]): string {
  const known = rows.filter((r) => r.leadTimeDays !== null);
  const micro = Math.floor((known.reduce((s, r) => s + r.leadTimeDays!, 0) * 1e6) / known.length);
  return (Math.floor(micro / 1e4) / 100).toFixed(2);
}

/** The page is no wider than the window (no horizontal scroll, e.g. at a phone's width). */
async function expectNoSideScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).to.be.at.most(0);
}

/** Sends one JSON-RPC request to a node over HTTP (what a wallet does with its node). */
function nodeRpc(url: string) {
  return async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
}

describe("Console (browser)", function () {
  this.timeout(20 * 60_000);
  let dir: string;
  let playground: Playground;
  let consoleApp: RunningConsole;
  let browser: Browser;
  let gear: QualityRow[];
  let brake: QualityRow[];
  let grantGear: bigint;
  let grantBrake: bigint;
  let sessions: Session[];
  let unloggedRequest: string;
  const requests: string[] = [];
  const cspViolations: string[] = [];
  const pages: Page[] = [];

  before(async function () {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/install-browser.sh`).to.equal(
      true,
    );
    await buildFor("range_d4", () => {});
    dir = await mkdtemp(path.join(tmpdir(), "partproof-console-test-"));
    const port = await freePort();
    playground = await startPlayground({
      circuit: "range_d4",
      dir,
      corsOrigins: [`http://127.0.0.1:${port}`],
      say: () => {},
    });
    const roles = demoRoles();
    const provider = playground.node.provider;
    sessions = await Promise.all(
      playground.gateways.map((g) =>
        openSession({ provider, deployment: playground.deployment, gatewayUrl: g.url }),
      ),
    );
    // three days of GBX-3232455 in both plants (6 records), two days of BRK-7712003 (4)
    gear = generateQuality(GEARWORKS, {
      from: "2026-04-01",
      days: 3,
      perDay: [1, 1],
      seed: "console",
    });
    brake = generateQuality(BRAKELINE, {
      from: "2026-04-01",
      days: 2,
      perDay: [1, 1],
      seed: "console",
    });
    const assets: bigint[] = [];
    for (const [i, [sup, rows]] of (
      [
        [GEARWORKS, gear],
        [BRAKELINE, brake],
      ] as const
    ).entries()) {
      const owner = roles.suppliers[i]!.connect(provider);
      const { assetId } = await supplierCli.registerAsset(sessions[i]!, owner, {
        schema: "quality",
        endpoint: playground.gateways[i]!.url,
        metadata: `${sup.name} manufactured-parts quality`,
      });
      const up = await supplierCli.upload(sessions[i]!, owner, assetId, {
        format: "catenax",
        payload: toCatenaX(sup, rows),
      });
      await supplierCli.publishViaGateway(sessions[i]!, owner, up.version);
      assets.push(assetId);
    }
    const quality = schemaOf("quality");
    const terms = {
      validFrom: 0,
      validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
      quota: 20,
    };
    grantGear = (
      await supplierCli.grantAccess(
        sessions[0]!,
        roles.suppliers[0]!.connect(provider),
        assets[0]!,
        roles.automaker.address,
        policyOf(quality, {
          aggregates: ["count", "sum", "ratio", "threshold"],
          // the policy fixes the thresholds (PPM) a THRESHOLD question may use
          thresholds: [100_000n, 300_000n],
          fields: ["quantity", "reworked"],
          partNumber: "GBX-3232455",
          minCohort: K,
        }),
        terms,
      )
    ).grantId;
    grantBrake = (
      await automakerCli.requestGrant(
        sessions[1]!,
        roles.automaker.connect(provider),
        assets[1]!,
        policyOf(quality, {
          aggregates: ["ratio"],
          fields: ["quantity", "reworked"],
          partNumber: "BRK-7712003",
          minCohort: K,
        }),
        terms,
      )
    ).grantId;

    consoleApp = await startConsoleOn(playground, port);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });

  after(async function () {
    await browser?.close();
    await consoleApp?.close();
    await playground?.close();
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A new tab on a role's view (each tab keeps its own account choice), view loaded. */
  async function open(
    role: string,
    viewport = { width: 1280, height: 800 },
    init: (page: Page) => Promise<void> = async () => {},
  ): Promise<Page> {
    const page = await browser.newPage({ viewport, acceptDownloads: true });
    pages.push(page);
    await init(page);
    page.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on("console", (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${consoleApp.url}/#/${role}`);
    await loaded(page);
    return page;
  }

  async function loaded(page: Page): Promise<void> {
    await page.waitForSelector('main[aria-busy="false"]', { timeout: 5 * 60_000 });
    const error = await page.$("main p.error:not(:empty)");
    if (error) throw new Error(`the view shows an error: ${await error.textContent()}`);
  }

  /** Fills the question form, submits it and waits until the job's card is final. */
  async function ask(
    page: Page,
    q: Question,
    opts: { keyboard?: boolean; until?: "proved" } = {},
  ): Promise<Card> {
    const before = await page.locator("article.job").count();
    await page.selectOption("#q-grant", q.grant.toString());
    await page.selectOption("#q-aggregate", q.aggregate);
    await page.selectOption("#q-fieldA", q.fieldA);
    if (q.fieldB) await page.selectOption("#q-fieldB", q.fieldB);
    await page.fill("#q-part", q.part);
    // on a day-ordered asset the plant box is disabled: a question takes every plant
    if (!(await page.isDisabled("#q-plant"))) await page.fill("#q-plant", q.plant ?? "");
    await page.fill("#q-from", q.from ?? "");
    await page.fill("#q-to", q.to ?? "");
    if (opts.keyboard) {
      await page.focus("#q-part");
      await page.keyboard.press("Enter"); // submits the form, as a keyboard user does
    } else {
      await page.click("#q-submit");
    }
    const card = await newCard(page, before, opts.until);
    return card.evaluate((el) => {
      const checks: Record<string, string> = {};
      for (const li of el.querySelectorAll("li[data-check]")) {
        checks[li.getAttribute("data-check")!] = li.getAttribute("data-state")!;
      }
      return {
        status: el.getAttribute("data-status") ?? "",
        jobId: el.getAttribute("data-job-id"),
        verified: el.getAttribute("data-verified"),
        value: el.querySelector(".answer")?.getAttribute("data-value") ?? null,
        refusal: el.querySelector(".refusal")?.getAttribute("data-code") ?? null,
        checks,
        browserVerifyNote:
          el.querySelector('li[data-check="proofInBrowser"] [data-note]')?.textContent ?? "",
      };
    });
  }

  /** The answer card that appears after `before` cards, once it is final (or `until`). */
  async function newCard(page: Page, before: number, until = "refused") {
    await page.waitForFunction((n) => document.querySelectorAll("article.job").length > n, before);
    const card = page.locator("article.job").first();
    await page.waitForFunction(
      ([el, u]) =>
        el !== null &&
        (el.hasAttribute("data-verified") ||
          ["refused", "failed", "error", u].includes(el.getAttribute("data-status") ?? "")),
      [await card.elementHandle(), until] as const,
      { timeout: 10 * 60_000, polling: 200 },
    );
    return card;
  }

  const ALL_CHECKS = [
    "vkey",
    "proofInBrowser",
    "proofOnChain",
    "commitmentOpens",
    "rootOnChain",
    "logEntry",
    "questionSigned",
    "binding",
  ];

  const rework = { aggregate: "ratio", fieldA: "reworked", fieldB: "quantity" };

  it("serves the app with a strict CSP whose connect-src names only the chain and the gateways", async function () {
    const res = await fetch(consoleApp.url);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp)
      .to.include("default-src 'none'")
      .and.to.include("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.to.include("unsafe-inline");
    const connect = /connect-src ([^;]+)/.exec(csp)![1]!.split(" ").sort();
    expect(connect).to.deep.equal(
      ["'self'", playground.node.url, ...playground.gateways.map((g) => g.url)].sort(),
    );
    const html = await res.text();
    expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  });

  it("lets Brakeline approve the grant the automaker requested, in the supplier view", async function () {
    const page = await open("supplier");
    expect(await page.textContent("#account")).to.include("DEVELOPMENT");
    await page.selectOption("#account-select", { label: "DEVELOPMENT · Brakeline SE (supplier)" });
    await loaded(page);
    const version = page.locator("#my-assets tr[data-version='1'] td");
    expect(await version.nth(1).textContent()).to.equal(String(brake.length));
    const row = page.locator(`#asset-grants tr[data-grant='${grantBrake}']`);
    expect(await row.getAttribute("data-status")).to.equal("requested");
    await row.locator("button[data-action='approve']").click();
    await page.waitForSelector(
      `#asset-grants tr[data-grant='${grantBrake}'][data-status='active']`,
    );
    if (SCREENSHOTS)
      await page.screenshot({ path: path.join(ROOT, "docs", "console-supplier.png") });
  });

  it("shows the automaker the catalogue and its grants with quota use", async function () {
    // an attestation of Gearworks' version 1 on-chain (the contract checks its seed and t, not
    // proofs: this is about what the page reads from the chain, never from a gateway)
    const s = sessions[0]!;
    const deployer = devAccount(0).connect(s.provider);
    await (await s.partProof.connect(deployer).setMinAuditSamples(1)).wait();
    const provider = s.provider as unknown as { send(m: string, a: unknown[]): Promise<unknown> };
    for (let i = 0; i < 5; i++) await provider.send("evm_mine", []);
    const v1 = (1n << 64n) | 1n;
    const seed = (await s.reader.auditSeed(v1))!.seed!;
    const auditor = devAccount(4).connect(s.provider);
    await (await s.partProof.connect(auditor).attestAudit(v1, seed, 7, seed)).wait();

    const page = await open("automaker");
    const assets = await page.locator("#catalogue tr[data-asset]").count();
    expect(assets).to.equal(2);
    expect(await page.textContent("#catalogue"))
      .to.include("quality")
      .and.to.include("Brakeline SE");
    expect(await page.textContent('#catalogue tr[data-asset="1"]')).to.include("attested t = 7");
    expect(await page.textContent('#catalogue tr[data-asset="2"]')).to.not.include("attested");
    const states = await page
      .locator("#grants tr[data-grant]")
      .evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute("data-grant"), r.getAttribute("data-status")]),
      );
    expect(states).to.deep.equal([
      [grantGear.toString(), "active"],
      [grantBrake.toString(), "active"],
    ]);
    expect(await page.locator("#grants svg.chart").count()).to.equal(1);
  });

  /** How many answers the chain logged for a grant. */
  async function loggedFor(grant: bigint): Promise<number> {
    const pp = sessions[0]!.partProof;
    return (await pp.queryFilter(pp.filters.AnswerRecorded(grant))).length;
  }

  /** A logged answer card: the expected value, every check passed, the proof verified here. */
  function expectLogged(card: Card, want: { ppm: number }): void {
    expect(card.status, JSON.stringify(card)).to.equal("logged");
    expect(card.value).to.equal(String(want.ppm));
    expect(card.checks).to.deep.equal(Object.fromEntries(ALL_CHECKS.map((c) => [c, "ok"])));
    expect(card.verified).to.equal("yes");
    expect(card.browserVerifyNote).to.match(/\d+ ms/);
    console.log(
      `      in-browser Groth16 verification: ${card.browserVerifyNote.replace(/^ — /, "")}`,
    );
  }

  it("answers the automaker's rework questions with every check passed, the proof verified in the browser", async function () {
    const page = await open("automaker");
    const first: Question = {
      grant: grantGear,
      ...rework,
      part: "GBX-3232455",
      plant: "4711",
      from: "2026-04-01",
      to: "2026-04-02",
    };
    const want = expectedPpm(gear, "GBX-3232455", "4711", "2026-04-01", "2026-04-02");
    expect(want.count).to.be.at.least(K);
    expectLogged(await ask(page, first, { keyboard: true }), want);

    // nested in the first, one record more: the difference would single out one record (k = 2),
    // so the gateway's differencing guard refuses it and nothing is logged
    const nested = expectedPpm(gear, "GBX-3232455", "4711", "2026-04-01", "2026-04-03");
    expect(nested.count - want.count).to.be.within(1, K - 1);
    const logged = await loggedFor(grantGear);
    const refused = await ask(page, { ...first, to: "2026-04-03" });
    expect(refused.status, JSON.stringify(refused)).to.equal("refused");
    expect(refused.refusal).to.equal("DIFFERENCING_RISK");
    expect([refused.value, refused.verified, refused.jobId]).to.deep.equal([null, null, null]);
    expect(refused.checks).to.deep.equal({});
    expect(await loggedFor(grantGear)).to.equal(logged);

    // questions over sets disjoint from the first: the other plant's three days, Brakeline's plant
    const asked: [Question, { count: number; ppm: number }][] = [
      [
        {
          grant: grantGear,
          ...rework,
          part: "GBX-3232455",
          plant: "4712",
          from: "2026-04-01",
          to: "2026-04-03",
        },
        expectedPpm(gear, "GBX-3232455", "4712", "2026-04-01", "2026-04-03"),
      ],
      [
        { grant: grantBrake, ...rework, part: "BRK-7712003", plant: "0815" },
        expectedPpm(brake, "BRK-7712003", "0815"),
      ],
    ];
    for (const [q, w] of asked) {
      expect(w.count).to.be.at.least(K);
      expectLogged(await ask(page, q), w);
    }
    expect(await loggedFor(grantGear)).to.equal(logged + 1);
    if (SCREENSHOTS)
      await page.screenshot({ path: path.join(ROOT, "docs", "console-automaker.png") });
  });

  it("shows the refusal for k when a window holds fewer records than the grant's minimum cohort", async function () {
    const page = await open("automaker");
    const one = expectedPpm(gear, "GBX-3232455", "4712", "2026-04-02", "2026-04-02");
    expect(one.count).to.be.below(K);
    const card = await ask(page, {
      grant: grantGear,
      ...rework,
      part: "GBX-3232455",
      plant: "4712",
      from: "2026-04-02",
      to: "2026-04-02",
    });
    expect(card.status).to.equal("refused");
    expect(card.refusal).to.equal("COHORT_BELOW_K");
    expect(card.value).to.equal(null);
  });

  it("refuses the automaker after Gearworks revokes its grant in the supplier view", async function () {
    // the automaker's page is open before the revocation: its form still offers the grant
    const page = await open("automaker");
    const supplier = await open("supplier");
    await supplier.selectOption("#account-select", {
      label: "DEVELOPMENT · Gearworks GmbH (supplier)",
    });
    await loaded(supplier);
    const row = supplier.locator(`#asset-grants tr[data-grant='${grantGear}']`);
    expect(await row.locator("td").nth(4).textContent()).to.equal("2 / 20");
    // who asked what: the two logged answers over Gearworks' asset, nothing of Brakeline's
    expect(await supplier.locator("#asked tbody tr").count()).to.equal(2);
    await row.locator("button[data-action='revoke']").click();
    await supplier.waitForSelector(
      `#asset-grants tr[data-grant='${grantGear}'][data-status='revoked']`,
    );

    const card = await ask(page, {
      grant: grantGear,
      ...rework,
      part: "GBX-3232455",
      plant: "4711",
    });
    expect(card.status).to.equal("refused");
    expect(card.refusal).to.equal("GRANT_REVOKED");
    const fresh = await open("automaker");
    expect(await fresh.locator("#q-grant option").count()).to.equal(1); // only Brakeline's is active
    const other = await ask(fresh, {
      grant: grantBrake,
      ...rework,
      part: "BRK-7712003",
      plant: "0816",
    });
    expect(other.status).to.equal("logged");
    expect(other.value).to.equal(String(expectedPpm(brake, "BRK-7712003", "0816").ppm));
  });

  it("shows an answer Brakeline's gateway proved while its relayer was stopped: proved, never logged", async function () {
    await playground.restartGateway(1, { relayer: false });
    const page = await open("automaker");
    const logged = await loggedFor(grantBrake);
    // both plants: the union of the two answered sets, so the differencing guard lets it through
    const card = await ask(
      page,
      { grant: grantBrake, ...rework, part: "BRK-7712003" },
      { until: "proved" },
    );
    expect(card.status, JSON.stringify(card)).to.equal("proved");
    expect([card.value, card.verified]).to.deep.equal([null, null]);
    const job = await automakerCli.waitJob(sessions[1]!, card.jobId!, { until: "proved" });
    expect(job.status).to.equal("proved");
    expect([job.answer, job.blind]).to.deep.equal([null, null]);
    unloggedRequest = job.requestId;
    expect(await sessions[1]!.partProof.isRequestLogged(grantBrake, job.requestId)).to.equal(false);
    expect(await loggedFor(grantBrake)).to.equal(logged);
  });

  it("shows the auditor the access log, the unlogged answer highlighted, tables, charts and downloads", async function () {
    const page = await open("auditor");
    const status = page.locator("#audit-status");
    expect(await status.getAttribute("data-anomalies")).to.equal("1");
    expect(await status.textContent()).to.match(
      /4 log entries, 4 proofs re-verified in this browser/,
    );
    const anomalies = page.locator("#anomalies tr[data-anomaly]");
    expect(
      await anomalies.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-anomaly"))),
    ).to.deep.equal(["COMPUTED_NOT_LOGGED"]);
    const row = page.locator("#anomalies tr.anomaly[data-anomaly='COMPUTED_NOT_LOGGED']");
    expect(await row.locator("td").nth(1).locator("span[title]").getAttribute("title")).to.equal(
      unloggedRequest,
    );
    expect(await row.locator("td").nth(2).textContent()).to.equal(grantBrake.toString());
    expect(await row.textContent()).to.include("no log entry");
    // the answer is not on the chain, so no logged answer of the timeline is implicated
    expect(await page.locator("#timeline tr.anomaly").count()).to.equal(0);
    expect(await page.locator("#timeline tr[data-event='answer logged']").count()).to.equal(4);
    expect(await page.locator("#per-consumer tbody tr").count()).to.equal(1);
    expect(await page.locator("#per-consumer tbody tr.anomaly").count()).to.equal(1);
    expect(await page.locator("#per-asset tbody tr").count()).to.equal(2);
    expect(await page.locator("#per-asset tbody tr.anomaly").count()).to.equal(1); // Brakeline's
    expect(await page.locator("#chart-days svg rect").count()).to.be.at.least(1);
    expect(await page.locator("#chart-quota svg rect.used").count()).to.equal(2);

    const [md] = await Promise.all([page.waitForEvent("download"), page.click("#download-md")]);
    const markdown = await readFile((await md.path())!, "utf8");
    expect(markdown)
      .to.include("# PartProof access-log audit")
      .and.to.include("COMPUTED_NOT_LOGGED")
      .and.to.include(unloggedRequest);
    const [js] = await Promise.all([page.waitForEvent("download"), page.click("#download-json")]);
    const json = JSON.parse(await readFile((await js.path())!, "utf8"));
    expect(json.counts.logEntries).to.equal(4);
    expect(json.counts).to.include({ computedNotLogged: 1, served: 4 });
    expect(json.anomalies.map((a: { type: string }) => a.type)).to.deep.equal([
      "COMPUTED_NOT_LOGGED",
    ]);
    expect(json.anomalies[0].requestId).to.equal(unloggedRequest);
    if (SCREENSHOTS)
      await page.screenshot({ path: path.join(ROOT, "docs", "console-auditor.png") });
  });

  it("fits a phone's width and reaches the roles and the form by keyboard", async function () {
    const page = await open("automaker", { width: 390, height: 844 });
    await expectNoSideScroll(page);
    await page.keyboard.press("Tab"); // skip link
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal(
      "Skip to content",
    );
    const reached: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate(
          () => document.activeElement?.id || document.activeElement?.textContent || "",
        ),
      );
    }
    expect(reached).to.include.members(["Supplier", "Auditor", "q-grant", "q-part", "q-submit"]);
  });

  it("never asked a gateway for records and kept the CSP (no violation)", function () {
    expect(requests.length).to.be.greaterThan(20);
    expect(requests.filter((r) => /\/records\b/.test(r))).to.deep.equal([]);
    expect(cspViolations).to.deep.equal([]);
  });

  /**
   * The question shapes of the CLI in the console, on a day-ordered delivery asset of Gearworks
   * (every plant × a date window is one range): a metric in words and units, a monthly series
   * drawn as a chart with the month below k as a gap, and a question signed by an injected
   * EIP-1193 wallet whose every request a real node answers (its own signing of an unlocked
   * account), and a filtered metric on a `quality-eol3` asset. Answers are compared with plain
   * TypeScript over the rows generated here.
   */
  describe("metrics, series, every plant and the injected wallet", function () {
    const PART = "GBX-3232455";
    const [A, B] = ["BPNS000000000AUT", "BPNS000000000AU2"];
    /** The wallet's account: a node account that is none of the demo roles. */
    const wallet = devAccount(9);
    /** July 3 deliveries (both plants), August 1 (below k = 2), September 3. */
    const rows: DeliveryRow[] = [
      ["2026-07-03", A, 100, 4, "2026-07-08"],
      ["2026-07-10", B, 150, 6, "2026-07-14"],
      ["2026-07-20", A, 120, null, "2026-07-25"],
      ["2026-08-12", B, 90, 3, "2026-08-16"],
      ["2026-09-02", A, 200, 5, "2026-09-06"],
      ["2026-09-09", B, 80, 2, "2026-09-12"],
      ["2026-09-21", A, 60, 7, null],
    ].map(([departureDate, plant, quantity, leadTimeDays, dueDate]) => ({
      partNumber: PART,
      plant: plant as string,
      departureDate: departureDate as string,
      quantity: quantity as number,
      leadTimeDays: leadTimeDays as number | null,
      dueDate: dueDate as string | null,
    }));
    /** Brakeline's deliveries of the same part in September (pooled with Gearworks'). */
    const brakeRows: DeliveryRow[] = [
      ["2026-09-04", A, 70],
      ["2026-09-15", B, 110],
      ["2026-09-28", A, 40],
    ].map(([departureDate, plant, quantity]) => ({
      partNumber: PART,
      plant: plant as string,
      departureDate: departureDate as string,
      quantity: quantity as number,
      leadTimeDays: 3,
      dueDate: null,
    }));
    let grantDelivery: bigint;
    let grantWallet: bigint;
    let grantBrakeDelivery: bigint;
    let walletCalls: string[];

    before(async function () {
      // Brakeline's gateway logs again (an earlier test stopped its relayer)
      await playground.restartGateway(1, { relayer: true });
      const schema = schemaOf("delivery-by-day");
      const terms = { validFrom: 0, validUntil: Math.floor(Date.now() / 1000) + 86_400, quota: 20 };
      /** Supplier i publishes delivery rows on a day-ordered asset; returns a grant maker. */
      const publish = async (i: number, data: DeliveryRow[]) => {
        const owner = demoRoles().suppliers[i]!.connect(playground.node.provider);
        const { assetId } = await supplierCli.registerAsset(sessions[i]!, owner, {
          schema: "delivery-by-day",
          endpoint: playground.gateways[i]!.url,
          metadata: `${DEMO_SUPPLIERS[i]!.name} deliveries, keyed part, day, plant`,
        });
        const up = await supplierCli.upload(sessions[i]!, owner, assetId, {
          format: "json",
          rows: data,
        });
        await supplierCli.publishViaGateway(sessions[i]!, owner, up.version);
        return async (to: string, aggregates: string[], fields: string[]) =>
          (
            await supplierCli.grantAccess(
              sessions[i]!,
              owner,
              assetId,
              to,
              policyOf(schema, { aggregates, fields, partNumber: PART, minCohort: K }),
              terms,
            )
          ).grantId;
      };
      const gearworks = await publish(0, rows);
      grantDelivery = await gearworks(
        demoRoles().automaker.address,
        ["sum", "ratio"],
        ["quantity", "leadTimeKnown", "onTime", "leadTimeDays"],
      );
      grantWallet = await gearworks(wallet.address, ["sum"], ["quantity"]);
      const brakeline = await publish(1, brakeRows);
      grantBrakeDelivery = await brakeline(demoRoles().automaker.address, ["sum"], ["quantity"]);
    });

    /** Fills the metric form and submits it from the keyboard (Enter in the part box). */
    async function askMetric(
      page: Page,
      q: {
        grant: bigint;
        metric: string;
        from: string;
        to: string;
        per?: "month";
        pool?: bigint[];
        plant?: string;
      },
    ) {
      const before = await page.locator("article.job").count();
      await page.selectOption("#m-grant", q.grant.toString());
      await page.selectOption("#m-metric", q.metric);
      for (const g of q.pool ?? []) await page.check(`#m-pool input[value='${g}']`);
      await page.fill("#m-part", PART);
      if (!(await page.isDisabled("#m-plant"))) await page.fill("#m-plant", q.plant ?? "");
      await page.fill("#m-from", q.from);
      await page.fill("#m-to", q.to);
      await page.selectOption("#m-per", q.per ?? "");
      await page.focus("#m-part");
      await page.keyboard.press("Enter");
      if (q.per) {
        await page.waitForFunction(
          (n) => document.querySelectorAll("article.job").length > n,
          before,
        );
        await page.waitForSelector(
          "article.series[data-status='done'], article.series[data-status='error']",
          {
            timeout: 10 * 60_000,
          },
        );
        return page.locator("article.series").first();
      }
      return newCard(page, before);
    }

    it("answers a metric in words and units over every plant × a date window", async function () {
      const page = await open("automaker");
      await page.selectOption("#m-grant", grantDelivery.toString());
      expect(await page.isDisabled("#m-plant")).to.equal(true);
      expect(await page.textContent("#m-plant-hint")).to.include("every plant");
      const july = rows.filter((r) => r.departureDate.startsWith("2026-07"));
      expect(new Set(july.map((r) => r.plant)).size).to.equal(2);
      const card = await askMetric(page, {
        grant: grantDelivery,
        metric: "on-time-share",
        from: "2026-07-01",
        to: "2026-07-31",
      });
      expect(await card.getAttribute("data-verified"), (await card.textContent()) ?? "").to.equal(
        "yes",
      );
      const answer = card.locator(".answer");
      expect(await answer.getAttribute("data-metric-value")).to.equal(onTimePercent(july));
      expect(await answer.textContent()).to.match(/^on-time share .*: [\d.]+ %$/);

      // the range form reads the asset's key order too: SUM(quantity) over every plant × July
      await page.selectOption("#q-grant", grantDelivery.toString());
      expect(await page.isDisabled("#q-plant")).to.equal(true);
      const sum = await ask(page, {
        grant: grantDelivery,
        aggregate: "sum",
        fieldA: "quantity",
        part: PART,
        from: "2026-07-01",
        to: "2026-07-31",
      });
      expect(sum.verified, JSON.stringify(sum)).to.equal("yes");
      expect(sum.value).to.equal(String(july.reduce((t, r) => t + r.quantity, 0)));
    });

    it("draws a monthly series, one verified point per month and the month below k a gap with its refusal", async function () {
      const page = await open("automaker");
      const series = await askMetric(page, {
        grant: grantDelivery,
        metric: "lead-time",
        from: "2026-07-01",
        to: "2026-09-30",
        per: "month",
      });
      const got = await series
        .locator("tr[data-period]")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.getAttribute("data-period"),
            tr.getAttribute("data-state"),
            tr.getAttribute("data-value") ?? tr.getAttribute("data-code"),
          ]),
        );
      const month = (m: string) => rows.filter((r) => r.departureDate.startsWith(m));
      expect(month("2026-08").length).to.be.below(K);
      expect(got).to.deep.equal([
        ["2026-07", "verified", leadTimeDays(month("2026-07"))],
        ["2026-08", "refused", "COHORT_BELOW_K"],
        ["2026-09", "verified", leadTimeDays(month("2026-09"))],
      ]);
      expect(await series.locator("tr[data-period='2026-08']").textContent()).to.include(
        "fewer records than the grant's minimum cohort k",
      );
      expect(await series.locator("tr[data-period='2026-07'] summary").textContent()).to.equal(
        "8 of 8 checks passed, verified in this browser",
      );
      const chart = series.locator("svg.chart.line");
      const circles = await chart
        .locator("circle")
        .evaluateAll((cs) => cs.map((c) => c.getAttribute("data-period")));
      expect(circles).to.deep.equal(["2026-07", "2026-09"]);
      expect(await chart.locator("text.gap[data-period='2026-08']").textContent()).to.equal(
        "refused: < k",
      );
      expect(await chart.locator("polyline").count()).to.equal(0); // the gap breaks the line
      if (SCREENSHOTS)
        await series.screenshot({ path: path.join(ROOT, "docs", "console-series.png") });
    });

    it("pools a metric over two suppliers' gateways, each supplier's sums verified in the browser, and names a supplier below k", async function () {
      const page = await open("automaker");
      const sep = [...rows, ...brakeRows].filter((r) => r.departureDate.startsWith("2026-09"));
      const card = await askMetric(page, {
        grant: grantDelivery,
        metric: "delivered-qty",
        from: "2026-09-01",
        to: "2026-09-30",
        pool: [grantBrakeDelivery],
      });
      expect(await card.getAttribute("data-verified"), (await card.textContent()) ?? "").to.equal(
        "yes",
      );
      const total = sep.reduce((s, r) => s + r.quantity, 0);
      expect(await card.locator(".answer").textContent()).to.equal(
        `delivered quantity pooled over 2 suppliers: ${total} pieces over ${sep.length} records`,
      );
      const parts = await card.locator("tr[data-grant] td:nth-child(4)").allTextContents();
      expect(parts.map(Number)).to.deep.equal(
        [rows, brakeRows].map((d) =>
          d
            .filter((r) => r.departureDate.startsWith("2026-09"))
            .reduce((s, r) => s + r.quantity, 0),
        ),
      );

      // a supplier whose window holds fewer than its k refuses the whole question, named, and
      // the suppliers after it are not asked
      const early = brakeRows.filter((r) => r.departureDate <= "2026-09-10");
      expect(early.length).to.be.below(K);
      const refused = await askMetric(page, {
        grant: grantBrakeDelivery,
        metric: "delivered-qty",
        from: "2026-09-01",
        to: "2026-09-10",
        pool: [grantDelivery],
      });
      expect(await refused.getAttribute("data-status")).to.equal("refused");
      const why = refused.locator(".refusal");
      expect(await why.getAttribute("data-code")).to.equal("COHORT_BELOW_K");
      expect(await why.getAttribute("data-grant")).to.equal(grantBrakeDelivery.toString());
      expect(await why.textContent()).to.include("fewer records than the grant's minimum cohort k");
      expect(await refused.locator("tr[data-grant]").count()).to.equal(0);
    });

    it("answers a filtered metric (rework PPM among parts with at least 3 end-of-line tests) on an indicator asset, verified in the browser", async function () {
      // Gearworks' parts of plant 4711 in October: tests 1–5, the boundary (3) reworked and not,
      // a reworked part with fewer tests, and one part after the window
      const eol: QualityRow[] = (
        [
          ["2026-10-01", 3, true],
          ["2026-10-02", 1, true],
          ["2026-10-03", 4, true],
          ["2026-10-04", 5, false],
          ["2026-10-05", 2, false],
          ["2026-10-06", 3, false],
          ["2026-10-07", 1, false],
          ["2026-10-08", 3, true],
          ["2026-10-20", 4, true],
        ] as const
      ).map(([productionDate, tests, reworked]) => ({
        partNumber: PART,
        plant: "4711",
        productionDate,
        hasBeenReworked: reworked,
        numberOfConductedEndOfLineTests: tests,
      }));
      const owner = demoRoles().suppliers[0]!.connect(playground.node.provider);
      const { assetId } = await supplierCli.registerAsset(sessions[0]!, owner, {
        schema: "quality-eol3",
        endpoint: playground.gateways[0]!.url,
        metadata: "Gearworks parts with their end-of-line tests",
      });
      const up = await supplierCli.upload(sessions[0]!, owner, assetId, {
        format: "json",
        rows: eol,
      });
      await supplierCli.publishViaGateway(sessions[0]!, owner, up.version);
      const grant = (
        await supplierCli.grantAccess(
          sessions[0]!,
          owner,
          assetId,
          demoRoles().automaker.address,
          policyOf(schemaOf("quality-eol3"), {
            aggregates: ["ratio"],
            fields: ["quantity", "reworked", "eolTests3", "reworkedEolTests3"],
            partNumber: PART,
            minCohort: K,
          }),
          { validFrom: 0, validUntil: Math.floor(Date.now() / 1000) + 86_400, quota: 5 },
        )
      ).grantId;

      const page = await open("automaker");
      await page.selectOption("#m-grant", grant.toString());
      // the grant's policy allows the plain rework rate and both filtered presets of its schema
      expect(
        await page
          .locator("#m-metric option")
          .evaluateAll((os) => os.map((o) => o.getAttribute("value"))),
      ).to.deep.equal(["rework-ppm", "rework-ppm-eol3", "eol3-share"]);
      expect(await page.textContent("#m-filters-note")).to.include("scan window");
      const card = await askMetric(page, {
        grant,
        metric: "rework-ppm-eol3",
        plant: "4711",
        from: "2026-10-01",
        to: "2026-10-08",
      });
      expect(await card.getAttribute("data-verified"), (await card.textContent()) ?? "").to.equal(
        "yes",
      );
      const checks = await card
        .locator("li[data-check]")
        .evaluateAll((lis) =>
          lis.map((li) => [li.getAttribute("data-check"), li.getAttribute("data-state")]),
        );
      expect(Object.fromEntries(checks)).to.deep.equal(
        Object.fromEntries(ALL_CHECKS.map((c) => [c, "ok"])),
      );
      // plain TypeScript over the rows: the window's parts with ≥ 3 tests, and which were reworked
      const tested = eol.filter(
        (r) => r.productionDate <= "2026-10-08" && r.numberOfConductedEndOfLineTests >= 3,
      );
      const reworked = tested.filter((r) => r.hasBeenReworked).length;
      expect([tested.length, reworked]).to.deep.equal([5, 3]);
      const ppm = String(Math.floor((reworked * 1e6) / tested.length));
      const answer = card.locator(".answer");
      expect(await answer.getAttribute("data-metric-value")).to.equal(ppm);
      expect(await answer.textContent()).to.equal(
        `rework rate among parts with at least 3 end-of-line tests: ${ppm} PPM`,
      );
    });

    it("keeps the metric form usable at a phone's width and from the keyboard", async function () {
      const page = await open("automaker", { width: 390, height: 844 });
      await expectNoSideScroll(page);
      await page.focus("#q-submit"); // the range form's last control; the metric form follows
      const reached: string[] = [];
      for (let i = 0; i < 24; i++) {
        await page.keyboard.press("Tab");
        reached.push(await page.evaluate(() => document.activeElement?.id ?? ""));
      }
      expect(reached).to.include.members(["m-grant", "m-metric", "m-part", "m-per", "m-submit"]);
    });

    /** A page whose EIP-1193 wallet forwards every request to a node over JSON-RPC. */
    function walletPage(request: (method: string, params: unknown[]) => Promise<unknown>) {
      return async (page: Page) => {
        await page.exposeFunction("partproofTestWallet", (method: string, params: unknown[]) => {
          walletCalls.push(method);
          // a wallet answers which of its accounts it offers; the node holds that account's key
          if (method === "eth_requestAccounts" || method === "eth_accounts") {
            return [wallet.address];
          }
          return request(method, params ?? []);
        });
        // as text: a transpiled function could carry helpers (esbuild's __name) the page lacks
        await page.addInitScript({
          content:
            "window.partproofWalletListeners = {}; window.ethereum = { request: ({ method, params }) => window.partproofTestWallet(method, params || []), on: (e, f) => (window.partproofWalletListeners[e] ||= []).push(f) };",
        });
      };
    }

    it("signs with an injected EIP-1193 wallet (a real node signs) and refuses a wallet on another chain", async function () {
      walletCalls = [];
      const page = await open("automaker", undefined, walletPage(nodeRpc(playground.node.url)));
      await page.click("#account button:has-text('Connect wallet')");
      await page.waitForSelector(`#account-address:has-text('${wallet.address}')`);
      // the view re-rendered for the wallet's account: its one grant, none of the automaker's
      await page.waitForSelector(`#grants tr[data-grant='${grantWallet}']`);
      await loaded(page);
      expect(await page.locator("#grants tr[data-grant]").count()).to.equal(1);
      const card = await askMetric(page, {
        grant: grantWallet,
        metric: "delivered-qty",
        from: "2026-07-01",
        to: "2026-09-30",
      });
      expect(await card.getAttribute("data-verified"), (await card.textContent()) ?? "").to.equal(
        "yes",
      );
      const total = rows.reduce((s, r) => s + r.quantity, 0);
      expect(await card.locator(".answer").textContent()).to.equal(
        `delivered quantity: ${total} pieces over ${rows.length} records`,
      );
      expect(walletCalls).to.include("eth_signTypedData_v4");
      // the gateway verified the wallet's signature: the chain logged the answer to the wallet
      const pp = sessions[0]!.partProof;
      const logged = await pp.queryFilter(pp.filters.AnswerRecorded(grantWallet));
      expect(logged.map((e) => e.args.consumer)).to.deep.equal([wallet.address]);

      // the wallet switches chains: the console lets it go and says so (it signs nothing more)
      await page.evaluate(() =>
        (
          globalThis as unknown as {
            partproofWalletListeners: Record<string, ((chainId: string) => void)[]>;
          }
        ).partproofWalletListeners.chainChanged!.forEach((f) => f("0xaa36a7")),
      );
      await page.locator("#account .error[role=alert]").filter({ hasText: "switched" }).waitFor();
      expect(await page.textContent("#account .error[role=alert]")).to.equal(
        "the wallet switched chains: connect it again",
      );
      await loaded(page);
      expect(await page.textContent("#account-address")).to.equal(demoRoles().automaker.address);

      const other = await network.create({ override: { chainId: 11155111 } });
      try {
        const wrong = await open(
          "automaker",
          undefined,
          walletPage((method, params) => other.provider.request({ method, params })),
        );
        await wrong.click("#account button:has-text('Connect wallet')");
        const alert = wrong.locator("#account .error[role=alert]");
        await alert.filter({ hasText: "chain" }).waitFor();
        expect(await alert.textContent()).to.equal(
          "the wallet is on chain 11155111; switch it to chain 31337",
        );
        expect(await wrong.textContent("#account-address")).not.to.equal(wallet.address);
      } finally {
        await other.close();
      }
    });

    it("never asked a gateway for records with the new forms either, and kept the CSP", function () {
      // metric 1, range 1, series 3, pooled 2, wallet 1: the questions of this block, at least
      const asked = requests.filter((r) => /^POST \S+\/queries$/.test(r));
      expect(asked.length).to.be.at.least(8);
      expect(requests.filter((r) => /\/records\b/.test(r))).to.deep.equal([]);
      expect(cspViolations).to.deep.equal([]);
    });
  });
});
