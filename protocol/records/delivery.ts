/**
 * Catena-X DeliveryInformation 2.0.0: one record per delivery.
 *
 * Flat row (JSON / CSV): partNumber, plant (destination site), departureDate (YYYY-MM-DD),
 * quantity (uint, pieces), leadTimeDays (uint, or null / empty cell when the arrival is
 * unknown), and optionally dueDate (YYYY-MM-DD, the agreed arrival date; absent, null or an
 * empty cell when none was agreed).
 * Record: key = indexKey(partNumber, plant, departureDate);
 * values = [quantity, leadTimeKnown 0/1, onTime 0/1, leadTimeDays (0 when unknown)], with
 * onTime = 1 iff the arrival is known, a due date is given and departure + lead time ≤ due date.
 * - Average lead time = RATIO_PPM(leadTimeDays, leadTimeKnown) / 10^6 days.
 * - On-time share = RATIO_PPM(onTime, leadTimeKnown): the share of arrived deliveries that
 *   arrived by their due date; an arrived delivery without a due date counts as NOT on time
 *   (the conservative reading for the consumer: a supplier cannot raise its share by leaving
 *   due dates out).
 * - Delivered quantity = SUM(quantity); number of deliveries = COUNT.
 * MIN/MAX field: lead time (3) — a MIN over a range with unknown arrivals sees their 0.
 * (Field 2 was "deliveries = 1" before on-time was added; COUNT gives that number.)
 *
 * Units: the quantity field counts pieces. Catena-X deliveries in any other unit
 * (`deliveryQuantity.unit` other than `unit:piece`: kilograms, litres, sets, …) are refused at
 * ingest, naming the position and the unit, so that quantities of different units are never
 * summed together; such deliveries belong in an asset of their own.
 *
 * From the Catena-X payload (one object or an array of them): every
 * `positions[i].deliveries[j]` is one row; partNumber = `materialGlobalAssetId`; plant =
 * `transitLocations.destination.bpnsProperty`; departure = the actual-departure event, else
 * the estimated one (UTC day); arrival likewise; leadTimeDays = arrival day − departure day
 * when both exist; quantity = `deliveryQuantity.value`, which must be a whole number. Every
 * date-time must carry its UTC offset (`Z` or `±hh:mm`); one without is refused with its
 * position, never read in the server's time zone. DeliveryInformation has no due date, so its
 * deliveries are never on time (see above): on-time shares need flat rows with dueDate.
 */
import { z } from "zod";
import type { DataSchema } from "./types.js";
import { readEachPayload } from "./issues.js";
import { dayOfTimestamp, isoDateOfDay } from "./keys.js";

const TIMESTAMP =
  /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/;
/** The piece unit: the only unit the quantity field adds up. */
export const PIECE_UNIT = "unit:piece";
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
/** Index of the event of `kind` that counts: the actual one, else the estimated one. */
function eventIndex(events: Event[], kind: "departure" | "arrival"): number {
  const actual = events.findIndex((x) => x.eventType === `actual-${kind}`);
  return actual >= 0 ? actual : events.findIndex((x) => x.eventType === `estimated-${kind}`);
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
    { name: "quantity", kind: { type: "uint" }, description: "delivered quantity, pieces" },
    {
      name: "leadTimeDays",
      kind: { type: "optionalUint" },
      description: "days from departure to arrival; null/empty when unknown",
    },
  ],
  optionalColumns: [
    {
      name: "dueDate",
      kind: { type: "optionalDate" },
      description: "agreed arrival date YYYY-MM-DD; absent/empty when none (then not on time)",
    },
  ],
  partColumn: "partNumber",
  plantColumn: "plant",
  dateColumn: "departureDate",
  fields: ["quantity", "leadTimeKnown", "onTime", "leadTimeDays"],
  fieldDescriptions: [
    "delivered quantity, pieces",
    "1 if the lead time is known (the delivery arrived), else 0",
    "1 if the delivery arrived on or before its due date, else 0 (also without a due date)",
    "lead time in days (0 when unknown)",
  ],
  minMaxField: 3,
  // on-time and lead time are defined over the arrived deliveries only (cohort.ts)
  cohortFields: { onTime: "leadTimeKnown", leadTimeDays: "leadTimeKnown" },
  toValues(row) {
    const lead = row.leadTimeDays as bigint | null;
    const due = (row.dueDate ?? null) as number | null;
    const departure = BigInt(row.departureDate as number);
    const onTime = lead !== null && due !== null && departure + lead <= BigInt(due);
    return [row.quantity as bigint, lead === null ? 0n : 1n, onTime ? 1n : 0n, lead ?? 0n];
  },
  identityColumns: ["deliveryId"],
  identityOf: (ids) => (ids.deliveryId ? `delivery:${ids.deliveryId}` : undefined),
  fromCatenaX(payload) {
    return readEachPayload(payload, payloadSchema, (data, base, rows, errors) => {
      data.positions.forEach((pos, i) =>
        pos.deliveries.forEach((d, j) => {
          const position = `${base}/positions/${i}/deliveries/${j}`;
          if (d.deliveryQuantity.unit !== PIECE_UNIT) {
            errors.push({
              position: `${position}/deliveryQuantity/unit`,
              reason: `is "${d.deliveryQuantity.unit.slice(0, 40)}": this schema adds up quantities in ${PIECE_UNIT} only (other units are never summed with pieces; put them in an asset of their own)`,
            });
            return;
          }
          // every date-time of the delivery must carry its UTC offset (none is read in local time)
          const days: (number | undefined)[] = [];
          let bad = false;
          const dated: [string, string][] = [
            [`${position}/lastUpdatedOnDateTime`, d.lastUpdatedOnDateTime],
            ...d.transitEvents.map((e, k): [string, string] => [
              `${position}/transitEvents/${k}/dateTimeOfEvent`,
              e.dateTimeOfEvent,
            ]),
          ];
          for (const [where, ts] of dated) {
            try {
              days.push(dayOfTimestamp(ts));
            } catch (e) {
              errors.push({ position: where, reason: (e as Error).message });
              bad = true;
            }
          }
          if (bad) return;
          const dayOf = (kind: "departure" | "arrival") => {
            const k = eventIndex(d.transitEvents, kind);
            return k < 0 ? undefined : days[k + 1];
          };
          const dep = dayOf("departure");
          const arr = dayOf("arrival");
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
