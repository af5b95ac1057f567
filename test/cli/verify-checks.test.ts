/**
 * Each check of the automaker's answer verification (`verifyAnswer`, cli/automaker.ts), one at a
 * time: a hostile gateway edits one thing of a real, proved and logged answer (its proof, answer,
 * blind, version, grant, asset, request id, circuit or a public signal), or the automaker's own
 * record is not the one the answer was made for, and exactly the checks that compare that thing
 * must fail — no more (the edit is isolated) and no fewer (each check carries weight; the mutation
 * check in scripts/mutation.ts makes each of them always hold in turn and expects a test here to
 * fail). Runs on Hardhat's in-process chain with a real gateway and the real range_d4 verifier.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ZeroHash } from "ethers";
import {
  failedChecks,
  requireAllChecks,
  verifyAnswer,
  VerificationFailed,
  type AnswerCheck,
} from "../../cli/automaker.js";
import { UserError } from "../../cli/errors.js";
import { gatewayOf, type Session } from "../../cli/session.js";
import { loadSignedQuery, type SignedQuery } from "../../cli/signed-queries.js";
import type { JobView } from "../../protocol/api.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { startCliWorld, type CliWorld } from "./world.js";

describe("automaker verifyAnswer: each check fails alone for the edit it guards", function () {
  let world: CliWorld;
  let session: Session;
  /** The real answer: logged on-chain, every check holds. */
  let job: JobView;
  /** The automaker's own record of the question it signed for `job`. */
  let signed: SignedQuery;

  before(async function () {
    world = await startCliWorld({
      envPrefix: "VCHECK",
      seed: "verify-checks",
      aggregates: "count",
    });
    session = world.session;
    const asked = await world.ask(
      "--aggregate",
      "count",
      "--from",
      "2026-07-01",
      "--to",
      "2026-07-07",
    );
    expect(asked.code, asked.err).to.equal(0);
    job = await gatewayOf(session).job(asked.json().job.jobId);
    expect(job.status).to.equal("logged");
    signed = await loadSignedQuery(job.jobId);
  });

  after(async function () {
    await world?.close();
  });

  /** The failed checks of `job` with `edit` applied to a copy of it (and of the signed record). */
  async function failedAfter(
    editJob: (j: JobView) => void,
    editSigned: (s: SignedQuery) => void = () => {},
  ): Promise<(keyof AnswerCheck)[]> {
    const j = structuredClone(job);
    const s = structuredClone(signed);
    editJob(j);
    editSigned(s);
    return failedChecks(await verifyAnswer(session, j, s)).sort();
  }

  const plusOne = (x: string) => (BigInt(x) + 1n).toString();

  it("holds every check for the real answer, from the record kept under PARTPROOF_DATA_DIR", async function () {
    const check = await verifyAnswer(session, job);
    expect(failedChecks(check)).to.deep.equal([]);
    expect(Object.keys(check)).to.have.length(11);
    expect(() => requireAllChecks(job.jobId, check)).to.not.throw();
  });

  it("requireAllChecks throws VerificationFailed naming the failed checks", function () {
    const check = {
      ...Object.fromEntries(
        [
          "proofValid",
          "commitmentOpens",
          "rootRegistered",
          "loggedOnChain",
          "logMatches",
          "questionMatches",
          "grantMatches",
          "assetMatches",
          "versionRuleMatches",
          "requestMatches",
          "bindingMatches",
        ].map((k) => [k, true]),
      ),
      rootRegistered: false,
    } as unknown as AnswerCheck;
    expect(failedChecks(check)).to.deep.equal(["rootRegistered"]);
    let err: unknown;
    try {
      requireAllChecks(job.jobId, check);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(VerificationFailed);
    expect((err as VerificationFailed).failed).to.deep.equal(["rootRegistered"]);
  });

  it("refuses to judge a job that has no answer yet", async function () {
    const err = await verifyAnswer(session, { ...job, answer: null, blind: null }, signed).catch(
      (e) => e,
    );
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.match(/has no answer yet \(status logged\)/);
  });

  it("fails only proofValid for an edited proof", async function () {
    expect(
      await failedAfter((j) => {
        j.proof!.pi_a[0] = plusOne(j.proof!.pi_a[0]!);
      }),
    ).to.deep.equal(["proofValid"]);
  });

  it("fails only proofValid for a circuit id the chain never registered (no verifier)", async function () {
    expect(
      await failedAfter((j) => {
        j.circuitId = ZeroHash.slice(0, -2) + "01";
      }),
    ).to.deep.equal(["proofValid"]);
  });

  it("fails proofValid (the verifier call cannot be made), the query hash and the log entry for a signal ≥ 2^256", async function () {
    // publicSignals: [resultCommitment, policyHash, queryHash, root, binding]
    expect(
      await failedAfter((j) => {
        j.publicSignals![2] = (1n << 256n).toString();
      }),
    ).to.deep.equal(["logMatches", "proofValid", "questionMatches"]);
  });

  it("fails only commitmentOpens for an edited answer or blind", async function () {
    expect(
      await failedAfter((j) => {
        j.answer!.resultValue = plusOne(j.answer!.resultValue);
      }),
    ).to.deep.equal(["commitmentOpens"]);
    expect(
      await failedAfter((j) => {
        j.blind = plusOne(j.blind!);
      }),
    ).to.deep.equal(["commitmentOpens"]);
  });

  it("fails rootRegistered and logMatches for a version that does not exist", async function () {
    expect(
      await failedAfter((j) => {
        j.versionId = plusOne(j.versionId); // same asset (upper bits), next version number
      }),
    ).to.deep.equal(["logMatches", "rootRegistered"]);
  });

  it("fails assetMatches when the version is of another asset than the signed one", async function () {
    expect(
      await failedAfter((j) => {
        j.versionId = ((BigInt(j.versionId) & ((1n << 64n) - 1n)) | (99n << 64n)).toString();
      }),
    ).to.deep.equal(["assetMatches", "logMatches", "rootRegistered"]);
  });

  it("fails only assetMatches when the job names another asset", async function () {
    expect(
      await failedAfter((j) => {
        j.assetId = plusOne(j.assetId);
      }),
    ).to.deep.equal(["assetMatches"]);
  });

  it("fails only grantMatches when the job names another grant", async function () {
    expect(
      await failedAfter((j) => {
        j.grantId = plusOne(j.grantId);
      }),
    ).to.deep.equal(["grantMatches"]);
  });

  it("fails only requestMatches when the job names another request id", async function () {
    expect(
      await failedAfter((j) => {
        j.requestId = "0x" + "ab".repeat(32);
      }),
    ).to.deep.equal(["requestMatches"]);
  });

  it("fails only versionRuleMatches when the automaker signed another version than the answer's", async function () {
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.message.versionId = BigInt(job.versionId) + 1n;
        },
      ),
    ).to.deep.equal(["versionRuleMatches"]);
  });

  it("fails only questionMatches when the automaker signed another range", async function () {
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.message.hi = s.message.hi - 1n;
        },
      ),
    ).to.deep.equal(["questionMatches"]);
  });

  it("fails loggedOnChain (and what depends on it) when the signed request id has no log entry", async function () {
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.message.requestId = "0x" + "cd".repeat(32);
        },
      ),
    ).to.deep.equal(["bindingMatches", "logMatches", "loggedOnChain", "requestMatches"]);
  });

  it("fails logMatches and bindingMatches when the answer was made for another consumer", async function () {
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.consumer = devAccount(7).address;
        },
      ),
    ).to.deep.equal(["bindingMatches", "logMatches"]);
  });

  it("fails only bindingMatches when the automaker signed for another chain or contract", async function () {
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.chainId = 1n;
        },
      ),
    ).to.deep.equal(["bindingMatches"]);
    expect(
      await failedAfter(
        () => {},
        (s) => {
          s.partProof = devAccount(7).address;
        },
      ),
    ).to.deep.equal(["bindingMatches"]);
  });

  it("fails bindingMatches (and the proof) for an edited binding signal", async function () {
    expect(
      await failedAfter((j) => {
        j.publicSignals![4] = plusOne(j.publicSignals![4]!);
      }),
    ).to.deep.equal(["bindingMatches", "logMatches", "proofValid"]);
  });

  describe("the automaker's own record (cli/signed-queries.ts)", function () {
    it("refuses a job id that is not a UUID (no path outside the data folder)", async function () {
      const err = await loadSignedQuery("../../etc/passwd").catch((e) => e);
      expect(err).to.be.instanceOf(UserError);
      expect(err.message).to.equal("../../etc/passwd is not a job id");
    });

    it("refuses a job it holds no record of", async function () {
      const id = "00000000-0000-4000-8000-000000000000";
      const err = await loadSignedQuery(id).catch((e) => e);
      expect(err).to.be.instanceOf(UserError);
      expect(err.message).to.match(new RegExp(`^no signed query of job ${id}`));
    });

    it("refuses a record that is not a signed query", async function () {
      const id = "00000000-0000-4000-8000-000000000001";
      const dir = path.join(world.work, "data", "queries");
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, `${id}.json`), JSON.stringify({ consumer: 1 }));
      const err = await loadSignedQuery(id).catch((e) => e);
      expect(err).to.be.instanceOf(UserError);
      expect(err.message).to.match(/is not a signed query record$/);
    });
  });
});
