/**
 * Attacks on the automaker's own check (`automaker verify`, `automaker query`): a lying gateway
 * that serves a real, proved and logged answer for another question as the answer of the job the
 * automaker asked. The check must recompute the query hash from the message the automaker signed,
 * compare grant, asset, version and request id with it, ask the chain's registered verifier, and
 * exit non-zero naming the failed checks.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Session } from "../../cli/session.js";
import { loadSignedQuery } from "../../cli/signed-queries.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { startCliWorld, type CliWorld } from "./world.js";

/**
 * A gateway that lies about one job: GET /jobs/<victim> answers with the real view of another
 * job (`replay`), under the victim's job id; everything else is passed to the real gateway.
 */
async function lyingGateway(real: string, victim: string, replay: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url === `/jobs/${victim}` ? `/jobs/${replay}` : (req.url ?? "/");
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const r = await fetch(real + url, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !["host", "content-length"].includes(k)),
        ) as Record<string, string>,
        body,
      });
      let text = await r.text();
      if (url !== req.url) text = text.replace(replay, victim);
      res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "text/plain" });
      res.end(text);
    })();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return server;
}

describe("automaker verify: the answer must be for the question the automaker signed", function () {
  let world: CliWorld;
  let session: Session;
  let gw: CliWorld["gw"];
  let grantId: string;
  const cli = (role: "supplier" | "automaker", ...argv: string[]) => world.cli(role, ...argv);
  const ask = (...q: string[]) => world.ask(...q);

  before(async function () {
    world = await startCliWorld({ envPrefix: "VERIFY", seed: "verify", aggregates: "count,sum" });
    ({ session, gw, grantId } = world);
  });

  after(async function () {
    await world?.close();
  });

  it("fails `verify` with named checks and a non-zero exit when a lying gateway replays the logged answer of another range as the answer of the signed one", async function () {
    const asked = await ask("--aggregate", "count", "--from", "2026-07-01", "--to", "2026-07-07");
    expect(asked.code, asked.err).to.equal(0);
    const victim = asked.json().job.jobId as string;
    const other = await ask("--aggregate", "count", "--from", "2026-07-01", "--to", "2026-07-03");
    expect(other.code, other.err).to.equal(0);
    const replay = other.json().job.jobId as string;

    // honest gateway: every check holds
    const honest = await cli("automaker", "automaker", "verify", victim);
    expect(honest.code, honest.err).to.equal(0);
    const { attestation, ...checks } = honest.json();
    expect(Object.values(checks).every((v) => v === true)).to.equal(true);
    // nobody audited this version: verify says so, from the chain
    expect(attestation).to.include({ attested: false });
    expect(attestation.attestations).to.deep.equal([]);

    const liar = await lyingGateway(gw.url, victim, replay);
    session.gatewayUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    try {
      const r = await cli("automaker", "automaker", "verify", victim);
      expect(r.code).to.not.equal(0);
      const check = r.json();
      // the replayed proof is a valid proof, logged on-chain, over a registered root …
      expect([check.proofValid, check.commitmentOpens, check.rootRegistered]).to.deep.equal([
        true,
        true,
        true,
      ]);
      // … but not of the question, the request or the log entry the automaker signed
      expect(check).to.include({
        questionMatches: false,
        requestMatches: false,
        logMatches: false,
        bindingMatches: false,
      });
      expect(r.err).to.match(/FAILED verification: .*questionMatches/);
    } finally {
      session.gatewayUrl = gw.url;
      await new Promise((ok) => liar.close(ok));
    }
  });

  it("keeps each signed query per job id under PARTPROOF_DATA_DIR, and `verify` without that record refuses to judge", async function () {
    const r = await ask(
      "--aggregate",
      "sum",
      "--field",
      "reworked",
      "--from",
      "2026-07-01",
      "--to",
      "2026-07-07",
    );
    expect(r.code, r.err).to.equal(0);
    const { job } = r.json();
    const kept = await loadSignedQuery(job.jobId);
    expect(kept.message.requestId).to.equal(job.requestId);
    expect(kept.message.grantId.toString()).to.equal(grantId);
    expect(kept.consumer).to.equal(devAccount(3).address);

    // without its own record, the automaker cannot tell what it asked: no verdict, exit 2
    await rm(path.join(process.env.PARTPROOF_DATA_DIR!, "queries", `${job.jobId}.json`));
    const lost = await cli("automaker", "automaker", "verify", job.jobId);
    expect(lost.code).to.equal(2);
    expect(lost.err).to.match(/no signed query of job/);
  });
});
