/**
 * `shapes` benchmark (issue 14): proof time and constraints per question shape. Every shape
 * the CLI answers is made of range proofs of one circuit (its constraints are the same for any
 * key range), so the benchmark measures one proof in the first order (one part, one plant, a
 * quarter) and one in the day order (every plant, a quarter: circuits/lib/tree-order.ts) over
 * trees of the same synthetic records, the cost of building the second tree, and reports each
 * shape as its number of proofs × the measured proof time (the proofs of a series or of
 * several suppliers run concurrently, so on one machine their wall time is that sum; on
 * several gateways it is one proof).
 */
import { performance } from "node:perf_hooks";
import { prove, verify } from "../../../circuits/lib/prove.js";
import { AggregateKind, type Policy } from "../../../circuits/lib/signals.js";
import { dayWindowRange, recordsInDayOrder } from "../../../circuits/lib/tree-order.js";
import { buildTree, randomSalt, type TreeRecord } from "../../../circuits/lib/tree.js";
import { rangeWitness } from "../../../circuits/lib/witness.js";
import { circuitPaths, r1csInfo } from "../circuit-build.js";
import { round, syntheticRecords, type Log } from "./common.js";

/** Options of {@link benchShapes}. */
export interface ShapesBenchOptions {
  /** The range circuit (range_d20; range_d4 with --quick). */
  circuit: string;
  depth: number;
  /** Records in the trees. */
  records: number;
}

/** One question shape: how many range proofs it takes and what that costs here. */
export interface ShapeCost {
  shape: string;
  proofs: number;
  constraints: number;
  /** proofs × the measured proof time (witness + prove), s. */
  proveSeconds: number;
  /** Extra commitment work per version, s (the second tree of the day order). */
  extraTreeSeconds: number;
}

/** Result of the `shapes` benchmark. */
export interface ShapesBenchData {
  circuit: string;
  depth: number;
  records: number;
  constraints: number;
  /** Tree build, first order and day order, s. */
  treeSeconds: { plantOrder: number; dayOrder: number };
  /** One proof (witness + prove), s: first order one plant × quarter; day order all plants × quarter. */
  proofSeconds: { plantOrder: number; dayOrder: number };
  /** Records in the two proved ranges. */
  rangeCount: { plantOrder: number; dayOrder: number };
  verified: boolean;
  shapes: ShapeCost[];
}

const PART_SHIFT = 80n;
const PLANT_SHIFT = 32n;

/** The synthetic records re-keyed to the production layout part · 2^80 + plant · 2^32 + day. */
function productionKeyed(rs: readonly TreeRecord[]): TreeRecord[] {
  return rs.map((r) => {
    const part = r.key >> 40n;
    const plant = (r.key >> 20n) & 0xfffffn;
    const day = r.key & 0xfffffn;
    return { key: (part << PART_SHIFT) + (plant << PLANT_SHIFT) + day, values: r.values };
  });
}

/** Runs the `shapes` benchmark. */
export async function benchShapes(o: ShapesBenchOptions, log: Log): Promise<ShapesBenchData> {
  const records = productionKeyed(syntheticRecords(o.records));
  // the part with the most records, and the quarter of its first record
  const byPart = new Map<bigint, number>();
  for (const r of records)
    byPart.set(r.key >> PART_SHIFT, (byPart.get(r.key >> PART_SHIFT) ?? 0) + 1);
  const part = [...byPart.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const mine = records.filter((r) => r.key >> PART_SHIFT === part);
  // the window starts at the part's earliest record, whose plant is the one-plant question's
  const DAY = 0xffffffffn;
  const first = mine.reduce((m, r) => ((r.key & DAY) < (m.key & DAY) ? r : m));
  const firstDay = Number(first.key & DAY);
  const [fromDay, toDay] = [firstDay, firstDay + 91];
  const plant = (first.key >> PLANT_SHIFT) & ((1n << 48n) - 1n);
  const salts = records.map(() => randomSalt());

  let t = performance.now();
  const tree1 = await buildTree(records, salts, o.depth);
  const tree1s = (performance.now() - t) / 1000;
  t = performance.now();
  const tree2 = await buildTree(recordsInDayOrder(records), salts, o.depth);
  const tree2s = (performance.now() - t) / 1000;
  log(
    `shapes: trees of ${o.records} records: first order ${tree1s.toFixed(1)} s, day order ${tree2s.toFixed(1)} s`,
  );

  const policy: Policy = {
    aggregateMask: 0x7f,
    fieldMask: 0xf,
    filterMask: 0,
    keyLo: part << PART_SHIFT,
    keyHi: ((part + 1n) << PART_SHIFT) - 1n,
    minCohort: 1,
  };
  const ratio = (lo: bigint, hi: bigint) => ({
    kind: AggregateKind.RatioPpm,
    fieldA: 1,
    fieldB: 0,
    lo,
    hi,
    threshold: 0n,
    nonce: 1n,
  });
  const onePlant = ratio(
    (part << PART_SHIFT) + (plant << PLANT_SHIFT) + BigInt(fromDay),
    (part << PART_SHIFT) + (plant << PLANT_SHIFT) + BigInt(toDay),
  );
  const window = dayWindowRange(part, fromDay, toDay);
  const allPlants = ratio(window.lo, window.hi);
  const timeProof = async (tree: typeof tree1, q: ReturnType<typeof ratio>) => {
    const w = rangeWitness(tree, q, policy, 5n, 6n);
    const t0 = performance.now();
    const r = await prove(o.circuit, w.input);
    const s = (performance.now() - t0) / 1000;
    const ok = await verify(o.circuit, r.proof, r.publicSignals);
    return { s, ok, count: Number(w.answer.count) };
  };
  const p1 = await timeProof(tree1, onePlant);
  log(`shapes: one plant × quarter (first order): ${p1.s.toFixed(1)} s over ${p1.count} records`);
  const p2 = await timeProof(tree2, allPlants);
  log(`shapes: every plant × quarter (day order): ${p2.s.toFixed(1)} s over ${p2.count} records`);
  const constraints = (await r1csInfo(circuitPaths(o.circuit).r1cs)).nConstraints;
  const proof = (p1.s + p2.s) / 2;
  const shape = (name: string, proofs: number, extraTreeSeconds = 0): ShapeCost => ({
    shape: name,
    proofs,
    constraints,
    proveSeconds: round(proofs * proof, 2),
    extraTreeSeconds: round(extraTreeSeconds, 2),
  });
  return {
    circuit: o.circuit,
    depth: o.depth,
    records: o.records,
    constraints,
    treeSeconds: { plantOrder: round(tree1s, 2), dayOrder: round(tree2s, 2) },
    proofSeconds: { plantOrder: round(p1.s, 2), dayOrder: round(p2.s, 2) },
    rangeCount: { plantOrder: p1.count, dayOrder: p2.count },
    verified: p1.ok && p2.ok,
    shapes: [
      shape(
        "one part × one plant × quarter (metric: rework-ppm, lead-time, on-time-share, delivered-qty, pcf-avg, carbon-total)",
        1,
      ),
      shape("every plant × quarter (day order)", 1, tree2s),
      shape("monthly series, 6 months (6 proofs in flight)", 6),
      shape("three suppliers, one total (delivered-qty: 1 proof each)", 3),
      shape("three suppliers, pooled ratio with a field denominator (lead-time: 2 proofs each)", 6),
    ],
  };
}
