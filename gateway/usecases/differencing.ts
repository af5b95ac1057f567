/**
 * The differencing guard's atom logic (pure: no store, no chain, no HTTP).
 *
 * Every answer a consumer gets is a function of one record set: the records of one version with
 * `lo <= key <= hi` that match the query's predicates (COUNT, SUM, AVG, RATIO and THRESHOLD
 * are sums over that set; SUM and AVG of the same range have the same set). Over all the sets a
 * consumer has been answered on an asset, the *atoms* are the groups of records that every
 * answered set either wholly contains or wholly excludes; records outside every answered set
 * form no atom. Adding and subtracting answers can only ever give sums over whole atoms, so as
 * long as every atom holds 0 or at least k records, no combination of answers isolates fewer
 * than k records. {@link checkDifferencing} refuses the next set when it would split an atom (or
 * gather not yet answered records) into a part of 1 … k−1 records.
 *
 * Sets are kept as (version, key range, predicates), not as record lists, so the state per
 * consumer is one small entry per answer. The counts come from the versions' records:
 *
 * - Records are identified across versions by their content (key and the four values), copies
 *   matched by multiplicity: the j-th copy of a content is present in every version that holds
 *   at least j copies of it. The salt cannot identify a record (each version salts afresh) and
 *   nothing else is committed; two records with the same content are interchangeable for every
 *   aggregate, so matching them this way changes no answer. A record changed between versions is
 *   two records (one per content), which is the conservative reading.
 * - The records of the versions asked about are merged once into a {@link RecordUniverse}: one
 *   entry per (content, set of versions holding that copy), sorted by key, with prefix counts
 *   per version set, so the number of records of a key interval present in exactly a given set
 *   of versions is two binary searches.
 * - Key ranges: the elementary intervals between all answered endpoints (lo and hi + 1 of every
 *   set, the next one's too) are the cells; which range sets contain a record depends only on
 *   its cell and its version set, so each (cell, version set) is counted as a whole, in records
 *   (an interval of empty days holds none, whatever its width in keys).
 * - Predicate sets are evaluated record by record on the cells their key range touches, which is
 *   exact for any predicate: a scan query's range is one scan window (a few records); the
 *   selection of a filtered field (query-checks.ts `answerSets`: its 0/1 cohort field >= 1) can
 *   span a whole range, linear in the records of the cells it touches.
 * - Membership is summarised by a hash: each answered set gets a pseudo-random 64-bit id and a
 *   record's class is the sum (mod 2^64) of the ids of the sets that hold it (0: none). Two
 *   different classes share a hash with probability about C²/2^65 for C classes (below 10^-10
 *   for 10^4 answers); such a collision could merge two atoms, nothing else.
 *
 * The check is exact for the rule above; it does not model MIN/MAX (a MIN or MAX answer names
 * one record's value, whatever the atoms; README "What an answer reveals").
 */
import { createHash } from "node:crypto";
import { matchesPredicates, type Predicate } from "../../circuits/lib/query.js";
import type { MappedRecord } from "../../protocol/records/types.js";

/** A record set a consumer was answered on (or asks about): one version, a key range, filters. */
export interface RecordSet {
  /** The on-chain version id (decimal string) whose records the set is taken from. */
  versionId: string;
  /** Lowest key (inclusive). */
  lo: bigint;
  /** Highest key (inclusive). */
  hi: bigint;
  /** AND-ed filters (empty: every record of the range). */
  predicates: readonly Predicate[];
}

/** An atom the next set would create with fewer than k records. */
export interface DifferencingRisk {
  /** Records in the smallest such atom (1 … k−1). */
  size: number;
}

const MASK64 = (1n << 64n) - 1n;
const KEY_LIMIT = 1n << 128n;

/** Entries per block of the prefix counts (a count scans at most two partial blocks). */
const BLOCK_BITS = 6;
const BLOCK = 1 << BLOCK_BITS;

/** Orders two value lists (the four values of a record). */
function compareValues(a: readonly bigint[], b: readonly bigint[]): number {
  for (let f = 0; f < a.length; f++) {
    const x = a[f]!;
    const y = b[f]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareContent(a: MappedRecord, b: MappedRecord): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return compareValues(a.values, b.values);
}

/**
 * The entries of a universe, one per (content, version set) in content order, in typed arrays
 * (56 bytes an entry; with the records decoded as objects and one object per entry, building
 * the universe peaked at ~0.8 GB for one 10^6-record version and ~2 GB for three, issue 12).
 * Grown by doubling while the merge appends.
 */
class Entries {
  length = 0;
  keyLo = new BigUint64Array(1024);
  keyHi = new BigUint64Array(1024);
  /** Values v0..v3 of entry i at 4i .. 4i + 3. */
  values = new BigUint64Array(4 * 1024);
  /** Index into the universe's version sets. */
  mask = new Uint32Array(1024);
  /** How many copies share this content and version set. */
  count = new Uint32Array(1024);

  push(key: bigint, values: readonly bigint[], mask: number): void {
    if (this.length === this.mask.length) this.resize(2 * this.length);
    const i = this.length++;
    this.keyLo[i] = key & MASK64;
    this.keyHi[i] = key >> 64n;
    for (let f = 0; f < 4; f++) this.values[4 * i + f] = values[f]!;
    this.mask[i] = mask;
    this.count[i] = 1;
  }

  /** Reallocates every array to `n` entries (n >= length). */
  resize(n: number): void {
    const big = (a: BigUint64Array, per = 1) => {
      const b = new BigUint64Array(n * per);
      b.set(a.subarray(0, this.length * per));
      return b;
    };
    const small = (a: Uint32Array) => {
      const b = new Uint32Array(n);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.keyLo = big(this.keyLo);
    this.keyHi = big(this.keyHi);
    this.values = big(this.values, 4);
    this.mask = small(this.mask);
    this.count = small(this.count);
  }
}

/**
 * The merge of key-sorted versions into entries (see the module comment), as a generator that
 * yields the index of a version whose next records it needs and is resumed with them (an
 * empty batch: that version has no more), so that the same merge runs on lists in memory
 * ({@link RecordUniverse.build}) and on batches read from the store
 * ({@link RecordUniverse.stream}). The records of one key are gathered from every version and
 * ordered by content then version (the sources are ordered by key only); besides the current
 * batch of each version, only that key's records are held.
 */
function* mergeVersions(
  nVersions: number,
  entries: Entries,
  internSet: (versions: number[]) => number,
): Generator<number, void, readonly MappedRecord[]> {
  const batch: (readonly MappedRecord[])[] = Array.from({ length: nVersions }, () => []);
  const pos = new Array<number>(nVersions).fill(0);
  const done = new Array<boolean>(nVersions).fill(false);
  const lastKey = new Array<bigint>(nVersions).fill(-1n);
  /** The next record of version v (undefined: none left), reading its next batch when needed. */
  function* head(v: number): Generator<number, MappedRecord | undefined, readonly MappedRecord[]> {
    while (!done[v] && pos[v]! >= batch[v]!.length) {
      batch[v] = yield v;
      pos[v] = 0;
      if (batch[v]!.length === 0) done[v] = true;
    }
    if (done[v]) return undefined;
    const r = batch[v]![pos[v]!]!;
    if (r.key < lastKey[v]!) throw new RangeError(`version ${v}'s records are not sorted by key`);
    if (r.key < 0n || r.key >= KEY_LIMIT || r.values.length !== 4) {
      throw new RangeError("a record needs a key of 128 bits and four 64-bit values");
    }
    for (const x of r.values) {
      if (x < 0n || x > MASK64) throw new RangeError("a record needs four 64-bit values");
    }
    lastKey[v] = r.key;
    return r;
  }
  const heads: (MappedRecord | undefined)[] = [];
  for (let v = 0; v < nVersions; v++) heads.push(yield* head(v));
  for (;;) {
    let key: bigint | undefined;
    for (const r of heads) if (r && (key === undefined || r.key < key)) key = r.key;
    if (key === undefined) return;
    // every version's records of this key, by content then version
    const group: { values: readonly bigint[]; v: number }[] = [];
    for (let v = 0; v < nVersions; v++) {
      while (heads[v] && heads[v]!.key === key) {
        group.push({ values: heads[v]!.values, v });
        pos[v]! += 1;
        heads[v] = yield* head(v);
      }
    }
    group.sort((a, b) => compareValues(a.values, b.values) || a.v - b.v);
    for (let i = 0; i < group.length;) {
      let j = i;
      const copies = new Array<number>(nVersions).fill(0);
      while (j < group.length && compareValues(group[i]!.values, group[j]!.values) === 0) {
        copies[group[j]!.v]! += 1;
        j++;
      }
      // copy c (1-based) is in every version holding at least c copies of this content
      const most = Math.max(...copies);
      let runMask = -1;
      for (let c = 1; c <= most; c++) {
        const mask = internSet(copies.flatMap((n, v) => (n >= c ? [v] : [])));
        if (mask === runMask) entries.count[entries.length - 1]! += 1;
        else {
          entries.push(key, group[i]!.values, mask);
          runMask = mask;
        }
      }
      i = j;
    }
  }
}

/**
 * The records of some versions of one asset, merged by content (see the module comment): what
 * the guard counts atoms in. Build it once per set of versions and reuse it.
 */
export class RecordUniverse {
  /** The versions, in the order their indexes are used. */
  readonly versionIds: readonly string[];
  /** The distinct version sets (each a sorted list of version indexes). */
  readonly versionSets: readonly (readonly number[])[];
  private readonly entries: Entries;
  /** blocks[m][j] = copies with version set m among entries [0, j · BLOCK). */
  private readonly blocks: Uint32Array[];

  private constructor(versionIds: string[], sets: number[][], entries: Entries) {
    this.versionIds = versionIds;
    this.versionSets = sets;
    entries.resize(entries.length);
    this.entries = entries;
    const nBlocks = (entries.length >> BLOCK_BITS) + 1;
    this.blocks = sets.map(() => new Uint32Array(nBlocks + 1));
    const running = new Float64Array(sets.length);
    for (let i = 0; i < entries.length; i++) {
      if ((i & (BLOCK - 1)) === 0) {
        for (let m = 0; m < sets.length; m++) this.blocks[m]![i >> BLOCK_BITS] = running[m]!;
      }
      running[entries.mask[i]!]! += entries.count[i]!;
    }
    const tail = entries.length >> BLOCK_BITS;
    for (let m = 0; m < sets.length; m++) {
      if ((entries.length & (BLOCK - 1)) === 0) this.blocks[m]![tail] = running[m]!;
      this.blocks[m]![nBlocks] = running[m]!;
    }
  }

  /** A merge over `nVersions` versions, and the universe it fills. */
  private static merger(versionIds: string[]) {
    const sets: number[][] = [];
    const setIndex = new Map<string, number>();
    const internSet = (s: number[]) => {
      const k = s.join(",");
      let i = setIndex.get(k);
      if (i === undefined) {
        i = sets.length;
        sets.push(s);
        setIndex.set(k, i);
      }
      return i;
    };
    const entries = new Entries();
    return {
      merge: mergeVersions(versionIds.length, entries, internSet),
      finish: () => new RecordUniverse(versionIds, sets, entries),
    };
  }

  /** Merges the records of each version (version id → records, in any order). */
  static build(versions: ReadonlyMap<string, readonly MappedRecord[]>): RecordUniverse {
    const versionIds = [...versions.keys()];
    const sorted = versionIds.map((id) => [...versions.get(id)!].sort(compareContent));
    const { merge, finish } = RecordUniverse.merger(versionIds);
    const given = new Array<boolean>(versionIds.length).fill(false);
    for (let step = merge.next(); !step.done;) {
      const v = step.value;
      step = merge.next(given[v] ? [] : sorted[v]!);
      given[v] = true;
    }
    return finish();
  }

  /**
   * Merges versions read batch by batch (version id → its records in key order, in batches):
   * only one batch per version and the entries are held, never a version's records at once.
   */
  static async stream(
    versions: ReadonlyMap<string, AsyncIterable<readonly MappedRecord[]>>,
  ): Promise<RecordUniverse> {
    const versionIds = [...versions.keys()];
    const readers = versionIds.map((id) => versions.get(id)![Symbol.asyncIterator]());
    const { merge, finish } = RecordUniverse.merger(versionIds);
    for (let step = merge.next(); !step.done;) {
      const v = step.value;
      let got = await readers[v]!.next();
      while (!got.done && got.value.length === 0) got = await readers[v]!.next();
      step = merge.next(got.done ? [] : got.value);
    }
    return finish();
  }

  /** Index of the first entry whose key is >= `key`. */
  lowerBound(key: bigint): number {
    if (key < 0n) return 0;
    if (key >= KEY_LIMIT) return this.entries.length;
    const lo = key & MASK64;
    const hi = key >> 64n;
    const { keyLo, keyHi } = this.entries;
    let a = 0;
    let b = this.entries.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      const h = keyHi[mid]!;
      if (h < hi || (h === hi && keyLo[mid]! < lo)) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Copies with version set `m` among entries [0, i). */
  private copiesBefore(m: number, i: number): number {
    const j = i >> BLOCK_BITS;
    let n = this.blocks[m]![j]!;
    const { mask, count } = this.entries;
    for (let e = j << BLOCK_BITS; e < i; e++) if (mask[e] === m) n += count[e]!;
    return n;
  }

  /** Copies with version set `m` among entries [a, b). */
  countIn(m: number, a: number, b: number): number {
    return this.copiesBefore(m, b) - this.copiesBefore(m, a);
  }

  /** Number of entries. */
  get length(): number {
    return this.entries.length;
  }

  /** The version set of entry `i`. */
  maskAt(i: number): number {
    return this.entries.mask[i]!;
  }

  /** The copies entry `i` stands for. */
  countAt(i: number): number {
    return this.entries.count[i]!;
  }

  /** The four values of entry `i`. */
  valuesAt(i: number): bigint[] {
    return Array.from(this.entries.values.subarray(4 * i, 4 * i + 4));
  }

  /** Number of record copies in the universe. */
  get size(): number {
    return this.blocks.reduce((s, p) => s + p[p.length - 1]!, 0);
  }
}

const ids: bigint[] = [];

/** The pseudo-random 64-bit id of the i-th answered set (fixed, never 0). */
function setId(i: number): bigint {
  while (ids.length <= i) {
    const h = createHash("sha256").update(`partproof:differencing:${ids.length}`).digest();
    ids.push(h.readBigUInt64BE(0) | 1n);
  }
  return ids[i]!;
}

/** A query shape that carries only filters (for `matchesPredicates`, which reads no range). */
type FilterQuery = Parameters<typeof matchesPredicates>[0];

function filterQuery(predicates: readonly Predicate[]): FilterQuery {
  return { kind: 0, fieldA: 0, fieldB: 0, lo: 0n, hi: 0n, threshold: 0n, nonce: 0n, predicates };
}

/**
 * AND-ed filters of any number (a set may carry a query's three predicates and the cohort
 * field's selection on top), one filter query each: `matchesPredicates` takes at most three.
 */
type Filters = readonly FilterQuery[];

function filtersOf(predicates: readonly Predicate[]): Filters {
  return predicates.map((p) => filterQuery([p]));
}

function matchesAll(filters: Filters, values: readonly bigint[]): boolean {
  return filters.every((f) => matchesPredicates(f, values));
}

/** Where a set's records fall in the cells: version index, first and last cell. */
interface Placed {
  set: RecordSet;
  v: number;
  first: number;
  last: number;
}

/**
 * Checks the next record set against the sets already answered (in any order; over any versions
 * that `universe` holds). Returns the smallest atom of 1 … k−1 records it would create, or
 * undefined when every atom stays empty or at least `k` strong. Throws when a set names a
 * version the universe does not hold.
 */
export function checkDifferencing(
  universe: RecordUniverse,
  answered: readonly RecordSet[],
  next: RecordSet,
  k: number,
): DifferencingRisk | undefined {
  const versionIndex = new Map(universe.versionIds.map((id, i) => [id, i]));
  const vOf = (s: RecordSet) => {
    const v = versionIndex.get(s.versionId);
    if (v === undefined) throw new RangeError(`version ${s.versionId} is not in the universe`);
    return v;
  };
  // cells: the elementary key intervals between every lo and hi + 1
  const bounds = [...new Set([...answered, next].flatMap((s) => [s.lo, s.hi + 1n]))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const cellOf = new Map(bounds.map((b, i) => [b, i]));
  const cells = bounds.length - 1;
  const place = (set: RecordSet): Placed => ({
    set,
    v: vOf(set),
    first: cellOf.get(set.lo)!,
    last: cellOf.get(set.hi + 1n)! - 1,
  });
  const nextAt = place(next);
  const nVersions = universe.versionIds.length;
  // H[v][c]: sum of the ids of the answered range sets (no predicates) of version v over cell c
  const H = Array.from({ length: nVersions }, () => new BigUint64Array(cells + 1));
  const filtered: (Placed & { id: bigint; filters: Filters })[] = [];
  const fine = new Int32Array(cells + 1); // > 0: a predicate set touches the cell
  answered.forEach((s, i) => {
    const p = place(s);
    const id = setId(i);
    if (s.predicates.length > 0) {
      filtered.push({ ...p, id, filters: filtersOf(s.predicates) });
      fine[p.first]! += 1;
      fine[p.last + 1]! -= 1;
    } else {
      H[p.v]![p.first]! += id;
      H[p.v]![p.last + 1]! -= id;
    }
  });
  if (next.predicates.length > 0) {
    fine[nextAt.first]! += 1;
    fine[nextAt.last + 1]! -= 1;
  }
  for (const h of H) for (let c = 1; c <= cells; c++) h[c] = h[c]! + h[c - 1]!;
  // the filtered sets over each cell (a filtered set spans few cells: one scan window)
  const filtersAt = new Map<number, typeof filtered>();
  for (const f of filtered) {
    for (let c = f.first; c <= f.last; c++) {
      const at = filtersAt.get(c);
      if (at) at.push(f);
      else filtersAt.set(c, [f]);
    }
  }
  for (let c = 1; c <= cells; c++) fine[c] = fine[c]! + fine[c - 1]!;

  // each class (hash of the answered sets holding a record): records the next set takes, leaves
  const classes = new Map<bigint, { taken: number; left: number }>();
  const add = (h: bigint, taken: boolean, n: number) => {
    let c = classes.get(h);
    if (!c) classes.set(h, (c = { taken: 0, left: 0 }));
    if (taken) c.taken += n;
    else c.left += n;
  };
  const sets = universe.versionSets;
  const holds = sets.map((s) => new Set(s));
  const nextRangeOnly = next.predicates.length === 0;
  const nextFilters = filtersOf(next.predicates);
  for (let c = 0; c < cells; c++) {
    const a = universe.lowerBound(bounds[c]!);
    const b = universe.lowerBound(bounds[c + 1]!);
    if (a === b) continue;
    const inNextRange = c >= nextAt.first && c <= nextAt.last;
    if (fine[c] === 0) {
      for (let m = 0; m < sets.length; m++) {
        const n = universe.countIn(m, a, b);
        if (n === 0) continue;
        let h = 0n;
        for (const v of sets[m]!) h += H[v]![c]!;
        add(h & MASK64, nextRangeOnly && inNextRange && holds[m]!.has(nextAt.v), n);
      }
      continue;
    }
    for (let e = a; e < b; e++) {
      const mask = universe.maskAt(e);
      const values = universe.valuesAt(e);
      let h = 0n;
      for (const v of sets[mask]!) h += H[v]![c]!;
      for (const f of filtersAt.get(c) ?? []) {
        if (!holds[mask]!.has(f.v)) continue;
        if (matchesAll(f.filters, values)) h += f.id;
      }
      const taken = inNextRange && holds[mask]!.has(nextAt.v) && matchesAll(nextFilters, values);
      add(h & MASK64, taken, universe.countAt(e));
    }
  }

  let smallest: number | undefined;
  const below = (n: number) => n > 0 && n < k && (smallest === undefined || n < smallest);
  for (const [h, { taken, left }] of classes) {
    // records no answer held yet: those the next set takes form one new atom
    if (h === 0n) {
      if (below(taken)) smallest = taken;
      continue;
    }
    // an atom the next set splits: both parts must hold k records
    if (taken > 0 && left > 0) {
      if (below(taken)) smallest = taken;
      if (below(left)) smallest = left;
    }
  }
  return smallest === undefined ? undefined : { size: smallest };
}
