/**
 * Catena-X ManufacturedPartsQualityInformation 3.0.0: one record per manufactured part.
 *
 * Flat row (JSON / CSV): partNumber, plant, productionDate (YYYY-MM-DD), hasBeenReworked
 * (true/false), numberOfConductedEndOfLineTests (uint).
 * Record: key = indexKey(partNumber, plant, productionDate);
 * values = [quantity = 1, reworked 0/1, 0 (reserved), numberOfConductedEndOfLineTests].
 * Rework PPM = RATIO_PPM(reworked, quantity). MIN/MAX field: end-of-line tests (3, the
 * field the range circuits compute MIN/MAX over).
 *
 * From the Catena-X payload: each `manufacturedParts[i]` is one row; `plant` is
 * `plant.plantIdentifier`; a missing `hasBeenReworked` counts as false and a missing
 * `numberOfConductedEndOfLineTests` as 0; `partNumber` and `productionDate` are required
 * here (they form the index key) although the aspect leaves them optional.
 *
 * Identity: `partId`, else `serialNumber` + `partNumber` (optional columns); a later record of
 * the same identity replaces the earlier one, `recordStatus` "deleted" removes it.
 */
import { z } from "zod";
import type { DataSchema, RowError } from "./types.js";
import { zodIssues } from "./issues.js";

const UUID =
  /(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)|(^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)/;

const payloadSchema = z.looseObject({
  manufacturedParts: z
    .array(
      z.looseObject({
        qualityTaskId: z.string().regex(UUID, "is not a UUID"),
        plant: z.looseObject({
          plantIdentifier: z.string(),
          plantBPNS: z
            .string()
            .regex(/^BPNS[a-zA-Z0-9]{12}$/, "is not a BPNS")
            .optional(),
        }),
        partNumber: z.string().optional(),
        productionDate: z.string().optional(),
        hasBeenReworked: z.boolean().optional(),
        numberOfConductedEndOfLineTests: z.number().min(1).optional(),
        partId: z.string().regex(UUID, "is not a UUID").optional(),
        serialNumber: z.string().min(1).max(256).optional(),
        recordStatus: z.enum(["new", "updated", "deleted", "same"]).optional(),
      }),
    )
    .min(1, "must hold at least one part"),
  metaInformation: z.looseObject({ selectionCriteria: z.string() }).optional(),
});

/** The quality schema. */
export const qualitySchema: DataSchema = {
  id: "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0",
  name: "quality",
  description:
    "Quality data per manufactured part (Catena-X ManufacturedPartsQualityInformation 3.0.0): rework flag and end-of-line tests, indexed by part number, plant and production date.",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "customer-facing part number" },
    { name: "plant", kind: { type: "id" }, description: "plant identifier" },
    { name: "productionDate", kind: { type: "date" }, description: "production date YYYY-MM-DD" },
    { name: "hasBeenReworked", kind: { type: "bool" }, description: "part was reworked" },
    {
      name: "numberOfConductedEndOfLineTests",
      kind: { type: "uint" },
      description: "end-of-line tests run on the part",
    },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "productionDate",
  fields: ["quantity", "reworked", "reserved", "endOfLineTests"],
  fieldDescriptions: [
    "always 1: one record is one part (COUNT-like sums, PPM denominator)",
    "1 if the part was reworked, else 0",
    "reserved, always 0",
    "number of conducted end-of-line tests",
  ],
  minMaxField: 3,
  identityColumns: ["partId", "serialNumber"],
  identityOf(ids, row) {
    // the aspect's partId (a UUID) names the part in the data space; else serial + part number
    if (ids.partId) return `partId:${ids.partId.toLowerCase()}`;
    if (ids.serialNumber) return `serial:${ids.serialNumber}|${String(row.partNumber)}`;
    return undefined;
  },
  toValues(row) {
    return [1n, row.hasBeenReworked as bigint, 0n, row.numberOfConductedEndOfLineTests as bigint];
  },
  fromCatenaX(payload) {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) return { rows: [], errors: zodIssues(parsed.error, "") };
    const rows: { position: string; row: unknown }[] = [];
    const errors: RowError[] = [];
    parsed.data.manufacturedParts.forEach((p, i) => {
      const position = `/manufacturedParts/${i}`;
      const before = errors.length;
      if (p.partNumber === undefined) {
        errors.push({ position: `${position}/partNumber`, reason: "is required (index key)" });
      }
      if (p.productionDate === undefined || /^null$/i.test(p.productionDate)) {
        errors.push({ position: `${position}/productionDate`, reason: "is required (index key)" });
      }
      if (errors.length > before) return;
      rows.push({
        position,
        row: {
          partNumber: p.partNumber ?? "",
          plant: p.plant.plantIdentifier,
          productionDate: p.productionDate ?? "",
          hasBeenReworked: p.hasBeenReworked ?? false,
          numberOfConductedEndOfLineTests: p.numberOfConductedEndOfLineTests ?? 0,
          ...(p.partId === undefined ? {} : { partId: p.partId }),
          ...(p.serialNumber === undefined ? {} : { serialNumber: p.serialNumber }),
          ...(p.recordStatus === undefined ? {} : { recordStatus: p.recordStatus }),
        },
      });
    });
    return { rows, errors };
  },
};
