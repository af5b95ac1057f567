import { expect } from "chai";
import { z } from "zod";
import { AppError, HTTP_STATUS, toAppError } from "../../gateway/errors.js";

describe("AppError", function () {
  describe("constructor", function () {
    it("takes its HTTP status from the code's row of the table", function () {
      expect(new AppError("COHORT_BELOW_K", "too few").status).to.equal(422);
      expect(new AppError("NONCE_REUSED", "again").status).to.equal(409);
      for (const [code, status] of Object.entries(HTTP_STATUS)) {
        expect(new AppError(code as keyof typeof HTTP_STATUS, "m").status, code).to.equal(status);
      }
    });

    it("sends code, message and details only", function () {
      const e = new AppError("INVALID_RECORDS", "2 problems", [{ position: "rows[1]" }]);
      expect(JSON.parse(JSON.stringify(e))).to.deep.equal({
        error: {
          code: "INVALID_RECORDS",
          message: "2 problems",
          details: [{ position: "rows[1]" }],
        },
      });
    });
  });

  describe("toAppError", function () {
    it("turns a zod error into VALIDATION_FAILED naming each position", function () {
      const r = z.strictObject({ a: z.number() }).safeParse({ a: "x" });
      const e = toAppError(r.error, 1024);
      expect([e.status, e.code]).to.deep.equal([400, "VALIDATION_FAILED"]);
      expect(e.details).to.deep.equal([
        { position: "a", reason: "Invalid input: expected number, received string" },
      ]);
    });

    it("names the body limit of an oversized body and refuses malformed JSON", function () {
      const big = toAppError({ type: "entity.too.large", status: 413 }, 1024);
      expect([big.status, big.code, big.message]).to.deep.equal([
        413,
        "BODY_TOO_LARGE",
        "the request body is larger than 1024 bytes",
      ]);
      const bad = toAppError({ type: "entity.parse.failed", status: 400 }, 1024);
      expect([bad.status, bad.code]).to.deep.equal([400, "MALFORMED_JSON"]);
    });

    it("keeps the status of another client error of the HTTP layer (e.g. 415)", function () {
      const e = toAppError({ type: "encoding.unsupported", status: 415 }, 1024);
      expect([e.status, e.code]).to.deep.equal([415, "VALIDATION_FAILED"]);
      expect(e).to.be.instanceOf(AppError);
    });

    it("answers anything else with INTERNAL, never with its message", function () {
      const e = toAppError(new Error("secret value 987654321"), 1024);
      expect([e.status, e.code]).to.deep.equal([500, "INTERNAL"]);
      expect(e.message).to.not.include("987654321");
    });
  });
});
