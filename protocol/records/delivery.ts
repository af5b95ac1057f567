/**
 * Catena-X DeliveryInformation 2.0.0: one record per delivery.
 *
 * Flat row (JSON / CSV): partNumber, plant (destination site), departureDate (YYYY-MM-DD),
 * quantity (uint), leadTimeDays (uint, or null / empty cell when the arrival is unknown).
 * Record: key = indexKey(partNumber, plant, departureDate);
 * values = [quantity, leadTimeKnown 0/1, deliveries = 1, leadTimeDays (0 when unknown)].
 * Average lead time = RATIO_PPM(leadTimeDays, leadTimeKnown) / 10^6. MIN/MAX field: lead
 * time (3) — a MIN over a range with unknown arrivals sees their 0.
 *
 * From the Catena-X payload (one object or an array of them): every
 * `positions[i].deliveries[j]` is one row; partNumber = `materialGlobalAssetId`; plant =
 * `transitLocations.destination.bpnsProperty`; departure = the actual-departure event, else
 * the estimated one (UTC day); arrival likewise; leadTimeDays = arrival day − departure day
 * when both exist; quantity = `deliveryQuantity.value`, which must be a whole number.
 */
import { z } from "zod";
import type { DataSchema } from "./types.js";
import { readEachPayload } from "./issues.js";
import { dayOfTimestamp, isoDateOfDay } from "./keys.js";

const TIMESTAMP =
  /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/;
const BPNS = /^BPNS[a-zA-Z0-9]{12}$/;
const UUID =
  /(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)|(^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)/;

const location = z.looseObject({ bpnsProperty: z.string().regex(BPNS, "is not a BPNS") });
const payloadSchema = z.looseObject({
  materialGlobalAssetId: z.string().regex(UUID, "is not a UUID"),
  positions: z
    .array(
      z.looseObject({
        orderPositionReference: z
          .looseObject({
            supplierOrderId: z.string().max(256).optional(),
            customerOrderId: z.string().max(256).optional(),
            customerOrderPositionId: z.string().max(256).optional(),
          })
          .optional(),
        deliveries: z
          .array(
            z.looseObject({
              deliveryQuantity: z.looseObject({ value: z.number(), unit: z.string() }),
              lastUpdatedOnDateTime: z.string().regex(TIMESTAMP, "is not a timestamp"),
              transitEvents: z
                .array(
                  z.object({
                    dateTimeOfEvent: z.string().regex(TIMESTAMP, "is not a timestamp"),
                    eventType: z.enum([
                      "estimated-departure",
                      "estimated-arrival",
                      "actual-departure",
                      "actual-arrival",
                    ]),
                  }),
                )
                .min(1)
                .max(2),
              transitLocations: z.looseObject({ origin: location, destination: location }),
              trackingNumber: z.string().min(1).max(256).optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

type Event = { dateTimeOfEvent: string; eventType: string };
function eventDay(events: Event[], kind: "departure" | "arrival"): number | undefined {
  const e =
    events.find((x) => x.eventType === `actual-${kind}`) ??
    events.find((x) => x.eventType === `estimated-${kind}`);
  return e === undefined ? undefined : dayOfTimestamp(e.dateTimeOfEvent);
}

/**
 * A delivery's identity in the aspect: its tracking number, else its material, order position
 * and first transit event (a delivery sent again with new events keeps its tracking number).
 */
function deliveryId(
  material: string,
  ref:
    | { supplierOrderId?: string; customerOrderId?: string; customerOrderPositionId?: string }
    | undefined,
  d: { trackingNumber?: string; transitEvents: Event[] },
): string {
  if (d.trackingNumber) return `tracking:${d.trackingNumber}`;
  const order = [ref?.supplierOrderId, ref?.customerOrderId, ref?.customerOrderPositionId];
  return `order:${material}|${order.map((x) => x ?? "").join("|")}|${d.transitEvents[0]!.dateTimeOfEvent}`;
}

/** The delivery schema. */
export const deliverySchema: DataSchema = {
  id: "urn:samm:io.catenax.delivery_information:2.0.0",
  name: "delivery",
  description:
    "Deliveries per material and destination site (Catena-X DeliveryInformation 2.0.0): quantity and lead time, indexed by part, destination plant and departure date.",
  columns: [
    { name: "partNumber", kind: { type: "id" }, description: "material / part identifier" },
    { name: "plant", kind: { type: "id" }, description: "destination site (BPNS)" },
    { name: "departureDate", kind: { type: "date" }, description: "departure date YYYY-MM-DD" },
    { name: "quantity", kind: { type: "uint" }, description: "delivered quantity" },
    {
      name: "leadTimeDays",
      kind: { type: "optionalUint" },
      description: "days from departure to arrival; null/empty when unknown",
    },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "departureDate",
  fields: ["quantity", "leadTimeKnown", "deliveries", "leadTimeDays"],
  fieldDescriptions: [
    "delivered quantity",
    "1 if the lead time is known, else 0",
    "always 1: one record is one delivery",
    "lead time in days (0 when unknown)",
  ],
  minMaxField: 3,
  toValues(row) {
    const lead = row.leadTimeDays as bigint | null;
    return [row.quantity as bigint, lead === null ? 0n : 1n, 1n, lead ?? 0n];
  },
  identityColumns: ["deliveryId"],
  identityOf: (ids) => (ids.deliveryId ? `delivery:${ids.deliveryId}` : undefined),
  fromCatenaX(payload) {
    return readEachPayload(payload, payloadSchema, (data, base, rows, errors) => {
      data.positions.forEach((pos, i) =>
        pos.deliveries.forEach((d, j) => {
          const position = `${base}/positions/${i}/deliveries/${j}`;
          const dep = eventDay(d.transitEvents, "departure");
          const arr = eventDay(d.transitEvents, "arrival");
          if (dep === undefined) {
            errors.push({
              position: `${position}/transitEvents`,
              reason: "has no departure event",
            });
            return;
          }
          if (arr !== undefined && arr < dep) {
            errors.push({
              position: `${position}/transitEvents`,
              reason: "arrival is before departure",
            });
            return;
          }
          rows.push({
            position,
            row: {
              partNumber: data.materialGlobalAssetId,
              plant: d.transitLocations.destination.bpnsProperty,
              departureDate: isoDateOfDay(dep),
              quantity: d.deliveryQuantity.value,
              leadTimeDays: arr === undefined ? null : arr - dep,
              deliveryId: deliveryId(data.materialGlobalAssetId, pos.orderPositionReference, d),
            },
          });
        }),
      );
    });
  },
};
