/**
 * Peak RSS of the differencing guard's record universe on stored versions (issue 12): `put`
 * stores VERSIONS versions of RECORDS records each (each the previous one with 1 % of its
 * records changed and 1 % added) in a LevelDB at DIR; `check` (run in a fresh process) builds the
 * universe from the store as the gateway does and checks a query against 1,000 answered sets,
 * then prints the peak RSS and the load average.
 *
 * Usage: bash scripts/env.sh npx tsx scripts/lib/bench/universe-rss.ts put DIR RECORDS [VERSIONS]
 *        bash scripts/env.sh npx tsx scripts/lib/bench/universe-rss.ts check DIR
 */
import os from "node:os";
import { GatewayStore } from "../../../gateway/store/index.js";
import { packRows } from "../../../gateway/store/rows.js";
import { checkDifferencing, type RecordSet } from "../../../gateway/usecases/differencing.js";
import { storedUniverse } from "../../../gateway/usecases/differencing-store.js";
import type { MappedRecord } from "../../../protocol/records/types.js";

let seed = 7;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

async function put(dir: string, n: number, versions: number): Promise<void> {
  const store = await GatewayStore.open(dir);
  let records: MappedRecord[] = Array.from({ length: n }, () => ({
    key: BigInt(1 + rand(2 * n)),
    values: [1n, BigInt(rand(2)), 0n, BigInt(rand(50))],
  }));
  for (let v = 1; v <= versions; v++) {
    records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await store.putVersion({
      assetId: "1",
      schemaId: "urn:bench",
      batchHash: `0x${v}`,
      root: String(1000 + v),
      depth: 21,
      recordCount: records.length,
      createdAt: Date.now(),
      rows: packRows(
        records,
        records.map(() => BigInt(rand(1 << 30))),
      ),
    });
    records = records.map((r) =>
      rand(100) === 0 ? { key: r.key, values: [1n, 0n, 0n, BigInt(50 + rand(50))] } : r,
    );
    for (let i = 0; i < n / 100; i++) {
      records.push({ key: BigInt(1 + rand(2 * n)), values: [1n, 1n, 0n, BigInt(rand(50))] });
    }
  }
  await store.close();
}

async function check(dir: string): Promise<void> {
  const store = await GatewayStore.open(dir);
  const versions = await store.listVersions("1");
  const n = versions[0]!.recordCount;
  const t0 = Date.now();
  const universe = await storedUniverse(
    store,
    versions.map((v) => [v.root, v] as const),
  );
  const buildMs = Date.now() - t0;
  const answered: RecordSet[] = Array.from({ length: 1000 }, () => {
    const lo = BigInt(1 + rand(2 * n));
    return {
      versionId: versions[rand(versions.length)]!.root,
      lo,
      hi: lo + BigInt(1 + rand(n / 10)),
      predicates: [],
    };
  });
  const t1 = Date.now();
  const risk = checkDifferencing(
    universe,
    answered,
    { versionId: versions[0]!.root, lo: 1n, hi: BigInt(n), predicates: [] },
    5,
  );
  const checkMs = Date.now() - t1;
  await store.close();
  console.log(
    `${versions.length} version(s) of ~${n} records, universe ${universe.size} copies: build ${buildMs} ms, check ${checkMs} ms (${risk ? "refused" : "allowed"}); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

const [cmd, dir, n, versions] = process.argv.slice(2);
if (cmd === "put") await put(dir!, Number(n), Number(versions ?? 1));
else await check(dir!);
