/** Everything a use-case needs, built once per server. */
import type { Logger } from "pino";
import { randomSalt } from "../circuits/lib/tree.js";
import type { Domain } from "../protocol/typed-data.js";
import type { ChainClient } from "./chain.js";
import type { CircuitArtifacts, GatewayConfig } from "./config.js";
import { KeyedMutex } from "./locks.js";
import type { GatewayMetrics } from "./metrics.js";
import type { IngestPool } from "./prover/ingest-pool.js";
import type { ProverPool } from "./prover/pool.js";
import type { GatewayStore } from "./store/index.js";

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
  /** This gateway's id (config `gatewayId`, or made once and kept in the store). */
  gatewayId: string;
  /** Proving workers. */
  pool: ProverPool;
  /** Workers that read uploads and build trees (a queue of their own, a budget per task). */
  ingest: IngestPool;
  /** Circuit artifacts (wasm, zkey, vkey). */
  artifacts: CircuitArtifacts;
  /** Scan circuit artifacts, when configured. */
  scanArtifacts?: CircuitArtifacts;
  /** Audit circuit artifacts (usecases/audit.ts), when built. */
  auditArtifacts?: CircuitArtifacts;
  /** Metrics. */
  metrics: GatewayMetrics;
  /** Structured logger (never given record values or salts). */
  log: Logger;
  /** Serialises nonce checks per signer and ingests per asset. */
  locks: KeyedMutex;
  /** Source of record salts (crypto randomness; tests may inject a canary). */
  salt: () => bigint;
  /** Proofs being worked on (awaited before the store closes). */
  inflight: Set<Promise<void>>;
  /** Wakes the relayer (after an answer is proved). */
  kickRelayer: () => void;
}

/** Default salt source: 248 random bits (a field element). */
export const defaultSalt = randomSalt;
