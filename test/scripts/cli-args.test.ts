/**
 * Every script the README names answers a mistyped option the same way: one line on stderr
 * naming the problem and the usage, nothing on stdout, exit code 2, no stack trace. Run through
 * `npm run -s <script> -- …`, exactly as a user types it.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import pLimit from "p-limit";
import { ROOT } from "../../scripts/lib/circuit-build.js";

/** Runs `npm run -s script -- ...args` from the checkout. */
function npmRun(
  script: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", script, "--", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const SCRIPTS = [
  "demo",
  "sandbox",
  "bench",
  "deploy",
  "gateway",
  "ceremony",
  "build:circuits",
  "console",
];

/** A script, a bad value for one of its options, and the words that must name it. */
const BAD_VALUES = [
  ["demo", ["--days", "many"], /--days must be a positive integer, got "many"/],
  ["sandbox", ["--circuit", "range_d99"], /--circuit must be one of .*range_d4/],
  ["bench", ["--only", "speed"], /--only: unknown benchmark "speed"/],
  ["deploy", ["--targets", "staging"], /--targets: unknown circuit target "staging"/],
  ["ceremony", ["verify", "nosuch"], /unknown circuit "nosuch"/],
  ["build:circuits", ["--target", "big"], /--target must be test, production or all/],
  ["gateway", [], /no config file/],
  ["console", ["--port", "x"], /--port must be 0\.\.65535, got "x"/],
  ["demo", ["--console-port", "99999"], /--console-port must be 0\.\.65535, got "99999"/],
  ["demo", ["--check-leaves", "lots"], /--check-leaves must be 0\.\.999, got "lots"/],
  ["build:circuits", ["--jobs", "0"], /--jobs must be a positive integer, got "0"/],
] as const;

type Run = Awaited<ReturnType<typeof npmRun>>;

describe("README scripts and bad options", function () {
  this.timeout(5 * 60_000);

  // Each run is a few seconds of process start-up (npm, Node 22 check, tsx) on one core: all
  // start in `before`, two at a time, and each test awaits its own.
  const twoAtATime = pLimit(2);
  const runs = new Map<string, Promise<Run>>();
  /** The result of `npm run -s script -- ...args`, started at most once. */
  function run(script: string, args: readonly string[]): Promise<Run> {
    const key = JSON.stringify([script, args]);
    let r = runs.get(key);
    if (r === undefined) {
      r = twoAtATime(() => npmRun(script, [...args]));
      runs.set(key, r);
      r.catch(() => undefined); // reported by the test that awaits it
    }
    return r;
  }
  before(async function () {
    const all: [string, readonly string[]][] = [
      ...SCRIPTS.map((s): [string, string[]] => [s, ["--bogus"]]),
      ...BAD_VALUES.map(([s, a]): [string, readonly string[]] => [s, a]),
    ];
    // `npm run sandbox` runs `hardhat build` first, which may rewrite types/ (the contracts'
    // bindings) while another script imports them (a CI run failed so: "does not provide an
    // export named 'PartProof__factory'"): its runs go first, one after the other
    for (const [script, args] of all) if (script === "sandbox") await run(script, args);
    for (const [script, args] of all) void run(script, args);
  });

  for (const script of SCRIPTS) {
    it(`npm run ${script} -- --bogus prints one line with the usage and exits 2`, async () => {
      const r = await run(script, ["--bogus"]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stdout).to.equal("");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.match(
        new RegExp(`^error: unknown option '--bogus' — usage: npm run ${script} -- `),
      );
    });
  }

  for (const [script, args, problem] of BAD_VALUES) {
    it(`npm run ${script} -- ${args.join(" ")} names the bad value in one line and exits 2`, async () => {
      const r = await run(script, args);
      expect(r.code, r.stderr).to.equal(2);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.match(problem);
      expect(lines[0]).to.include(`usage: npm run ${script}`);
    });
  }
});
