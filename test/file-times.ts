/**
 * How long each test file took, its `before`/`after` set-ups included (mocha's reporter shows
 * only each test's own time, so a file whose cost is a shared world's set-up looks cheap).
 * After the run it prints the slowest top-level describes (a test file's, as the files are
 * written) with their wall time and share of the run: where a shorter suite has to start.
 * Printed only, never asserted (no timed assertions). Wired in as a mocha root hook in
 * hardhat.config.ts; `PARTPROOF_FILE_TIMES=N` prints N files (default 25, 0: none). Works for any
 * set of files: the quick tier (`npm test`) names itself in the report's first line
 * (PARTPROOF_TEST_TIER, set by test/tiers.ts).
 */
import path from "node:path";
import type { Suite } from "mocha";

const times: { file: string; ms: number }[] = [];
let runStart = 0;

/** Times every top-level describe of `root`, from before its first hook to after its last. */
export function startFileTimes(root: Suite): void {
  runStart = performance.now();
  for (const suite of root.suites) {
    let start = 0;
    suite.beforeAll("file-times: start", () => {
      start = performance.now();
    });
    // first of the suite's before hooks (mocha keeps them in order in `_beforeAll`)
    const before = (suite as unknown as { _beforeAll: unknown[] })._beforeAll;
    before.unshift(before.pop());
    // last of its after hooks (added after the file's own, so run after them)
    suite.afterAll("file-times: end", () => {
      const file = suite.file ? path.relative(process.cwd(), suite.file) : suite.title;
      times.push({ file, ms: performance.now() - start });
    });
  }
}

/** The slowest `count` files as text lines (wall seconds, share of the run), slowest first. */
export function fileTimesReport(count: number): string[] {
  const total = performance.now() - runStart;
  const sum = times.reduce((a, t) => a + t.ms, 0);
  // a file with several top-level describes counts once, their times added
  const byFile = new Map<string, number>();
  for (const t of times) byFile.set(t.file, (byFile.get(t.file) ?? 0) + t.ms);
  const lines = [...byFile]
    .map(([file, ms]) => ({ file, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map(
      (t) =>
        `${(t.ms / 1000).toFixed(1).padStart(7)} s ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${t.file}`,
    );
  const tier = process.env.PARTPROOF_TEST_TIER;
  return [
    `slowest test files${tier ? ` of the ${tier} tier` : ""}, set-ups included (${byFile.size} timed, ${(sum / 1000).toFixed(0)} s of ${(total / 1000).toFixed(0)} s):`,
    ...lines,
  ];
}

/** Prints the report unless PARTPROOF_FILE_TIMES=0. */
export function endFileTimes(): void {
  const n = Number(process.env.PARTPROOF_FILE_TIMES ?? 25);
  if (!(n > 0) || times.length === 0) return;
  console.log(`\n${fileTimesReport(n).join("\n")}\n`);
}
