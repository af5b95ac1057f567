/**
 * Catena-X fleet ClaimData 3.0.0: one record per claimed part of a field claim (warranty claim
 * from a workshop). The automaker publishes these; a supplier asks about its own part numbers.
 *
 * Flat row (JSON / CSV): partNumber (the claimed part), plant (the country of the claim, ISO
 * 3166 alpha-3, `UNKNOWN` when the claim gives none), repairDate (YYYY-MM-DD), isPartCausal
 * (true/false), replacedParts (uint: pieces replaced, 0 when the part was not replaced), and
 * optionally monthInService (uint; absent, null or an empty cell when unknown).
 * Record: key = indexKey(partNumber, country, repairDate);
 * values = [claims = 1, causal 0/1, replacedParts, monthInService (0 when unknown)].
 * - Claims in a window = SUM(claims) (or COUNT); claims per month = that sum per calendar month.
 * - Share marked causal = RATIO_PPM(causal, claims).
 * - Replaced parts per 10^6 delivered = 10^6 · SUM(replacedParts) here ÷ SUM(quantity) of the
 *   supplier's own delivery asset: two proven answers, combined by the consumer.
 * MIN/MAX field: months in service (3) — a MIN over a range with unknown values sees their 0.
 * Every country of a part × a month is one range of the day-ordered variant `claims-by-day`.
 *
 * Units: replacedParts counts pieces; mileage (km or mi) is not read, so no two units meet.
 *
 * From the Catena-X payload (one aspect or an array of them): every `claims[i].claimedParts[j]`
 * is one row; partNumber = the claimed part's `partNumber`, and the claim's `repairDate`, are
 * required here (they form the index key) although the aspect leaves them optional; plant = the
 * claim's `countryCode` (`null`/`NULL` there: `UNKNOWN`); isPartCausal and isPartReplaced count
 * as false when absent; replacedParts = `amountOfReplacedParts` (1 when absent) if the part was
 * replaced, else 0 — a part not replaced with a positive amount is refused as contradictory;
 * monthInService from the claim. The claim's `recordStatus` applies to each of its parts. Dates
 * are calendar dates (`YYYY-MM-DD`, the aspect's ISO8601LocalDate); `metaInformation` is not read.
 *
 * Identity: optional column `claimPartId`; from Catena-X the claim id with the part's `partId`,
 * else its serial number, else its part number and place in the claim.
 */
import { z } from "zod";
import type { DataSchema } from "./types.js";
import { readEachPayload } from "./issues.js";

/** The plant identifier of a claim whose country is not given. */
export const UNKNOWN_COUNTRY = "UNKNOWN";

const payloadSchema = z.looseObject({
  claims: z
    .array(
      z.looseObject({
        claimId: z.string().min(1).max(256),
        anonymizedVIN: z.string().min(1),
        qualityTaskId: z.string(),
        countryCode: z.string().regex(/^[A-Z][A-Z][A-Z]$|^null$|^NULL$/, "is not a country code"),
        repairDate: z.string().optional(),
        monthInService: z.number().int("is not a whole number").min(0).optional(),
        recordStatus: z.enum(["new", "updated", "deleted", "same"]).optional(),
        claimedParts: z
          .array(
            z.looseObject({
              partName: z.string(),
              partNumber: z.string().optional(),
              partId: z.string().optional(),
              serialNumber: z.string().optional(),
              isPartCausal: z.boolean().optional(),
              isPartReplaced: z.boolean().optional(),
              amountOfReplacedParts: z.number().int("is not a whole number").min(0).optional(),
            }),
          )
          .optional(),
      }),
    )
    .min(1, "must hold at least one claim"),
});

/** The claims schema. */
export const claimsSchema: DataSchema = {
  id: "urn:samm:io.catenax.fleet.claim_data:3.0.0",
  name: "claims",
  description:
    "Field claims per claimed part (Catena-X fleet ClaimData 3.0.0): causal flag and replaced pieces, indexed by part number, country and repair date.",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "claimed part number" },
    { name: "plant", kind: { type: "id" }, description: "country of the claim (ISO alpha-3)" },
    { name: "repairDate", kind: { type: "date" }, description: "repair date YYYY-MM-DD" },
    { name: "isPartCausal", kind: { type: "bool" }, description: "the part caused the damage" },
    {
      name: "replacedParts",
      kind: { type: "uint" },
      description: "pieces replaced (0 when not replaced)",
    },
  ],
  optionalColumns: [
    {
      name: "monthInService",
      kind: { type: "optionalUint" },
      description: "months the vehicle was in service; absent/empty when unknown",
    },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "repairDate",
  fields: ["claims", "causal", "replacedParts", "monthInService"],
  fieldDescriptions: [
    "always 1: one record is one claimed part of a claim",
    "1 if the claimed part was marked causal, else 0",
    "pieces of the part replaced in the repair",
    "months in service of the vehicle (0 when unknown)",
  ],
  minMaxField: 3,
  identityColumns: ["claimPartId"],
  identityOf: (ids) => (ids.claimPartId ? `claim:${ids.claimPartId}` : undefined),
  toValues(row) {
    return [
      1n,
      row.isPartCausal as bigint,
      row.replacedParts as bigint,
      (row.monthInService ?? 0n) as bigint,
    ];
  },
  fromCatenaX(payload) {
    return readEachPayload(payload, payloadSchema, (data, base, rows, errors) => {
      data.claims.forEach((c, i) => {
        if (c.repairDate === undefined && (c.claimedParts ?? []).length > 0) {
          errors.push({
            position: `${base}/claims/${i}/repairDate`,
            reason: "is required (index key)",
          });
          return;
        }
        (c.claimedParts ?? []).forEach((p, j) => {
          const position = `${base}/claims/${i}/claimedParts/${j}`;
          const before = errors.length;
          if (p.partNumber === undefined) {
            errors.push({ position: `${position}/partNumber`, reason: "is required (index key)" });
          }
          const replaced = p.isPartReplaced ?? false;
          if (!replaced && (p.amountOfReplacedParts ?? 0) > 0) {
            errors.push({
              position: `${position}/amountOfReplacedParts`,
              reason: "is positive but isPartReplaced is not true",
            });
          }
          if (errors.length > before) return;
          const part = p.partId ?? (p.serialNumber ? `serial:${p.serialNumber}` : undefined);
          rows.push({
            position,
            row: {
              partNumber: p.partNumber,
              plant: /^null$/i.test(c.countryCode) ? UNKNOWN_COUNTRY : c.countryCode,
              repairDate: c.repairDate,
              isPartCausal: p.isPartCausal ?? false,
              replacedParts: replaced ? (p.amountOfReplacedParts ?? 1) : 0,
              monthInService: c.monthInService ?? null,
              claimPartId: `${c.claimId}|${part ?? `${p.partNumber}#${j}`}`,
              ...(c.recordStatus === undefined ? {} : { recordStatus: c.recordStatus }),
            },
          });
        });
      });
    });
  },
};
