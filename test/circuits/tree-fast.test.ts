import { expect } from "chai";
import fs from "node:fs";
import { createRequire } from "node:module";
import { NATIVE_ADDON, buildNative } from "../../circuits/native/build.js";
import {
  NATIVE_ADDON_ABI,
  addonProblem,
  loadNativeEngine,
  missingAddonCalls,
  nativeKernel,
  setNativeKernel,
  type NativeKernel,
} from "../../circuits/lib/tree-engine.js";
import { referenceTreeNodes } from "../../circuits/lib/tree-reference.js";
import {
  VALUE_MAX,
  buildTree,
  lastBuildStats,
  sortRecords,
  treeNodeBytes,
  type MerkleSumTree,
  type TreeRecord,
} from "../../circuits/lib/tree.js";
import { rng } from "./helpers.js";

interface DataSet {
  records: TreeRecord[];
  salts: bigint[];
}

/** n records with keys drawn from `keySpace` values (small spaces give many duplicate keys). */
function dataSet(n: number, seed: bigint, keySpace: bigint): DataSet {
  const r = rng(seed);
  const records = Array.from({ length: n }, () => ({
    key: 1n + (r(64) % keySpace),
    values: [r(20), r(64), r(3) === 0n ? VALUE_MAX : r(8), r(64)],
  }));
  // a duplicate record (same key and values, another salt) when there is room
  if (n >= 4) records[n - 1] = { key: records[0]!.key, values: [...records[0]!.values] };
  return { records, salts: records.map(() => r(248)) };
}

/** Reference trees already computed, by data set (each engine and kernel compares with one). */
const references = new Map<DataSet, ReturnType<typeof referenceTreeNodes>>();

/** Asserts that `tree` has every node of the reference tree (padding included) and its leaves. */
async function expectSameAsReference(tree: MerkleSumTree, data: DataSet): Promise<void> {
  if (!references.has(data)) {
    references.set(
      data,
      referenceTreeNodes(data.records, data.salts, tree.depth, tree.minMaxField),
    );
  }
  const ref = await references.get(data)!;
  for (let l = 0; l <= tree.depth; l++) {
    for (let i = 0; i < ref[l]!.length; i++) {
      expect(tree.node(l, i), `node (${l}, ${i})`).to.deep.equal(ref[l]![i]);
    }
  }
  expect(tree.root).to.equal(ref[tree.depth]![0]![0]);
}

/** The CPU's feature flags from /proc/cpuinfo (Linux), or undefined when unreadable. */
function readCpuFlags(): Set<string> | undefined {
  try {
    const line = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m);
    return line ? new Set(line[1]!.trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

/** Asserts that two trees are equal node for node. */
function expectSameTree(a: MerkleSumTree, b: MerkleSumTree): void {
  expect(a.root).to.equal(b.root);
  expect(a.leafCount).to.equal(b.leafCount);
  for (let l = 0; l <= a.depth; l++) {
    for (let i = 0; i < 2 ** (a.depth - l); i++) {
      expect(a.node(l, i), `node (${l}, ${i})`).to.deep.equal(b.node(l, i));
    }
  }
  for (let i = 0; i < 2 ** a.depth; i++) expect(a.leaf(i)).to.deep.equal(b.leaf(i));
}

describe("buildTree engines", function () {
  this.timeout(10 * 60_000);

  before(function () {
    // what `npm run build` does (cached): the native engine must be there to be tested
    buildNative({ log: () => {} });
  });

  const cases: [string, number, number, bigint, number][] = [
    // title, records, depth, key space, minMaxField
    ["the empty set at depth 1", 0, 1, 10n, 3],
    ["the empty set at depth 4", 0, 4, 10n, 3],
    ["one record", 1, 2, 10n, 3],
    ["a full depth-3 tree (2^3 - 2 records)", 6, 3, 1000n, 0],
    ["records with many duplicate keys", 40, 6, 5n, 3],
    ["random records, MIN/MAX of field 1", 100, 7, 1n << 128n, 1],
    ["random records at depth 9", 300, 9, 1n << 100n, 3],
  ];

  // the field arithmetic's edge: salts p − 1 and p − 2 (the largest field elements), values
  // 2^64 − 1, keys up to 2^128 − 2 (sums then carry into the high words)
  const FR_MINUS_1 = 21888242871839275222246405745257275088548364400416034343698204186575808495616n;
  const edgeRecords = Array.from({ length: 9 }, (_, i) => ({
    key: (1n << 128n) - 2n - BigInt(i % 3),
    values: [VALUE_MAX, VALUE_MAX - BigInt(i), 0n, VALUE_MAX],
  }));
  const edge = {
    records: edgeRecords,
    salts: edgeRecords.map((_, i) => FR_MINUS_1 - BigInt(i % 2)),
  };
  const caseData = cases.map(([, n, depth, keySpace]) =>
    dataSet(n, BigInt(n * 31 + depth), keySpace),
  );

  // the native engine once per field-arithmetic kernel set (x86-64 assembly, portable C)
  const engines: ["native" | "js", NativeKernel | undefined][] = [
    ["native", "adx"],
    ["native", "c"],
    ["js", undefined],
  ];
  for (const [engine, kernel] of engines) {
    describe(`${engine} engine${kernel ? ` with the ${kernel} kernels` : ""}`, function () {
      if (kernel) {
        before(function () {
          try {
            setNativeKernel(kernel);
          } catch (err) {
            // only the assembly kernels can be missing (another CPU or compiler)
            if (kernel === "adx") this.skip();
            throw err;
          }
          expect(nativeKernel()).to.equal(kernel);
        });
        after(function () {
          setNativeKernel("");
        });
      }

      it("equals the reference tree node for node on the largest keys, values and salts", async function () {
        const tree = await buildTree(edge.records, edge.salts, 4, { engine, workers: 1 });
        await expectSameAsReference(tree, edge);
      });

      for (const [k, [title, n, depth, , m]] of cases.entries()) {
        it(`equals the reference tree node for node on ${title}`, async function () {
          const data = caseData[k]!;
          const workers = n >= 100 ? 2 : 1;
          const tree = await buildTree(data.records, data.salts, depth, {
            engine,
            minMaxField: m,
            workers,
          });
          expect(lastBuildStats()!.engine).to.equal(engine);
          await expectSameAsReference(tree, data);
        });
      }
    });
  }

  it("hashes a tree of many tiles in one native call as level by level (threads taking tiles as they go)", async function () {
    // 3,000 records: 12 tiles of 256 leaves, then 5 levels above them (tree order = as packed)
    const native = loadNativeEngine()!;
    const data = dataSet(3000, 5n, 1n << 40n);
    const tree = await buildTree(data.records, data.salts, 13, { workers: 3 });
    const { levels, pads } = treeNodeBytes(tree)!;
    const sorted = sortRecords(data.records, data.salts);
    const packed = new Uint8Array(3000 * 80);
    const v = new DataView(packed.buffer);
    sorted.records.forEach((r, i) => {
      v.setBigUint64(80 * i, r.key, true);
      v.setBigUint64(80 * i + 8, r.key >> 64n, true);
      r.values.forEach((x, f) => v.setBigUint64(80 * i + 16 + 8 * f, x, true));
      for (let q = 0; q < 4; q++)
        v.setBigUint64(80 * i + 48 + 8 * q, sorted.salts[i]! >> BigInt(64 * q), true);
    });
    let below = new Uint8Array(3001 * 120);
    await native.hashLeaves(packed, 3000, 3, below, null, 1);
    expect(Buffer.from(levels[0]!).equals(Buffer.from(below))).to.equal(true);
    for (let l = 1; l <= 13; l++) {
      const size = Math.ceil(3001 / 2 ** l);
      const cur = new Uint8Array(size * 120);
      await native.hashNodes(below, below.length / 120, pads[l - 1]!, cur, size, null, 1);
      expect(Buffer.from(levels[l]!).equals(Buffer.from(cur)), `level ${l}`).to.equal(true);
      below = cur;
    }
  });

  it("loads the native engine built by npm run build", function () {
    expect(loadNativeEngine()?.name).to.equal("native");
  });

  it("hashes with the assembly kernels by default where the CPU has BMI2 and ADX", function () {
    const flags = process.platform === "linux" ? readCpuFlags() : undefined;
    if (process.arch !== "x64" || !flags) this.skip();
    const adx = flags.has("bmi2") && flags.has("adx");
    if (process.env.PARTPROOF_POSEIDON_KERNEL) this.skip(); // forced for this run
    expect(setNativeKernel("")).to.equal(adx ? "adx" : "c");
  });

  it("refuses an unknown kernel name and keeps the kernels it had", function () {
    const before = nativeKernel();
    expect(() => setNativeKernel("avx512" as NativeKernel)).to.throw(/expected "adx", "c"/);
    expect(nativeKernel()).to.equal(before);
  });

  it("takes the built addon, and refuses one built from older sources by the call it lacks", function () {
    // an addon built before hashTree existed (a checkout updated without `npm run build`)
    // loads, but its hashLeaves ignores the leaf order: used, it would hash another tree
    const addon = createRequire(import.meta.url)(NATIVE_ADDON) as Record<string, unknown>;
    expect(missingAddonCalls(addon)).to.deep.equal([]);
    expect(addon.abi).to.equal(NATIVE_ADDON_ABI); // addon.c's PARTPROOF_ADDON_ABI
    expect(addonProblem(addon)).to.equal(undefined);
    const older = { ...addon, hashTree: undefined };
    expect(missingAddonCalls(older)).to.deep.equal(["hashTree"]);
    expect(missingAddonCalls({})).to.deep.equal([
      "hashLeaves",
      "hashNodes",
      "hashTree",
      "kernel",
      "setKernel",
    ]);
  });

  describe("previous", function () {
    const depth = 10;
    const base = dataSet(600, 7n, 1n << 64n);
    let prev: MerkleSumTree;
    before(async function () {
      prev = await buildTree(base.records, base.salts, depth);
    });

    const grown: [string, (r: ReturnType<typeof rng>) => DataSet][] = [
      [
        "records appended after the last key",
        (r) => {
          const more = Array.from({ length: 40 }, () => ({
            key: (1n << 64n) + r(32),
            values: [r(8), r(8), r(8), r(8)],
          }));
          return {
            records: [...base.records, ...more],
            salts: [...base.salts, ...more.map(() => r(248))],
          };
        },
      ],
      [
        "records inserted in the middle and one duplicate of an existing key",
        (r) => {
          const more = Array.from({ length: 25 }, () => ({
            key: 1n + (r(64) % (1n << 64n)),
            values: [r(8), r(8), r(8), r(8)],
          }));
          more.push({ key: base.records[5]!.key, values: [0n, 0n, 0n, 0n] });
          return {
            records: [...more, ...base.records],
            salts: [...more.map(() => r(248)), ...base.salts],
          };
        },
      ],
      [
        "records removed and one record's value changed",
        () => {
          const records = base.records.slice(50, 580).map((x) => ({ ...x }));
          records[100] = { key: records[100]!.key, values: [1n, 2n, 3n, 4n] };
          return { records, salts: base.salts.slice(50, 580) };
        },
      ],
      ["the same records", () => base],
    ];

    for (const [title, make] of grown) {
      it(`equals a fresh build with ${title}`, async function () {
        const data = make(rng(99n));
        const fresh = await buildTree(data.records, data.salts, depth);
        const reused = await buildTree(data.records, data.salts, depth, { previous: prev });
        const stats = lastBuildStats()!;
        expectSameTree(reused, fresh);
        expect(stats.reused.leaves).to.be.greaterThan(400);
        expect(stats.hashed.leaves + stats.reused.leaves).to.equal(data.records.length + 1);
      });
    }

    it("rehashes only the changed leaves and the nodes above them when appending at the end", async function () {
      const more = [{ key: 1n << 70n, values: [1n, 1n, 1n, 1n] }];
      const tree = await buildTree([...base.records, ...more], [...base.salts, 5n], depth, {
        previous: prev,
      });
      const stats = lastBuildStats()!;
      // the last old record's nextKey changed, the new record is new: 2 leaves; above them one
      // node per level at most twice (the two leaves' paths)
      expect(stats.hashed.leaves).to.equal(2);
      expect(stats.hashed.nodes).to.be.at.most(2 * depth);
      expectSameTree(tree, await buildTree([...base.records, ...more], [...base.salts, 5n], depth));
    });

    it("reuses nothing from a tree of another depth and still builds the right tree", async function () {
      const other = await buildTree(base.records, base.salts, depth + 1);
      const tree = await buildTree(base.records, base.salts, depth, { previous: other });
      expect(lastBuildStats()!.reused.leaves).to.equal(0);
      expect(tree.root).to.equal(prev.root);
    });
  });
});
