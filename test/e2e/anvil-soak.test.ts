/**
 * The soak's short version for CI: `scripts/soak.ts --minutes 0.5` against anvil, the gateway a
 * child process killed with SIGKILL at random and at aimed points; every accepted query ends logged or
 * refused with a reason, none is logged twice, no version is partial, quotas and nonces agree.
 */
import { expect } from "chai";
import { runCommand } from "../../scripts/lib/processes.js";

describe("soak (short): the gateway killed with SIGKILL again and again on anvil", function () {
  it("loses no accepted query, logs none twice and leaves no partial version", async function () {
    // --fuzz-cases 0: the route fuzzer runs in the suite itself (1,000 cases per route)
    const out = await runCommand("tsx", [
      "scripts/soak.ts",
      "--minutes",
      "0.5",
      "--fuzz-cases",
      "0",
      "--json",
    ]);
    const figures = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, any>;
    expect(figures.problems).to.deep.equal([]);
    expect(figures.ok).to.equal(true);
    expect(figures.kills).to.be.greaterThan(0);
    expect(figures.accepted).to.be.greaterThan(0);
    expect(figures.logged + figures.failedWithReason).to.equal(figures.accepted);
    expect([figures.lost, figures.duplicated, figures.partialVersions]).to.deep.equal([0, 0, 0]);
    expect(figures.batchesChecked).to.equal(figures.uploads);
    // every kill is counted under the phases it cut (idle when none)
    const byPhase = Object.values(figures.killsBy as Record<string, number>);
    expect(byPhase.reduce((a, b) => a + b, 0)).to.be.at.least(figures.kills);
    // every cycle's kill is counted under the moment it aimed at (startup kills come on top)
    const byAim = Object.values(figures.killsAimed as Record<string, number>);
    expect(byAim.reduce((a, b) => a + b, 0) + figures.killsBy.startup).to.equal(figures.kills);
    // publications go one at a time per owner with its current nonce: none refused for a nonce
    // another of the soak's own publications used (the soak's bug before; the refusal is right)
    expect(figures.refusedBy).to.not.have.property("publish:BAD_SIGNATURE");
  });
});
