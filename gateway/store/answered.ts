/**
 * The differencing guard's state: for each (asset, consumer address), the record sets the
 * address has been answered on — one small entry per accepted query (version, root, key range,
 * packed predicates), never records or results. The guard (usecases/differencing.ts) reads the
 * entries of every address the chain links to the signer and checks the next set against them.
 *
 * Sublevel `answered` of the gateway's LevelDB, keys `<assetId>!<address>!<jobId>` → entry.
 * An entry is written when the query is accepted (inside the acceptance lock, just before the
 * job itself): a crash between the two leaves an entry without a job, which only makes the
 * guard stricter, never an accepted job whose set the guard does not know.
 */
import type { GatewayStore } from "./index.js";

/** One answered record set. */
export interface AnsweredEntry {
  /** On-chain version id (decimal string). */
  versionId: string;
  /** Root of that version (decimal string): where its records are found. */
  root: string;
  /** Key range (decimal strings). */
  lo: string;
  hi: string;
  /** The used predicate slots, packed as signed (decimal strings). */
  predicates: string[];
  /**
   * Set when the answer aggregated a field the policy's cohort map defines over a selection:
   * the 0/1 field that selects it (the set is then the range's records with that field >= 1,
   * a separate family of sets; absent: the range's records, as every entry before it existed).
   */
  cohortField?: number;
}

type Sub = ReturnType<GatewayStore["sublevel"]>;

/** The answered sets of each (asset, address). */
export class AnsweredStore {
  private readonly sets: Sub;

  /** Wraps the `answered` sublevel of the gateway's store. */
  constructor(store: GatewayStore) {
    this.sets = store.sublevel("answered");
  }

  /** Every set `address` has been answered on for `assetId`. */
  async of(assetId: string, address: string): Promise<AnsweredEntry[]> {
    const prefix = `${assetId}!${address.toLowerCase()}!`;
    const out: AnsweredEntry[] = [];
    for await (const v of this.sets.values({ gt: prefix, lt: `${prefix}~` })) {
      out.push(v as AnsweredEntry);
    }
    return out;
  }

  /** Every set any of `addresses` has been answered on for `assetId`. */
  async ofAll(assetId: string, addresses: Iterable<string>): Promise<AnsweredEntry[]> {
    const out: AnsweredEntry[] = [];
    for (const a of new Set([...addresses].map((x) => x.toLowerCase()))) {
      out.push(...(await this.of(assetId, a)));
    }
    return out;
  }

  /** Records the set of an accepted query (`jobId` keeps entries of one address apart). */
  async add(assetId: string, address: string, jobId: string, entry: AnsweredEntry): Promise<void> {
    await this.sets.put(`${assetId}!${address.toLowerCase()}!${jobId}`, entry);
  }
}

const stores = new WeakMap<GatewayStore, AnsweredStore>();

/** The answered-sets store of a gateway store (one per open database). */
export function answeredStore(store: GatewayStore): AnsweredStore {
  let s = stores.get(store);
  if (!s) stores.set(store, (s = new AnsweredStore(store)));
  return s;
}
