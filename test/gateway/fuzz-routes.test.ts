/**
 * Route fuzzing (fast-check, issue 16): every gateway route gets FUZZ_RUNS generated requests
 * (default 1,000 per route; the soak raises it) — arbitrary JSON and non-JSON bodies, content
 * types, path parameters, query strings and the signed-read headers, unsigned, signed by a
 * stranger, and signed by the right party over fuzzed fields — against a real gateway (port 0,
 * real LevelDB) on the in-process chain. Every response must be below 500, and match the
 * protocol (`checkResponse`: a 4xx body is `api.errorResponseSchema`, a 2xx body its route's
 * schema). The slowest response per route, and in soak mode (FUZZ_RUNS above the default) the
 * count of responses of 1 s or more, are printed — figures, never asserted (a loaded machine is
 * slow); FUZZ_FIGURES_FILE names a file that gets them as JSON (`npm run soak` reads it).
 *
 * No fuzzed query can start a proof: the one grant of the consumer has quota 1, taken by a query
 * accepted in before(), so a signed query that passes every other check is refused with
 * QUOTA_EXCEEDED (the quota counts answers in flight).
 */
import { writeFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import { Wallet, type Signer } from "ethers";
import { network } from "hardhat";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  signPublish,
  signQuery,
  signRead,
  signUpload,
  type Domain,
  type QueryMessage,
  type ReadAction,
} from "../../protocol/typed-data.js";
import { assetWithGrant, call, gateway, openPolicy, publishLocal, requestId } from "./helpers.js";
import { checkResponse } from "./responses.js";

const DEFAULT_RUNS = 1_000;
const RUNS = Number(process.env.FUZZ_RUNS ?? DEFAULT_RUNS);
/** Soak mode: more runs than CI's; responses of BOUND_MS or more are counted and printed. */
const SOAK = RUNS > DEFAULT_RUNS;
const BOUND_MS = 1_000;
/** The GET routes of the first test, each fuzzed on its own. */
const KNOWN_GETS: readonly string[] = ["/health", "/metrics", "/assets"];

const PART = "GBX-3232455";
const PLANT = "4711";
const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    partNumber: PART,
    plant: PLANT,
    productionDate: `2026-07-${String(1 + (i % 28)).padStart(2, "0")}`,
    hasBeenReworked: i % 3 === 0,
    numberOfConductedEndOfLineTests: 1 + (i % 4),
  }));

/** One generated request. */
interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

describe("gateway routes under fuzzing (fast-check)", function () {
  let gw: Awaited<ReturnType<typeof gateway>>;
  let domain: Domain;
  let owner: Signer;
  let consumer: Signer;
  let gatewayId: string;
  let ownerAddr: string;
  let consumerAddr: string;
  /** Slowest response per route (ms) and the request count. */
  const slowest = new Map<
    string,
    { ms: number; n: number; slow: number; statuses: Map<string, number> }
  >();

  before(async function () {
    const conn = await network.create();
    const signers = await conn.ethers.getSigners();
    owner = signers[1]!;
    consumer = signers[2]!;
    ownerAddr = await owner.getAddress();
    consumerAddr = await consumer.getAddress();
    const env = await assetWithGrant(
      conn as never,
      owner,
      consumer,
      QUALITY,
      openPolicy(PART, 2),
      1,
    );
    domain = env.domain;
    gw = await gateway(conn.ethers, env.address, signers[5]!, {
      over: { auditors: [consumerAddr] },
    });
    gatewayId = (await call(gw.url, "GET", "/health")).body.gatewayId;
    const up = await call(
      gw.url,
      "POST",
      "/assets/1/uploads",
      await signUpload(owner, domain, 1n, { format: "json", rows: rows(8) }),
    );
    expect(up.status).to.equal(201);
    const pub = await publishLocal(gw, env.pp, owner, domain, 1n, up.body.version);
    expect(pub.status, JSON.stringify(pub.body)).to.equal(201);
    // the grant's one answer, in flight: every later query is refused by quota at the latest
    const taken = await call(
      gw.url,
      "POST",
      "/queries",
      await signQuery(consumer, domain, validQuery()),
    );
    expect(taken.status, JSON.stringify(taken.body)).to.equal(202);
  });

  after(async function () {
    await gw?.close();
    const lines = [...slowest.entries()].map(
      ([route, s]) =>
        `  ${route.padEnd(44)} ${String(s.n).padStart(6)} requests, slowest ${s.ms.toFixed(0).padStart(5)} ms${SOAK ? `, ≥ 1 s: ${s.slow}` : ""}, statuses ${[
          ...s.statuses.entries(),
        ]
          .sort()
          .map(([k, v]) => `${k}×${v}`)
          .join(" ")}`,
    );
    console.log(
      `\n  route fuzzing, ${RUNS} cases per route (slowest response per route):\n${lines.join("\n")}`,
    );
    if (process.env.FUZZ_FIGURES_FILE)
      writeFileSync(
        process.env.FUZZ_FIGURES_FILE,
        JSON.stringify(
          [...slowest.entries()].map(([route, r]) => ({
            route,
            requests: r.n,
            atLeast500: [...r.statuses.entries()]
              .filter(([k]) => Number(k.split(" ")[0]) >= 500)
              .reduce((a, [, v]) => a + v, 0),
            slow: r.slow,
            slowestMs: r.ms,
          })),
        ),
      );
  });

  function validQuery(over: Partial<QueryMessage> = {}): QueryMessage {
    const { keyLo, keyHi } = keyRange({
      partNumber: PART,
      plant: PLANT,
      from: "2026-07-01",
      to: "2026-07-31",
    });
    return {
      grantId: 1n,
      assetId: 1n,
      versionId: 0n,
      kind: AggregateKind.Count,
      fieldA: 0,
      fieldB: 0,
      lo: keyLo,
      hi: keyHi,
      threshold: 0n,
      requestId: requestId(),
      nonce: BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
      ...over,
    };
  }

  /** Sends `req`; asserts < 500 and the protocol's shape; records the time under `route`. */
  async function send(route: string, req: Req): Promise<number> {
    const t0 = performance.now();
    const res = await fetch(gw.url + req.path, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    const s = slowest.get(route) ?? { ms: 0, n: 0, slow: 0, statuses: new Map() };
    s.ms = Math.max(s.ms, ms);
    s.n++;
    if (ms >= BOUND_MS) s.slow++;
    const code = res.status >= 400 ? /"code":"(\w+)"/.exec(text)?.[1] : undefined;
    const key = code ? `${res.status} ${code}` : String(res.status);
    s.statuses.set(key, (s.statuses.get(key) ?? 0) + 1);
    slowest.set(route, s);
    const what = `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.slice(0, 300) ?? ""}`;
    expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).to.be.below(500);
    checkResponse(req.method, req.path, {
      status: res.status,
      contentType: res.headers.get("content-type"),
      text,
    });
    return res.status;
  }

  // ---- generators shared by the routes

  const contentType = fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "",
  );
  /** A body: arbitrary JSON, deep or long JSON, or text that is not JSON. */
  const junkBody = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.integer({ min: 1, max: 200 }).map((d) => "[".repeat(d) + "]".repeat(d)),
    fc.constantFrom(
      "{",
      '{"a":',
      "\u0000",
      "null",
      "[]",
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{}}}',
    ),
  );
  /**
   * A path segment: a decimal, a huge number, text, or percent-escapes (some malformed). Never
   * empty: express routes `/assets/` as `/assets`, another route.
   */
  const segment = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
    fc.constantFrom(
      "1",
      "0",
      "-1",
      "1e3",
      "0x1",
      "%",
      "%zz",
      "%00",
      ".",
      "..",
      "%2e%2e",
      "null",
      "undefined",
      " 1",
    ),
    fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  );
  const headers = (ct: string, extra: Record<string, string> = {}) => ({
    ...(ct ? { "content-type": ct } : {}),
    ...extra,
  });
  /** The signed-read headers: absent, fuzzed, or a real Read signature by `who` for `action`. */
  type SignedRead = { who: string; skew: number; action: ReadAction; assetId: bigint };
  const readHeaders = (
    action: ReadAction,
    assetId: bigint,
  ): fc.Arbitrary<Record<string, string> | SignedRead> =>
    fc.oneof<fc.Arbitrary<Record<string, string> | SignedRead>[]>(
      fc.constant({}),
      fc.record(
        {
          "x-partproof-gateway": fc.oneof(
            fc.constant(gatewayId),
            fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
          ),
          "x-partproof-timestamp": fc.oneof(
            fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
            fc.constantFrom("", "x", "-1", String(Math.floor(Date.now() / 1000))),
          ),
          "x-partproof-signature": fc.oneof(
            fc.constantFrom("0x", "0x" + "11".repeat(65), "0x" + "00".repeat(65)),
            fc
              .uint8Array({ minLength: 0, maxLength: 70 })
              .map((b) => "0x" + Buffer.from(b).toString("hex")),
          ),
        },
        { requiredKeys: [] },
      ),
      fc
        .tuple(
          fc.constantFrom("owner", "consumer", "stranger"),
          fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: -4000, max: 4000 })),
        )
        .map(([who, skew]) => ({ who, skew, action, assetId })),
    );
  async function resolveHeaders(h: Record<string, string> | SignedRead) {
    if (!("who" in h) || typeof h.who !== "string") return h as Record<string, string>;
    const r = h as SignedRead;
    const signer =
      r.who === "owner" ? owner : r.who === "consumer" ? consumer : Wallet.createRandom();
    return signRead(
      signer,
      domain,
      r.action,
      r.assetId,
      gatewayId,
      BigInt(Math.floor(Date.now() / 1000) + r.skew),
    );
  }
  const run = (p: fc.IAsyncPropertyWithHooks<never> | fc.IAsyncProperty<never>) =>
    fc.assert(p, { numRuns: RUNS });

  // ---- routes

  it("GET /health, /metrics, /assets and unknown routes: never ≥ 500", async function () {
    // each of the three GET routes gets RUNS cases of its own, and the other routes (unknown
    // paths, and the known ones with another method) RUNS more: none shares its count
    for (const p of KNOWN_GETS) {
      await run(
        fc.asyncProperty(
          fc.option(fc.webQueryParameters(), { nil: undefined }),
          contentType,
          async (q, ct) => {
            await send(`GET ${p}`, {
              method: "GET",
              path: p + (q ? `?${q}` : ""),
              headers: headers(ct),
            });
          },
        ) as never,
      );
    }
    const others = [
      "/health",
      "/metrics",
      "/assets",
      "/nope",
      "/assets/1/nope",
      "/jobs",
      "/queries",
    ]
      .flatMap((p) => ["GET", "POST", "PUT", "DELETE", "PATCH"].map((m) => [p, m] as const))
      .filter(([p, m]) => !(m === "GET" && KNOWN_GETS.includes(p)));
    await run(
      fc.asyncProperty(
        fc.constantFrom(...others),
        fc.option(fc.webQueryParameters(), { nil: undefined }),
        contentType,
        fc.option(junkBody, { nil: undefined }),
        async ([p, method], q, ct, body) => {
          await send("other routes", {
            method,
            path: p + (q ? `?${q}` : ""),
            headers: headers(ct),
            ...(method === "GET" ? {} : { body }),
          });
        },
      ) as never,
    );
    for (const route of [...KNOWN_GETS.map((p) => `GET ${p}`), "other routes"]) {
      expect(slowest.get(route)?.n, route).to.be.at.least(RUNS);
    }
  });

  it("GET /assets/:assetId", async function () {
    await run(
      fc.asyncProperty(
        segment,
        fc.option(fc.webQueryParameters(), { nil: undefined }),
        async (id, q) => {
          await send("GET /assets/:assetId", {
            method: "GET",
            path: `/assets/${id}${q ? `?${q}` : ""}`,
            headers: {},
          });
        },
      ) as never,
    );
  });

  it("POST /assets/:assetId/uploads (unsigned, stranger-signed and owner-signed fuzzed data)", async function () {
    const data: fc.Arbitrary<unknown> = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        format: fc.constant("json"),
        rows: fc.array(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(rows(1)[0])), {
          minLength: 1,
          maxLength: 4,
        }),
      }),
      fc.record({
        format: fc.constant("csv"),
        csv: fc
          .oneof(
            fc.string({ maxLength: 200 }),
            fc.constant(
              "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests\n",
            ),
          )
          .map((s) => s || "x"),
      }),
      fc.record({ format: fc.constant("catenax"), payload: fc.jsonValue({ maxDepth: 3 }) }),
    );
    await run(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: segment }),
        fc.constantFrom("unsigned", "stranger", "owner", "owner-stale", "junk"),
        data,
        junkBody,
        contentType,
        async (asset, how, d, junk, ct) => {
          let body: string;
          if (how === "junk") body = junk;
          else if (how === "unsigned")
            body = JSON.stringify({ data: d, timestamp: "1", signature: "0x" + "22".repeat(65) });
          else {
            const signer = how === "stranger" ? Wallet.createRandom() : owner;
            const ts = BigInt(Math.floor(Date.now() / 1000) - (how === "owner-stale" ? 7200 : 0));
            const assetId = /^\d+$/.test(asset) && BigInt(asset) < 2n ** 64n ? BigInt(asset) : 1n;
            body = JSON.stringify(await signUpload(signer, domain, assetId, d as UploadData, ts));
          }
          await send("POST /assets/:assetId/uploads", {
            method: "POST",
            path: `/assets/${asset}/uploads`,
            headers: headers(how === "junk" ? ct : "application/json"),
            body,
          });
        },
      ) as never,
    );
  });

  it("POST /assets/:assetId/versions/:localId/publish", async function () {
    await run(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: segment }),
        fc.oneof(fc.constantFrom("1", "2", "0"), segment),
        fc.constantFrom("junk", "stranger", "owner"),
        junkBody,
        fc.record({
          root: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
          recordCount: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          treeDepth: fc.bigInt({ min: 0n, max: 255n }),
          nonce: fc.bigInt({ min: 0n, max: 3n }),
          skew: fc.integer({ min: -7200, max: 7200 }),
        }),
        async (asset, local, how, junk, v) => {
          const body =
            how === "junk"
              ? junk
              : JSON.stringify(
                  await signPublish(
                    how === "owner" ? owner : Wallet.createRandom(),
                    domain,
                    {
                      assetId: 1n,
                      root: v.root,
                      recordCount: v.recordCount,
                      treeDepth: v.treeDepth,
                      paramsHash: "0x" + "00".repeat(32),
                    },
                    v.nonce,
                    BigInt(Math.floor(Date.now() / 1000) + v.skew),
                  ),
                );
          await send("POST /assets/:assetId/versions/:localId/publish", {
            method: "POST",
            path: `/assets/${asset}/versions/${local}/publish`,
            headers: headers("application/json"),
            body,
          });
        },
      ) as never,
    );
  });

  it("GET /assets/:assetId/records (signed reads, fuzzed headers and ?version=)", async function () {
    await run(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: segment }),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant("") },
          fc.constantFrom(
            "?version=1",
            "?version=2",
            "?version=0",
            "?version=-1",
            "?version=x",
            "?version=1&version=2",
            "?other=1",
          ),
          fc.webQueryParameters().map((q) => `?${q}`),
        ),
        readHeaders("records", 1n),
        async (asset, q, h) => {
          await send("GET /assets/:assetId/records", {
            method: "GET",
            path: `/assets/${asset}/records${q}`,
            headers: await resolveHeaders(h),
          });
        },
      ) as never,
    );
  });

  it("POST /queries (junk, stranger-signed and consumer-signed queries with fuzzed fields)", async function () {
    const u = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
    const fuzzedQuery = fc.record({
      grantId: fc.oneof({ weight: 6, arbitrary: fc.constant(1n) }, fc.constantFrom(2n, 0n), u(64)),
      assetId: fc.oneof({ weight: 6, arbitrary: fc.constant(1n) }, fc.constantFrom(2n, 0n), u(64)),
      versionId: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0n) },
        fc.constantFrom((1n << 64n) + 1n, (1n << 64n) + 2n),
        u(128),
      ),
      // mostly values the schema takes, so that most queries reach the grant and policy checks
      kind: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: 6 }) },
        fc.integer({ min: 0, max: 255 }),
      ),
      fieldA: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: 3 }) },
        fc.integer({ min: 0, max: 255 }),
      ),
      fieldB: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: 3 }) },
        fc.integer({ min: 0, max: 255 }),
      ),
      range: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.tuple(u(128), u(128))),
      threshold: fc.oneof(fc.constant(0n), u(64)),
      deadlineSkew: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 60, max: 3600 }) },
        fc.integer({ min: -3600, max: 3600 }),
      ),
    });
    await run(
      fc.asyncProperty(
        fc.constantFrom(
          "junk",
          "json",
          "stranger",
          "consumer",
          "consumer",
          "consumer",
          "consumer",
          "consumer-mangled",
        ),
        junkBody,
        fuzzedQuery,
        contentType,
        async (how, junk, f, ct) => {
          let body: string;
          if (how === "junk") body = junk;
          else {
            const q = validQuery({
              grantId: f.grantId,
              assetId: f.assetId,
              versionId: f.versionId,
              kind: f.kind,
              fieldA: f.fieldA,
              fieldB: f.fieldB,
              threshold: f.threshold,
              deadline: BigInt(Math.floor(Date.now() / 1000) + f.deadlineSkew),
              ...(f.range ? { lo: f.range[0], hi: f.range[1] } : {}),
            });
            const signed = await signQuery(
              how === "stranger" ? Wallet.createRandom() : consumer,
              domain,
              q,
            );
            const b: Record<string, unknown> = { ...signed };
            if (how === "json") b.signature = "0x" + "33".repeat(65);
            if (how === "consumer-mangled") (b.query as Record<string, unknown>).kind = junk.length;
            body = JSON.stringify(b);
          }
          await send("POST /queries", {
            method: "POST",
            path: "/queries",
            headers: headers(how === "junk" ? ct : "application/json"),
            body,
          });
        },
      ) as never,
    );
  });

  it("GET /jobs/:id", async function () {
    await run(
      fc.asyncProperty(fc.oneof(fc.uuid().map(String), segment), async (id) => {
        await send("GET /jobs/:id", { method: "GET", path: `/jobs/${id}`, headers: {} });
      }) as never,
    );
  });

  it("GET /consumers/:address/answers (signed reads, fuzzed addresses and headers)", async function () {
    await run(
      fc.asyncProperty(
        fc.oneof(
          fc.constant(consumerAddr),
          fc.constant(ownerAddr),
          fc.constant(consumerAddr.toLowerCase()),
          segment,
          fc
            .uint8Array({ minLength: 20, maxLength: 20 })
            .map((b) => "0x" + Buffer.from(b).toString("hex")),
        ),
        readHeaders("answers", 0n),
        async (addr, h) => {
          await send("GET /consumers/:address/answers", {
            method: "GET",
            path: `/consumers/${addr}/answers`,
            headers: await resolveHeaders(h),
          });
        },
      ) as never,
    );
  });

  it("GET /audit/answers (signed reads, fuzzed ?auditor= and headers)", async function () {
    await run(
      fc.asyncProperty(
        fc.oneof(
          fc.constant(`?auditor=${consumerAddr}`),
          fc.constant(`?auditor=${ownerAddr}`),
          fc.constant(""),
          fc.constant(`?auditor=${consumerAddr}&auditor=${ownerAddr}`),
          fc.webQueryParameters().map((q) => `?${q}`),
          segment.map((s) => `?auditor=${s}`),
        ),
        readHeaders("audit", 0n),
        async (q, h) => {
          await send("GET /audit/answers", {
            method: "GET",
            path: `/audit/answers${q}`,
            headers: await resolveHeaders(h),
          });
        },
      ) as never,
    );
  });
});
