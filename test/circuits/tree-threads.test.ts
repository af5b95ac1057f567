import { expect } from "chai";
import { spawn } from "node:child_process";
import { NATIVE_ADDON, buildNative } from "../../circuits/native/build.js";

/**
 * A child process that hashes trees with the native addon on the main thread and in several
 * worker threads at once, terminates two workers while their jobs are on the thread pool, and
 * exits (process.exit) while the others are still hashing: what the gateway's pools do when a
 * task overruns its budget or the gateway closes. Prints "clean" just before it exits.
 */
const CHILD = String.raw`
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
const ADDON = process.argv[1];
const BUILD = async function build(addon, n, threads, post) {
  const rec = new Uint8Array(n * 80);
  for (let i = 0; i < rec.length; i++) rec[i] = (i * 31 + n) & 0xff;
  let below = new Uint8Array((n + 1) * 120);
  const first = addon.hashLeaves(rec, n, 0, below, null, threads);
  post?.();
  await first;
  await addon.hashLeaves(rec, n, 1, below, new Int32Array([0, 1, n]), threads);
  const pad = new Uint8Array(120);
  for (let size = n + 1; size > 1; ) {
    const up = Math.ceil(size / 2);
    const out = new Uint8Array(up * 120);
    await addon.hashNodes(below, size, pad, out, up, null, threads);
    below = out;
    size = up;
  }
  return below;
};
const WORKER = "const { parentPort, workerData } = require('node:worker_threads');" +
  "const addon = require(workerData.addon);" +
  "const build = (" + BUILD.toString() + ");" +
  "(async () => { let said = false; for (;;) await build(addon, workerData.n, 4," +
  " said ? undefined : () => { said = true; parentPort.postMessage('hashing'); }); })();";
const addon = createRequire(import.meta.url)(ADDON);
for (let round = 0; round < 3; round++) {
  const workers = [0, 1, 2, 3].map((i) => {
    const w = new Worker(WORKER, { eval: true, execArgv: [], workerData: { addon: ADDON, n: 300 + 400 * i } });
    w.on("error", (e) => { console.error("worker error", e); process.exit(3); });
    return w;
  });
  await Promise.all(workers.map((w) => new Promise((r) => w.once("message", r))));
  const mine = BUILD(addon, 700, 4);
  await Promise.all([workers[0].terminate(), workers[3].terminate()]);
  await mine;
  if (round === 2) {
    console.log("clean");
    process.exit(0);
  }
  await Promise.all(workers.map((w) => w.terminate()));
}
`;

/**
 * A child process that starts the JavaScript engine's Poseidon worker threads
 * (circuits/lib/poseidon-worker.mjs) four at a time, has each hash a batch, terminates them and
 * starts four more, as every JS-engine tree build and every gateway pool does. Before its fix,
 * each such thread loaded circomlibjs' index and with it the native blake-hash addon, whose
 * process-wide statics each new thread overwrote with the dead threads' references.
 */
const JS_CHILD = String.raw`
import { Worker } from "node:worker_threads";
const script = new URL(process.argv[1]);
for (let round = 0; round < 12; round++) {
  const workers = [0, 1, 2, 3].map(() => {
    const w = new Worker(script, {
      execArgv: [],
      workerData: { mod: "data:text/javascript,export{}", name: "poseidon", type: "module" },
    });
    w.on("error", (e) => { console.error("worker error", e); process.exit(3); });
    return w;
  });
  await Promise.all(workers.map((w) => new Promise((r) => w.once("message", r))));
  const buf = new Uint8Array(2 * 32);
  buf[0] = 1;
  buf[32] = 2;
  await Promise.all(workers.map((w, id) => new Promise((r) => {
    w.on("message", (m) => m.id === id && r(m));
    w.postMessage({ id, n: 1, arity: 2, montMask: 0, buf });
  })));
  await Promise.all(workers.map((w) => w.terminate()));
}
console.log("clean");
`;

function runChild(
  script: string,
  arg: string,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, arg], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, out }));
  });
}

/** Asserts that a child run ended by itself, with status 0, and said "clean". */
function expectClean(r: { code: number | null; signal: string | null; out: string }, run: number) {
  expect(r.out, `run ${run}`).to.not.match(
    /free\(\)|corrupted|double free|Sanitizer|terminate called/,
  );
  expect({ code: r.code, signal: r.signal }, `run ${run}: ${r.out}`).to.deep.equal({
    code: 0,
    signal: null,
  });
  expect(r.out).to.contain("clean");
}

describe("tree engines in worker threads", function () {
  this.timeout(10 * 60_000);

  before(function () {
    // what `npm run build` does (cached); this test is about the native engine only
    buildNative({ log: () => {} });
  });

  it("exits cleanly after workers hashing at once are terminated mid-job and the process exits mid-job", async function () {
    // glibc aborts (free(): invalid next size, corrupted size vs. prev_size) or a SIGSEGV
    // end the child with a signal; several runs, as heap corruption does not show every time
    for (let run = 0; run < 3; run++) {
      const r = await runChild(CHILD, NATIVE_ADDON);
      expectClean(r, run);
    }
  });

  it("starts and stops the JS engine's Poseidon threads twelve times over without aborting", async function () {
    const worker = new URL("../../circuits/lib/poseidon-worker.mjs", import.meta.url).href;
    expectClean(await runChild(JS_CHILD, worker), 0);
  });
});
