/**
 * Mutation check of PartProof's security checks (`npm run mutation`; not part of `npm test`).
 *
 * Applies one mutant at a time to the working tree, runs only the test files that cover the
 * mutated source (TESTS_OF), and counts the mutant killed (a test failed), survived (every
 * test passed) or timed out (counted as killed). The source file is restored after each mutant,
 * also on Ctrl-C, SIGTERM or an error. Mutants:
 *
 * - the gateway's refusals (gateway/usecases/{query-checks,query,assets,reads,ingest,uploads}.ts,
 *   gateway/auth.ts, gateway/routes/{queries,read-auth}.ts) and the sender's failure outcomes
 *   (gateway/sender.ts): each `throw` of a refusal (`throw new AppError(…)`/`SendError(…)` or a
 *   helper that makes one; re-throws of a caught value are left alone) is deleted (`{}`);
 * - the differencing guard's verdict (gateway/usecases/differencing.ts): each `if` that records
 *   an atom of fewer than k records (assigns `smallest`) has its condition negated;
 * - the start-up checks (gateway/startup-checks.ts): each problem found (`problems.push`) is
 *   deleted, each `return [problem]` becomes `return []`, the refusal `throw` is deleted;
 * - contracts/modules/*.sol: each `revert Error(…);` is deleted (replaced by `{}`); a mutant that
 *   no longer compiles is reported apart and left out of the score;
 * - cli/reconcile.ts: each `if` that raises an anomaly (calls `flag`, pushes an anomaly) or skips
 *   a candidate (`continue`) has its condition negated;
 * - cli/automaker.ts (the automaker's answer verification, `verifyAnswer` and what it calls):
 *   each check of the returned AnswerCheck is made to always hold (its value replaced by `true`),
 *   and so is each operand of a check that is an `&&` chain (also inside the log-entry match);
 *   each `return false` of the on-chain proof check becomes `return true`; `failedChecks` reports
 *   nothing; each refusal `throw` is deleted. cli/signed-queries.ts (the automaker's own record of
 *   what it signed, which the checks compare against): each refusal `throw` is deleted.
 *
 * Before the mutants, the test files of the selected mutants run once unmutated and must pass
 * (else nothing is measured). Results are merged into bench/mutation-results.json (so subsets accumulate) and
 * bench/MUTATION.md is rewritten from them; everything below the line `<!-- notes -->` in
 * MUTATION.md (the written reasons for survivors) is kept.
 *
 * Usage: npm run mutation -- [--only SUBSTR[,SUBSTR…]] [--list] [--report] [--timeout-min 20]
 *        [--no-baseline]
 *   --only          mutants whose id (`file:line: label`) contains one of the substrings
 *   --list          print the mutants and exit
 *   --report        rewrite bench/MUTATION.md from bench/mutation-results.json and exit
 *   --no-baseline   skip the unmutated run: only when the same test files just passed on the
 *                   same commit (a run split across clones)
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS_JSON = path.join(ROOT, "bench", "mutation-results.json");
const REPORT_MD = path.join(ROOT, "bench", "MUTATION.md");
const NOTES_MARK = "<!-- notes -->";

const gw = (...names: string[]) => names.map((n) => `test/gateway/${n}.test.ts`);
const CONTRACT_TESTS = [
  "test/contracts/DataAssetRegistry.test.ts",
  "test/contracts/AccessGrants.test.ts",
  "test/contracts/AccessLog.test.ts",
  "test/contracts/RoleMatrix.test.ts",
];

/** The test files that cover each mutated source, cheapest first. */
const TESTS_OF: Record<string, string[]> = {
  // gateway: the files that exercise each source's refusals, the cheapest and most specific
  // first (a mutant stops at its first failing test); gateway.test.ts (proofs, minutes) last
  "gateway/usecases/query-checks.ts": gw(
    "refusal-codes",
    "threshold-policy",
    "refusals",
    "domains",
    "differencing",
    "gateway",
  ),
  "gateway/usecases/differencing.ts": gw("differencing-atoms", "differencing"),
  "gateway/usecases/query.ts": gw("refusal-codes", "gateway"),
  "gateway/auth.ts": gw("refusal-codes", "domains", "tenancy", "gateway"),
  "gateway/usecases/assets.ts": gw("refusal-codes", "tenancy", "gateway"),
  "gateway/usecases/reads.ts": gw("refusal-codes", "upload-refusals", "gateway"),
  "gateway/usecases/ingest.ts": gw(
    "ingest-refusals",
    "refusal-codes",
    "uploads",
    "versions",
    "tenancy",
    "bombs",
    "sender",
    "domains",
    "gateway",
  ),
  "gateway/usecases/uploads.ts": gw("upload-refusals", "uploads", "domains", "refusal-codes"),
  "gateway/routes/queries.ts": gw("refusal-codes", "job-events", "tenancy", "gateway"),
  "gateway/routes/read-auth.ts": gw("refusal-codes", "tenancy", "gateway"),
  "gateway/sender.ts": gw("sender-failures", "sender"),
  "gateway/startup-checks.ts": gw("startup-circuits", "startup"),
  "cli/reconcile.ts": ["test/cli/reconcile.test.ts"],
  // verify-checks isolates every check; verify.test.ts (a lying gateway through the CLI, minutes
  // of proofs) adds no check of its own and is left out to keep a mutant's run short
  "cli/automaker.ts": ["test/cli/verify-checks.test.ts"],
  "cli/signed-queries.ts": ["test/cli/verify-checks.test.ts"],
  ...Object.fromEntries(
    readdirSync(path.join(ROOT, "contracts", "modules"))
      .filter((f) => f.endsWith(".sol"))
      .map((f) => [`contracts/modules/${f}`, CONTRACT_TESTS]),
  ),
};

/** One mutant: replace [start, end) of `file` with `replacement`. */
interface Mutant {
  /** Stable id: `file:line: label`. */
  id: string;
  file: string;
  line: number;
  label: string;
  start: number;
  end: number;
  replacement: string;
  /** Hash of the file and the replaced text: a stored result is reused only while it matches. */
  key: string;
}

type Status = "killed" | "survived" | "timeout" | "compile-error" | "crashed";

interface Result {
  id: string;
  key: string;
  status: Status;
  /** The first failing test (killed). */
  killedBy?: string;
  seconds: number;
  date: string;
}

const lineOf = (text: string, pos: number) => text.slice(0, pos).split("\n").length;
const oneLine = (s: string, max = 70) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
};

function mutant(
  file: string,
  text: string,
  start: number,
  end: number,
  replacement: string,
  label: string,
): Mutant {
  const line = lineOf(text, start);
  const key = createHash("sha256")
    .update(text)
    .update(`${start}:${end}:${replacement}`)
    .digest("hex")
    .slice(0, 16);
  return { id: `${file}:${line}: ${label}`, file, line, label, start, end, replacement, key };
}

/** Every refusal `throw` of a TypeScript file, deleted. */
function throwMutants(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Mutant[] = [];
  const visit = (node: ts.Node) => {
    // a re-throw of a caught value (`throw e`) is no check of its own
    if (ts.isThrowStatement(node) && node.expression && !ts.isIdentifier(node.expression)) {
      const src = node.expression.getText(sf);
      const code = /(?:AppError|SendError)\(\s*"(\w+)"/.exec(src)?.[1] ?? oneLine(src, 40);
      out.push(mutant(file, text, node.getStart(sf), node.getEnd(), "{}", `delete throw ${code}`));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every `if` of reconcile that raises an anomaly or skips a candidate, negated. */
function negateMutants(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Mutant[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isIfStatement(node)) {
      const then = node.thenStatement.getText(sf);
      if (/\bflag\(|anomalies\.push\(|\bcontinue\b/.test(then)) {
        const cond = node.expression.getText(sf);
        out.push(
          mutant(
            file,
            text,
            node.expression.getStart(sf),
            node.expression.getEnd(),
            `!(${cond})`,
            `negate if (${oneLine(cond, 50)})`,
          ),
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The differencing guard's verdict (gateway/usecases/differencing.ts): each `if` that records an
 * atom of fewer than k records (assigns `smallest`) negated.
 */
function atomMutants(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Mutant[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isIfStatement(node) && /\bsmallest = /.test(node.thenStatement.getText(sf))) {
      const cond = node.expression.getText(sf);
      out.push(
        mutant(
          file,
          text,
          node.expression.getStart(sf),
          node.expression.getEnd(),
          `!(${cond})`,
          `negate if (${oneLine(cond, 50)})`,
        ),
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The start-up checks (gateway/startup-checks.ts): each problem found (`problems.push(…)`)
 * deleted, each `return [problem]` made `return []`, and the refusal `throw` deleted.
 */
function startupMutants(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Mutant[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isExpressionStatement(node) &&
      ts.isCallExpression(node.expression) &&
      node.expression.expression.getText(sf) === "problems.push"
    ) {
      const what = oneLine(node.expression.arguments[0]?.getText(sf) ?? "", 45);
      out.push(
        mutant(file, text, node.getStart(sf), node.getEnd(), "{}", `delete problem ${what}`),
      );
    }
    if (
      ts.isReturnStatement(node) &&
      node.expression &&
      ts.isArrayLiteralExpression(node.expression) &&
      node.expression.elements.length > 0
    ) {
      const what = oneLine(node.expression.elements[0]!.getText(sf), 45);
      out.push(
        mutant(
          file,
          text,
          node.expression.getStart(sf),
          node.expression.getEnd(),
          "[]",
          `return no problem instead of ${what}`,
        ),
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return [...out, ...throwMutants(file, text)].sort((a, b) => a.start - b.start);
}

/** The functions of cli/automaker.ts that verify an answer (the rest of the file only asks). */
const VERIFY_FUNCTIONS = new Set([
  "verifyAnswer",
  "verifyOnChain",
  "failedChecks",
  "requireAllChecks",
]);

/** `a && b && c` as [a, b, c] (parentheses looked through); a non-`&&` expression as [itself]. */
function conjuncts(e: ts.Expression): ts.Expression[] {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken) {
    return [...conjuncts(e.left), ...conjuncts(e.right)];
  }
  return [e];
}

/**
 * The answer verification of cli/automaker.ts weakened one check at a time: each AnswerCheck
 * property of `verifyAnswer`'s result and each `&&` operand in it or in the log-entry match made
 * `true`, each `return false` of `verifyOnChain` made `return true`, `failedChecks` emptied, each
 * refusal `throw` deleted.
 */
function verifyMutants(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Mutant[] = [];
  const toTrue = (e: ts.Node, label: string) =>
    out.push(mutant(file, text, e.getStart(sf), e.getEnd(), "true", label));
  const weakenChain = (e: ts.Expression, name: string) => {
    const parts = conjuncts(e);
    if (parts.length > 1) {
      for (const c of parts) toTrue(c, `${name}: operand (${oneLine(c.getText(sf), 45)}) := true`);
    }
  };
  const inVerify = (fn: ts.FunctionDeclaration) => {
    const name = fn.name!.text;
    const visit = (node: ts.Node) => {
      if (name === "verifyAnswer" && ts.isReturnStatement(node) && node.expression) {
        const obj = node.expression;
        if (ts.isObjectLiteralExpression(obj)) {
          for (const p of obj.properties) {
            if (ts.isShorthandPropertyAssignment(p)) {
              out.push(
                mutant(
                  file,
                  text,
                  p.getStart(sf),
                  p.getEnd(),
                  `${p.name.text}: true`,
                  `check ${p.name.text} := true`,
                ),
              );
            } else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) {
              toTrue(p.initializer, `check ${p.name.text} := true`);
              weakenChain(p.initializer, `check ${p.name.text}`);
            }
          }
        }
      }
      // the log-entry match: `events.some(({ args: a }) => … && …)`
      if (
        name === "verifyAnswer" &&
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === "some"
      ) {
        const fnArg = node.arguments[0];
        if (fnArg && ts.isArrowFunction(fnArg) && !ts.isBlock(fnArg.body)) {
          weakenChain(fnArg.body, "log entry match");
        }
      }
      if (
        name === "verifyOnChain" &&
        ts.isReturnStatement(node) &&
        node.expression?.kind === ts.SyntaxKind.FalseKeyword
      ) {
        toTrue(node.expression, "verifyOnChain: return false := return true");
      }
      if (name === "failedChecks" && ts.isPrefixUnaryExpression(node)) {
        out.push(
          mutant(
            file,
            text,
            node.getStart(sf),
            node.getEnd(),
            "false",
            "failedChecks: reports no check",
          ),
        );
      }
      ts.forEachChild(node, visit);
    };
    visit(fn);
  };
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name && VERIFY_FUNCTIONS.has(st.name.text)) inVerify(st);
  }
  const throws = throwMutants(file, text).filter((m) =>
    sf.statements.some(
      (st) =>
        ts.isFunctionDeclaration(st) &&
        st.name &&
        VERIFY_FUNCTIONS.has(st.name.text) &&
        st.getStart(sf) <= m.start &&
        m.end <= st.getEnd(),
    ),
  );
  return [...out, ...throws].sort((a, b) => a.start - b.start);
}

/** Every `revert Error(…);` of a Solidity file (outside comments), deleted. */
function revertMutants(file: string, text: string): Mutant[] {
  const out: Mutant[] = [];
  for (const m of text.matchAll(/\brevert\s+(\w+)\s*\([^;]*?\)\s*;/gs)) {
    const lineStart = text.lastIndexOf("\n", m.index) + 1;
    if (/\/\/|^\s*\*/.test(text.slice(lineStart, m.index))) continue; // in a comment
    out.push(mutant(file, text, m.index, m.index + m[0].length, "{}", `delete revert ${m[1]}`));
  }
  return out;
}

function allMutants(): Mutant[] {
  return Object.keys(TESTS_OF).flatMap((file) => {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    if (file.endsWith(".sol")) return revertMutants(file, text);
    if (file === "cli/reconcile.ts") return negateMutants(file, text);
    if (file === "cli/automaker.ts") return verifyMutants(file, text);
    if (file === "gateway/usecases/differencing.ts") return atomMutants(file, text);
    if (file === "gateway/startup-checks.ts") return startupMutants(file, text);
    return throwMutants(file, text);
  });
}

// ---- running

/** Original contents of the files currently mutated, restored on exit. */
const originals = new Map<string, string>();

function restoreAll(): void {
  for (const [file, text] of originals) writeFileSync(path.join(ROOT, file), text);
  originals.clear();
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    restoreAll();
    console.error(`\nmutation: ${sig}, sources restored`);
    process.exit(130);
  });
}
process.on("exit", restoreAll);

/** Refuses to start on a file with uncommitted changes (a crashed run, or someone's edits). */
function checkClean(files: string[]): void {
  const dirty = files.filter(
    (f) => spawnSync("git", ["diff", "--quiet", "HEAD", "--", f], { cwd: ROOT }).status !== 0,
  );
  if (dirty.length > 0) {
    throw new Error(
      `mutation: ${dirty.join(", ")} differ from HEAD; commit or restore them first (git checkout -- FILE)`,
    );
  }
}

interface Run {
  ok: boolean;
  timedOut: boolean;
  output: string;
  seconds: number;
}

/** Runs mocha through Hardhat on `files` (stopping at the first failure). */
function runTests(files: string[], compile: boolean, timeoutMs: number): Promise<Run> {
  if (files.length === 0) throw new Error("mutation: no test files (that would run every test)");
  return hardhat(
    ["test", "mocha", "--bail", ...(compile ? [] : ["--no-compile"]), ...files],
    timeoutMs,
  );
}

/**
 * {@link runTests}, run once more when it failed without a failing test (a crash of the test
 * process, e.g. a native abort under load, is no verdict on the mutant).
 */
async function runTestsOrRetry(files: string[], compile: boolean, timeoutMs: number) {
  const first = await runTests(files, compile, timeoutMs);
  if (first.ok || first.timedOut || firstFailure(first.output) || isCompileError(first.output)) {
    return first;
  }
  console.log(`  (the test run ended without a failing test; running it again)`);
  return runTests(files, compile, timeoutMs);
}

/** Runs `hardhat ARGS` in its own process group, killed after `timeoutMs`. */
function hardhat(args: string[], timeoutMs: number): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "hardhat"), args, {
      cwd: ROOT,
      detached: true, // its own process group: a timeout ends the test run and its workers
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, timedOut, output, seconds: Math.round((Date.now() - t0) / 1000) });
    });
  });
}

/** The first failing test of a mocha run, "Suite > test". */
function firstFailure(output: string): string | undefined {
  const m = /^\s+1\) (.+)$/m.exec(output);
  return m?.[1]?.trim();
}

const isCompileError = (out: string) =>
  /HHE\d+|Compilation failed|ParserError|TypeError: .*\.sol|DeclarationError/.test(out) &&
  /compil/i.test(out);

// ---- report

function loadResults(): Record<string, Result> {
  return existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, "utf8")) : {};
}

function score(results: Result[]) {
  const killed = results.filter((r) => r.status === "killed" || r.status === "timeout").length;
  const survived = results.filter((r) => r.status === "survived").length;
  const invalid = results.filter(
    (r) => r.status === "compile-error" || r.status === "crashed",
  ).length;
  const pct = killed + survived === 0 ? 0 : (100 * killed) / (killed + survived);
  return { killed, survived, invalid, pct };
}

function writeReport(mutants: Mutant[], stored: Record<string, Result>): string {
  const rows = mutants.map((m) => ({
    m,
    r: stored[m.id]?.key === m.key ? stored[m.id] : undefined,
  }));
  const done = rows.flatMap((x) => (x.r ? [x.r] : []));
  const s = score(done);
  const byFile = Object.keys(TESTS_OF)
    .map((file) => {
      const rs = rows.filter((x) => x.m.file === file);
      const d = rs.flatMap((x) => (x.r ? [x.r] : []));
      const f = score(d);
      return `| ${file} | ${rs.length} | ${d.length} | ${f.killed} | ${f.survived} | ${f.invalid} | ${d.length ? f.pct.toFixed(0) + " %" : "–"} |`;
    })
    .join("\n");
  const table = rows
    .map(({ m, r }) => {
      const status = r ? (r.status === "survived" ? "**SURVIVED**" : r.status) : "not run";
      const by = r?.killedBy ? oneLine(r.killedBy, 80).replace(/\|/g, "\\|") : "";
      return `| ${m.file}:${m.line} | ${m.label.replace(/\|/g, "\\|")} | ${status} | ${by} | ${r?.seconds ?? ""} |`;
    })
    .join("\n");
  const previous = existsSync(REPORT_MD) ? readFileSync(REPORT_MD, "utf8") : "";
  const notesAt = previous.indexOf(NOTES_MARK);
  const notes =
    notesAt >= 0
      ? previous.slice(notesAt)
      : `${NOTES_MARK}\n\n## Surviving mutants: reasons\n\n(none written yet)\n`;
  const summary = `${s.killed} killed, ${s.survived} survived, ${s.invalid} not compiling or crashed (left out); score ${s.pct.toFixed(1)} % of ${s.killed + s.survived} run (of ${mutants.length} mutants)`;
  const md = `# Mutation check

Generated by \`npm run mutation\` (scripts/mutation.ts); last written ${new Date().toISOString()}
on ${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}. Each mutant deletes one refusal (\`throw\` in the gateway's checks, \`revert\`
in contracts/modules, in the automaker's signed-query record) or negates one anomaly check
(cli/reconcile.ts) or makes one check of the automaker's answer verification always hold
(cli/automaker.ts), and runs only the test
files that cover its source (\`TESTS_OF\` in the script). A timeout counts as killed; a mutant
that does not compile, or whose test run crashed twice without a failing test, is left out of
the score ("not compiling / crashed"). "not run": not in the runs so far (\`--only\`).

**Score: ${summary}.**

| source | mutants | run | killed | survived | not compiling / crashed | score |
| --- | --- | --- | --- | --- | --- | --- |
${byFile}

| where | mutant | status | first failing test | s |
| --- | --- | --- | --- | --- |
${table}

${notes}`;
  writeFileSync(REPORT_MD, md);
  return summary;
}

// ---- main

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      list: { type: "boolean", default: false },
      "timeout-min": { type: "string", default: "20" },
      "no-baseline": { type: "boolean", default: false },
      report: { type: "boolean", default: false },
    },
  });
  const all = allMutants();
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const selected = only ? all.filter((m) => only.some((o) => m.id.includes(o))) : all;
  if (values.report) {
    console.log(writeReport(all, loadResults()));
    return;
  }
  if (values.list) {
    for (const m of selected) console.log(m.id);
    console.log(`${selected.length} of ${all.length} mutants`);
    return;
  }
  if (selected.length === 0) throw new Error(`mutation: no mutant matches --only ${values.only}`);
  const timeoutMs = Number(values["timeout-min"]) * 60_000;
  const files = [...new Set(selected.map((m) => m.file))];
  checkClean(files);
  const stored = loadResults();

  // every test file must pass unmutated, or a "killed" would mean nothing (one run of them all:
  // a run per test set would repeat the shared files)
  const baseline = [...new Set(files.flatMap((f) => TESTS_OF[f]!))];
  if (values["no-baseline"]) {
    console.log(`baseline skipped (--no-baseline): ${baseline.join(" ")}`);
  } else {
    console.log(`baseline: ${baseline.join(" ")}`);
    const run = await runTestsOrRetry(baseline, true, timeoutMs * 2);
    if (!run.ok) {
      console.error(run.output.slice(-4000));
      throw new Error(`mutation: the unmutated tests fail (${baseline.join(" ")}); fix them first`);
    }
    console.log(`  passes (${run.seconds} s)`);
  }

  for (const [i, m] of selected.entries()) {
    const abs = path.join(ROOT, m.file);
    const text = readFileSync(abs, "utf8");
    originals.set(m.file, text);
    writeFileSync(abs, text.slice(0, m.start) + m.replacement + text.slice(m.end));
    let run: Run;
    try {
      run = await runTestsOrRetry(TESTS_OF[m.file]!, m.file.endsWith(".sol"), timeoutMs);
    } finally {
      restoreAll();
    }
    const status: Status = run.timedOut
      ? "timeout"
      : run.ok
        ? "survived"
        : m.file.endsWith(".sol") && isCompileError(run.output)
          ? "compile-error"
          : firstFailure(run.output)
            ? "killed"
            : "crashed";
    // re-read: another run (on other files) may have written results meanwhile
    Object.assign(stored, loadResults());
    stored[m.id] = {
      id: m.id,
      key: m.key,
      status,
      ...(status === "killed"
        ? {
            killedBy:
              firstFailure(run.output) ??
              `(no failing test: ${oneLine(run.output.slice(-300), 300)})`,
          }
        : {}),
      seconds: run.seconds,
      date: new Date().toISOString(),
    };
    writeFileSync(RESULTS_JSON, JSON.stringify(stored, null, 2) + "\n");
    writeReport(all, stored);
    console.log(`[${i + 1}/${selected.length}] ${status.padEnd(13)} ${m.id} (${run.seconds} s)`);
  }
  // contracts: rebuild the unmutated artifacts so later runs see the real contracts
  if (files.some((f) => f.endsWith(".sol"))) await hardhat(["build", "--quiet"], timeoutMs);
  const summary = writeReport(all, stored);
  const done = selected.map((m) => stored[m.id]!);
  const s = score(done);
  console.log(`\nthis run: ${s.killed} killed, ${s.survived} survived, ${s.invalid} not compiling`);
  for (const r of done.filter((r) => r.status === "survived")) console.log(`  SURVIVED ${r.id}`);
  console.log(`all runs: ${summary}\nwritten: bench/MUTATION.md`);
}

main().catch((e) => {
  restoreAll();
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
