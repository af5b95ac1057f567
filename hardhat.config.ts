import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);

/**
 * The compiler is the npm `solc` package (solc-js), referenced by absolute path: no
 * compiler is downloaded, so the build works offline. `version` must equal the pinned
 * `solc` version in package.json.
 */
const solc = {
  version: "0.8.28",
  path: require.resolve("solc/soljson.js"),
  settings: {
    optimizer: { enabled: true, runs: 10_000 },
    evmVersion: "cancun",
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: solc,
      production: solc,
    },
  },
  paths: {
    tests: { mocha: "test" },
  },
  test: {
    mocha: {
      timeout: 20 * 60_000,
      rootHooks: {
        // snarkjs' BN254 curve, made once before any test: snarkjs and ffjavascript share one curve through
        // globalThis.curve_bn128, made on first use, and two first uses at once each made one
        // (the threads of the one not kept would hold the run open at its end)
        async beforeAll(this: import("mocha").Context) {
          // @ts-expect-error ffjavascript ships no type declarations
          const { buildBn128 } = await import("ffjavascript");
          await buildBn128();
          // a temp directory for the run, and a check after each test file's top-level describe
          // that it left no partproof-* folder there
          const { startTempCheck } = await import("./test/temp-folders.js");
          startTempCheck(this.test!.parent!);
          // each test file's wall time, set-ups included, printed at the end (test/file-times.ts)
          (await import("./test/file-times.js")).startFileTimes(this.test!.parent!);
        },
        // snarkjs keeps its BN254 worker threads alive; end them once, after every test file,
        // so the run can exit. Ending them between files (and rebuilding) crashed the process.
        async afterAll() {
          await (
            globalThis as { curve_bn128?: { terminate(): Promise<void> } }
          ).curve_bn128?.terminate();
          (await import("./test/file-times.js")).endFileTimes();
          // last: it throws when tests outside any describe left a temp folder
          (await import("./test/temp-folders.js")).endTempCheck();
        },
      },
    },
  },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.PARTPROOF_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
});
