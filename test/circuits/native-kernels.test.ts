import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { buildKernelHarness } from "../../circuits/native/bench-poseidon.js";

describe("native Poseidon kernels", function () {
  this.timeout(5 * 60_000);

  it("gives the same results with the BMI2/ADX assembly as with the C kernels on random values near 0 and p", function () {
    // circuits/native/bench-poseidon.c: multiplications, additions, 1..17-pair dot products and
    // their reductions, whole Poseidon7 / Poseidon16 permutations; exits 1 on a mismatch
    const out = execFileSync(buildKernelHarness(), ["check", "200000"], { encoding: "utf8" });
    if (/not tested|no assembly kernels/.test(out)) this.skip(); // not an x86-64 CPU with ADX
    expect(out).to.match(/check: all equal \(200000 cases/);
  });
});
