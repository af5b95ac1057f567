/**
 * Shared set-up of the gateway tests: PartProof deployed with the Ignition module on Hardhat's
 * in-process chain, a real gateway on port 0 with a real LevelDB in a temp folder, and
 * small HTTP and signing helpers.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { hexlify, randomBytes, ZeroHash, type Signer } from "ethers";
import type { Policy } from "../../circuits/lib/signals.js";
import { policyStruct } from "../../protocol/contract.js";
import { signPublish } from "../../protocol/typed-data.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import { partProofModule } from "../../ignition/modules/PartProof.js";
import { startServer, type GatewayDeps, type RunningGateway } from "../../gateway/app.js";
import type { Domain, QueryMessage } from "../../protocol/typed-data.js";
import type { GatewayStore } from "../../gateway/store/index.js";
import { checkResponse } from "./responses.js";
import { removeAfterFile } from "../temp-folders.js";

/** The circuit build the tests prove with (made by `npm run build:circuits`). */
export const CIRCUIT = { name: "range_d4", depth: 4, artifactsDir: "circuits/build/range_d4" };

/** Collects pino log lines. */
export class LogSink {
  /** Every line written. */
  readonly lines: string[] = [];
  /** pino destination interface. */
  write(s: string): void {
    this.lines.push(s);
  }
}

/** A config for a test gateway. */
export function testConfig(partProof: string, dataDir: string, over: Record<string, unknown> = {}) {
  return {
    port: 0,
    dataDir,
    chain: { rpcUrl: "in-process", confirmations: 1 },
    contracts: { partProof },
    relayerKey: { source: "injected" },
    circuit: CIRCUIT,
    provers: 1,
    bodyLimitBytes: 64 * 1024,
    rateLimitPerMinute: 10_000,
    ipRateLimitPerMinute: 100_000,
    relayer: { enabled: true, pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 500 },
    logLevel: "info",
    ...over,
  };
}

/**
 * A fresh temp folder for a LevelDB, removed when the test file's top-level describe ends (after
 * its own `after` hooks, which close the gateways and stores on it): test/temp-folders.ts.
 */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "partproof-gw-"));
  removeAfterFile(dir);
  return dir;
}

/** Deploys PartProof with the Ignition module (test circuits too); returns the contract. */
export async function deploy(conn: { ethers: HardhatEthers; ignition: any }) {
  const module = partProofModule(["test", "production"]);
  const { partProof } = await conn.ignition.deploy(module, { displayUi: false });
  return conn.ethers.getContractAt("PartProof", await partProof.getAddress());
}

/** Starts a gateway against the in-process chain. */
export async function gateway(
  ethers: HardhatEthers,
  partProof: string,
  relayer: Signer,
  opts: { dataDir?: string; over?: Record<string, unknown>; deps?: GatewayDeps } = {},
): Promise<RunningGateway & { logs: LogSink; dataDir: string }> {
  const logs = new LogSink();
  const dataDir = opts.dataDir ?? tempDir();
  const gw = await startServer(testConfig(partProof, dataDir, opts.over), {
    provider: ethers.provider,
    relayer,
    logStream: logs,
    ...opts.deps,
  });
  return Object.assign(gw, { logs, dataDir });
}

/**
 * JSON request; returns status, parsed body and raw text. Throws ProtocolMismatch (failing the
 * test) when the response is not the shape `protocol/api.ts` gives for its route and status.
 */
export async function call(
  base: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  checkResponse(method, url, {
    status: res.status,
    contentType: res.headers.get("content-type"),
    text,
  });
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

/**
 * How long {@link waitJob} polls before failing the test: long enough for a proof and a log
 * transaction on a loaded machine, far shorter than mocha's timeout, so a stuck job fails with
 * its status instead of hanging the run.
 */
export const WAIT_JOB_MS = 5 * 60_000;

/**
 * Polls a job until it reaches one of `until` (or fails); returns the job view. Throws, naming
 * the job and its last status, when it has not got there after {@link WAIT_JOB_MS}.
 */
export async function waitJob(base: string, id: string, until: string[] = ["logged"]) {
  const deadline = Date.now() + WAIT_JOB_MS;
  for (;;) {
    const r = await call(base, "GET", `/jobs/${id}`);
    if (until.includes(r.body.status) || r.body.status === "failed") return r.body;
    if (Date.now() > deadline) {
      throw new Error(
        `waitJob: job ${id} is still "${r.body.status}" after ${WAIT_JOB_MS / 1000} s (waiting for ${until.join(" or ")})`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * What a gateway's store holds, to show that a refusal wrote nothing: the entry count of every
 * sublevel (versions, batch and root indexes, nonces, request index, jobs, outbox), every job
 * and every outbox entry.
 */
export async function storeSnapshot(store: GatewayStore) {
  return {
    counts: await store.counts(),
    jobs: await store.allJobs(),
    outbox: await store.listOutbox(),
  };
}

/** A random request id. */
export function requestId(): string {
  return hexlify(randomBytes(32));
}

/** The policy as the contract's struct. */
export { policyStruct as policyTuple } from "../../protocol/contract.js";

/** The signing domain of a deployment. */
export async function domainOf(ethers: HardhatEthers, partProof: string): Promise<Domain> {
  return { chainId: (await ethers.provider.getNetwork()).chainId, partProof };
}

/**
 * Verifies a Groth16 proof with the snarkjs command line in a separate process (`snarkjs
 * groth16 verify vkey public proof`): independent of the gateway, and no curve threads in
 * the test process.
 */
export async function snarkjsVerify(
  vkeyPath: string,
  publicSignals: string[],
  proof: unknown,
): Promise<boolean> {
  const dir = tempDir();
  writeFileSync(path.join(dir, "public.json"), JSON.stringify(publicSignals));
  writeFileSync(path.join(dir, "proof.json"), JSON.stringify(proof));
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve("snarkjs")), "cli.cjs");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        cli,
        "groth16",
        "verify",
        vkeyPath,
        path.join(dir, "public.json"),
        path.join(dir, "proof.json"),
      ],
      (err, stdout) => resolve(!err && /OK!/.test(stdout)),
    );
  });
}

/** A policy that allows every aggregate on every field of one part, no filters, k = `minCohort`. */
export function openPolicy(partNumber: string, minCohort = 3): Policy {
  return {
    aggregateMask: 0b1111111,
    fieldMask: 0b1111,
    filterMask: 0,
    ...keyRange({ partNumber }),
    minCohort,
  };
}

/**
 * Deploys PartProof, registers one asset of `schemaId` owned by `owner` (asset 1) and grants
 * `consumer` access to it under `policy` for a day with `quota` answers (grant 1).
 */
export async function assetWithGrant(
  conn: {
    ethers: HardhatEthers;
    ignition: any;
    networkHelpers: { time: { latest(): Promise<number> } };
  },
  owner: Signer,
  consumer: Signer,
  schemaId: string,
  policy: Policy,
  quota = 10,
) {
  const pp = await deploy(conn);
  const address = await pp.getAddress();
  const domain = await domainOf(conn.ethers, address);
  await (pp.connect(owner) as any).registerAsset(schemaId, ZeroHash, "http://gw");
  const now = BigInt(await conn.networkHelpers.time.latest());
  await (pp.connect(owner) as any).grantAccess(
    1n,
    await consumer.getAddress(),
    policyStruct(policy),
    now,
    now + 86400n,
    quota,
  );
  return { pp, address, domain };
}

/**
 * Has the gateway relay `owner`'s PublishVersion signature for local version `v` of `assetId`
 * (signed with `deadline`, by default ten minutes ahead).
 */
export async function publishLocal(
  gw: { url: string },
  pp: { nonces(a: string): Promise<bigint> },
  owner: Signer,
  domain: Domain,
  assetId: bigint,
  v: { localId: number; root: string; recordCount: number; treeDepth: number; paramsHash: string },
  deadline = BigInt(Math.floor(Date.now() / 1000) + 600),
) {
  const body = await signPublish(
    owner,
    domain,
    {
      assetId,
      root: BigInt(v.root),
      recordCount: BigInt(v.recordCount),
      treeDepth: BigInt(v.treeDepth),
      paramsHash: v.paramsHash,
    },
    await pp.nonces(await owner.getAddress()),
    deadline,
  );
  return call(gw.url, "POST", `/assets/${assetId}/versions/${v.localId}/publish`, body);
}

/**
 * A query message: COUNT over `lo..hi` of the latest version, a fresh request id and a deadline
 * ten minutes ahead, unless `q` says otherwise.
 */
export function queryMessage(
  q: Pick<QueryMessage, "grantId" | "assetId" | "lo" | "hi" | "nonce"> & Partial<QueryMessage>,
): QueryMessage {
  return {
    versionId: 0n,
    kind: 0,
    fieldA: 0,
    fieldB: 0,
    threshold: 0n,
    requestId: requestId(),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    ...q,
  };
}

/** `n` quality rows of one part and plant, one per day of July 2026, each with a fresh part id. */
export function qualityRowsWithIds(n: number): UploadData {
  return {
    format: "json",
    rows: Array.from({ length: n }, (_, i) => ({
      partNumber: "GBX-3232455",
      plant: "4711",
      productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
      hasBeenReworked: i % 2 === 0,
      numberOfConductedEndOfLineTests: i + 1,
      partId: randomUUID(),
    })),
  };
}
