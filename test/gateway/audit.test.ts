/**
 * GET /assets/:assetId/versions/:number/audit: the AuditPath proofs of a published version's
 * challenge, derived by the gateway from the chain (the hash of the block 5 after publication),
 * proved in the prover pool and followed as a job (202 until done).
 */
import { expect } from "chai";
import path from "node:path";
import { auditChallenge, auditIndices } from "../../protocol/audit.js";
import { versionIdOf } from "../../protocol/contract.js";
import { AUDIT_T_MAX } from "../../protocol/api.js";
import { startCliWorld, type CliWorld } from "../cli/world.js";
import { waitUntil } from "../support.js";
import { call, snarkjsVerify } from "./helpers.js";

const AUDIT_VKEY = path.join("circuits", "build", "audit_d4", "audit_d4.vkey.json");

describe("Gateway audit route", function () {
  let w: CliWorld;

  before(async function () {
    w = await startCliWorld({ envPrefix: "AUDIT_ROUTE", seed: "audit-route", aggregates: "count" });
  });

  after(async function () {
    await w?.close();
  });

  const route = (number: number | string, t: number | string = 3) =>
    `/assets/${w.assetId}/versions/${number}/audit?t=${t}`;

  it("refuses with AUDIT_SEED_PENDING while the seed block is not mined, naming that block", async function () {
    const versionId = versionIdOf(BigInt(w.assetId), 1);
    const published = await w.session.reader.versionPublicationBlock(versionId);
    expect(await w.session.provider.getBlockNumber()).to.be.below(published! + 5);
    const r = await call(w.gw.url, "GET", route(1));
    expect(r.status, r.text).to.equal(409);
    expect(r.body.error.code).to.equal("AUDIT_SEED_PENDING");
    expect(r.body.error.details.seedBlock).to.equal(published! + 5);
    expect(r.body.error.message).to.include(`block ${published! + 5}`);
  });

  it("refuses a t that is not an integer in 1..AUDIT_T_MAX with VALIDATION_FAILED naming t", async function () {
    for (const t of ["0", String(AUDIT_T_MAX + 1), "abc", "2.5"]) {
      const r = await call(w.gw.url, "GET", route(1, t));
      expect(r.status, `t=${t}: ${r.text}`).to.equal(400);
      expect(r.body.error.code).to.equal("VALIDATION_FAILED");
      expect(r.body.error.message).to.include("t");
    }
    const extra = await call(
      w.gw.url,
      "GET",
      `/assets/${w.assetId}/versions/1/audit?t=3&seed=0x00`,
    );
    expect(extra.status).to.equal(400);
  });

  it("refuses an unknown version (UNKNOWN_VERSION) and an unknown asset (UNKNOWN_ASSET)", async function () {
    const v = await call(w.gw.url, "GET", route(9));
    expect(v.status, v.text).to.equal(404);
    expect(v.body.error.code).to.equal("UNKNOWN_VERSION");
    const a = await call(w.gw.url, "GET", `/assets/77/versions/1/audit?t=3`);
    expect(a.status, a.text).to.equal(404);
    expect(a.body.error.code).to.equal("UNKNOWN_ASSET");
    const z = await call(w.gw.url, "GET", route(0));
    expect(z.status).to.equal(400);
  });

  it("answers 202 while proving, then one valid proof per distinct challenged index, with public signals (root, index, challenge, recordCount) only", async function () {
    await (
      w.session.provider as unknown as { send(m: string, p: unknown[]): Promise<unknown> }
    ).send("hardhat_mine", ["0x5"]);
    const versionId = versionIdOf(BigInt(w.assetId), 1);
    const v = (await w.session.reader.getVersion(versionId))!;
    const seed = (await w.session.reader.auditSeed(versionId))!.seed!;
    const t = 6;
    const first = await call(w.gw.url, "GET", route(1, t));
    expect(first.status, first.text).to.equal(202);
    expect(first.body.status).to.equal("proving");
    const expected = auditIndices(versionId, seed, v.recordCount, v.treeDepth, t);
    expect(first.body.total).to.equal(new Set(expected).size);
    const done = await waitUntil(
      "the audit's proofs",
      async () => {
        const r = await call(w.gw.url, "GET", route(1, t));
        return r.status === 200 ? r.body : undefined;
      },
      { timeoutMs: 10 * 60_000, pollMs: 250 },
    );
    expect(done.indices).to.deep.equal(expected);
    expect(done.seed).to.equal(seed);
    expect(done.root).to.equal(v.root.toString());
    expect(done.recordCount).to.equal(v.recordCount.toString());
    const challenge = auditChallenge(versionId, seed);
    expect(done.challenge).to.equal(challenge.toString());
    expect(done.proofs.map((p: { index: number }) => p.index)).to.deep.equal(
      [...new Set(expected)].sort((a, b) => a - b),
    );
    for (const p of done.proofs) {
      expect(p.publicSignals).to.deep.equal([
        v.root.toString(),
        String(p.index),
        challenge.toString(),
        v.recordCount.toString(),
      ]);
      expect(await snarkjsVerify(AUDIT_VKEY, p.publicSignals, p.proof)).to.equal(true);
    }
    // fewer draws are the first draws of the same challenge: answered from the proofs made,
    // so varying t cannot make the gateway prove a leaf twice
    const fewer = await call(w.gw.url, "GET", route(1, 3));
    expect(fewer.status, fewer.text).to.equal(200);
    expect(fewer.body.indices).to.deep.equal(expected.slice(0, 3));
    expect(fewer.body.proofs.map((p: { index: number }) => p.index)).to.deep.equal(
      [...new Set(expected.slice(0, 3))].sort((a, b) => a - b),
    );
    // another index in the public signals does not verify: the proof is bound to its index
    const p0 = done.proofs[0];
    const moved = [p0.publicSignals[0], String(p0.index + 1), ...p0.publicSignals.slice(2)];
    expect(await snarkjsVerify(AUDIT_VKEY, moved, p0.proof)).to.equal(false);
  });
});
