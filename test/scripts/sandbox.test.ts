/**
 * `npm run sandbox` as a newcomer meets it: started as a child process (with the test-size
 * circuit range_d4), it prints commands; each one is run in a fresh shell from the checkout,
 * exactly as printed (the first loads the env file), and must succeed. Ctrl-C (SIGINT) then
 * stops the chain and the gateways and the sandbox exits 0. The README's "Try it yourself"
 * block must be exactly what the sandbox prints on a fresh chain with the default circuit.
 */
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/circuit-build.js";
import { ENV_FILE, sandboxCommands } from "../../scripts/lib/sandbox.js";

/** The commands in the sandbox's output: the indented lines after "Try it yourself". */
function printedCommands(output: string): string[] {
  const after = output.slice(output.indexOf("Try it yourself"));
  return after
    .split("\n")
    .filter((l) => l.startsWith("    "))
    .map((l) => l.trim());
}

/** How long {@link waitFor} waits: far beyond a sandbox start under load, below mocha's timeout. */
const WAIT_MS = 12 * 60_000;

/**
 * Waits until `child`'s stdout contains `marker`; rejects if it exits first, or after
 * {@link WAIT_MS} with a message naming the marker and what the sandbox printed.
 */
function waitFor(child: ChildProcess, marker: string, out: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `sandbox did not print "${marker}" within ${WAIT_MS / 60_000} min:\n${out.text}`,
          ),
        ),
      WAIT_MS,
    );
    const check = () => {
      if (out.text.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${code}) before "${marker}":\n${out.text}`));
    });
    check();
  });
}

describe("npm run sandbox", function () {
  this.timeout(15 * 60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  const out = { text: "" };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "partproof-sandbox-test-"));
    child = spawn(
      path.join(ROOT, "node_modules", ".bin", "tsx"),
      ["scripts/sandbox.ts", "--circuit", "range_d4", "--dir", dir],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d: Buffer) => (out.text += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out.text += d.toString()));
    await waitFor(child, "Ctrl-C here stops", out);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => child!.once("exit", r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("writes an env file with the chain, the deployment, the gateways and DEVELOPMENT keys", async () => {
    const env = await readFile(path.join(dir, ENV_FILE), "utf8");
    expect(env).to.match(/^export PARTPROOF_RPC_URL='http:\/\/127\.0\.0\.1:\d+'$/m);
    expect(env).to.include(`export PARTPROOF_DEPLOYMENT='${path.join(dir, "deployment.json")}'`);
    expect(env).to.match(/^export PARTPROOF_GATEWAY_BRAKELINE='http:\/\/127\.0\.0\.1:\d+'/m);
    for (const line of env.split("\n").filter((l) => /_KEY=/.test(l))) {
      expect(line).to.match(/^export PARTPROOF_DEV_\w+_KEY='0x[0-9a-f]{64}'\s+# DEVELOPMENT key/);
    }
  });

  it("prints commands that each succeed when run as printed, from the checkout", () => {
    const commands = printedCommands(out.text);
    expect(commands, out.text).to.have.length(4);
    expect(commands[0]).to.equal(`. ${path.join(dir, ENV_FILE)}`);
    const expected = [
      /answer: \d+ PPM\nverified: proof ok, answer opens the commitment ok, root on-chain ok, logged ok/,
      /grant 2 issued to 0x[0-9a-fA-F]{40}/,
      /1 log entries, 1 proofs re-verified, 0 anomalies/,
    ];
    for (const [i, command] of commands.slice(1).entries()) {
      // a new shell each time, as someone pasting into a terminal would (no env of this test)
      const r = spawnSync("bash", ["-c", `${commands[0]}\n${command}`], {
        cwd: ROOT,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
      expect(r.status, `${command}\n${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout).to.match(expected[i]!);
    }
  });

  it("stops the chain and the gateways on Ctrl-C and exits 0", async () => {
    const url = /PARTPROOF_RPC_URL='([^']+)'/.exec(
      await readFile(path.join(dir, ENV_FILE), "utf8"),
    )![1]!;
    child!.kill("SIGINT");
    const code = await new Promise((r) => child!.once("exit", r));
    expect(code).to.equal(0);
    expect(out.text).to.include("SIGINT: stopping the gateways and the local chain");
    const alive = await fetch(url, { method: "POST" }).then(
      () => true,
      () => false,
    );
    expect(alive).to.equal(false);
  });
});

describe("README: Try it yourself", () => {
  it("shows exactly the commands the sandbox prints on a fresh chain", async () => {
    const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Try it yourself"));
    const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!.trim().split("\n");
    const printed = sandboxCommands(path.join(ROOT, ".partproof", "sandbox", ENV_FILE), {
      circuit: "range_d20",
      assetId: 1n,
      grantId: 1n,
    });
    expect(block).to.deep.equal(printed);
  });
});
