/**
 * The demo's per-chapter clock: proofs counted from a gateway log written by pino exactly as the
 * gateway writes its "answer proved" and "audit proved" lines, and the summary line.
 */
import { expect } from "chai";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { lapLine, ProofCounter, summaryLine } from "../../scripts/lib/demo-clock.js";

describe("demo clock", () => {
  let dir: string;
  let file: string;
  let log: pino.Logger;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "partproof-demo-clock-"));
    file = path.join(dir, "gateway.log");
    log = pino({ level: "info" }, pino.destination({ dest: file, append: true, sync: true }));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("ProofCounter", () => {
    it("counts nothing while the log does not exist", async () => {
      const c = new ProofCounter(path.join(dir, "none.log"));
      expect(await c.take()).to.equal(0);
    });

    it("counts each answer proved and only the growth of each audit since the last take", async () => {
      const c = new ProofCounter(file);
      log.info({ requestId: "0x01", ms: 2300 }, "answer proved");
      log.info({ key: "a1:v1:c", proofs: 2 }, "audit proved");
      log.info({ port: 1 }, "gateway listening");
      expect(await c.take()).to.equal(3);
      // the same audit asked for more leaves: its line carries every leaf proved so far
      log.info({ key: "a1:v1:c", proofs: 5 }, "audit proved");
      log.info({ key: "a2:v1:c", proofs: 1 }, "audit proved");
      log.info({ requestId: "0x02", ms: 2100 }, "answer proved");
      expect(await c.take()).to.equal(5);
      expect(await c.take()).to.equal(0);
    });

    it("counts a line written in two pieces once, when it is whole", async () => {
      const c = new ProofCounter(file);
      const line = JSON.stringify({ level: 30, msg: "answer proved", ms: 1 });
      await appendFile(file, line.slice(0, 20));
      expect(await c.take()).to.equal(0);
      await appendFile(file, `${line.slice(20)}\n`);
      expect(await c.take()).to.equal(1);
    });
  });

  describe("summaryLine", () => {
    it("shows the total, the proofs and every lap with its time", () => {
      const laps = [
        { title: "build", ms: 4_120 },
        { title: "publish", ms: 12_340, proofs: 4 },
        { title: "queries", ms: 7_000, proofs: 1 },
        { title: "refusals", ms: 900, proofs: 0 },
      ];
      expect(summaryLine("demo", 30_000, laps)).to.equal(
        "demo: 30.0 s in all, 5 proofs — build 4.1 s · publish 12.3 s (4 proofs) · queries 7.0 s (1 proof) · refusals 0.9 s",
      );
      expect(lapLine(laps[2]!)).to.equal("(queries: 7.0 s, 1 proof)");
      expect(lapLine(laps[0]!)).to.equal("(build: 4.1 s)");
    });
  });
});
