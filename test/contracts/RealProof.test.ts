/**
 * A real Groth16 proof from the circuits build (range_d4), verified through the real
 * snarkjs-generated verifier (contracts/generated/RangeD4Verifier.sol) and logged by
 * recordAnswer. Needs `npm run build:circuits` (or the lead's build) to have produced
 * circuits/build/range_d4/ and the verifier; fails, naming the missing files, otherwise.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import {
  circuitId,
  FIELD_MODULUS,
  PUBLIC_SIGNALS,
  signalsToArray,
} from "../../circuits/lib/signals.js";
import { buildTree } from "../../circuits/lib/tree.js";
import { rangeWitness } from "../../circuits/lib/witness.js";
import { toSnarkjsProof } from "../../protocol/proof.js";
import {
  answerConsentOf,
  queryMessageHash,
  recoverAnswerConsentSigner,
  signQuery,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import { checkGas, COVERAGE } from "./gas.js";
import {
  DEPTH,
  NAME,
  POLICY,
  QUERY,
  RECORDS,
  requireBuild,
  SALTS,
  VKEY,
  WASM,
  ZKEY,
} from "./range-d4.js";
import {
  consentFor,
  deployPartProof,
  ENDPOINT,
  META,
  PARAMS,
  policyTuple,
  SCHEMA,
} from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const BLIND = 987_654_321n;

type Pair = [bigint, bigint];
type Signals = [bigint, bigint, bigint, bigint, bigint];
interface SolProof {
  a: Pair;
  b: [Pair, Pair];
  c: Pair;
}

/** snarkjs proof → the verifier's call-data order (G2 coordinates swapped). */
function toSolidity(proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] }): SolProof {
  const n = (s: string | undefined) => BigInt(s!);
  return {
    a: [n(proof.pi_a[0]), n(proof.pi_a[1])],
    b: [
      [n(proof.pi_b[0]![1]), n(proof.pi_b[0]![0])],
      [n(proof.pi_b[1]![1]), n(proof.pi_b[1]![0])],
    ],
    c: [n(proof.pi_c[0]), n(proof.pi_c[1])],
  };
}

/** A real proof of QUERY over the fixture's records, bound to `grantId` and `requestId`. */
async function proveFor(
  pp: { bindingFor(g: bigint, r: string): Promise<bigint> },
  grantId: bigint,
  requestId: string,
) {
  const tree = await buildTree(RECORDS, SALTS, DEPTH);
  const w = rangeWitness(tree, QUERY, POLICY, BLIND, await pp.bindingFor(grantId, requestId));
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(w.input, WASM, ZKEY);
  return {
    proof: toSolidity(proof),
    publicSignals: (publicSignals as string[]).map(BigInt) as Signals,
  };
}

async function fixture() {
  const [admin, owner, consumer, relayer, other] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  const verifier = await ethers.deployContract("RangeD4Verifier");
  await pp.connect(admin).registerCircuit(circuitId(NAME), await verifier.getAddress());
  const tree = await buildTree(RECORDS, SALTS, DEPTH);
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).publishVersion(1n, tree.root, BigInt(tree.leafCount), DEPTH, PARAMS);
  const now = BigInt(await networkHelpers.time.latest());
  const tuple = policyTuple(POLICY);
  await pp.connect(owner).grantAccess(1n, consumer!.address, tuple, now, now + 86400n, 5);
  // Grant 2: same asset and policy, another consumer.
  await pp.connect(owner).grantAccess(1n, other!.address, tuple, now, now + 86400n, 5);
  const requestId = ethers.id("real-request-1");
  const binding = await pp.bindingFor(1n, requestId);
  const w = rangeWitness(tree, QUERY, POLICY, BLIND, binding);
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(w.input, WASM, ZKEY);
  const signals = (publicSignals as string[]).map(BigInt) as Signals;
  const versionId = await pp.versionIdOf(1n, 1);
  const domain = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    partProof: await pp.getAddress(),
  };
  /** `signer`'s AnswerConsent as recordAnswer takes it. */
  const signConsent = (
    signer: Signer,
    grantId: bigint,
    requestId: string,
    versionId: bigint,
    queryHash: bigint,
  ) => consentFor(signer, domain, { grantId, requestId, versionId, queryHash });
  return {
    pp,
    verifier,
    tree,
    owner: owner!,
    consumer: consumer!,
    relayer: relayer!,
    other: other!,
    requestId,
    witness: w,
    publicSignals: signals,
    proof: toSolidity(proof),
    versionId,
    signConsent,
    /** The consumer's consent to the fixture's answer. */
    consent: await signConsent(consumer!, 1n, requestId, versionId, signals[2]),
  };
}

describe("AccessLog with a real range_d4 proof", function () {
  before(function () {
    // A missing build fails the suite (it never skips): these are the only contract tests
    // with a real proof through the generated verifier.
    requireBuild();
  });

  describe("verifyProof (generated verifier)", function () {
    it("accepts the proof, whose public signals follow PROOF_FORMAT.md's order", async function () {
      const { verifier, proof, publicSignals, witness, tree } =
        await networkHelpers.loadFixture(fixture);
      expect(publicSignals).to.have.length(PUBLIC_SIGNALS.length);
      expect(publicSignals).to.deep.equal(signalsToArray(witness.signals));
      expect(publicSignals[0]).to.equal(tree.root);
      expect(
        await verifier.getFunction("verifyProof")(proof.a, proof.b, proof.c, publicSignals),
      ).to.equal(true);
    });

    for (const [i, name] of PUBLIC_SIGNALS.entries()) {
      it(`rejects the proof when ${name} is changed`, async function () {
        const { verifier, proof, publicSignals } = await networkHelpers.loadFixture(fixture);
        const changed = [...publicSignals] as Signals;
        changed[i] = (changed[i]! + 1n) % FIELD_MODULUS;
        expect(
          await verifier.getFunction("verifyProof")(proof.a, proof.b, proof.c, changed),
        ).to.equal(false);
      });
    }

    it("rejects the proof when a proof point is changed", async function () {
      const { verifier, proof, publicSignals } = await networkHelpers.loadFixture(fixture);
      const swapped: SolProof = { ...proof, a: proof.c, c: proof.a };
      expect(
        await verifier.getFunction("verifyProof")(swapped.a, swapped.b, swapped.c, publicSignals),
      ).to.equal(false);
    });
  });

  describe("recordAnswer", function () {
    it("logs the real proof with the consumer's consent within 310,000 gas", async function () {
      const { pp, consumer, relayer, proof, publicSignals, requestId, versionId, consent } =
        await networkHelpers.loadFixture(fixture);
      const tx = await pp
        .connect(relayer)
        .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, publicSignals, consent);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt!.blockNumber);
      await expect(tx)
        .to.emit(pp, "AnswerRecorded")
        .withArgs(
          1n,
          consumer.address,
          requestId,
          versionId,
          circuitId(NAME),
          1n,
          relayer.address,
          block!.timestamp,
          publicSignals,
          [proof.a, proof.b, proof.c],
        );
      expect(await pp.isRequestLogged(1n, requestId)).to.equal(true);
      if (!COVERAGE) {
        console.log(`    recordAnswer with Groth16 verification: ${receipt!.gasUsed} gas`);
        // Groth16 ≈ 217k, consent ≈ 9k, proof and signals in the event ≈ 5k: contracts/README.md
        expect(receipt!.gasUsed).to.be.at.most(310_000n);
        checkGas("recordAnswer.range_d4", receipt!.gasUsed);
      }
    });

    it("reverts with InvalidProof when queryHash or resultCommitment is changed", async function () {
      const { pp, relayer, proof, publicSignals, requestId, versionId, signConsent, consumer } =
        await networkHelpers.loadFixture(fixture);
      for (const i of [2, 3]) {
        const changed = [...publicSignals] as Signals;
        changed[i] = changed[i]! + 1n;
        // the consumer consents to the changed query hash: the proof check must catch it
        const agreed = await signConsent(consumer, 1n, requestId, versionId, changed[2]);
        await expect(
          pp
            .connect(relayer)
            .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, changed, agreed),
        )
          .to.be.revertedWithCustomError(pp, "InvalidProof")
          .withArgs(circuitId(NAME));
      }
    });

    it("reverts with InvalidProof when the root is changed to another published version's", async function () {
      const { pp, owner, relayer, proof, publicSignals, requestId, tree, signConsent, consumer } =
        await networkHelpers.loadFixture(fixture);
      await pp.connect(owner).publishVersion(1n, tree.root + 1n, 8n, DEPTH, PARAMS);
      const v2 = await pp.versionIdOf(1n, 2);
      const changed = [...publicSignals] as Signals;
      changed[0] = tree.root + 1n;
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(
            1n,
            v2,
            circuitId(NAME),
            requestId,
            proof,
            changed,
            await signConsent(consumer, 1n, requestId, v2, changed[2]),
          ),
      )
        .to.be.revertedWithCustomError(pp, "InvalidProof")
        .withArgs(circuitId(NAME));
    });

    it("reverts with RootMismatch / PolicyHashMismatch when those signals are changed", async function () {
      const { pp, relayer, proof, publicSignals, requestId, versionId, tree, consent } =
        await networkHelpers.loadFixture(fixture);
      const r = [...publicSignals] as Signals;
      r[0] = tree.root + 1n;
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, r, consent),
      )
        .to.be.revertedWithCustomError(pp, "RootMismatch")
        .withArgs(versionId, tree.root, tree.root + 1n);
      const p = [...publicSignals] as Signals;
      p[1] = p[1]! + 1n;
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, p, consent),
      )
        .to.be.revertedWithCustomError(pp, "PolicyHashMismatch")
        .withArgs(1n, publicSignals[1], p[1]);
    });

    it("reverts with BindingMismatch when the proof is replayed for another consumer's grant", async function () {
      const { pp, relayer, proof, publicSignals, requestId, versionId, consent } =
        await networkHelpers.loadFixture(fixture);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(2n, versionId, circuitId(NAME), requestId, proof, publicSignals, consent),
      )
        .to.be.revertedWithCustomError(pp, "BindingMismatch")
        .withArgs(await pp.bindingFor(2n, requestId), publicSignals[4]);
    });

    it("attack (request-id squatting): another consumer's own grant cannot occupy the victim's request id", async function () {
      const {
        pp,
        tree,
        relayer,
        other,
        proof,
        publicSignals,
        requestId,
        versionId,
        consent,
        signConsent,
      } = await networkHelpers.loadFixture(fixture);
      // The attacker registers its own asset, grants itself access and logs a real proof under
      // its own grant with the request id the victim is about to use.
      await pp.connect(other).registerAsset(SCHEMA, META, ENDPOINT);
      await pp.connect(other).publishVersion(2n, tree.root, BigInt(tree.leafCount), DEPTH, PARAMS);
      const now = BigInt(await networkHelpers.time.latest());
      await pp
        .connect(other)
        .grantAccess(2n, other.address, policyTuple(POLICY), now, now + 86400n, 5);
      const own = await proveFor(pp, 3n, requestId);
      await pp
        .connect(other)
        .recordAnswer(
          3n,
          await pp.versionIdOf(2n, 1),
          circuitId(NAME),
          requestId,
          own.proof,
          own.publicSignals,
          await signConsent(
            other,
            3n,
            requestId,
            await pp.versionIdOf(2n, 1),
            own.publicSignals[2],
          ),
        );
      // The victim's answer under its own grant with the same request id is still logged.
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, publicSignals, consent),
      ).to.emit(pp, "AnswerRecorded");
      expect((await pp.getGrant(1n)).used).to.equal(1n);
    });

    it("attack (no consent): a relayer cannot log a real proof in the consumer's name without its signature", async function () {
      const { pp, relayer, versionId, consent, signConsent, consumer } =
        await networkHelpers.loadFixture(fixture);
      // The gateway holds the records, so it can prove any query for any fresh request id.
      const fresh = ethers.id("fabricated-request");
      const forged = await proveFor(pp, 1n, fresh);
      await expect(
        pp.connect(relayer).recordAnswer(
          1n,
          versionId,
          circuitId(NAME),
          fresh,
          forged.proof,
          forged.publicSignals,
          // the best the relayer can do: sign the consent itself
          await signConsent(relayer, 1n, fresh, versionId, forged.publicSignals[2]),
        ),
      )
        .to.be.revertedWithCustomError(pp, "InvalidConsent")
        .withArgs(1n, fresh, consumer.address);
      expect((await pp.getGrant(1n)).used).to.equal(0n);
    });

    it("reverts with RequestAlreadyLogged when the same proof is submitted twice", async function () {
      const { pp, relayer, proof, publicSignals, requestId, versionId, consent } =
        await networkHelpers.loadFixture(fixture);
      await pp
        .connect(relayer)
        .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, publicSignals, consent);
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, publicSignals, consent),
      )
        .to.be.revertedWithCustomError(pp, "RequestAlreadyLogged")
        .withArgs(1n, requestId);
    });
  });
  describe("AnswerConsent from protocol/typed-data.ts", function () {
    it("signQuery's consent, over the query hash the consumer computes itself, is accepted on-chain", async function () {
      const { pp, consumer, relayer, proof, publicSignals, requestId, versionId } =
        await networkHelpers.loadFixture(fixture);
      const message: QueryMessage = {
        grantId: 1n,
        assetId: 1n,
        versionId: 0n, // "the latest version"
        kind: QUERY.kind,
        fieldA: QUERY.fieldA,
        fieldB: QUERY.fieldB,
        lo: QUERY.lo,
        hi: QUERY.hi,
        threshold: QUERY.threshold,
        requestId,
        nonce: QUERY.nonce,
        deadline: 2n ** 40n,
      };
      expect(queryMessageHash(message)).to.equal(publicSignals[2]);
      const domain = {
        chainId: (await ethers.provider.getNetwork()).chainId,
        partProof: await pp.getAddress(),
      };
      const body = await signQuery(consumer, domain, message);
      expect(recoverAnswerConsentSigner(domain, answerConsentOf(message), body.consent)).to.equal(
        consumer.address,
      );
      await expect(
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(NAME), requestId, proof, publicSignals, {
            versionId: 0n,
            signature: body.consent,
          }),
      ).to.emit(pp, "AnswerRecorded");
    });
  });

  describe("AnswerRecorded", function () {
    it("lets an auditor re-verify an entry logged through a multicall contract from the event alone", async function () {
      const { pp, relayer, proof, publicSignals, requestId, versionId, consent } =
        await networkHelpers.loadFixture(fixture);
      const multicall = await ethers.deployContract("TestMulticall");
      const call = pp.interface.encodeFunctionData("recordAnswer", [
        1n,
        versionId,
        circuitId(NAME),
        requestId,
        proof,
        publicSignals,
        consent,
      ]);
      const tx = await multicall.connect(relayer).multicall(await pp.getAddress(), [call]);
      const receipt = await tx.wait();
      // The transaction called the multicall, not recordAnswer: its call data does not decode.
      expect(pp.interface.parseTransaction({ data: tx.data })).to.equal(null);

      // The auditor: the event and the verification key, nothing else.
      const [event] = await pp.queryFilter(
        pp.filters.AnswerRecorded(1n, undefined, requestId),
        receipt!.blockNumber,
        receipt!.blockNumber,
      );
      const args = event!.args;
      const signals = args.publicSignals.map((x: bigint) => x.toString());
      const snarkProof = toSnarkjsProof({
        a: args.proof.a,
        b: args.proof.b,
        c: args.proof.c,
      });
      const vkey = JSON.parse(readFileSync(VKEY, "utf8"));
      expect(await snarkjs.groth16.verify(vkey, signals, snarkProof)).to.equal(true);
      expect(args.publicSignals).to.deep.equal(publicSignals);
      // and the check can fail: a changed signal does not verify
      const changed = [...signals];
      changed[3] = (BigInt(changed[3]!) + 1n).toString();
      expect(await snarkjs.groth16.verify(vkey, changed, snarkProof)).to.equal(false);
    });
  });
});
