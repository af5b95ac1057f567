/**
 * A hand-built (possibly malformed) Merkle-sum tree for the AuditPath tests: every leaf is
 * given explicitly, and any node may be overridden after it is computed; everything above it
 * is then hashed and summed from the overridden tuple, exactly as a dishonest tree builder
 * would commit it. Uses the tree's Poseidon (circuits/lib/tree.ts) so that roots match the
 * circuit's; the structure is rebuilt here on purpose, since circuits/lib refuses such trees.
 */
import { getPoseidon, type Leaf, type MerkleSumTree } from "../../circuits/lib/tree.js";
import { FIELD_MODULUS } from "../../circuits/lib/signals.js";

const HIGH = (1n << 128n) - 1n;
const EMPTY_MIN = (1n << 64n) - 1n;

/** Node tuple override: gets the honest tuple [hash, count, sum0..3, min, max], returns the committed one. */
export type NodeOverride = (honest: bigint[]) => bigint[];

/**
 * Commits `leaves` (2^depth of them, in tree order) with min/max over field `m`, replacing the
 * tuple of node `level:index` by `overrides.get("level:index")(honest)` before its parent is
 * computed.
 */
export async function forgedTree(
  leaves: readonly Leaf[],
  depth: number,
  m: number,
  overrides: ReadonlyMap<string, NodeOverride> = new Map(),
): Promise<MerkleSumTree> {
  if (leaves.length !== 2 ** depth) throw new RangeError(`need ${2 ** depth} leaves`);
  const P = await getPoseidon();
  const hash = (xs: bigint[]): bigint => P.F.toObject(P(xs));
  const apply = (level: number, index: number, t: bigint[]): bigint[] =>
    overrides.get(`${level}:${index}`)?.(t) ?? t;
  const levels: bigint[][][] = [
    leaves.map((lf, i) => {
      const real = lf.key !== 0n && lf.key !== HIGH;
      const t = [
        hash([lf.key, lf.nextKey, ...lf.values, lf.salt]),
        real ? 1n : 0n,
        ...lf.values.map((v) => (real ? v : 0n)),
        real ? lf.values[m]! : EMPTY_MIN,
        real ? lf.values[m]! : 0n,
      ];
      return apply(0, i, t);
    }),
  ];
  for (let l = 1; l <= depth; l++) {
    const below = levels[l - 1]!;
    const cur: bigint[][] = [];
    for (let i = 0; i < below.length / 2; i++) {
      const [a, b] = [below[2 * i]!, below[2 * i + 1]!];
      const t = [
        hash([...a, ...b]),
        ...[1, 2, 3, 4, 5].map((k) => (a[k]! + b[k]!) % FIELD_MODULUS),
        a[6]! < b[6]! ? a[6]! : b[6]!,
        a[7]! > b[7]! ? a[7]! : b[7]!,
      ];
      cur.push(apply(l, i, t));
    }
    levels.push(cur);
  }
  const node = (level: number, index: number): bigint[] => [...levels[level]![index]!];
  return {
    depth,
    minMaxField: m,
    root: levels[depth]![0]![0]!,
    leafCount: leaves.filter((lf) => lf.key !== 0n && lf.key !== HIGH).length,
    node,
    leaf: (i) => ({ ...leaves[i]!, values: [...leaves[i]!.values] }),
    keyAt: (i) => leaves[i]?.key ?? HIGH,
    path: (index) => Array.from({ length: depth }, (_, l) => node(l, (index >> l) ^ 1)),
  };
}
