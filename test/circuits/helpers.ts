/** Shared fixtures of the circuit tests: a small committed record set and a permissive policy. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../circuits/lib/testing.js";
import { AggregateKind, type Policy } from "../../circuits/lib/signals.js";
import type { Query } from "../../circuits/lib/query.js";
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

/**
 * A policy allowing every aggregate and field over keys 1..100 with k = 2, and THRESHOLD at the
 * thresholds the range and scan tests ask (400,000 and 1,000,000 PPM).
 */
export function openPolicy(overrides: Partial<Policy> = {}): Policy {
  return {
    aggregateMask: 0x7f,
    fieldMask: 0xf,
    filterMask: 0xf,
    keyLo: 1n,
    keyHi: 100n,
    minCohort: 2,
    thresholds: [400_000n, 1_000_000n],
    ...overrides,
  };
}

/**
 * "Template:line" of the one line of circuits/<file> (or node_modules/circomlib/... for a
 * `circomlib/` path) that contains `text` (it must occur once), inside template `template`:
 * how the witness generator names a failed `===`.
 */
export function assertionAt(file: string, template: string, text: string): string {
  const dir = file.startsWith("circomlib/") ? "node_modules" : "circuits";
  const lines = readFileSync(path.join(REPO_ROOT, dir, file), "utf8").split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`${file}: "${text}" is on ${hits.length} lines, need 1`);
  return `${template}:${hits[0]}`;
}

/**
 * Resolves to "Template:line" of the assertion at which the witness generator refused `p`'s
 * input (the innermost template, as {@link assertionAt} names it), or to null when it accepted
 * it. Any other failure (a bad input name, a trap) is rethrown: it is not a refusal by the circuit.
 */
export async function refusal(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    const m = /Assert Failed\.\s*Error in template (\w+?)_\d+ line: (\d+)/.exec(String(e));
    if (m === null) throw e;
    return `${m[1]}:${m[2]}`;
  }
}

/** Deterministic pseudo-random generator (xorshift64*): `bits` random bits per call. */
export function rng(seed: bigint): (bits: number) => bigint {
  let s = seed | 1n;
  return (bits) => {
    let out = 0n;
    for (let got = 0; got < bits; got += 32) {
      s ^= s >> 12n;
      s ^= (s << 25n) & ((1n << 64n) - 1n);
      s ^= s >> 27n;
      out = (out << 32n) | (((s * 0x2545f4914f6cdd1dn) >> 32n) & 0xffffffffn);
    }
    return out & ((1n << BigInt(bits)) - 1n);
  };
}

/**
 * A query of `kind` over keys 7..30 of {@link sampleRecords} (MIN and MAX on field 3, the tree's
 * min/max field), with `overrides`: the range_d4 tests' query.
 */
export function rangeQuery(kind: AggregateKind, overrides: Partial<Query> = {}): Query {
  return {
    kind,
    fieldA: kind === AggregateKind.Min || kind === AggregateKind.Max ? 3 : 1,
    fieldB: 0,
    lo: 7n,
    hi: 30n,
    threshold: 400_000n,
    nonce: 99n,
    ...overrides,
  };
}
