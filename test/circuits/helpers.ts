/** Shared fixtures of the circuit tests: a small committed record set and a permissive policy. */
import type { Policy } from "../../circuits/lib/signals.js";
import type { TreeRecord } from "../../circuits/lib/tree.js";

/** Ten records with duplicate keys, a zero-valued field 2 and a 2^64 - 1 value at key 30. */
export function sampleRecords(): TreeRecord[] {
  const keys = [5n, 7n, 7n, 9n, 12n, 15n, 20n, 21n, 30n, 41n];
  return keys.map((key, i) => ({
    key,
    values: [
      BigInt(i % 3),
      BigInt(10 * i + 3),
      0n,
      key === 30n ? (1n << 64n) - 1n : BigInt(50 - 3 * i),
    ],
  }));
}

/** Deterministic salts for {@link sampleRecords} (tests only; real salts are random). */
export function sampleSalts(n: number, offset = 1000n): bigint[] {
  return Array.from({ length: n }, (_, i) => offset + BigInt(i) * 7919n);
}

/** A policy allowing every aggregate and field over keys 1..100 with k = 2. */
export function openPolicy(overrides: Partial<Policy> = {}): Policy {
  return {
    aggregateMask: 0x7f,
    fieldMask: 0xf,
    filterMask: 0xf,
    keyLo: 1n,
    keyHi: 100n,
    minCohort: 2,
    ...overrides,
  };
}

/** Resolves to true iff `p` rejects (the witness generator refused the input). */
export async function rejects(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch {
    return true;
  }
}
