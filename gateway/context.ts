/** Everything a use-case needs, built once per server. */
import type { Logger } from "pino";
import { buildTree, randomSalt, type MerkleSumTree } from "../circuits/lib/tree.js";
import type { Domain } from "./auth.js";
import type { ChainClient } from "./chain.js";
import type { CircuitArtifacts, GatewayConfig } from "./config.js";
import { KeyedMutex } from "./locks.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ProverPool } from "./prover/pool.js";
import { decodeRecords, type GatewayStore, type StoredVersion } from "./store/index.js";

/** The gateway's shared state. */
export interface GatewayContext {
  /** Validated configuration. */
  config: GatewayConfig;
  /** LevelDB store. */
  store: GatewayStore;
  /** The PartProof contract. */
  chain: ChainClient;
  /** EIP-712 domain of signed requests. */
  domain: Domain;
  /** Proving workers. */
  pool: ProverPool;
  /** Circuit artifacts (wasm, zkey, vkey). */
  artifacts: CircuitArtifacts;
  /** Metrics. */
  metrics: GatewayMetrics;
  /** Structured logger (never given record values or salts). */
  log: Logger;
  /** Serialises nonce checks per signer and ingests per asset. */
  locks: KeyedMutex;
  /** Source of record salts (crypto randomness; tests may inject a canary). */
  salt: () => bigint;
  /** Built trees by root. */
  trees: TreeCache;
  /** Wakes the relayer (after an answer is proved). */
  kickRelayer: () => void;
}

/** Default salt source: 248 random bits (a field element). */
export const defaultSalt = randomSalt;

/** A small cache of built trees by root (building a big tree is the expensive part). */
export class TreeCache {
  private readonly trees = new Map<string, Promise<MerkleSumTree>>();

  /** Creates a cache holding at most `max` trees. */
  constructor(
    private readonly max = 4,
    private readonly minMaxField = 3,
  ) {}

  /** The tree of a stored version (rebuilt from its records and salts when not cached). */
  get(v: StoredVersion): Promise<MerkleSumTree> {
    let t = this.trees.get(v.root);
    if (!t) {
      t = buildTree(decodeRecords(v.records), v.salts.map(BigInt), v.depth, {
        minMaxField: this.minMaxField,
      });
      t.catch(() => this.trees.delete(v.root));
      this.trees.set(v.root, t);
      while (this.trees.size > this.max) this.trees.delete(this.trees.keys().next().value!);
    }
    return t;
  }

  /** Puts a freshly built tree. */
  put(root: string, tree: MerkleSumTree): void {
    this.trees.set(root, Promise.resolve(tree));
    while (this.trees.size > this.max) this.trees.delete(this.trees.keys().next().value!);
  }
}
