/** `policyOf` (cli/policy.ts): the allowed THRESHOLD thresholds of a grant in the user's terms. */
import { expect } from "chai";
import { policyHash } from "../../circuits/lib/signals.js";
import { UserError } from "../../cli/errors.js";
import { policyOf, schemaOf, type PolicyInput } from "../../cli/policy.js";

const quality = schemaOf("quality");
const base: PolicyInput = {
  aggregates: ["count", "ratio"],
  fields: ["quantity", "reworked"],
  partNumber: "GBX-3232455",
  minCohort: 25,
};

/** The UserError message `policyOf` throws for `p`. */
function refusal(p: PolicyInput): string {
  try {
    policyOf(quality, p);
  } catch (e) {
    expect(e).to.be.instanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error("policyOf accepted the policy");
}

describe("policyOf thresholds", function () {
  it("allows no threshold by default", function () {
    expect(policyOf(quality, base).thresholds).to.deep.equal([]);
  });

  it("keeps the given thresholds in order, and they change the policy hash", function () {
    const p = policyOf(quality, {
      ...base,
      aggregates: ["ratio", "threshold"],
      thresholds: ["15000", 50n],
    });
    expect(p.thresholds).to.deep.equal([15_000n, 50n]);
    const other = policyOf(quality, {
      ...base,
      aggregates: ["ratio", "threshold"],
      thresholds: ["15000"],
    });
    expect(policyHash(p)).to.not.equal(policyHash(other));
  });

  it("refuses the threshold aggregate without thresholds, naming the option", function () {
    expect(refusal({ ...base, aggregates: ["threshold"] })).to.match(/--thresholds/);
  });

  it("refuses thresholds without the threshold aggregate", function () {
    expect(refusal({ ...base, thresholds: ["100"] })).to.match(/not allowed/);
  });

  it("refuses 0, 2^48, a non-integer, a duplicate and a fifth threshold", function () {
    const t = (thresholds: string[]) => refusal({ ...base, aggregates: ["threshold"], thresholds });
    expect(t(["0"])).to.match(/"0" must be an integer from 1 to 281474976710655/);
    expect(t([String(2n ** 48n)])).to.match(/must be an integer from 1/);
    expect(t(["1.5"])).to.match(/"1.5" must be an integer/);
    expect(t(["7", "7"])).to.match(/distinct/);
    expect(t(["1", "2", "3", "4", "5"])).to.match(/at most 4/);
  });

  it("accepts the largest threshold, 2^48 - 1", function () {
    const max = 2n ** 48n - 1n;
    const p = policyOf(quality, { ...base, aggregates: ["threshold"], thresholds: [String(max)] });
    expect(p.thresholds).to.deep.equal([max]);
  });
});
