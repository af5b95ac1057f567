/**
 * Catena-X ItemStock 2.0.0: one record per stock of a material at a site on a day.
 *
 * Flat row (JSON / CSV): partNumber (material), plant (stock site, BPNS), stockDate
 * (YYYY-MM-DD), quantity (uint, pieces), direction (`INBOUND`: the customer's stock of the
 * material; `OUTBOUND`: the supplier's stock for the customer), isBlocked (true/false), and
 * optionally unit (absent, or `unit:piece`; in CSV a given cell must not be empty).
 * Record: key = indexKey(partNumber, plant, stockDate);
 * values = [outboundQuantity, inboundQuantity, blockedQuantity, quantity]: the quantity goes to
 * the field of its direction (the other is 0), to blockedQuantity too when blocked, and always
 * to field 3. So a sum never adds inbound and outbound stock (two owners' stocks), and
 * "available outbound stock" = SUM(outboundQuantity) − the blocked part the consumer may ask as
 * well. MIN/MAX field: quantity (3).
 *
 * A stock record is a snapshot: sum it over ONE day (`--from D --to D`), never over a window
 * (each day's snapshot would be counted again). Every site of a material on one day is one
 * range of the day-ordered variant `stock-by-day`.
 *
 * Units: pieces only (protocol/records/units.ts): a flat row whose unit is another, or a
 * Catena-X `quantityOnAllocatedStock.unit` other than `unit:piece`, refuses the batch with its
 * position.
 *
 * From the Catena-X payload (one aspect or an array of them): every
 * `positions[i].allocatedStocks[j]` is one row; partNumber = `materialGlobalAssetId`; plant =
 * `stockLocationBPNS`; stockDate = the UTC day of `lastUpdatedOnDateTime`, which must carry its
 * UTC offset (`Z` or `±hh:mm`; one without is refused with its position); quantity =
 * `quantityOnAllocatedStock.value` (a whole number); direction and isBlocked as given.
 *
 * Identity: optional column `stockId`; from Catena-X the material, direction, site, address
 * (BPNA), order position and day, so that a day's stock sent again replaces the earlier one.
 */
import { z } from "zod";
import type { DataSchema } from "./types.js";
import { readEachPayload } from "./issues.js";
import { dayOfTimestamp, isoDateOfDay } from "./keys.js";
import { BPNS, requirePieces, unitProblem, UUID } from "./units.js";

/** The directions of ItemStock 2.0.0. */
export const STOCK_DIRECTIONS = ["INBOUND", "OUTBOUND"] as const;

const payloadSchema = z.looseObject({
  materialGlobalAssetId: z.string().regex(UUID, "is not a UUID"),
  direction: z.enum(STOCK_DIRECTIONS),
  positions: z
    .array(
      z.looseObject({
        orderPositionReference: z
          .looseObject({
            supplierOrderId: z.string().max(256).optional(),
            customerOrderId: z.string().max(256),
            customerOrderPositionId: z.string().max(256),
          })
          .optional(),
        allocatedStocks: z
          .array(
            z.looseObject({
              isBlocked: z.boolean(),
              stockLocationBPNA: z.string().regex(/^BPNA[a-zA-Z0-9]{12}$/, "is not a BPNA"),
              stockLocationBPNS: z.string().regex(BPNS, "is not a BPNS"),
              lastUpdatedOnDateTime: z.string(),
              quantityOnAllocatedStock: z.looseObject({ value: z.number(), unit: z.string() }),
            }),
          )
          .min(1, "must hold at least one stock"),
      }),
    )
    .min(1, "must hold at least one position"),
});

/** The stock schema. */
export const stockSchema: DataSchema = {
  id: "urn:samm:io.catenax.item_stock:2.0.0",
  name: "stock",
  description:
    "Stock of a material per site and day (Catena-X ItemStock 2.0.0), pieces, outbound and inbound apart, indexed by material, stock site and day.",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "material identifier" },
    { name: "plant", kind: { type: "id" }, description: "stock site (BPNS)" },
    { name: "stockDate", kind: { type: "date" }, description: "day of the stock, YYYY-MM-DD" },
    { name: "quantity", kind: { type: "uint" }, description: "quantity on stock, pieces" },
    {
      name: "direction",
      kind: { type: "id" },
      description: "OUTBOUND (supplier's stock for the customer) or INBOUND (customer's stock)",
    },
    { name: "isBlocked", kind: { type: "bool" }, description: "the stock is blocked" },
  ],
  optionalColumns: [
    { name: "unit", kind: { type: "id" }, description: "unit of the quantity: unit:piece only" },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "stockDate",
  fields: ["outboundQuantity", "inboundQuantity", "blockedQuantity", "quantity"],
  fieldDescriptions: [
    "pieces on OUTBOUND stock (the supplier's, for the customer), else 0",
    "pieces on INBOUND stock (the customer's), else 0",
    "pieces on blocked stock (either direction), else 0",
    "pieces on stock (either direction)",
  ],
  minMaxField: 3,
  identityColumns: ["stockId"],
  identityOf: (ids) => (ids.stockId ? `stock:${ids.stockId}` : undefined),
  toValues(row) {
    requirePieces(row.unit);
    const q = row.quantity as bigint;
    const direction = String(row.direction).toUpperCase();
    if (direction !== "INBOUND" && direction !== "OUTBOUND") {
      throw new RangeError(`direction must be ${STOCK_DIRECTIONS.join(" or ")}`);
    }
    return [
      direction === "OUTBOUND" ? q : 0n,
      direction === "INBOUND" ? q : 0n,
      row.isBlocked === 1n ? q : 0n,
      q,
    ];
  },
  fromCatenaX(payload) {
    return readEachPayload(payload, payloadSchema, (data, base, rows, errors) => {
      data.positions.forEach((pos, i) =>
        pos.allocatedStocks.forEach((s, j) => {
          const position = `${base}/positions/${i}/allocatedStocks/${j}`;
          const unit = unitProblem(s.quantityOnAllocatedStock.unit);
          if (unit) {
            errors.push({ position: `${position}/quantityOnAllocatedStock/unit`, reason: unit });
            return;
          }
          let day: number;
          try {
            day = dayOfTimestamp(s.lastUpdatedOnDateTime);
          } catch (e) {
            errors.push({
              position: `${position}/lastUpdatedOnDateTime`,
              reason: (e as Error).message,
            });
            return;
          }
          const ref = pos.orderPositionReference;
          const order = [ref?.supplierOrderId, ref?.customerOrderId, ref?.customerOrderPositionId];
          rows.push({
            position,
            row: {
              partNumber: data.materialGlobalAssetId,
              plant: s.stockLocationBPNS,
              stockDate: isoDateOfDay(day),
              quantity: s.quantityOnAllocatedStock.value,
              direction: data.direction,
              isBlocked: s.isBlocked,
              stockId: [
                data.materialGlobalAssetId,
                data.direction,
                s.stockLocationBPNS,
                s.stockLocationBPNA,
                ...order.map((x) => x ?? ""),
                isoDateOfDay(day),
              ].join("|"),
            },
          });
        }),
      );
    });
  },
};
