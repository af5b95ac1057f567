/**
 * Prometheus metrics of one gateway instance (own registry, so several instances can run in
 * one process): queries by status, proving time, outbox depth, uploads by status, the relayer
 * key's sender (transactions, re-pricings, reorganised-away answers) and its balance.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The metrics of one gateway. */
export interface GatewayMetrics {
  /** The registry served on /metrics. */
  registry: Registry;
  /** Queries by final or intermediate status (accepted, refused:<code>, proved, logged, failed). */
  queries: Counter<"status">;
  /** Uploads by status (created, existing, refused:<code>). */
  uploads: Counter<"status">;
  /** Witness + proof time per answer, seconds. */
  provingSeconds: Histogram;
  /** Pending chain submissions. */
  outboxDepth: Gauge;
  /** Logged answers whose transaction was reorganised away before its confirmations. */
  reorgs: Counter<"label">;
  /** Transactions of the relayer key's sender, by what happened (sent, repriced, resynced). */
  senderEvents: Counter<"event">;
  /** The relayer key's balance in wei (set at start and by the startup checks). */
  relayerBalanceWei: Gauge;
  /** 1 while the relayer key's balance is below the configured floor, else 0. */
  relayerBalanceLow: Gauge;
  /** Answers' transactions the node dropped before the gateway saw them mined (then sent again). */
  dropped: Counter<"label">;
}

/** Creates the metrics; `outboxDepth` is read from `depth()` at each scrape. */
export function createMetrics(depth: () => Promise<number>): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "partproof_gateway_" });
  return {
    registry,
    queries: new Counter({
      name: "partproof_queries_total",
      help: "Queries by status",
      labelNames: ["status"],
      registers: [registry],
    }),
    uploads: new Counter({
      name: "partproof_uploads_total",
      help: "Uploads by status",
      labelNames: ["status"],
      registers: [registry],
    }),
    provingSeconds: new Histogram({
      name: "partproof_proving_seconds",
      help: "Witness and Groth16 proof time per answer",
      buckets: [0.5, 1, 2, 5, 10, 20, 60, 120],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "partproof_outbox_depth",
      help: "Proved answers waiting to be logged on-chain",
      registers: [registry],
      async collect() {
        this.set(await depth());
      },
    }),
    reorgs: new Counter({
      name: "partproof_relayer_reorgs_total",
      help: "Blocks holding a watched transaction that left the chain before its confirmations (sent again unless the node mined it again)",
      labelNames: ["label"],
      registers: [registry],
    }),
    senderEvents: new Counter({
      name: "partproof_sender_events_total",
      help: "What the relayer key's transaction sender did (repriced, nonce-resync, reorged, …)",
      labelNames: ["event"],
      registers: [registry],
    }),
    relayerBalanceWei: new Gauge({
      name: "partproof_relayer_balance_wei",
      help: "The relayer key's balance in wei, read at start",
      registers: [registry],
    }),
    relayerBalanceLow: new Gauge({
      name: "partproof_relayer_balance_low",
      help: "1 when the relayer key's balance is below config.relayerBalanceFloorWei",
      registers: [registry],
    }),
    dropped: new Counter({
      name: "partproof_relayer_dropped_total",
      help: "Transactions no longer known to the node, never seen mined (then sent again)",
      labelNames: ["label"],
      registers: [registry],
    }),
  };
}
