/**
 * A supplier's data set grows: each upload (a file, or a folder of pages through an upload
 * session) adds to the latest version; a record whose identity (partId) is seen again replaces
 * the earlier one and `recordStatus` deleted removes it; `replace` starts a new data set. Each
 * version is published and asked the same question, and the proved answer is compared with
 * plain TypeScript over the record set the test expects.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { AggregateKind } from "../../circuits/lib/signals.js";
import { versionIdOf } from "../../gateway/chain.js";
import { keyRange, qualitySchema } from "../../protocol/records/index.js";
import { signQuery, type QueryMessage } from "../../protocol/typed-data.js";
import { openSession, type Session } from "../../cli/session.js";
import * as supplier from "../../cli/supplier.js";
import {
  assetWithGrant,
  call,
  gateway,
  openPolicy,
  publishLocal,
  requestId,
  waitJob,
} from "./helpers.js";
import { removeAfterFile } from "../temp-folders.js";

const conn = await network.create();
const { ethers } = conn;

const PART = "GBX-3232455";
const PLANT = "4711";

/** One manufactured part as the test keeps it (the truth the answers are checked against). */
interface Part {
  partId: string;
  day: string;
  reworked: boolean;
  tests: number;
}

let taskSeq = 0;
const part = (day: string, reworked: boolean, tests = 1): Part => ({
  partId: randomUUID(),
  day,
  reworked,
  tests,
});

/** A Catena-X quality payload of `parts` (recordStatus per part when given). */
function payload(parts: readonly Part[], status: Record<string, string> = {}) {
  return {
    manufacturedParts: parts.map((p) => ({
      qualityTaskId: `430f56d3-1234-1234-1234-${String(++taskSeq).padStart(12, "0")}`,
      partId: p.partId,
      plant: { plantIdentifier: PLANT },
      partNumber: PART,
      productionDate: p.day,
      hasBeenReworked: p.reworked,
      numberOfConductedEndOfLineTests: p.tests,
      ...(status[p.partId] ? { recordStatus: status[p.partId] } : {}),
    })),
  };
}

/** Rework PPM over the parts: the plain-TypeScript answer to the question every version gets. */
function reworkPpm(parts: readonly Part[]): bigint {
  const reworked = parts.filter((p) => p.reworked).length;
  return (BigInt(reworked) * 1_000_000n) / BigInt(parts.length);
}

describe("Gateway versions: a growing data set", function () {
  let env: Awaited<ReturnType<typeof assetWithGrant>>;
  let gw: Awaited<ReturnType<typeof gateway>>;
  let s: Session;
  let owner: Awaited<ReturnType<typeof ethers.getSigners>>[number];
  let consumer: typeof owner;
  let work: string;
  let nonce = 1n;

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    consumer = signers[2]!;
    // k = 1: this test asks the same range of every version on purpose, which the differencing
    // guard refuses under k >= 2 once a version adds or replaces fewer than k records
    // (test/gateway/differencing.test.ts)
    env = await assetWithGrant(conn, owner, consumer, qualitySchema.id, openPolicy(PART, 1), 20);
    gw = await gateway(ethers, env.address, signers[4]!);
    s = await openSession({
      provider: ethers.provider,
      deployment: { chainId: 31337, partProof: env.address, deploymentBlock: 0, verifiers: {} },
      gatewayUrl: gw.url,
    });
    work = await mkdtemp(path.join(tmpdir(), "partproof-versions-"));
    removeAfterFile(work);
  });

  after(async function () {
    await gw?.close();
  });

  /** Rework PPM of part PART at plant PLANT over July 2026 in on-chain version `versionId`. */
  async function ask(versionId: bigint): Promise<bigint> {
    const { keyLo, keyHi } = keyRange({
      partNumber: PART,
      plant: PLANT,
      from: "2026-07-01",
      to: "2026-07-31",
    });
    const q: QueryMessage = {
      grantId: 1n,
      assetId: 1n,
      versionId,
      kind: AggregateKind.RatioPpm,
      fieldA: 1,
      fieldB: 0,
      lo: keyLo,
      hi: keyHi,
      threshold: 0n,
      requestId: requestId(),
      nonce: nonce++,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    };
    const r = await call(gw.url, "POST", "/queries", await signQuery(consumer, env.domain, q));
    expect(r.status, r.text).to.equal(202);
    const job = await waitJob(gw.url, r.body.jobId);
    expect(job.status).to.equal("logged");
    return BigInt(job.answer.resultValue);
  }

  async function file(name: string, content: unknown): Promise<string> {
    const f = path.join(work, name);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, JSON.stringify(content));
    return f;
  }

  it("appends three uploads (one a folder of pages), replaces and removes by identity, and answers each version over its record set", async function () {
    const a = [part("2026-07-01", true), part("2026-07-02", false), part("2026-07-03", false)];
    const b1 = [part("2026-07-04", true), part("2026-07-05", false)];
    const b2 = [part("2026-07-06", false), part("2026-07-07", true), part("2026-07-08", false)];
    const c = [part("2026-07-09", true), part("2026-07-10", false)];
    // the third upload reports a[1] again, now reworked, and withdraws b2[2]
    const a1Again = { ...a[1]!, reworked: true };
    const expected: Part[][] = [
      a,
      [...a, ...b1, ...b2],
      [a[0]!, a1Again, a[2]!, ...b1, b2[0]!, b2[1]!, ...c],
    ];
    // a paginated export: two pages in a folder are ONE upload and one version
    await file("b/page-1.json", payload(b1));
    await file("b/page-2.json", payload(b2));
    const uploads = [
      await file("a.json", payload(a)),
      path.join(work, "b"),
      await file(
        "c.json",
        payload([...c, a1Again, b2[2]!], {
          [b2[2]!.partId]: "deleted",
          [a1Again.partId]: "updated",
        }),
      ),
    ];
    const changes = [
      { added: 3, replaced: 0, removed: 0 },
      { added: 5, replaced: 0, removed: 0 },
      { added: 2, replaced: 1, removed: 1 },
    ];
    for (let i = 0; i < 3; i++) {
      const up = await supplier.uploadPath(s, owner, 1n, uploads[i]!);
      expect(up.created).to.equal(true);
      expect(up.version.localId).to.equal(i + 1);
      expect(up.version.recordCount).to.equal(expected[i]!.length);
      expect(up.version.base).to.equal(i);
      expect(up.version.changes).to.deep.equal(changes[i]);
      if (i === 1) expect(up.chunks).to.equal(2); // the folder went through one session
      const p = await supplier.publishViaGateway(s, owner, up.version);
      expect(p.versionId).to.equal(versionIdOf(1n, i + 1));
    }
    // the same question of each version, answered over that version's records only
    for (let i = 0; i < 3; i++) {
      expect(await ask(versionIdOf(1n, i + 1)), `version ${i + 1}`).to.equal(
        reworkPpm(expected[i]!),
      );
    }
    expect(await ask(0n)).to.equal(reworkPpm(expected[2]!)); // latest

    // the owner's views: versions with counts and changes, records page by page
    const vs = await supplier.versionsOf(s, owner, 1n);
    expect(vs.versions.map((v) => [v.localId, v.recordCount, v.base, v.changes])).to.deep.equal(
      expected.map((e, i) => [i + 1, e.length, i, changes[i]]),
    );
    const pages = [];
    const total = expected[2]!.length;
    for (let offset = 0; offset < total; offset += 4) {
      const r = await supplier.recordsPage(s, owner, 1n, { offset, limit: 4 });
      expect(r.page).to.deep.equal({ offset, limit: 4, total });
      pages.push(...r.records);
    }
    expect(pages.map((r) => r.values.reworked)).to.deep.equal(
      [...expected[2]!]
        .sort((x, y) => x.day.localeCompare(y.day))
        .map((p) => (p.reworked ? "1" : "0")),
    );
  });

  it("refuses to publish a version whose root is already published, with ROOT_ALREADY_PUBLISHED", async function () {
    const v3 = (await supplier.versionsOf(s, owner, 1n)).versions[2]!;
    const r = await publishLocal(gw, env.pp as never, owner, env.domain, 1n, v3);
    expect(r.status).to.equal(409);
    expect(r.body.error.code).to.equal("ROOT_ALREADY_PUBLISHED");
    expect(Number((await env.pp.getAsset(1n)).versionCount)).to.equal(3);
  });

  it("gives back the latest version for an upload that changes nothing (recordStatus same)", async function () {
    const before = await gw.ctx.store.counts();
    const latest = (await supplier.versionsOf(s, owner, 1n)).versions.at(-1)!;
    const data = await supplier.recordsPage(s, owner, 1n, { offset: 0, limit: 1 });
    expect(data.records).to.have.length(1);
    // a part reported again as "same" keeps the stored record (and its salt): no new version
    const same = { partId: randomUUID(), day: "2026-07-11", reworked: false, tests: 1 };
    const up1 = await supplier.uploadPath(s, owner, 1n, await file("d.json", payload([same])));
    expect(up1.created).to.equal(true);
    const up2 = await supplier.uploadPath(
      s,
      owner,
      1n,
      await file("e.json", payload([{ ...same, reworked: true }], { [same.partId]: "same" })),
    );
    expect(up2.created).to.equal(false);
    expect(up2.version.localId).to.equal(up1.version.localId);
    expect(up1.version.localId).to.equal(latest.localId + 1);
    expect((await gw.ctx.store.counts()).versions).to.equal(before.versions! + 1);
  });

  it("starts a new data set with replace", async function () {
    const fresh = [part("2026-07-15", true), part("2026-07-16", false), part("2026-07-17", false)];
    const up = await supplier.uploadPath(s, owner, 1n, await file("new.json", payload(fresh)), {
      replace: true,
    });
    expect(up.created).to.equal(true);
    expect(up.version.base).to.equal(0);
    expect(up.version.recordCount).to.equal(3);
    expect(up.version.changes).to.deep.equal({ added: 3, replaced: 0, removed: 0 });
    const p = await supplier.publishViaGateway(s, owner, up.version);
    expect(await ask(p.versionId)).to.equal(reworkPpm(fresh));
    // and the next upload adds to the new data set
    const more = [part("2026-07-18", true)];
    const next = await supplier.uploadPath(s, owner, 1n, await file("more.json", payload(more)));
    expect(next.version.base).to.equal(up.version.localId);
    expect(next.version.recordCount).to.equal(4);
  });
});
