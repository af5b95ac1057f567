/**
 * circuits/native/toolchain.ts `compileAddon`: an addon built from the same inputs by another
 * checkout on this machine is copied from the circuit cache instead of compiled again; and
 * circuits/lib/tree-engine.ts `nativeEngineFrom` refuses an addon of another ABI. A tiny
 * Node-API addon stands in for the real ones (a compile of a few hundred milliseconds).
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { NATIVE_ADDON_ABI, nativeEngineFrom } from "../../circuits/lib/tree-engine.js";
import { compileAddon, type AddonSpec } from "../../circuits/native/toolchain.js";
import { setEnv } from "../support.js";

const ADDON_C = (answer: number) => `#include <node_api.h>
#include "answer.h"
static napi_value answer(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, ANSWER_BASE + ${answer}, &v);
  return v;
}
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "answer", NAPI_AUTO_LENGTH, answer, NULL, &fn);
  napi_set_named_property(env, exports, "answer", fn);
  return exports;
}
`;

describe("compileAddon and the machine's cache of built addons", function () {
  this.timeout(120_000);
  let dir: string;
  let restoreEnv: () => void;
  const lines: string[] = [];

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "partproof-addon-test-"));
    restoreEnv = setEnv({ PARTPROOF_CIRCUIT_CACHE: path.join(dir, "cache") });
  });

  after(async function () {
    restoreEnv();
    await rm(dir, { recursive: true, force: true });
  });

  /** The spec of the tiny addon as checkout `checkout` builds it from `source`. */
  async function spec(checkout: string, source: string): Promise<AddonSpec> {
    const src = path.join(dir, checkout, "answer.c");
    await mkdir(path.dirname(src), { recursive: true });
    await writeFile(src, source);
    const out = path.join(dir, checkout, "build", "answer.node");
    return {
      label: "test addon",
      sources: [src],
      header: { name: "answer.h", text: "#define ANSWER_BASE 40\n" },
      out,
      stamp: `${out}.stamp`,
      log: (m) => lines.push(m),
    };
  }

  const load = (file: string) =>
    (createRequire(import.meta.url)(file) as { answer(): number }).answer();

  it("compiles once per machine: another checkout with the same inputs copies the addon, which loads", async function () {
    const first = await spec("a", ADDON_C(2));
    lines.length = 0;
    compileAddon(first);
    expect(lines.some((l) => /^test addon: .* -o /.test(l))).to.equal(true); // the compiler ran
    expect(load(first.out)).to.equal(42);
    const kept = (await readdir(path.join(dir, "cache"))).filter((f) => /^native-answer-/.test(f));
    expect(kept).to.have.length(1);

    const second = await spec("b", ADDON_C(2));
    lines.length = 0;
    compileAddon(second);
    expect(lines.some((l) => /built before on this machine, copied from/.test(l))).to.equal(true);
    expect((await readFile(second.out)).equals(await readFile(first.out))).to.equal(true);
    expect(load(second.out)).to.equal(42);
  });

  it("compiles again when a source differs, and keeps nothing with PARTPROOF_CIRCUIT_CACHE=off", async function () {
    const changed = await spec("c", ADDON_C(3));
    lines.length = 0;
    compileAddon(changed);
    expect(lines.some((l) => /copied from/.test(l))).to.equal(false);
    expect(load(changed.out)).to.equal(43);

    const restore = setEnv({ PARTPROOF_CIRCUIT_CACHE: "off" });
    try {
      await rm(path.join(dir, "cache"), { recursive: true, force: true });
      const off = await spec("d", ADDON_C(2));
      lines.length = 0;
      compileAddon(off);
      expect(lines.some((l) => /copied from/.test(l))).to.equal(false);
      expect(existsSync(off.out)).to.equal(true);
      expect(existsSync(path.join(dir, "cache"))).to.equal(false);
    } finally {
      restore();
    }
  });

  describe("the tree engine's check of a built addon", function () {
    /** A stand-in for poseidon.node: every call the tree engine makes, and `abi` when given. */
    const ENGINE_ADDON_C = `#include <node_api.h>
#include "abi.h"
static napi_value nothing(napi_env env, napi_callback_info info) {
  (void)env, (void)info;
  return NULL;
}
NAPI_MODULE_INIT() {
  static const char *calls[] = {"hashLeaves", "hashNodes", "hashTree", "kernel", "setKernel"};
  napi_value v;
  for (int i = 0; i < 5; i++) {
    napi_create_function(env, calls[i], NAPI_AUTO_LENGTH, nothing, NULL, &v);
    napi_set_named_property(env, exports, calls[i], v);
  }
#ifdef ABI
  napi_create_uint32(env, ABI, &v);
  napi_set_named_property(env, exports, "abi", v);
#endif
  return exports;
}
`;

    /** Builds that stand-in with `#define ABI <abi>` (none when undefined); returns its path. */
    async function engineAddon(checkout: string, abi: number | undefined): Promise<string> {
      const src = path.join(dir, checkout, "engine.c");
      await mkdir(path.dirname(src), { recursive: true });
      await writeFile(src, ENGINE_ADDON_C);
      const out = path.join(dir, checkout, "build", "engine.node");
      compileAddon({
        label: "test engine addon",
        sources: [src],
        header: { name: "abi.h", text: abi === undefined ? "\n" : `#define ABI ${abi}\n` },
        out,
        stamp: `${out}.stamp`,
        log: () => {},
      });
      return out;
    }

    it("refuses an addon with every call but another ABI number or none, saying why, and takes one with this code's", async function () {
      // an addon built from other sources whose calls have the same names but other arguments
      const other = nativeEngineFrom(await engineAddon("abi-other", NATIVE_ADDON_ABI + 1));
      expect(other.engine).to.equal(null);
      expect(other.engine === null && other.reason).to.match(
        new RegExp(
          `engine\\.node is out of date: it was built for ABI ${NATIVE_ADDON_ABI + 1}, this code needs ${NATIVE_ADDON_ABI} \\(run \`npm run build\`\\)$`,
        ),
      );
      const none = nativeEngineFrom(await engineAddon("abi-none", undefined));
      expect(none.engine === null && none.reason).to.match(
        /it has no ABI number \(this code needs/,
      );
      const same = nativeEngineFrom(await engineAddon("abi-same", NATIVE_ADDON_ABI));
      expect(same.engine?.name).to.equal("native");
    });
  });
});
