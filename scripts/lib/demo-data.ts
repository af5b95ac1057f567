/**
 * Realistic, reproducible quality data for the demo and the end-to-end test: Catena-X
 * ManufacturedPartsQualityInformation 3.0.0 payloads (the shape of the public Catena-X sample)
 * for several parts, plants and months, with per-part/plant rework rates that drift by quarter.
 */
import { createHash } from "node:crypto";

/** One part a supplier makes. */
export interface DemoPart {
  partNumber: string;
  partName: string;
  /** Rework probability in parts per million, per plant identifier. */
  reworkPpm: Record<string, number>;
}

/** One plant of a supplier. */
export interface DemoPlant {
  plantIdentifier: string;
  plantBPNS: string;
  plantCountryCode: string;
  plantDescription: string;
}

/** What one supplier produces in the demo. */
export interface DemoSupplier {
  name: string;
  bpnl: string;
  plants: DemoPlant[];
  parts: DemoPart[];
}

/** A Catena-X ManufacturedPartsQualityInformation payload. */
export interface QualityPayload {
  manufacturedParts: Record<string, unknown>[];
  metaInformation: { selectionStart: string; selectionEnd: string; selectionCriteria: string };
}

/** A flat quality row, as the gateway's quality schema reads it. */
export interface QualityRow {
  partNumber: string;
  plant: string;
  productionDate: string;
  hasBeenReworked: boolean;
  numberOfConductedEndOfLineTests: number;
}

/** The two demo suppliers. */
export const DEMO_SUPPLIERS: DemoSupplier[] = [
  {
    name: "Gearworks GmbH",
    bpnl: "BPNL00000000GEAR",
    plants: [plant("4711", "DEU", "Wolfsburg"), plant("4712", "DEU", "Zwickau")],
    parts: [
      {
        partNumber: "GBX-3232455",
        partName: "Gearbox ECU",
        reworkPpm: { 4711: 9000, 4712: 26000 },
      },
      {
        partNumber: "GBX-4410021",
        partName: "Shift actuator",
        reworkPpm: { 4711: 3500, 4712: 4000 },
      },
      {
        partNumber: "CLU-0099812",
        partName: "Clutch sensor",
        reworkPpm: { 4711: 52000, 4712: 18000 },
      },
    ],
  },
  {
    name: "Brakeline SE",
    bpnl: "BPNL00000000BRAK",
    plants: [plant("0815", "CZE", "Mladá Boleslav"), plant("0816", "ESP", "Martorell")],
    parts: [
      {
        partNumber: "BRK-7712003",
        partName: "Brake caliper",
        reworkPpm: { "0815": 7000, "0816": 1200 },
      },
      {
        partNumber: "BRK-7712010",
        partName: "ABS wheel sensor",
        reworkPpm: { "0815": 30000, "0816": 4500 },
      },
    ],
  },
];

function plant(id: string, country: string, description: string): DemoPlant {
  // A BPNS is "BPNS" + 12 alphanumerics.
  return {
    plantIdentifier: id,
    plantBPNS: `BPNS${id.padStart(12, "0")}`,
    plantCountryCode: country,
    plantDescription: description,
  };
}

/** A small deterministic PRNG (SHA-256 in counter mode), so every run makes the same data. */
export class DemoRandom {
  private counter = 0;
  private pool: number[] = [];
  constructor(private readonly seed: string) {}

  /** A uniform float in [0, 1). */
  next(): number {
    if (this.pool.length === 0) {
      const h = createHash("sha256").update(`${this.seed}:${this.counter++}`).digest();
      for (let i = 0; i + 4 <= h.length; i += 4) this.pool.push(h.readUInt32BE(i) / 2 ** 32);
    }
    return this.pool.pop() as number;
  }

  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A version-4-shaped UUID from the stream. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** Options of {@link generateQuality}. */
export interface GenerateOptions {
  /** First production date (inclusive), YYYY-MM-DD. */
  from: string;
  /** Number of consecutive days. */
  days: number;
  /** Parts produced per part, plant and day (each one record): [min, max]. */
  perDay: [number, number];
  /** Seed of the PRNG. */
  seed?: string;
}

/**
 * Quality rows for one supplier: every part in every plant on every day, each manufactured part
 * reworked with the part/plant's rate, which rises by 40 % in the third quarter (a quality
 * incident the automaker's queries should see).
 */
export function generateQuality(supplier: DemoSupplier, opts: GenerateOptions): QualityRow[] {
  const rnd = new DemoRandom(opts.seed ?? `partproof-demo:${supplier.bpnl}`);
  const start = Date.parse(`${opts.from}T00:00:00Z`);
  if (!Number.isFinite(start)) throw new RangeError(`from: "${opts.from}" is not a date`);
  const rows: QualityRow[] = [];
  for (let d = 0; d < opts.days; d++) {
    const date = new Date(start + d * 86_400_000);
    const iso = date.toISOString().slice(0, 10);
    const q3 = date.getUTCMonth() >= 6 && date.getUTCMonth() <= 8;
    for (const part of supplier.parts) {
      for (const p of supplier.plants) {
        const ppm = (part.reworkPpm[p.plantIdentifier] ?? 1000) * (q3 ? 1.4 : 1);
        const n = rnd.int(opts.perDay[0], opts.perDay[1]);
        for (let i = 0; i < n; i++) {
          const reworked = rnd.next() * 1e6 < ppm;
          rows.push({
            partNumber: part.partNumber,
            plant: p.plantIdentifier,
            productionDate: iso,
            hasBeenReworked: reworked,
            numberOfConductedEndOfLineTests: reworked ? rnd.int(2, 4) : 1,
          });
        }
      }
    }
  }
  return rows;
}

/** Wraps quality rows into a Catena-X ManufacturedPartsQualityInformation payload. */
export function toCatenaX(
  supplier: DemoSupplier,
  rows: QualityRow[],
  seed = "payload",
): QualityPayload {
  const rnd = new DemoRandom(`${supplier.bpnl}:${seed}`);
  const qualityTaskId = rnd.uuid();
  const byId = new Map(supplier.plants.map((p) => [p.plantIdentifier, p]));
  const names = new Map(supplier.parts.map((p) => [p.partNumber, p.partName]));
  const dates = rows.map((r) => r.productionDate).sort();
  return {
    manufacturedParts: rows.map((r, i) => ({
      qualityTaskId,
      partId: `urn:uuid:${rnd.uuid()}`,
      serialNumber: `${r.partNumber.replace(/[^A-Z0-9]/g, "")}${String(i).padStart(8, "0")}`,
      partNumber: r.partNumber,
      partName: names.get(r.partNumber),
      productionDate: r.productionDate,
      recordStatus: "new",
      hasBeenReworked: r.hasBeenReworked,
      numberOfConductedEndOfLineTests: r.numberOfConductedEndOfLineTests,
      plant: byId.get(r.plant),
    })),
    metaInformation: {
      selectionStart: `${dates[0] ?? "1970-01-01"}T00:00:00`,
      selectionEnd: `${dates[dates.length - 1] ?? "1970-01-01"}T23:59:59`,
      selectionCriteria: `PartProof demo export of ${supplier.name}`,
    },
  };
}
