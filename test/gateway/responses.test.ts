import { expect } from "chai";
import { checkResponse, ProtocolMismatch } from "./responses.js";

const json = (status: number, body: unknown) => ({
  status,
  contentType: "application/json; charset=utf-8",
  text: JSON.stringify(body),
});

const ACCEPTED = {
  jobId: "0b4c9a3e-8f0e-4a55-9a43-0f3c1d2e4b5a",
  status: "queued",
  requestId: "0x" + "ab".repeat(32),
  versionId: "18446744073709551617",
};

describe("checkResponse (gateway responses against protocol/api.ts)", function () {
  it("accepts a body of the route's schema with one of its statuses", function () {
    expect(() => checkResponse("POST", "/queries", json(202, ACCEPTED))).to.not.throw();
  });

  it("refuses a body that misses a field, naming the field", function () {
    const { versionId: _, ...missing } = ACCEPTED;
    expect(() => checkResponse("POST", "/queries", json(202, missing)))
      .to.throw(ProtocolMismatch)
      .with.property("message")
      .that.matches(/POST \/queries → 202 does not match the protocol/)
      .and.matches(/versionId/);
  });

  it("refuses a field the schema does not know (strict shapes)", function () {
    expect(() =>
      checkResponse("POST", "/queries", json(202, { ...ACCEPTED, blind: "1" })),
    ).to.throw(ProtocolMismatch, /blind/);
  });

  it("refuses a success status the route does not answer with", function () {
    expect(() => checkResponse("POST", "/queries", json(200, ACCEPTED))).to.throw(
      ProtocolMismatch,
      /POST \/queries → 200/,
    );
    expect(() => checkResponse("GET", "/nowhere", json(200, {}))).to.throw(ProtocolMismatch);
  });

  it("checks every refusal against the error body, whatever the route", function () {
    const refusal = { error: { code: "NONCE_REUSED", message: "nonce 1 was already used" } };
    expect(() => checkResponse("POST", "/queries", json(409, refusal))).to.not.throw();
    expect(() => checkResponse("GET", "/nowhere", json(404, refusal))).to.not.throw();
    expect(() => checkResponse("POST", "/queries", json(500, { message: "boom" }))).to.throw(
      ProtocolMismatch,
      /a refusal/,
    );
    expect(() =>
      checkResponse("POST", "/queries", { status: 400, contentType: "text/html", text: "<p>" }),
    ).to.throw(ProtocolMismatch);
  });

  it("reads the path without the query string", function () {
    const exp = { partProof: "0x" + "11".repeat(20), chainId: "31337", exportedAt: "x" };
    expect(() =>
      checkResponse("GET", "/audit/answers?auditor=0x1", json(200, { ...exp, answers: [] })),
    ).to.throw(ProtocolMismatch, /exportedAt/);
    expect(() =>
      checkResponse(
        "GET",
        "/audit/answers?auditor=0x1",
        json(200, {
          ...exp,
          exportedAt: new Date(0).toISOString(),
          answers: [],
          refusals: [],
          refusalsPerGrant: {},
        }),
      ),
    ).to.not.throw();
  });

  it("wants the Prometheus text exposition from /metrics", function () {
    const text = "# HELP partproof_queries_total Queries by status\n";
    expect(() =>
      checkResponse("GET", "/metrics", { status: 200, contentType: "text/plain", text }),
    ).to.not.throw();
    expect(() => checkResponse("GET", "/metrics", json(200, {}))).to.throw(ProtocolMismatch);
  });
});
