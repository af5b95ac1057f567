/**
 * Signatures over another EIP-712 domain: every signed message the gateway takes (Query with its
 * AnswerConsent, Upload, Read, PublishVersion), signed for another chain id, another contract
 * address, another domain name and another domain version, is refused and writes nothing (the
 * store, the owner's contract nonce and the asset's versions are unchanged).
 *
 * An ECDSA signature over another domain recovers to some other address, so the gateway sees
 * "signed by someone else": a Query is refused with NO_GRANT (the signer holds no grant), an
 * Upload with NOT_OWNER, a Read, an AnswerConsent and a PublishVersion (checked by the
 * contract, InvalidPublishSignature) with BAD_SIGNATURE. Each case also signs the same message
 * in the right domain to show that the domain alone makes the difference.
 */
import { expect } from "chai";
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";
import { network } from "hardhat";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import { recoverQuerySigner, recoverUploadSigner } from "../../gateway/auth.js";
import { versionIdOf } from "../../gateway/chain.js";
import { keyRange, type UploadData } from "../../protocol/records/index.js";
import {
  ANSWER_CONSENT_TYPES,
  answerConsentOf,
  PUBLISH_VERSION_TYPES,
  QUERY_TYPES,
  queryTypedMessage,
  READ_TYPES,
  recoverAnswerConsentSigner,
  signQuery,
  signUpload,
  typedDomain,
  UPLOAD_TYPES,
  uploadDataHash,
  type QueryMessage,
} from "../../protocol/typed-data.js";
import {
  call,
  deploy,
  domainOf,
  gateway,
  policyTuple,
  requestId,
  storeSnapshot,
} from "./helpers.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;

const QUALITY = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
const PART = "DOM-7";

const DATA: UploadData = {
  format: "json",
  rows: Array.from({ length: 4 }, (_, i) => ({
    partNumber: PART,
    plant: "1",
    productionDate: `2026-09-0${i + 1}`,
    hasBeenReworked: false,
    numberOfConductedEndOfLineTests: 2,
  })),
};

const POLICY: Policy = {
  aggregateMask: 0b1111111,
  fieldMask: 0b1111,
  filterMask: 0,
  ...keyRange({ partNumber: PART }),
  minCohort: 1,
};

describe("Gateway signature domains", function () {
  let gw: Awaited<ReturnType<typeof gateway>>;
  let owner: Signer;
  let consumer: Signer;
  let pp: Awaited<ReturnType<typeof deploy>>;
  let right: TypedDataDomain;
  let localId: number;
  let version: { root: bigint; recordCount: bigint; treeDepth: bigint; paramsHash: string };
  let nonce = 1n;

  /** The four wrong domains: another chain id, contract, name, version. */
  const wrongDomains = (): [string, TypedDataDomain][] => [
    ["another chain id", { ...right, chainId: BigInt(right.chainId!) + 1n }],
    ["another contract", { ...right, verifyingContract: "0x" + "5a".repeat(20) }],
    ["another name", { ...right, name: "PartProof2" }],
    ["another version", { ...right, version: "2" }],
  ];

  const sign = (
    signer: Signer,
    d: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    msg: Record<string, unknown>,
  ) => signer.signTypedData(d, types, msg);

  let stored: Awaited<ReturnType<typeof storeSnapshot>>;
  let chainState: [bigint, bigint];
  const chainNow = async (): Promise<[bigint, bigint]> => [
    await pp.nonces(await owner.getAddress()),
    (await pp.getAsset(1n)).versionCount,
  ];

  before(async function () {
    const signers = await ethers.getSigners();
    owner = signers[1]!;
    consumer = signers[2]!;
    pp = await deploy(conn);
    const address = await pp.getAddress();
    const domain = await domainOf(ethers, address);
    right = typedDomain(domain);
    await pp.connect(owner).registerAsset(QUALITY, ethers.ZeroHash, "http://127.0.0.1/gw");
    const now = BigInt(await networkHelpers.time.latest());
    await pp
      .connect(owner)
      .grantAccess(1n, await consumer.getAddress(), policyTuple(POLICY), now, now + 86400n, 5);
    gw = await gateway(ethers, address, signers[3]!, {
      over: { auditors: [await consumer.getAddress()] },
    });
    const up = await call(
      gw.url,
      "POST",
      "/assets/1/uploads",
      await signUpload(owner, domain, 1n, DATA),
    );
    expect(up.status).to.equal(201);
    localId = up.body.version.localId;
    version = {
      root: BigInt(up.body.version.root),
      recordCount: BigInt(up.body.version.recordCount),
      treeDepth: BigInt(up.body.version.treeDepth),
      paramsHash: up.body.version.paramsHash,
    };
  });

  after(async function () {
    await gw?.close();
  });

  beforeEach(async function () {
    stored = await storeSnapshot(gw.ctx.store);
    chainState = await chainNow();
  });

  afterEach(async function () {
    expect(await storeSnapshot(gw.ctx.store)).to.deep.equal(stored);
    expect(await chainNow()).to.deep.equal(chainState);
  });

  const query = (): QueryMessage => ({
    grantId: 1n,
    assetId: 1n,
    versionId: 0n,
    kind: AggregateKind.Count,
    fieldA: 0,
    fieldB: 0,
    lo: keyRange({ partNumber: PART }).keyLo,
    hi: keyRange({ partNumber: PART }).keyHi,
    threshold: 0n,
    requestId: requestId(),
    nonce: nonce++,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
  });

  it("refuses a Query (and its AnswerConsent) signed for another domain with NO_GRANT", async function () {
    const gwDomain = gw.ctx.domain;
    for (const [what, d] of wrongDomains()) {
      const q = query();
      const good = await signQuery(consumer, gwDomain, q);
      const signature = await sign(consumer, d, QUERY_TYPES, queryTypedMessage(q));
      const consent = await sign(consumer, d, ANSWER_CONSENT_TYPES, { ...answerConsentOf(q) });
      // right domain: the signer is the consumer; wrong domain: some other address
      expect(recoverQuerySigner(gwDomain, q, good.signature)).to.equal(await consumer.getAddress());
      expect(recoverQuerySigner(gwDomain, q, signature), what).to.not.equal(
        await consumer.getAddress(),
      );
      const r = await call(gw.url, "POST", "/queries", { ...good, signature, consent });
      expect([r.status, r.body.error.code], what).to.deep.equal([403, "NO_GRANT"]);
    }
  });

  it("refuses an AnswerConsent signed for another domain with BAD_SIGNATURE", async function () {
    const gwDomain = gw.ctx.domain;
    for (const [what, d] of wrongDomains()) {
      const q = query();
      const good = await signQuery(consumer, gwDomain, q);
      const consent = await sign(consumer, d, ANSWER_CONSENT_TYPES, { ...answerConsentOf(q) });
      expect(recoverAnswerConsentSigner(gwDomain, answerConsentOf(q), good.consent)).to.equal(
        await consumer.getAddress(),
      );
      const r = await call(gw.url, "POST", "/queries", { ...good, consent });
      expect([r.status, r.body.error.code], what).to.deep.equal([401, "BAD_SIGNATURE"]);
      expect(r.body.error.message, what).to.match(/^consent: /);
    }
  });

  it("refuses an Upload signed for another domain with NOT_OWNER", async function () {
    const gwDomain = gw.ctx.domain;
    const timestamp = BigInt(Math.floor(Date.now() / 1000));
    const msg = { assetId: 1n, dataHash: uploadDataHash(DATA), timestamp };
    for (const [what, d] of wrongDomains()) {
      const signature = await sign(owner, d, UPLOAD_TYPES, msg);
      expect(
        recoverUploadSigner(gwDomain, msg, signature, { maxAgeSec: 300, skewSec: 30 }),
        what,
      ).to.not.equal(await owner.getAddress());
      const body = { data: DATA, timestamp: timestamp.toString(), signature };
      const r = await call(gw.url, "POST", "/assets/1/uploads", body);
      expect([r.status, r.body.error.code], what).to.deep.equal([403, "NOT_OWNER"]);
    }
    // the right domain: the same batch is the stored version (200, nothing new written)
    const signature = await sign(owner, right, UPLOAD_TYPES, msg);
    const ok = await call(gw.url, "POST", "/assets/1/uploads", {
      data: DATA,
      timestamp: timestamp.toString(),
      signature,
    });
    expect([ok.status, ok.body.created]).to.deep.equal([200, false]);
  });

  it("refuses a Read signed for another domain with BAD_SIGNATURE", async function () {
    const timestamp = BigInt(Math.floor(Date.now() / 1000));
    const reads: [string, Signer, string, bigint][] = [
      ["/assets/1/records", owner, "records", 1n],
      [`/consumers/${await consumer.getAddress()}/answers`, consumer, "answers", 0n],
      [`/audit/answers?auditor=${await consumer.getAddress()}`, consumer, "audit", 0n],
    ];
    for (const [url, signer, action, assetId] of reads) {
      const msg = {
        account: await signer.getAddress(),
        action,
        assetId,
        timestamp,
        gateway: gw.ctx.gatewayId,
      };
      for (const [what, d] of wrongDomains()) {
        const headers = {
          "x-partproof-timestamp": timestamp.toString(),
          "x-partproof-signature": await sign(signer, d, READ_TYPES, msg),
        };
        const r = await call(gw.url, "GET", url, undefined, headers);
        expect([r.status, r.body.error.code], `${url}: ${what}`).to.deep.equal([
          401,
          "BAD_SIGNATURE",
        ]);
      }
      const ok = await call(gw.url, "GET", url, undefined, {
        "x-partproof-timestamp": timestamp.toString(),
        "x-partproof-signature": await sign(signer, right, READ_TYPES, msg),
      });
      expect(ok.status, url).to.equal(200);
    }
  });

  it("refuses a PublishVersion signed for another domain with BAD_SIGNATURE (the contract's InvalidPublishSignature)", async function () {
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
    const msg = {
      ...version,
      assetId: 1n,
      nonce: await pp.nonces(await owner.getAddress()),
      deadline,
    };
    for (const [what, d] of wrongDomains()) {
      const signature = await sign(owner, d, PUBLISH_VERSION_TYPES, msg);
      const r = await call(gw.url, "POST", `/assets/1/versions/${localId}/publish`, {
        deadline: deadline.toString(),
        signature,
      });
      expect([r.status, r.body.error.code], what).to.deep.equal([401, "BAD_SIGNATURE"]);
    }
    // the same message in the right domain is one the contract accepts (checked with a static
    // call, so nothing is published)
    const signature = await sign(owner, right, PUBLISH_VERSION_TYPES, msg);
    const versionId = await pp.publishVersionBySig.staticCall(
      1n,
      version.root,
      version.recordCount,
      version.treeDepth,
      version.paramsHash,
      deadline,
      signature,
    );
    expect(versionId).to.equal(versionIdOf(1n, 1));
  });
});
