/**
 * The commitment tree computed the plain way, one bigint tuple and one circomlibjs Poseidon
 * call per node, straight from the layout of circuits/README.md. It is the reference that
 * circuits/lib/tree.ts (byte buffers, native or worker-thread hashing, reuse of a previous
 * tree) is tested against; too slow for more than a few thousand records.
 */
import {
  FIELD_COUNT,
  KEY_HIGH_SENTINEL,
  KEY_LOW_SENTINEL,
  VALUE_MAX,
  getPoseidon,
  sortRecords,
  type TreeRecord,
} from "./tree.js";

/** Every node tuple [hash, count, sum0..3, min, max] of the tree, levels[l][i], padding included. */
export async function referenceTreeNodes(
  records: readonly TreeRecord[],
  salts: readonly bigint[],
  depth: number,
  minMaxField: number,
): Promise<bigint[][][]> {
  const P = await getPoseidon();
  const hash = (inputs: bigint[]): bigint => P.F.toObject(P(inputs));
  const sorted = sortRecords(records, salts);
  const n = records.length;
  const width = 2 ** depth;
  const keyAt = (i: number): bigint =>
    i === 0 ? KEY_LOW_SENTINEL : i <= n ? sorted.records[i - 1]!.key : KEY_HIGH_SENTINEL;
  const padLeaf = (): bigint[] => {
    const h = hash([KEY_HIGH_SENTINEL, KEY_HIGH_SENTINEL, 0n, 0n, 0n, 0n, 0n]);
    return [h, 0n, 0n, 0n, 0n, 0n, VALUE_MAX, 0n];
  };
  const pad = padLeaf();
  const leaves: bigint[][] = [];
  for (let i = 0; i < width; i++) {
    if (i > n) {
      leaves.push(pad);
      continue;
    }
    const values = i === 0 ? [0n, 0n, 0n, 0n] : [...sorted.records[i - 1]!.values];
    const salt = i === 0 ? 0n : sorted.salts[i - 1]!;
    const h = hash([keyAt(i), keyAt(i + 1), ...values, salt]);
    leaves.push(
      i === 0
        ? [h, 0n, 0n, 0n, 0n, 0n, VALUE_MAX, 0n]
        : [h, 1n, ...values, values[minMaxField]!, values[minMaxField]!],
    );
  }
  const levels = [leaves];
  for (let l = 1; l <= depth; l++) {
    const below = levels[l - 1]!;
    const cur: bigint[][] = [];
    for (let i = 0; i < below.length / 2; i++) {
      const a = below[2 * i]!;
      const b = below[2 * i + 1]!;
      const sums = Array.from({ length: FIELD_COUNT }, (_, f) => a[2 + f]! + b[2 + f]!);
      cur.push([
        hash([...a, ...b]),
        a[1]! + b[1]!,
        ...sums,
        a[6]! < b[6]! ? a[6]! : b[6]!,
        a[7]! > b[7]! ? a[7]! : b[7]!,
      ]);
    }
    levels.push(cur);
  }
  return levels;
}
