/**
 * The demo's reverse-direction chapter (scripts/demo.ts): the automaker is the publisher. It runs
 * its own gateway, registers a field-claims asset (Catena-X fleet ClaimData 3.0.0), publishes
 * claims for GBX-3232455 (Gearworks' part) and BRK-7712003 (Brakeline's), and grants Gearworks
 * access to GBX-3232455 only. Gearworks, now the consumer, asks the causal claims per month and
 * sees them next to its own rework PPM per month (proved by its own gateway under a grant to
 * itself); every answer is verified exactly as an automaker verifies one. A question about
 * Brakeline's part is refused.
 */
import path from "node:path";
import type { Signer } from "ethers";
import pino from "pino";
import { startServer, type RunningGateway } from "../../gateway/app.js";
import { formatValue, metricOf } from "../../cli/metrics.js";
import { supplyMetricOf } from "../../cli/metrics-supply.js";
import { policyOf, schemaOf } from "../../cli/policy.js";
import { periodsOf, runSeries } from "../../cli/series.js";
import { openSession, type Session } from "../../cli/session.js";
import { askSupply, resolveParts } from "../../cli/supply.js";
import * as supplierCli from "../../cli/supplier.js";
import { DemoRandom } from "./demo-data.js";
import { devAccount } from "./processes.js";
import { DEMO_CHECK_LEAVES, depthOf, type Playground } from "./sandbox.js";

const PART = "GBX-3232455";
const OTHER_PART = "BRK-7712003";
/** The chapter's months: the third quarter of 2026. */
const FROM = "2026-07-01";
const TO = "2026-09-30";
/** The development account that relays the automaker's gateway's log entries. */
const RELAYER_ACCOUNT = 11;

/** What the chapter needs from the story. */
export interface ClaimsChapter {
  playground: Playground;
  circuit: string;
  /** The automaker (the publisher here), connected to the chain. */
  automaker: Signer;
  /** Gearworks (the consumer here), connected, its session and its quality asset. */
  supplier: Signer;
  supplierSession: Session;
  qualityAssetId: bigint;
  k: number;
  say: (line: string) => void;
  /** Claims per month, at least and at most (default 40–70; a small circuit needs fewer). */
  claimsPerMonth?: readonly [number, number];
  /** Random leaves proved before the claims are published (default {@link DEMO_CHECK_LEAVES}). */
  checkLeaves?: number;
}

/**
 * Field claims of the quarter in the shape of Catena-X ClaimData 3.0.0: 40–70 claims per month
 * (by default)
 * naming GBX-3232455, a few naming BRK-7712003, in three countries; about a third marked causal
 * and most of those replaced.
 */
export function generateClaims(
  perMonth: readonly [number, number] = [40, 70],
  rnd = new DemoRandom("partproof-demo-claims"),
) {
  const claims: Record<string, unknown>[] = [];
  for (const month of ["2026-07", "2026-08", "2026-09"]) {
    const n = rnd.int(perMonth[0], perMonth[1]);
    for (let i = 0; i < n; i++) {
      const causal = rnd.next() < 0.33;
      const replaced = causal ? rnd.next() < 0.9 : rnd.next() < 0.2;
      const part = rnd.next() < 0.9 ? PART : OTHER_PART;
      claims.push({
        claimId: `CLM-${month}-${String(i).padStart(3, "0")}`,
        anonymizedVIN: rnd.uuid().replace(/-/g, "").slice(0, 22).toUpperCase(),
        qualityTaskId: rnd.uuid(),
        countryCode: ["DEU", "FRA", "CZE"][rnd.int(0, 2)],
        repairDate: `${month}-${String(rnd.int(1, 28)).padStart(2, "0")}`,
        monthInService: rnd.int(1, 36),
        recordStatus: "new",
        claimedParts: [
          {
            partName: part === PART ? "Gearbox ECU" : "Brake caliper",
            partNumber: part,
            isPartCausal: causal,
            isPartReplaced: replaced,
            ...(replaced ? { amountOfReplacedParts: 1 } : {}),
          },
        ],
      });
    }
  }
  return {
    claims,
    metaInformation: { selectionCriteria: "Field claims of the demo's third quarter 2026." },
  };
}

/** Plays the chapter; the automaker's gateway is closed at its end. */
export async function playClaims(c: ClaimsChapter): Promise<void> {
  const { say } = c;
  const roles = { relayer: devAccount(RELAYER_ACCOUNT) };
  const envName = "PARTPROOF_DEMO_RELAYER_KEY_AUTOMAKER";
  process.env[envName] = roles.relayer.privateKey;
  const gw: RunningGateway = await startServer(
    {
      port: 0,
      dataDir: path.join(c.playground.dir, "gateway-automaker"),
      chain: { rpcUrl: c.playground.node.url, confirmations: 1 },
      contracts: { partProof: c.playground.deployment.partProof },
      relayerKey: { source: "env", name: envName },
      circuit: {
        name: c.circuit,
        depth: depthOf(c.circuit),
        artifactsDir: path.join("circuits", "build", c.circuit),
      },
      bodyLimitBytes: 32 * 1024 * 1024,
      logLevel: "info",
    },
    {
      logStream: pino.destination({
        dest: path.join(c.playground.dir, "gateway.log"),
        append: true,
        sync: true,
      }),
    },
  );
  try {
    const provider = c.playground.node.provider;
    const autoS = await openSession({
      provider,
      deployment: c.playground.deployment,
      gatewayUrl: gw.url,
    });
    say(`the automaker's own gateway at ${gw.url} (it is the publisher now)`);
    const { assetId } = await supplierCli.registerAsset(autoS, c.automaker, {
      schema: "claims-by-day",
      endpoint: gw.url,
      metadata: "Automaker field claims (Catena-X ClaimData 3.0.0)",
    });
    const payload = generateClaims(c.claimsPerMonth);
    const up = await supplierCli.upload(autoS, c.automaker, assetId, {
      format: "catenax",
      payload,
    });
    await supplierCli.publishViaGateway(
      autoS,
      c.automaker,
      up.version,
      undefined,
      c.checkLeaves ?? DEMO_CHECK_LEAVES,
    );
    say(
      `asset ${assetId} (claims-by-day): ${up.version.recordCount} claimed parts of ${payload.claims.length} claims, July–September, published`,
    );
    const supplierAddr = await c.supplier.getAddress();
    const terms = {
      validFrom: 0,
      validUntil: Math.floor(Date.now() / 1000) + 90 * 86_400,
      quota: 20,
    };
    const claimsGrant = await supplierCli.grantAccess(
      autoS,
      c.automaker,
      assetId,
      supplierAddr,
      policyOf(schemaOf("claims-by-day"), {
        aggregates: ["sum", "ratio"],
        fields: ["claims", "causal"],
        partNumber: PART,
        minCohort: c.k,
      }),
      terms,
    );
    say(
      `grant ${claimsGrant.grantId} to Gearworks: part ${PART} only, sum/ratio on claims and causal, k = ${c.k}`,
    );
    // Gearworks' own rework PPM, proved by its own gateway under a grant to itself
    const selfGrant = await supplierCli.grantAccess(
      c.supplierSession,
      c.supplier,
      c.qualityAssetId,
      supplierAddr,
      policyOf(schemaOf("quality"), {
        aggregates: ["ratio"],
        fields: ["quantity", "reworked"],
        partNumber: PART,
        minCohort: c.k,
      }),
      terms,
    );

    const metric = supplyMetricOf("causal-claims-per-month");
    const targets = await resolveParts(
      c.supplierSession,
      metric,
      [`claims=${claimsGrant.grantId}`],
      [],
      supplierAddr,
    );
    const rework = metricOf("rework-ppm");
    // the automaker's gateway and Gearworks' own prove at the same time
    const [causal, ppm] = await Promise.all([
      askSupply(c.supplier, metric, targets, { partNumber: PART, from: FROM, to: TO }),
      runSeries(
        c.supplierSession,
        c.supplier,
        rework,
        { grantId: selfGrant.grantId, assetId: c.qualityAssetId, partNumber: PART, plant: "4711" },
        periodsOf("month", FROM, TO),
      ),
    ]);
    say(`Gearworks asks (its CLI: partproof consumer ask causal-claims-per-month …):`);
    say(`  month    causal claims (automaker's gateway)   rework PPM, plant 4711 (own gateway)`);
    causal.forEach((p, i) => {
      const r = ppm[i]!;
      const left = p.formatted ?? `refused (${p.refused?.code})`;
      const right = r.value ? formatValue(rework, r.value) : `refused (${r.refused?.code})`;
      const ok = p.value && r.value && r.failed.length === 0 ? "both verified" : "";
      say(`  ${p.period.label}  ${left.padStart(13)}${"".padEnd(26)}${right.padStart(8)}   ${ok}`);
    });
    if (ppm.some((p) => p.failed.length > 0)) throw new Error("a rework answer failed its checks");
    // Brakeline's part is outside Gearworks' grant
    const other = await askSupply(c.supplier, metric, targets, {
      partNumber: OTHER_PART,
      from: FROM,
      to: "2026-07-31",
    });
    const refused = other[0]?.refused;
    if (!refused) throw new Error(`expected a refusal for ${OTHER_PART}`);
    say(`The same question about ${OTHER_PART} (Brakeline's part):`);
    say(`  refused: ${refused.code} — ${refused.reason}`);
  } finally {
    await gw.close();
  }
}
