/**
 * The `partproof` program as a newcomer meets it: every command, argument and option is
 * described, defaults are said once and in words, and whatever the user mistypes is answered
 * in one line naming the problem and the usage, with exit code 2 (no stack trace, no command run).
 */
import { expect } from "chai";
import type { Command } from "commander";
import { buildProgram, runCli, type Io } from "../../cli/partproof.js";

/** An Io that keeps every line. */
function buffer(): Io & { out: (l: string) => void; lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, out: (l) => lines.out.push(l), err: (l) => lines.err.push(l) };
}

/** Every command of the program, the program first. */
function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

const nameOf = (c: Command): string => (c.parent ? `${nameOf(c.parent)} ${c.name()}` : c.name());

describe("partproof help", () => {
  const program = buildProgram(buffer());
  const commands = allCommands(program);

  it("describes every command, argument and option", () => {
    const missing: string[] = [];
    for (const c of commands) {
      if (!c.description()) missing.push(`command ${nameOf(c)}`);
      for (const a of c.registeredArguments) {
        if (!a.description) missing.push(`${nameOf(c)} <${a.name()}>`);
      }
      for (const o of c.options) if (!o.description) missing.push(`${nameOf(c)} ${o.flags}`);
    }
    expect(commands.length).to.be.greaterThan(10);
    expect(missing).to.deep.equal([]);
  });

  it("says each default once and in words, never as a quoted value", () => {
    for (const c of commands) {
      const help = c.helpInformation({ error: false }).replace(/\n\s+/g, " ");
      expect(help, nameOf(c)).not.to.match(/\(default: (["[]|\d+\)|true|false)/);
      for (const o of c.options) {
        const entry = `${o.flags} ${c.createHelp().optionDescription(o)}`;
        expect(entry.match(/default:/g)?.length ?? 0, `${nameOf(c)} ${o.flags}`).to.be.at.most(1);
      }
    }
    const query = commands.find((c) => nameOf(c) === "partproof automaker query")!;
    expect(query.helpInformation()).to.match(/--version <id>.*\(default: the latest\s+version\)/s);
  });
});

describe("partproof errors", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown command", ["supplier", "regster"], /unknown command 'regster'/],
    [
      "an unknown option, even before a missing required one",
      ["automaker", "query", "--bogus"],
      /unknown option '--bogus'.*usage: partproof automaker query \[options\]/,
    ],
    [
      "a missing required option",
      ["automaker", "series", "--asset", "1"],
      /required option '--grant <id>' not specified/,
    ],
    [
      "a bad option value",
      ["supplier", "grant", "1", "0x01", "--aggregates", "count", "--fields", "q"].concat([
        "--part",
        "P",
        "--k",
        "zero",
      ]),
      /--k must be a positive integer, got "zero".*usage: partproof supplier grant/,
    ],
    [
      "a missing argument",
      ["automaker", "verify"],
      /missing required argument 'jobId'.*usage: partproof automaker verify/,
    ],
  ];
  for (const [what, argv, message] of cases) {
    it(`answers ${what} in one line with the usage and exit code 2`, async () => {
      const io = buffer();
      const code = await runCli(argv, io);
      expect(code).to.equal(2);
      expect(io.lines.err).to.have.length(1);
      expect(io.lines.err[0]).to.match(message);
      expect(io.lines.err[0]).to.match(/^error: .* — usage: partproof/);
      expect(io.lines.out).to.deep.equal([]);
    });
  }

  it("prints the help and exits 0 for --help", async () => {
    const io = buffer();
    expect(await runCli(["auditor", "report", "--help"], io)).to.equal(0);
    expect(io.lines.out.join("\n")).to.match(/Usage: partproof auditor report \[options\]/);
  });
});
