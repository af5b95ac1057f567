/**
 * Prometheus metrics of one gateway instance (own registry, so several instances can run in
 * one process): queries by status, proving time, outbox depth, uploads by status.
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
  };
}
