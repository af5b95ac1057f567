/**
 * Temporary folders of a test run: every test file must remove the `partproof-*` folders it makes
 * in the temp directory (a LevelDB closed first). The run gets a temp directory of its own
 * (TMPDIR, removed at the end), so folders made by other runs on the same machine never count,
 * and after each top-level `describe` (a test file's, as the files are written) a check fails
 * naming every `partproof-*` folder it left there. `removeAfterFile` registers a folder that the
 * check itself removes first (for helpers whose callers cannot know when the folder is done).
 * Wired in as mocha root hooks in hardhat.config.ts.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Suite } from "mocha";

/** The folders the check looks for: the project's own. */
const OURS = /^partproof-/;

let runDir: string | undefined;
let savedTmpdir: string | undefined;
let known = new Set<string>();
const toRemove: string[] = [];

function ours(): Set<string> {
  if (runDir === undefined) return new Set();
  return new Set(readdirSync(runDir).filter((n) => OURS.test(n)));
}

/**
 * Registers `dir` for removal when the running top-level describe ends (after its own `after`
 * hooks, which close what uses it). Outside a run with the check, it is removed at exit.
 */
export function removeAfterFile(dir: string): void {
  if (runDir === undefined) {
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return;
  }
  toRemove.push(dir);
}

/**
 * What a top-level describe left: removes the registered folders, then returns the names of the
 * `partproof-*` folders made since the previous check (and remembers them, so each is named once).
 */
export function leftSinceLastCheck(): string[] {
  for (const dir of toRemove.splice(0)) rmSync(dir, { recursive: true, force: true });
  const now = ours();
  const left = [...now].filter((n) => !known.has(n)).sort();
  known = now;
  return left;
}

/**
 * Starts the check: a temp directory for the run (TMPDIR points at it), and a hook after every
 * top-level describe of `root` that fails naming the folders it left.
 */
export function startTempCheck(root: Suite): void {
  savedTmpdir = process.env.TMPDIR;
  runDir = mkdtempSync(path.join(os.tmpdir(), "partproof-testrun-"));
  process.env.TMPDIR = runDir;
  known = ours();
  const check = (who: string) => {
    const left = leftSinceLastCheck();
    if (left.length > 0) {
      throw new Error(
        `${who} left ${left.length} temp folder(s) in ${runDir}: ${left.join(", ")} ` +
          "(remove what a test makes in an after/afterEach hook, a LevelDB closed first)",
      );
    }
  };
  for (const suite of root.suites) {
    // first of the suite's before hooks (mocha keeps them in order in `_beforeAll`): what was
    // made since the previous file's check, by tests outside any describe (mocha runs them first)
    suite.beforeAll("no temp folder left by tests outside any describe", () =>
      check("tests outside any describe"),
    );
    const before = (suite as unknown as { _beforeAll: unknown[] })._beforeAll;
    before.unshift(before.pop());
    suite.afterAll(`leaves no partproof-* temp folder (${fileOf(suite)})`, () =>
      check(fileOf(suite)),
    );
  }
}

/**
 * Ends the check: removes the run's temp directory and whatever is in it, restores TMPDIR, and
 * fails naming what tests outside any describe left.
 */
export function endTempCheck(): void {
  if (runDir === undefined) return;
  const left = leftSinceLastCheck();
  const dir = runDir;
  rmSync(runDir, { recursive: true, force: true });
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  runDir = undefined;
  if (left.length > 0) {
    throw new Error(`tests outside any describe left temp folder(s) in ${dir}: ${left.join(", ")}`);
  }
}

function fileOf(suite: Suite): string {
  return suite.file ? path.relative(process.cwd(), suite.file) : suite.title;
}
