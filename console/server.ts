/**
 * The console's web server (Node side of the console app): bundles the browser app
 * (console/web/, esbuild) once at start and serves it with a strict Content-Security-Policy,
 * the console's configuration (chain, deployment, gateways; on a local development chain the
 * demo roles' DEVELOPMENT keys) and the verification keys of the built circuits. The browser
 * then talks to the chain (JSON-RPC) and to the gateways (HTTP) itself: this server proxies
 * nothing, and the CSP's connect-src lets the page reach only the configured chain and gateways.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { loadVerificationKeys } from "../protocol/manifest.js";

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), "web");

/** Chain ids of local development chains (Hardhat, anvil): the only ones given DEVELOPMENT keys. */
export const DEVELOPMENT_CHAIN_IDS: readonly number[] = [31337];

/** A role's DEVELOPMENT account, offered only on a local development chain. */
export interface DevAccount {
  /** What the UI calls it, e.g. "Gearworks GmbH (supplier)". */
  label: string;
  role: "supplier" | "automaker" | "auditor";
  /** A public development key (Hardhat's test mnemonic); never one of a real chain. */
  privateKey: string;
}

/** What the console is pointed at. */
export interface ConsoleOptions {
  /** The chain's JSON-RPC URL, as the browser reaches it. */
  rpcUrl: string;
  /** The PartProof deployment (scripts/deploy.ts's file). */
  deployment: { chainId: number; partProof: string; deploymentBlock?: number };
  /** The gateways the console talks to, by display name. */
  gateways: { name: string; url: string }[];
  /** DEVELOPMENT accounts; served only when the chain's id is a development chain's. */
  devAccounts?: DevAccount[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

/** The configuration the browser app reads from /config.json. */
export interface ConsoleConfig {
  rpcUrl: string;
  deployment: { chainId: number; partProof: string; deploymentBlock: number };
  gateways: { name: string; url: string }[];
  /** Present only on a local development chain. */
  devAccounts: DevAccount[];
}

/** A running console. */
export interface RunningConsole {
  /** The console's URL (its origin: the gateways' corsOrigins must list it). */
  url: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/** An origin of a URL (scheme://host[:port]) for the CSP. */
function originOf(url: string): string {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`${url}: the console reaches chains and gateways over http(s) only`);
  }
  return u.origin;
}

/**
 * The console's Content-Security-Policy: scripts and styles from the console only (no inline
 * script or style), WebAssembly for snarkjs' curve code, its worker from a blob, and network
 * access only to the console itself, the chain and the gateways.
 */
export function contentSecurityPolicy(opts: Pick<ConsoleOptions, "rpcUrl" | "gateways">): string {
  const connect = new Set([
    "'self'",
    originOf(opts.rpcUrl),
    ...opts.gateways.map((g) => originOf(g.url)),
  ]);
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src blob:",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${[...connect].join(" ")}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Asks the chain for its id (eth_chainId). */
async function chainIdOf(rpcUrl: string): Promise<number> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  const body = (await res.json()) as { result?: string };
  if (typeof body.result !== "string") throw new Error(`${rpcUrl} answered no chain id`);
  return Number(BigInt(body.result));
}

/** Bundles the browser app (console/web/main.ts) into one ES module. */
export async function bundleApp(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(WEB, "main.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    // csv-parse's Node build needs Buffer; the package ships a browser build of the same parser
    alias: { "csv-parse/sync": "csv-parse/browser/esm/sync" },
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

/** Bundles the app, checks the chain, and serves the console. */
export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const chainId = await chainIdOf(opts.rpcUrl);
  if (chainId !== opts.deployment.chainId) {
    throw new Error(
      `the chain at ${opts.rpcUrl} has id ${chainId}, the deployment names ${opts.deployment.chainId}`,
    );
  }
  const development = DEVELOPMENT_CHAIN_IDS.includes(chainId);
  const config: ConsoleConfig = {
    rpcUrl: opts.rpcUrl,
    deployment: {
      chainId,
      partProof: opts.deployment.partProof,
      deploymentBlock: opts.deployment.deploymentBlock ?? 0,
    },
    gateways: opts.gateways.map((g) => ({ name: g.name, url: g.url.replace(/\/+$/, "") })),
    // development keys never go to a page pointed at a chain that is not a local one
    devAccounts: development ? (opts.devAccounts ?? []) : [],
  };
  const vkeys = Object.fromEntries(await loadVerificationKeys());
  const csp = contentSecurityPolicy(opts);
  const files: Record<string, { type: string; body: string | Buffer }> = {
    "/": { type: "text/html; charset=utf-8", body: await readFile(path.join(WEB, "index.html")) },
    "/app.js": { type: "text/javascript; charset=utf-8", body: await bundleApp() },
    "/app.css": {
      type: "text/css; charset=utf-8",
      body: await readFile(path.join(WEB, "app.css")),
    },
    "/config.json": { type: "application/json", body: JSON.stringify(config) },
    "/vkeys.json": { type: "application/json", body: JSON.stringify(vkeys) },
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const route = new URL(req.url ?? "/", "http://console").pathname;
    const file = files[route === "/index.html" ? "/" : route];
    res.setHeader("content-security-policy", csp);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    res.setHeader("cache-control", "no-store");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
      res.end("method not allowed\n");
      return;
    }
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": file.type });
    res.end(req.method === "HEAD" ? undefined : file.body);
  };
  const server = createServer(serve);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
