/**
 * Catena-X PCF 10.0.0 (product carbon footprint): one record per footprint.
 *
 * Flat row (JSON / CSV): partNumber (product id), plant (company id), referencePeriodEnd
 * (YYYY-MM-DD), pcfExcludingBiogenicUptake (kg CO2e per declared unit, decimal ≥ 0),
 * productMassPerDeclaredUnit (kg, decimal ≥ 0), primaryDataShare (percent, 0..100).
 * Fixed point: PCF and mass use scale 10^6 (µkg CO2e, mg), the share scale 10^2 (basis points).
 * Record: key = indexKey(partNumber, plant, referencePeriodEnd);
 * values = [mass · 10^6, share · 100, footprints = 1, pcf · 10^6].
 * Average PCF = SUM(3) / SUM(2). MIN/MAX field: PCF (3).
 *
 * From the Catena-X payload (one footprint or an array of them): partNumber =
 * `companyAndProductInformation[0].productInformation[0].productIds[0]`; plant =
 * `…companyInformation[0].companyIds[0]`; date = the UTC day of
 * `pcfAssessmentAndMethodology[0].pcfAssessmentInformation[0].time[0].referencePeriodEnd`;
 * PCF = `productLifeCycleStagesAndEmissions[0].productionStage[0].pcfExcludingBiogenicUptake`;
 * share = `pcfAssessmentAndMethodology[0].dataSourcesAndQuality[0].primaryDataShare` (0 if absent).
 *
 * Declared unit: the PCF field is a footprint per part, so that "average PCF per part" and sums
 * of footprints add like quantities. A Catena-X footprint must therefore declare
 * `declaredUnitOfMeasurement` "piece" with `declaredUnitAmount` 1; any other declared unit
 * (kilogram, liter, …) or amount is refused at ingest with its position (footprints per kg and
 * per piece are never averaged together). Flat rows state the PCF of one piece. The reference
 * period end must carry its UTC offset (`Z` or `±hh:mm`); one without is refused.
 */
import { z } from "zod";
import type { DataSchema } from "./types.js";
import { readEachPayload } from "./issues.js";
import { dayOfTimestamp, isoDateOfDay } from "./keys.js";

const one = <T extends z.ZodType>(t: T) => z.array(t).min(1);
const payloadSchema = z.looseObject({
  scopeOfPcfForm: one(z.looseObject({ specVersion: z.string(), partialFullPcf: z.string() })),
  general: z.array(z.looseObject({})),
  carbonContent: z.array(z.looseObject({})),
  companyAndProductInformation: one(
    z.looseObject({
      productInformation: one(
        z.looseObject({
          productNameCompany: z.string().min(1),
          productIds: one(z.string().min(1)),
          declaredUnitOfMeasurement: z.string(),
          declaredUnitAmount: z.number().min(0),
          productMassPerDeclaredUnit: z.number().min(0),
        }),
      ),
      companyInformation: one(
        z.looseObject({ companyName: z.string().min(1), companyIds: one(z.string().min(1)) }),
      ),
    }),
  ),
  pcfAssessmentAndMethodology: one(
    z.looseObject({
      dataSourcesAndQuality: one(
        z.looseObject({ primaryDataShare: z.number().min(0).max(100).optional() }),
      ),
      pcfAssessmentInformation: one(
        z.looseObject({
          idAndVersion: z
            .array(
              z.looseObject({
                id: z.string().min(1).max(256),
                status: z.enum(["Active", "Deprecated"]).optional(),
                precedingPfIds: z.array(z.string().min(1).max(256)).optional(),
              }),
            )
            .optional(),
          time: one(
            z.looseObject({
              referencePeriodStart: z.string(),
              referencePeriodEnd: z.string(),
              created: z.string(),
              validityPeriodEnd: z.string(),
            }),
          ),
        }),
      ),
    }),
  ),
  productLifeCycleStagesAndEmissions: one(
    z.looseObject({
      productionStage: one(
        z.looseObject({
          pcfIncludingBiogenicUptake: z.number(),
          pcfExcludingBiogenicUptake: z.number().min(0),
        }),
      ),
      packagingStage: z.array(z.looseObject({})),
      distributionStage: z.array(z.looseObject({})),
    }),
  ),
});

/** The declared unit every footprint of the PCF schema must have (with amount 1). */
export const PCF_DECLARED_UNIT = "piece";

/** The PCF schema. */
export const pcfSchema: DataSchema = {
  id: "urn:samm:io.catenax.pcf:10.0.0",
  name: "pcf",
  description:
    "Product carbon footprints (Catena-X PCF 10.0.0), fixed point 10^6 per kg CO2e, indexed by product id, company id and reference period end.",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "product id" },
    { name: "plant", kind: { type: "id" }, description: "company id (BPNL)" },
    { name: "referencePeriodEnd", kind: { type: "date" }, description: "YYYY-MM-DD" },
    {
      name: "pcfExcludingBiogenicUptake",
      kind: { type: "decimal", scale: 6 },
      description: "kg CO2e per part (declared unit: one piece)",
    },
    {
      name: "productMassPerDeclaredUnit",
      kind: { type: "decimal", scale: 6 },
      description: "kg per part",
    },
    {
      name: "primaryDataShare",
      kind: { type: "decimal", scale: 2, max: 10_000n },
      description: "percent 0..100",
    },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "referencePeriodEnd",
  fields: ["massMilligram", "primaryDataShareBp", "footprints", "pcfMicroKgCo2e"],
  fieldDescriptions: [
    "product mass per declared unit, 10^-6 kg",
    "primary data share, basis points (10^-2 %)",
    "always 1: one record is one footprint",
    "PCF excluding biogenic uptake, 10^-6 kg CO2e per declared unit",
  ],
  minMaxField: 3,
  toValues(row) {
    return [
      row.productMassPerDeclaredUnit as bigint,
      row.primaryDataShare as bigint,
      1n,
      row.pcfExcludingBiogenicUptake as bigint,
    ];
  },
  identityColumns: ["pcfId"],
  identityOf: (ids) => (ids.pcfId ? `pcf:${ids.pcfId}` : undefined),
  fromCatenaX(payload) {
    return readEachPayload(payload, payloadSchema, (data, base, rows, errors) => {
      const p = data;
      const company = p.companyAndProductInformation[0]!;
      const info = p.pcfAssessmentAndMethodology[0]!.pcfAssessmentInformation[0]!;
      const time = info.time[0]!;
      // the footprint's id; "Deprecated" withdraws it, and a footprint replaces its predecessors
      const idv = info.idAndVersion?.[0];
      const product = company.productInformation[0]!;
      const productAt = `${base}/companyAndProductInformation/0/productInformation/0`;
      if (product.declaredUnitOfMeasurement !== PCF_DECLARED_UNIT) {
        errors.push({
          position: `${productAt}/declaredUnitOfMeasurement`,
          reason: `is "${product.declaredUnitOfMeasurement.slice(0, 40)}": this schema keeps footprints per part and needs the declared unit "${PCF_DECLARED_UNIT}"`,
        });
        return;
      }
      if (product.declaredUnitAmount !== 1) {
        errors.push({
          position: `${productAt}/declaredUnitAmount`,
          reason: `is ${product.declaredUnitAmount}: this schema keeps the footprint of one piece (declaredUnitAmount 1)`,
        });
        return;
      }
      let day: number;
      try {
        day = dayOfTimestamp(time.referencePeriodEnd);
      } catch (e) {
        errors.push({
          position: `${base}/pcfAssessmentAndMethodology/0/pcfAssessmentInformation/0/time/0/referencePeriodEnd`,
          reason: (e as Error).message,
        });
        return;
      }
      rows.push({
        position: base || "/",
        row: {
          partNumber: company.productInformation[0]!.productIds[0]!,
          plant: company.companyInformation[0]!.companyIds[0]!,
          referencePeriodEnd: isoDateOfDay(day),
          pcfExcludingBiogenicUptake:
            p.productLifeCycleStagesAndEmissions[0]!.productionStage[0]!.pcfExcludingBiogenicUptake,
          productMassPerDeclaredUnit: company.productInformation[0]!.productMassPerDeclaredUnit,
          primaryDataShare:
            p.pcfAssessmentAndMethodology[0]!.dataSourcesAndQuality[0]!.primaryDataShare ?? 0,
          ...(idv ? { pcfId: idv.id } : {}),
          ...(idv?.status === "Deprecated" ? { recordStatus: "deleted" } : {}),
        },
      });
      for (const prev of idv?.precedingPfIds ?? []) {
        rows.push({ position: base || "/", row: { pcfId: prev, recordStatus: "deleted" } });
      }
    });
  },
};
