/**
 * Resumable upload sessions against a gateway run as its own process (`gateway/main.ts`) that
 * is killed with SIGKILL in the middle of a chunked upload: the chunks it acknowledged survive
 * (synced writes), the restarted gateway reports them, the client sends only the others, and
 * the commit makes exactly one version holding every record. The child reaches the test's
 * in-process chain through a small JSON-RPC bridge.
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZeroHash } from "ethers";
import { network } from "hardhat";
import { GatewayClient, GatewayError, GatewayRefusal } from "../../protocol/client.js";
import { qualitySchema, type UploadData } from "../../protocol/records/index.js";
import { signUploadStep } from "../../protocol/typed-data.js";
import { splitUpload, uploadChunks } from "../../cli/supplier.js";
import { devAccount, freePort } from "../../scripts/lib/processes.js";
import { rpcBridge, startGatewayProcess, stopProcess } from "../../scripts/lib/bench/uploads.js";
import { CIRCUIT, deploy, domainOf } from "./helpers.js";
import { removeAfterFile } from "../temp-folders.js";

const conn = await network.create();
const { ethers } = conn;

/** A gateway process (`gateway/main.ts`) with a funded relayer key; resolves once it listens. */
const startChild = (config: string) =>
  startGatewayProcess(config, { UPLOADS_TEST_RELAYER_KEY: devAccount(9).privateKey });

function rows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    partNumber: "GBX-3232455",
    plant: "4711",
    productionDate: `2026-07-${String(i + 1).padStart(2, "0")}`,
    hasBeenReworked: i % 3 === 0,
    numberOfConductedEndOfLineTests: i + 1,
    partId: randomUUID(),
  }));
}

describe("Gateway upload sessions", function () {
  let bridge: Server;
  let child: ChildProcess | undefined;
  let client: GatewayClient;
  let config: string;
  let owner: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let domain: Awaited<ReturnType<typeof domainOf>>;

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    const pp = await deploy(conn);
    const address = await pp.getAddress();
    domain = await domainOf(ethers, address);
    await (pp.connect(owner) as any).registerAsset(qualitySchema.id, ZeroHash, "http://gw");
    bridge = await rpcBridge((a) => conn.provider.request(a) as Promise<unknown>);
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), "partproof-uploads-"));
    removeAfterFile(dir); // after the child gateway on it stops
    config = path.join(dir, "gateway.json");
    await writeFile(
      config,
      JSON.stringify({
        port,
        host: "127.0.0.1",
        dataDir: path.join(dir, "db"),
        chain: { rpcUrl: `http://127.0.0.1:${(bridge.address() as AddressInfo).port}` },
        contracts: { partProof: address },
        relayerKey: { source: "env", name: "UPLOADS_TEST_RELAYER_KEY" },
        circuit: CIRCUIT,
        bodyLimitBytes: 64 * 1024,
        rateLimitPerMinute: 10_000,
        ipRateLimitPerMinute: 100_000,
        relayer: { enabled: false },
        logLevel: "warn",
      }),
    );
    client = new GatewayClient(`http://127.0.0.1:${port}`, domain);
  });

  after(async function () {
    if (child) await stopProcess(child);
    bridge?.close();
  });

  it("resumes an upload after the gateway is killed (SIGKILL) mid-upload and makes exactly one version of every record", async function () {
    child = await startChild(config);
    const data: UploadData = { format: "json", rows: rows(12) };
    const chunks = splitUpload(data, 500);
    expect(chunks.length).to.be.greaterThan(4);
    const killAfter = 2;
    let error: unknown;
    try {
      await uploadChunks(client, owner, 1n, chunks, false, {
        afterChunk: async (i) => {
          if (i === killAfter) await stopProcess(child!);
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error, "the upload stops when the gateway dies").to.be.instanceOf(GatewayError);

    child = await startChild(config);
    const progress: number[] = [];
    const done = await uploadChunks(client, owner, 1n, chunks, false, {
      onProgress: (p) => progress.push(p.chunk),
    });
    // every acknowledged chunk survived the kill; only the others were sent again
    expect(done.resumed).to.equal(killAfter + 1);
    expect(progress).to.deep.equal(
      Array.from({ length: chunks.length - killAfter - 1 }, (_, k) => killAfter + 2 + k),
    );
    expect(done.created).to.equal(true);
    const { versions } = await client.versions(owner, 1n);
    expect(versions).to.have.length(1);
    expect(versions[0]!.recordCount).to.equal(12);
    const page = await client.recordsPage(owner, 1n, { offset: 0, limit: 100 });
    expect(page.records.map((r) => r.values.endOfLineTests)).to.deep.equal(
      Array.from({ length: 12 }, (_, i) => String(i + 1)),
    );
    // the same upload again is the same version, not a second one
    const again = await uploadChunks(client, owner, 1n, chunks, false);
    expect([again.created, again.version.localId]).to.deep.equal([false, 1]);
    expect((await client.versions(owner, 1n)).versions).to.have.length(1);
  });

  it("refuses a commit with chunks missing (UPLOAD_INCOMPLETE) and a chunk signed by another key (NOT_OWNER), making no version", async function () {
    const data: UploadData = { format: "json", rows: rows(6) };
    const chunks = splitUpload(data, 500);
    const terms = {
      assetId: 1n,
      sessionId: "0x" + "ab".repeat(32),
      replace: true,
      chunkCount: chunks.length,
    };
    await client.startUploadSession(owner, terms);
    await client.uploadChunk(owner, terms, 0, chunks[0]!);
    const refused = await client.commitUploadSession(owner, terms).catch((e) => e);
    expect(refused).to.be.instanceOf(GatewayRefusal);
    expect([refused.status, refused.code]).to.deep.equal([409, "UPLOAD_INCOMPLETE"]);
    const stranger = (await ethers.getSigners())[6]!;
    const body = await signUploadStep(stranger, domain, terms, "chunk", 1, chunks[1]!);
    const res = await fetch(
      `${client.baseUrl}/assets/1/upload-sessions/${terms.sessionId}/chunks/1`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      },
    );
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("NOT_OWNER");
    const s = await client.uploadSession(owner, 1n, terms.sessionId);
    expect(s.received).to.deep.equal([0]);
    expect((await client.versions(owner, 1n)).versions).to.have.length(1);
  });
});
