/**
 * PartProof's invariants under fuzzing (fast-check, issue 16): random sequences of actions by
 * the supplier (revoke, quota and expiry updates, new versions), a relayer (recordAnswer with
 * real range_d4 proofs and consents, or broken ones), strangers (role grants, circuit
 * registration, pausing) and time, against the in-process Hardhat chain. A small model predicts
 * each recordAnswer's outcome (it must succeed exactly when the model says so), and after every
 * action the chain must show:
 *
 * - no entry logged while a grant's quota is used up (an entry is charged; used ≤ quota at every
 *   entry), and used never exceeds quota (a quota set below the use reverts, QuotaBelowUsed);
 * - a request is logged once: one AnswerRecorded per (grant, request id), a second attempt reverts;
 * - a revoked or expired grant never gains an entry (its used count stays what it was);
 * - a published version's root never changes;
 * - roles cannot escalate: the set of role holders stays the deployer's;
 * - an audit attestation rests on its version's seed (the hash of the block 5 after
 *   publication), never on another, with t ≥ the minimum, one entry per attester (issue 15).
 *
 * recordAnswer needs a valid Groth16 proof bound to (grant, request id): a pool of real proofs is
 * made once in the fixture (3 grants × 2 request ids), and the fuzzer picks among them, plus
 * invalid variants (proof points swapped, consent by another signer, the "latest version" rule).
 * Runs per property: INVARIANT_RUNS (default 25 sequences of up to 12 actions).
 */
import { expect } from "chai";
import fc from "fast-check";
import { Wallet, type Signer } from "ethers";
import { network } from "hardhat";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { circuitId } from "../../circuits/lib/signals.js";
import { buildTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { toSolidityProof } from "../../protocol/proof.js";
import {
  consentFor,
  deployPartProof,
  ENDPOINT,
  META,
  PARAMS,
  policyTuple,
  SCHEMA,
} from "./helpers.js";
import {
  DEPTH,
  NAME,
  POLICY,
  QUERY,
  RECORDS,
  requireBuild,
  SALTS,
  WASM,
  ZKEY,
} from "./range-d4.js";

const { ethers, networkHelpers } = await network.create();

const RUNS = Number(process.env.INVARIANT_RUNS ?? 25);
const POLICY_TUPLE = policyTuple(POLICY);
/** Grants of the fixture: consumer index (0 = A, 1 = B), quota, validity in seconds. */
const GRANTS = [
  { consumer: 0, quota: 1, seconds: 86_400 },
  { consumer: 1, quota: 2, seconds: 86_400 },
  { consumer: 0, quota: 3, seconds: 3_600 },
];
const REQUESTS = [ethers.id("inv-request-1"), ethers.id("inv-request-2")];
const CIRCUIT = circuitId(NAME);
/** GrantStatus (IAccessGrants.sol). */
const ACTIVE = 2n;
const REVOKED = 4n;

type Consent = { versionId: bigint; signature: string };
type SolProof = ReturnType<typeof toSolidityProof>;
interface Entry {
  proof: SolProof;
  signals: [bigint, bigint, bigint, bigint, bigint];
  /** The consumer's consent to version 1 exactly, to "the latest version", and a stranger's. */
  consent: { v1: Consent; latest: Consent; stranger: Consent };
}

async function fixture() {
  const [admin, owner, relayer, a, b, stranger] = await ethers.getSigners();
  const consumers = [a!, b!];
  const pp = await deployPartProof(ethers, admin!.address);
  const verifier = await ethers.deployContract("RangeD4Verifier");
  await pp.connect(admin).registerCircuit(CIRCUIT, await verifier.getAddress());
  const tree = await buildTree(RECORDS, SALTS, DEPTH);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).publishVersion(1n, tree.root, BigInt(tree.leafCount), DEPTH, PARAMS);
  const now = BigInt(await networkHelpers.time.latest());
  for (const g of GRANTS) {
    await pp
      .connect(owner)
      .grantAccess(
        1n,
        consumers[g.consumer]!.address,
        POLICY_TUPLE,
        now,
        now + BigInt(g.seconds),
        g.quota,
      );
  }
  const v1 = await pp.versionIdOf(1n, 1);
  const domain = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    partProof: await pp.getAddress(),
  };
  // the pool of real proofs: one per (grant, request id), each bound to its grant's consumer
  const pool: Entry[][] = [];
  for (const [gi, g] of GRANTS.entries()) {
    pool.push([]);
    for (const requestId of REQUESTS) {
      const grantId = BigInt(gi + 1);
      const w = rangeWitness(
        tree,
        QUERY,
        POLICY,
        4242n + BigInt(gi),
        await pp.bindingFor(grantId, requestId),
      );
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(w.input, WASM, ZKEY);
      const signals = (publicSignals as string[]).map(BigInt) as Entry["signals"];
      const queryHash = signals[2];
      const who = consumers[g.consumer]!;
      pool[gi]!.push({
        proof: toSolidityProof(proof),
        signals,
        consent: {
          v1: await consentFor(who, domain, { grantId, requestId, versionId: v1, queryHash }),
          latest: await consentFor(who, domain, { grantId, requestId, versionId: 0n, queryHash }),
          stranger: await consentFor(stranger!, domain, {
            grantId,
            requestId,
            versionId: v1,
            queryHash,
          }),
        },
      });
    }
  }
  const roles = {
    DEFAULT_ADMIN_ROLE: await pp.DEFAULT_ADMIN_ROLE(),
    CIRCUIT_ADMIN_ROLE: await pp.CIRCUIT_ADMIN_ROLE(),
    PAUSER_ROLE: await pp.PAUSER_ROLE(),
    AUDIT_ADMIN_ROLE: await pp.AUDIT_ADMIN_ROLE(),
  };
  return {
    pp,
    admin: admin!,
    owner: owner!,
    relayer: relayer!,
    stranger: stranger!,
    consumers,
    pool,
    v1,
    roles,
    root1: tree.root,
  };
}

type Action =
  | { t: "record"; g: number; r: number; variant: "v1" | "latest" | "badProof" | "strangerConsent" }
  | { t: "revoke"; g: number }
  | { t: "quota"; g: number; q: number }
  | { t: "expiry"; g: number; seconds: number }
  | { t: "publish"; root: bigint }
  | { t: "time"; seconds: number }
  | {
      t: "attest";
      who: "relayer" | "stranger";
      seed: "right" | "chosen" | "publication";
      samples: number;
      mineFirst: number;
    }
  | {
      t: "escalate";
      who: "owner" | "relayer" | "consumer" | "stranger";
      how: "grantRole" | "registerCircuit" | "pause" | "revokeAdmin" | "setMinAuditSamples";
      role: "DEFAULT_ADMIN_ROLE" | "CIRCUIT_ADMIN_ROLE" | "PAUSER_ROLE" | "AUDIT_ADMIN_ROLE";
    };

const gi = fc.integer({ min: 0, max: GRANTS.length - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("record" as const),
      g: gi,
      r: fc.integer({ min: 0, max: REQUESTS.length - 1 }),
      variant: fc.constantFrom(
        "v1" as const,
        "v1" as const,
        "latest" as const,
        "badProof" as const,
        "strangerConsent" as const,
      ),
    }),
  },
  fc.record({ t: fc.constant("revoke" as const), g: gi }),
  fc.record({ t: fc.constant("quota" as const), g: gi, q: fc.integer({ min: 0, max: 4 }) }),
  fc.record({
    t: fc.constant("expiry" as const),
    g: gi,
    seconds: fc.integer({ min: -7_200, max: 7_200 }),
  }),
  fc.record({
    t: fc.constant("publish" as const),
    root: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 254n })),
  }),
  fc.record({
    t: fc.constant("time" as const),
    seconds: fc.constantFrom(60, 1_800, 3_601, 86_401),
  }),
  fc.record({
    t: fc.constant("attest" as const),
    who: fc.constantFrom("relayer" as const, "stranger" as const),
    seed: fc.constantFrom(
      "right" as const,
      "right" as const,
      "chosen" as const,
      "publication" as const,
    ),
    samples: fc.constantFrom(299, 300, 301, 400),
    mineFirst: fc.constantFrom(0, 3, 6),
  }),
  fc.record({
    t: fc.constant("escalate" as const),
    who: fc.constantFrom(
      "owner" as const,
      "relayer" as const,
      "consumer" as const,
      "stranger" as const,
    ),
    how: fc.constantFrom(
      "grantRole" as const,
      "registerCircuit" as const,
      "pause" as const,
      "revokeAdmin" as const,
      "setMinAuditSamples" as const,
    ),
    role: fc.constantFrom(
      "DEFAULT_ADMIN_ROLE" as const,
      "CIRCUIT_ADMIN_ROLE" as const,
      "PAUSER_ROLE" as const,
      "AUDIT_ADMIN_ROLE" as const,
    ),
  }),
);

/** Whether a transaction was mined (true) or reverted (false); other errors are rethrown. */
async function mined(tx: Promise<{ wait(): Promise<unknown> }>): Promise<boolean> {
  try {
    await (await tx).wait();
    return true;
  } catch (e) {
    if (/revert|reverted/i.test(String((e as Error).message))) return false;
    throw e;
  }
}

describe("PartProof invariants under fuzzing (fast-check, real range_d4 proofs)", function () {
  before(function () {
    requireBuild([WASM, ZKEY]);
  });

  it(`holds every invariant over ${RUNS} random action sequences`, async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const accounts: Record<string, Signer> = {
      owner: f.owner,
      relayer: f.relayer,
      consumer: f.consumers[0]!,
      stranger: f.stranger,
    };
    const holders = async () => {
      const all = [f.admin, f.owner, f.relayer, f.stranger, ...f.consumers];
      const out: string[] = [];
      for (const [name, role] of Object.entries(f.roles)) {
        for (const s of all)
          if (await f.pp.hasRole(role, await s.getAddress()))
            out.push(`${name}:${await s.getAddress()}`);
      }
      return out.sort();
    };
    const initialHolders = await holders();
    const stats = { sequences: 0, actions: 0, logged: 0, refusedRecords: 0, attested: 0 };
    const seedBlock = Number((await f.pp.getVersion(f.v1)).publishedBlock) + 5;
    const minimum = await f.pp.minAuditSamples();

    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
        await networkHelpers.loadFixture(fixture); // back to the fixture's chain state
        stats.sequences++;
        // the model
        const logged = new Set<string>();
        const roots = new Map<bigint, bigint>([[f.v1, f.root1]]);
        let versions = 1;
        let paused = false;
        const revokedUsed = new Map<number, bigint>();
        const attestedT = new Map<string, number>();
        for (const act of actions) {
          stats.actions++;
          const grantId = (i: number) => BigInt(i + 1);
          if (act.t === "record") {
            const e = f.pool[act.g]![act.r]!;
            const id = grantId(act.g);
            const before = await f.pp.getGrant(id);
            const next = BigInt(await networkHelpers.time.latest()) + 1n; // the next block's time
            const proof =
              act.variant === "badProof" ? { ...e.proof, a: e.proof.c, c: e.proof.a } : e.proof;
            const consent =
              act.variant === "latest"
                ? e.consent.latest
                : act.variant === "strangerConsent"
                  ? e.consent.stranger
                  : e.consent.v1;
            const key = `${act.g}:${act.r}`;
            const expectOk =
              !paused &&
              !logged.has(key) &&
              before.status === ACTIVE &&
              next <= before.validUntil &&
              before.used < before.quota &&
              (act.variant === "v1" || (act.variant === "latest" && versions === 1));
            await networkHelpers.time.setNextBlockTimestamp(next);
            const ok = await mined(
              f.pp
                .connect(f.relayer)
                .recordAnswer(id, f.v1, CIRCUIT, REQUESTS[act.r]!, proof, e.signals, consent),
            );
            expect(
              ok,
              `recordAnswer ${JSON.stringify(act)} (status ${before.status}, used ${before.used}/${before.quota}, until ${before.validUntil}, at ${next}, logged ${logged.has(key)}, versions ${versions}, paused ${paused})`,
            ).to.equal(expectOk);
            const after = await f.pp.getGrant(id);
            if (ok) {
              logged.add(key);
              stats.logged++;
              expect(after.used).to.equal(before.used + 1n);
              expect(after.used).to.be.at.most(after.quota); // charged within quota
            } else {
              stats.refusedRecords++;
              expect(after.used).to.equal(before.used);
            }
          } else if (act.t === "revoke") {
            if (await mined(f.pp.connect(f.owner).revokeGrant(grantId(act.g)))) {
              revokedUsed.set(act.g, (await f.pp.getGrant(grantId(act.g))).used);
            }
          } else if (act.t === "quota") {
            const g = await f.pp.getGrant(grantId(act.g));
            const ok = await mined(f.pp.connect(f.owner).updateQuota(grantId(act.g), act.q));
            if (BigInt(act.q) < g.used)
              expect(ok, `quota ${act.q} below use ${g.used}`).to.equal(false);
          } else if (act.t === "expiry") {
            const g = await f.pp.getGrant(grantId(act.g));
            const until = BigInt(await networkHelpers.time.latest()) + BigInt(act.seconds);
            await mined(
              f.pp
                .connect(f.owner)
                .updateExpiry(grantId(act.g), until < g.validFrom ? g.validFrom - 1n : until),
            );
          } else if (act.t === "publish") {
            if (
              await mined(f.pp.connect(f.owner).publishVersion(1n, act.root, 8n, DEPTH, PARAMS))
            ) {
              versions++;
              roots.set(await f.pp.versionIdOf(1n, versions), act.root);
            }
          } else if (act.t === "time") {
            await networkHelpers.time.increase(act.seconds);
          } else if (act.t === "attest") {
            if (act.mineFirst > 0) await networkHelpers.mine(act.mineFirst);
            const next = (await ethers.provider.getBlockNumber()) + 1; // the tx's block
            const known = next > seedBlock && next - seedBlock <= 256;
            const right = known ? (await ethers.provider.getBlock(seedBlock))!.hash! : undefined;
            const seed =
              act.seed === "right" && right
                ? right
                : act.seed === "publication"
                  ? (await ethers.provider.getBlock(seedBlock - 5))!.hash!
                  : ethers.id(`chosen ${act.samples}`);
            const s = act.who === "relayer" ? f.relayer : f.stranger;
            const who = await s.getAddress();
            const before = attestedT.get(who);
            const expectOk =
              !paused &&
              known &&
              seed === right &&
              BigInt(act.samples) >= minimum &&
              (before === undefined || act.samples > before);
            const ok = await mined(
              f.pp.connect(s).attestAudit(f.v1, seed, act.samples, ethers.id("digest")),
            );
            expect(ok, `attestAudit ${JSON.stringify(act)} at block ${next}`).to.equal(expectOk);
            if (ok) {
              attestedT.set(who, act.samples);
              stats.attested++;
            }
          } else {
            const s = accounts[act.who]!;
            const role = f.roles[act.role];
            const tx =
              act.how === "grantRole"
                ? f.pp.connect(s).grantRole(role, await s.getAddress())
                : act.how === "revokeAdmin"
                  ? f.pp.connect(s).revokeRole(role, f.admin.address)
                  : act.how === "pause"
                    ? f.pp.connect(s).pause()
                    : act.how === "setMinAuditSamples"
                      ? f.pp.connect(s).setMinAuditSamples(1)
                      : f.pp
                          .connect(s)
                          .registerCircuit(
                            circuitId(`x${act.role}`),
                            Wallet.createRandom().address,
                          );
            expect(await mined(tx), `${act.who} ${act.how} ${act.role}`).to.equal(false);
          }

          // ---- invariants after every action
          for (const [i] of GRANTS.entries()) {
            const g = await f.pp.getGrant(grantId(i));
            expect(g.used, `grant ${i + 1} used ≤ quota`).to.be.at.most(g.quota);
            const r = revokedUsed.get(i);
            if (r !== undefined) {
              expect(g.status, `grant ${i + 1} stays revoked`).to.equal(REVOKED);
              expect(g.used, `revoked grant ${i + 1} gains no entry`).to.equal(r);
            }
            for (const [ri, requestId] of REQUESTS.entries()) {
              const events = await f.pp.queryFilter(
                f.pp.filters.AnswerRecorded(grantId(i), undefined, requestId),
              );
              expect(events.length, `entries of (${i + 1}, ${ri})`).to.equal(
                logged.has(`${i}:${ri}`) ? 1 : 0,
              );
              expect(await f.pp.isRequestLogged(grantId(i), requestId)).to.equal(
                logged.has(`${i}:${ri}`),
              );
            }
          }
          for (const [vid, root] of roots)
            expect((await f.pp.getVersion(vid)).root, `root of version ${vid}`).to.equal(root);
          expect(await holders(), "role holders").to.deep.equal(initialHolders);
          const attested = await f.pp.queryFilter(f.pp.filters.AuditAttested(f.v1));
          for (const e of attested) {
            expect(e.args.seed, "an attestation's seed").to.equal(
              (await ethers.provider.getBlock(seedBlock))!.hash,
            );
            expect(e.args.t, "an attestation's t").to.be.at.least(minimum);
          }
          const entries = await f.pp.getAuditAttestations(f.v1);
          expect(
            entries.map((a) => [a.attester, Number(a.t)]),
            "one entry per attester, with its largest t",
          ).to.have.deep.members([...attestedT.entries()]);
          paused = await f.pp.paused();
          expect(paused).to.equal(false);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(
      `      ${stats.sequences} sequences, ${stats.actions} actions: ${stats.logged} entries logged, ${stats.refusedRecords} recordAnswer refused, ${stats.attested} attestations`,
    );
    expect(stats.logged).to.be.greaterThan(0);
    expect(stats.refusedRecords).to.be.greaterThan(0);
  });
});
