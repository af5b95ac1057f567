/**
 * Child processes the demo and the end-to-end test need: a local Hardhat node, the deploy
 * script, the circuit build; with clean shutdown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Mnemonic } from "ethers";
import { ROOT } from "./circuit-build.js";

/** Hardhat's well-known development mnemonic: its accounts are funded on a fresh node. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The i-th funded development account of a Hardhat node (never use on a real chain). */
export function devAccount(i: number): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${i}`);
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);

/** Runs a command to completion; output is passed to `onLine` line by line. Rejects on failure. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.includes("/") ? cmd : bin(cmd), args, {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let partial = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      partial += d.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) opts.onLine?.(l);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      if (partial) opts.onLine?.(partial);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${path.basename(cmd)} ${args.join(" ")} failed (exit ${code}):\n${out.slice(-4000)}`,
          ),
        );
    });
  });
}

/** A running local Hardhat node. */
export interface LocalNode {
  url: string;
  provider: JsonRpcProvider;
  stop(): Promise<void>;
}

/** Starts `hardhat node` on a free port and waits until it answers JSON-RPC. */
export async function startHardhatNode(): Promise<LocalNode> {
  const port = await freePort();
  return startRpcNode("hardhat node", port, bin("hardhat"), [
    "node",
    "--port",
    String(port),
    "--hostname",
    "127.0.0.1",
  ]);
}

/**
 * Starts Foundry's `anvil` (npm `@foundry-rs/anvil`, an EVM node that is not Hardhat's) on a
 * free port and waits until it answers JSON-RPC. Its accounts are the same development
 * mnemonic's ({@link devAccount}), its chain id 31337, and every transaction is mined at once.
 */
export async function startAnvil(): Promise<LocalNode> {
  const port = await freePort();
  return startRpcNode("anvil", port, anvilBinary(), [
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--mnemonic",
    DEV_MNEMONIC,
    "--chain-id",
    "31337",
  ]);
}

/**
 * The platform's anvil binary itself: `node_modules/.bin/anvil` is a Node wrapper that spawns
 * it, and a wrapper killed with SIGKILL would leave the node running.
 */
function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  const direct = path.join(
    ROOT,
    "node_modules",
    "@foundry-rs",
    `anvil-${process.platform}-${arch}`,
    "bin",
    exe,
  );
  return existsSync(direct) ? direct : bin("anvil");
}

/** A local node of `kind` (both are separate processes: nothing runs in this process). */
export function startLocalNode(kind: "hardhat" | "anvil"): Promise<LocalNode> {
  return kind === "anvil" ? startAnvil() : startHardhatNode();
}

async function startRpcNode(
  label: string,
  port: number,
  cmd: string,
  args: string[],
): Promise<LocalNode> {
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  // cacheTimeout -1: ethers otherwise answers a repeated call (e.g. an account's pending nonce)
  // from a 250 ms cache, and two transactions of one key sent within it get the same nonce
  const provider = new JsonRpcProvider(url, undefined, {
    staticNetwork: true,
    pollingInterval: 200,
    cacheTimeout: -1,
  });
  const stop = async () => {
    provider.destroy();
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited:\n${output}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${label} did not answer on ${url} within 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { url, provider, stop };
}
