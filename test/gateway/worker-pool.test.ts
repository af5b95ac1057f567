/**
 * A pool whose workers die while they load (a broken module, a heap cap too small to load the
 * code, a process that exits at start-up) must not respawn them forever while the request
 * waits: after a few failed starts in a row the waiting tasks fail with a WorkerStartError that
 * names the cause, and a later task tries again. Real worker threads and child processes.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { AppError } from "../../gateway/errors.js";
import { IngestPool } from "../../gateway/prover/ingest-pool.js";
import { withinBudget } from "../../gateway/usecases/ingest.js";
import {
  MAX_START_FAILURES,
  WorkerPool,
  WorkerStartError,
  type WorkerKind,
} from "../../gateway/prover/pool.js";

type Req = { id: number; kind: "echo"; value: number };
type Res = { id: number; ok: boolean; error?: string; value?: number };

/** A pool of workers running `script`, with `run` reachable from the test. */
class TestPool extends WorkerPool<Req, Res> {
  starts = 0;
  constructor(script: string, kind: WorkerKind) {
    super(1, script, { name: "test" }, kind);
  }
  echo(value: number): Promise<Res> {
    return this.run({ kind: "echo", value });
  }
}

/** Rejects after `ms` so that a hanging task fails the test instead of mocha's timeout. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The error `p` rejects with (fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail("expected the task to fail"),
    (e: unknown) => e as Error,
  );
}

describe("WorkerPool: workers that die while loading", function () {
  this.timeout(60_000);
  let dir: string;
  /** A worker module that answers echo tasks (the entry sends "ready" after it loads). */
  let good: string;
  /** A worker module that throws while it loads. */
  let broken: string;
  /** A worker module whose process exits with code 3 while it loads. */
  let exits: string;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "pp-pool-"));
    const echo = `
      import { parentPort } from "node:worker_threads";
      const port = parentPort ?? { on: (e, f) => process.on(e, f), postMessage: (m) => process.send(m) };
      port.on("message", (m) => {
        if (m.kind === "close") process.exit(0);
        port.postMessage({ id: m.id, ok: true, value: m.value * 2 });
      });`;
    good = pathToFileURL(path.join(dir, "good.mjs")).href;
    await writeFile(new URL(good), echo);
    broken = pathToFileURL(path.join(dir, "broken.mjs")).href;
    await writeFile(new URL(broken), `throw new Error("broken worker module: no such table");`);
    exits = pathToFileURL(path.join(dir, "exits.mjs")).href;
    await writeFile(new URL(exits), `process.exit(3);`);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs tasks on a worker that loads (control)", async function () {
    const pool = new TestPool(good, "thread");
    try {
      expect((await within(20_000, pool.echo(21))).value).to.equal(42);
    } finally {
      await pool.close();
    }
  });

  it(`fails a task with WorkerStartError naming the cause after ${MAX_START_FAILURES} failed starts in a row (a thread whose module throws), instead of respawning forever`, async function () {
    const pool = new TestPool(broken, "thread");
    try {
      const errors = await within(20_000, Promise.all([pool.echo(1), pool.echo(2)].map(rejection)));
      expect(errors).to.have.length(2);
      for (const e of errors) {
        expect(e).to.be.instanceOf(WorkerStartError);
        expect(e.message).to.include(
          `test worker failed to start ${MAX_START_FAILURES} times in a row`,
        );
        expect(e.message).to.include("broken worker module: no such table");
        expect((e as WorkerStartError).attempts).to.equal(MAX_START_FAILURES);
      }
      // the pool stays usable: the next task tries again (and fails again, the same way)
      expect(await within(20_000, rejection(pool.echo(3)))).to.be.instanceOf(WorkerStartError);
    } finally {
      await pool.close();
    }
  });

  it("fails a task with WorkerStartError when the worker process exits while it loads", async function () {
    const pool = new TestPool(exits, "process");
    try {
      const e = await within(20_000, rejection(pool.echo(1)));
      expect(e).to.be.instanceOf(WorkerStartError);
      expect(e.message).to.match(/exited \(code 3\)/);
    } finally {
      await pool.close();
    }
  });

  it("fails an ingest task with WorkerStartError when the heap cap is too small to load the worker's code", async function () {
    // 8 MiB: the ingest worker's code alone needs ~30 MiB (the config's minimum is 64)
    const pool = new IngestPool(1, 30_000, undefined, { heapMb: 8 });
    try {
      const e = await within(30_000, rejection(pool.dataHash({ format: "json", rows: [] })));
      expect(e).to.be.instanceOf(WorkerStartError);
      expect(e.message).to.include("ingest worker");
      expect(e.message).to.match(/memory|heap/i);
    } finally {
      await pool.close();
    }
  });

  it("answers such an ingest failure as 503 INGEST_UNAVAILABLE naming the cause", async function () {
    const pool = new IngestPool(1, 30_000, undefined, { heapMb: 8 });
    try {
      const e = await within(
        30_000,
        rejection(withinBudget("the upload", pool.dataHash({ format: "json", rows: [] }))),
      );
      expect(e).to.be.instanceOf(AppError);
      const a = e as AppError;
      expect([a.status, a.code]).to.deep.equal([503, "INGEST_UNAVAILABLE"]);
      expect(a.message).to.include("the ingest worker failed to start 3 times in a row");
      expect(a.message).to.include("nothing was stored");
    } finally {
      await pool.close();
    }
  });
});
