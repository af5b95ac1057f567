/**
 * `partproof auditor sample`: the auditor derives a published version's challenge from the chain
 * itself, fetches the gateway's AuditPath proofs and checks each (public inputs, then a batched
 * Groth16 verification against the built audit_d4 key); the sample is kept in the report folder
 * and `renderMarkdown` shows it with the bound.
 *
 * The targeted circuit checks (a fake sibling with count 0, a wrong nextKey, a negative sum, a
 * root whose count differs) are in test/circuits/audit_path.test.ts; here the auditor's own
 * checks: a gateway that cannot prove (its published count differs from its tree's), and a
 * gateway's answer altered to dodge the challenge (a challenged leaf left out, another leaf's
 * proof in its place, a proof claiming another count or root, a broken proof).
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, type JsonRpcProvider } from "ethers";
import { demoAudit } from "../../scripts/lib/demo-audit.js";
import { auditChallenge, auditIndices, auditProofsDigest } from "../../protocol/audit.js";
import { GatewayClient } from "../../protocol/client.js";
import { versionIdOf } from "../../protocol/contract.js";
import { loadVerificationKeys } from "../../protocol/manifest.js";
import type { Groth16VerificationKey } from "../../protocol/batch-verify.js";
import { circuitId } from "../../circuits/lib/signals.js";
import { checkAuditProofs, checkedProofs } from "../../cli/auditor.js";
import { describeAttestation } from "../../cli/format.js";
import { domainOf } from "../../cli/session.js";
import { renderMarkdown } from "../../cli/report-markdown.js";
import { audit } from "../../cli/auditor.js";
import { generateQuality, toCatenaX } from "../../scripts/lib/demo-data.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { startCliWorld, SUPPLIER, type CliWorld } from "./world.js";

async function mine(w: CliWorld, n: number) {
  const p = w.session.provider as unknown as { send(m: string, a: unknown[]): Promise<unknown> };
  await p.send("hardhat_mine", [`0x${n.toString(16)}`]);
}

describe("auditor sample", function () {
  let w: CliWorld;
  let out: string;

  before(async function () {
    w = await startCliWorld({
      envPrefix: "AUDIT_SAMPLE",
      seed: "audit-sample",
      aggregates: "count",
    });
    out = await mkdtemp(path.join(tmpdir(), "partproof-audit-sample-"));
  });

  after(async function () {
    await w?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  /** `auditor sample` of version `version` of the world's asset with t draws, kept in `out`. */
  const sampleCli = (version: number, t: number, ...more: string[]) =>
    w.cli(
      "automaker",
      "auditor",
      "sample",
      "--asset",
      w.assetId,
      "--version",
      String(version),
      "--t",
      String(t),
      "--out",
      out,
      ...more,
    );

  it("says the seed block is not mined yet, and samples nothing", async function () {
    const r = await sampleCli(1, 4);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/seed of version 1 is the hash of block \d+, not mined yet/);
  });

  it("the demo's chapter mines to the seed block, samples the version and rewrites the report with the bound", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "partproof-demo-audit-"));
    try {
      const lines: string[] = [];
      const samples = await demoAudit({
        sessions: [w.session],
        assets: [BigInt(w.assetId)],
        provider: w.session.provider as unknown as JsonRpcProvider,
        report: await audit(w.session, {}),
        outDir: dir,
        say: (l) => lines.push(l),
        t: 3,
      });
      expect(samples.map((x) => [x.version, x.passed, x.t])).to.deep.equal([[1, true, 3]]);
      expect(await w.session.provider.getBlockNumber()).to.be.at.least(samples[0]!.seedBlock);
      expect(lines[0]).to.include("every proof verifies");
      expect(lines.slice(1)).to.deep.equal(
        [0.1, 0.01, 0.001].map(
          (f) =>
            `a tree with ${f * 100}% of its links malformed survives 3 draws with probability ≤ ${Math.pow(1 - f, 3).toPrecision(3)}`,
        ),
      );
      const md = await readFile(path.join(dir, "report.md"), "utf8");
      expect(md).to.include("## Audits by public randomness");
      expect(md).to.include("| 10% | 0.729 |");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes a version of an honest gateway, keeps the sample, and the report states the bound", async function () {
    await mine(w, 5);
    const r = await sampleCli(1, 20);
    expect(r.code, r.err).to.equal(0);
    const sample = r.json();
    const versionId = versionIdOf(BigInt(w.assetId), 1);
    const seed = (await w.session.reader.auditSeed(versionId))!.seed!;
    const v = (await w.session.reader.getVersion(versionId))!;
    expect(sample.passed).to.equal(true);
    expect(sample.findings).to.deep.equal([]);
    expect(sample.seed).to.equal(seed);
    expect(sample.distinct).to.equal(
      new Set(auditIndices(versionId, seed, v.recordCount, v.treeDepth, 20)).size,
    );
    expect(sample.bound.map((b: { escape: number }) => b.escape)).to.deep.equal(
      [0.1, 0.01, 0.001].map((f) => Math.pow(1 - f, 20)),
    );
    const kept = JSON.parse(await readFile(path.join(out, "audit-samples.json"), "utf8"));
    expect(kept).to.have.length(1);
    // `auditor report` in the same folder renders the samples kept there
    const exportFile = path.join(out, "export.json");
    await writeFile(
      exportFile,
      JSON.stringify({
        partProof: w.session.deployment.partProof,
        chainId: "31337",
        exportedAt: new Date().toISOString(),
        answers: [],
        refusals: [],
        refusalsPerGrant: {},
      }),
    );
    const rep = await w.cli("automaker", "auditor", "report", "--export", exportFile, "--out", out);
    expect(rep.code, rep.err).to.equal(0);
    const written = await readFile(path.join(out, "report.md"), "utf8");
    expect(written).to.include("## Audits by public randomness");
    // it looked for attestations on-chain and found none (yet)
    expect(written).to.include("## Attestations on-chain");
    expect(written).to.include("No version was attested in this block range.");
    expect(written).to.include(
      `| ${w.assetId} | 1 | ${v.recordCount} | ${sample.seedBlock} | 20 |`,
    );
    const md = renderMarkdown({ ...(await audit(w.session, {})), samples: kept });
    expect(md).to.include("## Audits by public randomness");
    expect(md).to.include(`| ${w.assetId} | 1 | ${v.recordCount} |`);
    expect(md).to.include("| 10% | 0.122 |"); // 0.9^20
    expect(md).to.include("| 1% | 0.818 |"); // 0.99^20
    expect(md).to.include("proportional to the chance of being caught");
  });

  it("catches each answer altered to dodge the challenge, at the leaf where it was altered", async function () {
    const versionId = versionIdOf(BigInt(w.assetId), 1);
    const seed = (await w.session.reader.auditSeed(versionId))!.seed!;
    const v = (await w.session.reader.getVersion(versionId))!;
    const t = 20;
    const indices = auditIndices(versionId, seed, v.recordCount, v.treeDepth, t);
    const challenge = auditChallenge(versionId, seed);
    const expected = { root: v.root, recordCount: v.recordCount, challenge, indices };
    const honest = await new GatewayClient(w.gw.url, domainOf(w.session)).audit(
      BigInt(w.assetId),
      1,
      t,
    );
    const vkey = (await loadVerificationKeys()).get(circuitId("audit_d4").toLowerCase())!
      .vkey as Groth16VerificationKey;
    expect(await checkAuditProofs(expected, honest, vkey)).to.deep.equal([]);
    const [first, second] = honest.proofs;
    expect(second, "the sample opens two leaves at least").to.not.equal(undefined);

    // the challenged leaf left out (a gateway that cannot prove a malformed link)
    const dropped = { proofs: honest.proofs.filter((p) => p.index !== first!.index) };
    expect(await checkAuditProofs(expected, dropped, vkey)).to.deep.equal([
      { check: "missing-proof", index: first!.index, detail: `no proof for leaf ${first!.index}` },
    ]);
    // another leaf's (valid) proof relabelled as the challenged one
    const swapped = {
      proofs: honest.proofs.map((p) =>
        p.index === first!.index ? { ...second!, index: first!.index } : p,
      ),
    };
    const s = await checkAuditProofs(expected, swapped, vkey);
    expect(s.map((f) => [f.check, f.index])).to.deep.equal([["public-inputs", first!.index]]);
    expect(s[0]!.detail).to.include("index");
    // a proof claiming another record count (a tree whose root count is not the published one)
    const recount = {
      proofs: honest.proofs.map((p) =>
        p.index === first!.index
          ? {
              ...p,
              publicSignals: [
                p.publicSignals[0]!,
                p.publicSignals[1]!,
                p.publicSignals[2]!,
                String(v.recordCount + 1n),
              ],
            }
          : p,
      ),
    };
    const c = await checkAuditProofs(expected, recount, vkey);
    expect(c.map((f) => [f.check, f.index])).to.deep.equal([["public-inputs", first!.index]]);
    expect(c[0]!.detail).to.include("recordCount");
    // the same public inputs the auditor expects, with a proof that is not theirs
    const forged = {
      proofs: honest.proofs.map((p) =>
        p.index === first!.index ? { ...p, proof: { ...p.proof, pi_a: second!.proof.pi_a } } : p,
      ),
    };
    expect(
      (await checkAuditProofs(expected, forged, vkey)).map((f) => [f.check, f.index]),
    ).to.deep.equal([["invalid-proof", first!.index]]);
    // the gateway's own seed is not used: proofs for another challenge fail at the challenge
    const other = { ...expected, challenge: challenge + 1n };
    const o = await checkAuditProofs(other, honest, vkey);
    expect(o).to.have.length(new Set(indices).size);
    expect(o.every((f) => f.check === "public-inputs" && f.detail.includes("challenge"))).to.equal(
      true,
    );
  });

  it("attests a passed sample on-chain (--attest), and the automaker's verify and catalogue show the version attested", async function () {
    const versionId = versionIdOf(BigInt(w.assetId), 1);
    // below the contract's minimum (300 by default) nothing is sampled, and it says why
    const low = await sampleCli(1, 20, "--attest");
    expect(low.code).to.equal(2);
    expect(low.err).to.include("--attest needs t ≥ 300 (the contract's minimum)");
    expect((await w.session.reader.versionAttestations(versionId))!.attestations).to.deep.equal([]);
    // the deployer (AUDIT_ADMIN_ROLE) lowers it for this depth-4 world
    const admin = new Wallet(devAccount(0).privateKey, w.session.provider);
    await (await w.session.partProof.connect(admin).setMinAuditSamples(20)).wait();

    const r = await sampleCli(1, 20, "--attest"); // the gateway kept these 20 proofs
    expect(r.code, r.err).to.equal(0);
    const sample = r.json();
    expect(sample.passed).to.equal(true);
    expect(sample.attestation.attester).to.equal(devAccount(3).address);
    // the digest names exactly the proofs checked: one per opened leaf, as the gateway serves them
    const v = (await w.session.reader.getVersion(versionId))!;
    const indices = auditIndices(versionId, sample.seed, v.recordCount, v.treeDepth, 20);
    const expected = {
      root: v.root,
      recordCount: v.recordCount,
      challenge: auditChallenge(versionId, sample.seed),
      indices,
    };
    const served = await new GatewayClient(w.gw.url, domainOf(w.session)).audit(
      BigInt(w.assetId),
      1,
      20,
    );
    const digest = auditProofsDigest(checkedProofs(expected, served));
    expect(sample.proofsDigest).to.equal(digest);
    const state = (await w.session.reader.versionAttestations(versionId))!;
    expect(state.seed).to.deep.equal({
      seedBlock: sample.seedBlock,
      seed: sample.seed,
      anchored: true,
    });
    expect(state.attestations).to.deep.equal([
      {
        attester: devAccount(3).address,
        t: 20,
        attestedBlock: sample.attestation.block,
        proofsDigest: digest,
      },
    ]);
    // the same attester again with the same t: the contract refuses, the CLI says so
    const again = await sampleCli(1, 20, "--attest");
    expect(again.code).to.equal(2);
    expect(again.err).to.include("AttestationNotStronger");

    // an answer over version 1: `query` and `verify` read the attestation from the chain
    const asked = await w.ask("--aggregate", "count", "--version", versionId.toString());
    expect(asked.code, asked.err).to.equal(0);
    const verified = await w.cli("automaker", "automaker", "verify", asked.json().job.jobId);
    expect(verified.code, verified.err).to.equal(0);
    const { attestation } = verified.json();
    expect(attestation).to.deep.equal({
      versionId: versionId.toString(),
      attested: true,
      minT: 20,
      attestations: [
        { attester: devAccount(3).address, t: 20, attestedBlock: sample.attestation.block },
      ],
    });
    expect(describeAttestation(attestation)).to.equal(
      `version 1 of asset ${w.assetId}: attested by ${devAccount(3).address} (t = 20, block ${sample.attestation.block})`,
    );
    // the catalogue: the CLI's from the chain, the gateway's as a convenience
    const assets = await w.cli("automaker", "automaker", "assets");
    expect(assets.code, assets.err).to.equal(0);
    const mine = assets.json().assets.find((a: { assetId: string }) => a.assetId === w.assetId);
    expect(mine.versions[0]).to.include({ number: 1, attested: true });
    const described = await new GatewayClient(w.gw.url, domainOf(w.session)).asset(
      BigInt(w.assetId),
    );
    expect(described.versions[0]!.attestations).to.deep.equal([
      { attester: devAccount(3).address, t: 20, attestedBlock: sample.attestation.block },
    ]);
    // and the auditor's report lists it
    const exportFile = path.join(out, "export.json");
    const rep = await w.cli("automaker", "auditor", "report", "--export", exportFile, "--out", out);
    expect(rep.code, rep.err).to.equal(0);
    expect(rep.json().attestations.map((a: { t: number }) => a.t)).to.deep.equal([20]);
    const md = await readFile(path.join(out, "report.md"), "utf8");
    expect(md).to.include("## Attestations on-chain");
    expect(md).to.include(`| ${w.assetId} | 1 | ${devAccount(3).address} | 20 |`);
  });

  it("fails a version whose published recordCount differs from its tree's count: the gateway has no proof", async function () {
    // a second data set, built by the gateway, published from the owner's account with one
    // record more than its tree holds (what a supplier that signs without checking may do)
    const rows = generateQuality(SUPPLIER, {
      from: "2026-08-01",
      days: 5,
      perDay: [1, 1],
      seed: "audit-count",
    });
    const file = path.join(w.work, "count.json");
    await writeFile(file, JSON.stringify(toCatenaX(SUPPLIER, rows)));
    const up = await w.cli(
      "supplier",
      "supplier",
      "upload",
      w.assetId,
      file,
      "--replace",
      "--no-publish",
    );
    expect(up.code, up.err).to.equal(0);
    const local = up.json().version;
    const owner = new Wallet(devAccount(1).privateKey, w.session.provider);
    const tx = await w.session.partProof
      .connect(owner)
      .publishVersion(
        BigInt(w.assetId),
        BigInt(local.root),
        BigInt(local.recordCount + 1),
        local.treeDepth,
        local.paramsHash,
      );
    await tx.wait();
    await mine(w, 5);
    const r = await sampleCli(2, 5);
    expect(r.code).to.equal(1);
    expect(r.err).to.include("the audit of asset");
    const kept = JSON.parse(await readFile(path.join(out, "audit-samples.json"), "utf8"));
    const failed = kept.find((s: { version: number }) => s.version === 2);
    expect(failed.passed).to.equal(false);
    expect(failed.findings).to.have.length(1);
    expect(failed.findings[0].check).to.equal("gateway-refused");
    expect(failed.findings[0].detail).to.include("AUDIT_FAILED");
    // with --attest (t meets the minimum set above) the failed sample is not attested
    const a = await sampleCli(2, 20, "--attest");
    expect(a.code).to.equal(1);
    expect(a.err).to.include("nothing was attested");
    const v2 = versionIdOf(BigInt(w.assetId), 2);
    expect((await w.session.reader.versionAttestations(v2))!.attestations).to.deep.equal([]);
  });
});
