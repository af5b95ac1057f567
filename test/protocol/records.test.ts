import { readFileSync } from "node:fs";
import { expect } from "chai";
import { concat, hexlify, keccak256, randomBytes, toBeHex, toUtf8Bytes } from "ethers";
import {
  batchHash,
  dayNumber,
  deliverySchema,
  findSchema,
  idCode,
  indexKey,
  keyRange,
  KEY_MAX_SENTINEL,
  normaliseId,
  packKey,
  parseBatch,
  pcfSchema,
  qualitySchema,
  toFixedPoint,
  toU64,
  dayOfTimestamp,
  MAX_NUMBER_CHARS,
  unpackKey,
  type MappedRecord,
  type ParseResult,
} from "../../protocol/records/index.js";

const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/catenax/${name}.sample.json`, import.meta.url), "utf8"),
  );
const jsonSchema = (name: string): { required: string[] } =>
  JSON.parse(
    readFileSync(
      new URL(`../../protocol/records/catenax/${name}.schema.json`, import.meta.url),
      "utf8",
    ),
  );

function ok(r: ParseResult) {
  if (!r.ok) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.records;
}
function errs(r: ParseResult) {
  if (r.ok) throw new Error("expected the batch to be refused");
  return r.errors;
}

describe("schemas", function () {
  describe("idCode", function () {
    it("normalises case, width and whitespace before hashing", function () {
      expect(normaliseId("  gbx-3232455 \t x")).to.equal("GBX-3232455 X");
      expect(idCode("gbx-3232455")).to.equal(idCode(" GBX-3232455 "));
      expect(idCode("ＧＢＸ-3232455")).to.equal(idCode("GBX-3232455"));
      expect(idCode("GBX-3232456")).to.not.equal(idCode("GBX-3232455"));
    });
    it("stays inside [1, 2^48 - 2] so that no key is a sentinel", function () {
      for (const s of ["a", "4711", "BPNS0123456789ZZ", "GBX-3232455", "x".repeat(200)]) {
        const c = idCode(s);
        expect(c >= 1n && c <= 2n ** 48n - 2n).to.equal(true);
      }
    });
    it("refuses an empty identifier", function () {
      expect(() => idCode("   ")).to.throw(RangeError, "empty");
    });
    it("gives the formula's code for an identifier seen before, and after the codes kept were cleared", function () {
      const formula = (s: string) =>
        (BigInt(keccak256(toUtf8Bytes(`partproof:id:v1:${normaliseId(s)}`))) % (2n ** 48n - 2n)) +
        1n;
      const ids = ["GBX-3232455", " gbx-3232455", "4711", "BPNS0123456789ZZ"];
      for (const s of [...ids, ...ids]) expect(idCode(s), s).to.equal(formula(s));
      // more distinct identifiers than are kept (2^12): the kept codes are cleared on the way
      for (let i = 0; i < 5_000; i++) idCode(`P-${i}`);
      for (const s of [...ids, "P-0", "P-4999"]) expect(idCode(s), s).to.equal(formula(s));
    });
  });

  describe("indexKey", function () {
    it("packs part, plant and day and unpacks them again", function () {
      const key = indexKey("GBX-3232455", "4711", dayNumber("2022-02-04"));
      expect(unpackKey(key)).to.deep.equal({
        part: idCode("GBX-3232455"),
        plant: idCode("4711"),
        day: 19027,
      });
      expect(key).to.equal(idCode("GBX-3232455") * 2n ** 80n + idCode("4711") * 2n ** 32n + 19027n);
      expect(key > 0n && key < KEY_MAX_SENTINEL).to.equal(true);
    });
    it("reverts when a component is out of range", function () {
      expect(() => packKey(2n ** 48n, 1n, 1)).to.throw(RangeError, "part");
      expect(() => packKey(1n, 1n, 2 ** 32)).to.throw(RangeError, "day");
    });
    it("refuses dates that are not calendar dates or before 1970", function () {
      expect(() => dayNumber("2023-02-30")).to.throw(RangeError, "calendar");
      expect(() => dayNumber("1969-12-31")).to.throw(RangeError, "1970");
      expect(() => dayNumber("2023/02/01")).to.throw(RangeError, "YYYY-MM-DD");
    });
  });

  describe("keyRange", function () {
    it("covers exactly one part, plant and date window", function () {
      const { keyLo, keyHi } = keyRange({
        partNumber: "P1",
        plant: "4711",
        from: "2026-07-01",
        to: "2026-09-30",
      });
      expect(keyLo).to.equal(indexKey("P1", "4711", dayNumber("2026-07-01")));
      expect(keyHi).to.equal(indexKey("P1", "4711", dayNumber("2026-09-30")));
    });
    it("spans every plant of a part when no plant is given", function () {
      const { keyLo, keyHi } = keyRange({ partNumber: "P1" });
      expect(unpackKey(keyLo)).to.deep.equal({ part: idCode("P1"), plant: 0n, day: 0 });
      expect(unpackKey(keyHi).plant).to.equal(2n ** 48n - 1n);
    });
    it("refuses a date window without a plant", function () {
      expect(() => keyRange({ partNumber: "P1", from: "2026-01-01" })).to.throw(
        RangeError,
        "plant",
      );
    });
  });

  describe("toFixedPoint", function () {
    it("converts decimals exactly", function () {
      expect(toFixedPoint(2.9, 6)).to.equal(2_900_000n);
      expect(toFixedPoint("0.456", 6)).to.equal(456_000n);
      expect(toFixedPoint(1e-6, 6)).to.equal(1n);
      expect(toFixedPoint("1.50000000", 2)).to.equal(150n);
      expect(toFixedPoint(0, 6)).to.equal(0n);
    });
    it("refuses too many decimals, negatives and values above 2^64 - 1", function () {
      expect(() => toFixedPoint(0.1234567, 6)).to.throw(RangeError, "decimals");
      expect(() => toFixedPoint(-1, 6)).to.throw(RangeError, "negative");
      expect(() => toFixedPoint("18446744073709.551616", 6)).to.throw(RangeError, "64-bit");
      expect(toFixedPoint("18446744073709.551615", 6)).to.equal(2n ** 64n - 1n);
    });
  });

  describe("number bounds (before any arithmetic)", function () {
    it("reads zero, exponents and trailing zeros within the bounds", function () {
      expect(toFixedPoint("0e-400", 6)).to.equal(0n);
      expect(toFixedPoint("-0.000", 6)).to.equal(0n);
      expect(toFixedPoint("1.500e2", 2)).to.equal(15_000n);
      expect(toFixedPoint("2000e-9", 6)).to.equal(2n);
      expect(() => toFixedPoint("2500e-9", 6)).to.throw(RangeError, "decimals");
      expect(toFixedPoint("1e13", 6)).to.equal(10n ** 19n);
      expect(toFixedPoint("1" + "0".repeat(30) + "e-30", 6)).to.equal(1_000_000n);
      expect(toU64("00018446744073709551615")).to.equal(2n ** 64n - 1n);
    });

    it("refuses huge exponents, long digit strings and overflowing values by their size", function () {
      expect(() => toFixedPoint("0e-99999999999999999999", 6)).to.throw(RangeError, "exponent");
      expect(() => toFixedPoint("1e300000000", 6)).to.throw(RangeError, "exponent");
      expect(() => toFixedPoint("1e-401", 6)).to.throw(RangeError, "exponent");
      expect(() => toFixedPoint("1e14", 6)).to.throw(RangeError, "64-bit");
      expect(() => toFixedPoint("1e300", 6)).to.throw(RangeError, "64-bit");
      expect(() => toFixedPoint(1e300, 6)).to.throw(RangeError, "64-bit");
      expect(() => toFixedPoint("1." + "3".repeat(1e6), 6)).to.throw(RangeError, "longer");
      expect(() => toU64("7".repeat(1e6))).to.throw(RangeError, `more than ${MAX_NUMBER_CHARS}`);
      expect(() => toU64("1" + "0".repeat(20))).to.throw(RangeError, "64-bit");
      expect(() => dayOfTimestamp("2026-07-01T00:00:00Z" + " ".repeat(1e5))).to.throw(
        RangeError,
        "ISO 8601",
      );
    });
  });

  describe("parseBatch", function () {
    it("maps the Catena-X quality sample to one record", function () {
      const [r, ...rest] = ok(
        parseBatch(qualitySchema, {
          format: "catenax",
          payload: fixture("io.catenax.manufactured_parts_quality_information_3.0.0"),
        }),
      );
      expect(rest).to.have.length(0);
      expect(r!.key).to.equal(indexKey("GBX-3232455", "4711", dayNumber("2022-02-04")));
      expect(r!.values).to.deep.equal([1n, 0n, 0n, 1n]);
    });

    it("maps the Catena-X delivery sample (departure day in UTC, unknown lead time)", function () {
      const [r, ...rest] = ok(
        parseBatch(deliverySchema, {
          format: "catenax",
          payload: fixture("io.catenax.delivery_information_2.0.0"),
        }),
      );
      expect(rest).to.have.length(0);
      // 2023-04-29T14:23:00+14:00 is 2023-04-29T00:23Z
      expect(r!.key).to.equal(
        indexKey(
          "urn:uuid:48878d48-6f1d-47f5-8ded-a441d0d879df",
          "BPNS0123456789ZZ",
          dayNumber("2023-04-29"),
        ),
      );
      // quantity, leadTimeKnown, onTime (no arrival, no due date), leadTimeDays
      expect(r!.values).to.deep.equal([20n, 0n, 0n, 0n]);
    });

    it("computes the delivery lead time from departure and arrival events", function () {
      const payload = fixture("io.catenax.delivery_information_2.0.0") as any;
      payload.positions[0].deliveries[0].transitEvents = [
        { dateTimeOfEvent: "2023-04-29T10:00:00Z", eventType: "actual-departure" },
        { dateTimeOfEvent: "2023-05-06T09:00:00Z", eventType: "actual-arrival" },
      ];
      const [r] = ok(parseBatch(deliverySchema, { format: "catenax", payload }));
      // DeliveryInformation has no due date: an arrival is never on time
      expect(r!.values).to.deep.equal([20n, 1n, 0n, 7n]);
    });

    it("refuses Catena-X deliveries in a unit other than pieces, naming position and unit", function () {
      const payload = fixture("io.catenax.delivery_information_2.0.0") as any;
      payload.positions[0].deliveries[0].deliveryQuantity.unit = "unit:kilogram";
      const [e, ...rest] = errs(parseBatch(deliverySchema, { format: "catenax", payload }));
      expect(rest).to.have.length(0);
      expect(e!.position).to.equal("/positions/0/deliveries/0/deliveryQuantity/unit");
      expect(e!.reason).to.match(/"unit:kilogram".*unit:piece only/);
    });

    it("refuses date-times without a UTC offset, naming field and position", function () {
      const payload = fixture("io.catenax.delivery_information_2.0.0") as any;
      payload.positions[0].deliveries[0].transitEvents = [
        { dateTimeOfEvent: "2023-04-29T10:00:00Z", eventType: "actual-departure" },
        { dateTimeOfEvent: "2023-05-06T23:30:00", eventType: "actual-arrival" },
      ];
      expect(errs(parseBatch(deliverySchema, { format: "catenax", payload }))).to.deep.equal([
        {
          position: "/positions/0/deliveries/0/transitEvents/1/dateTimeOfEvent",
          reason:
            'has no UTC offset (Z or ±hh:mm): "2023-05-06T23:30:00" would be read in the server\'s time zone',
        },
      ]);
      const pcf = fixture("io.catenax.pcf_10.0.0") as any;
      pcf.companyAndProductInformation[0].productInformation[0].declaredUnitOfMeasurement = "piece";
      pcf.pcfAssessmentAndMethodology[0].pcfAssessmentInformation[0].time[0].referencePeriodEnd =
        "2022-12-31T23:59:59";
      const [p] = errs(parseBatch(pcfSchema, { format: "catenax", payload: pcf }));
      expect(p!.position).to.equal(
        "/pcfAssessmentAndMethodology/0/pcfAssessmentInformation/0/time/0/referencePeriodEnd",
      );
      expect(p!.reason).to.match(/no UTC offset/);
      expect(dayOfTimestamp("2023-05-06T23:30:00-02:00")).to.equal(dayNumber("2023-05-07"));
      expect(dayOfTimestamp("2023-05-06")).to.equal(dayNumber("2023-05-06"));
      expect(() => dayOfTimestamp("May 6, 2023")).to.throw(RangeError, "ISO 8601");
    });

    it("derives on-time from an optional due date (JSON null, CSV without the column or empty)", function () {
      const json = ok(
        parseBatch(deliverySchema, {
          format: "json",
          rows: [
            {
              partNumber: "P",
              plant: "S",
              departureDate: "2026-07-01",
              quantity: 5,
              leadTimeDays: 3,
              dueDate: "2026-07-04",
            },
            {
              partNumber: "P",
              plant: "S",
              departureDate: "2026-07-02",
              quantity: 6,
              leadTimeDays: 3,
              dueDate: "2026-07-04",
            },
            {
              partNumber: "P",
              plant: "S",
              departureDate: "2026-07-03",
              quantity: 7,
              leadTimeDays: 1,
              dueDate: null,
            },
            {
              partNumber: "P",
              plant: "S",
              departureDate: "2026-07-04",
              quantity: 8,
              leadTimeDays: null,
              dueDate: "2026-07-09",
            },
          ],
        }),
      );
      expect(json.map((r) => r.values[2])).to.deep.equal([1n, 0n, 0n, 0n]);
      const old = ok(
        parseBatch(deliverySchema, {
          format: "csv",
          csv: "partNumber,plant,departureDate,quantity,leadTimeDays\nP,S,2026-07-01,5,3\n",
        }),
      );
      expect(old[0]!.values).to.deep.equal([5n, 1n, 0n, 3n]);
      const csv = ok(
        parseBatch(deliverySchema, {
          format: "csv",
          csv: "partNumber,plant,departureDate,quantity,leadTimeDays,dueDate\nP,S,2026-07-01,5,3,2026-07-04\nP,S,2026-07-01,5,3,\n",
        }),
      );
      expect(csv.map((r) => r.values[2])).to.deep.equal([0n, 1n]); // sorted by values
      const bad = errs(
        parseBatch(deliverySchema, {
          format: "csv",
          csv: "partNumber,plant,departureDate,quantity,leadTimeDays,dueDate\nP,S,2026-07-01,5,3,July\n",
        }),
      );
      expect(bad).to.deep.equal([
        { position: "line 2.dueDate", reason: "is not a date YYYY-MM-DD" },
      ]);
    });

    it("refuses a PCF whose declared unit is not one piece, naming the position", function () {
      // the public sample declares its footprint per liter
      const [e, ...rest] = errs(
        parseBatch(pcfSchema, { format: "catenax", payload: fixture("io.catenax.pcf_10.0.0") }),
      );
      expect(rest).to.have.length(0);
      expect(e!.position).to.equal(
        "/companyAndProductInformation/0/productInformation/0/declaredUnitOfMeasurement",
      );
      expect(e!.reason).to.match(/"liter".*"piece"/);
      const two = fixture("io.catenax.pcf_10.0.0") as any;
      two.companyAndProductInformation[0].productInformation[0].declaredUnitOfMeasurement = "piece";
      two.companyAndProductInformation[0].productInformation[0].declaredUnitAmount = 2;
      expect(
        errs(parseBatch(pcfSchema, { format: "catenax", payload: two }))[0]!.position,
      ).to.equal("/companyAndProductInformation/0/productInformation/0/declaredUnitAmount");
    });

    it("maps the Catena-X PCF sample in fixed point", function () {
      const payload = fixture("io.catenax.pcf_10.0.0") as any;
      payload.companyAndProductInformation[0].productInformation[0].declaredUnitOfMeasurement =
        "piece";
      const [r, ...rest] = ok(parseBatch(pcfSchema, { format: "catenax", payload }));
      expect(rest).to.have.length(0);
      expect(r!.key).to.equal(
        indexKey(
          "urn:mycompany.com:product-id:401765",
          "urn:BPNL000000000DWF",
          dayNumber("2022-12-31"),
        ),
      );
      expect(r!.values).to.deep.equal([456_000n, 5_612n, 1n, 2_900_000n]);
    });

    it("gives the same sorted records and batch hash for JSON rows, CSV and any order", function () {
      const rows = [
        {
          partNumber: "P1",
          plant: "4711",
          productionDate: "2026-07-02",
          hasBeenReworked: true,
          numberOfConductedEndOfLineTests: 3,
        },
        {
          partNumber: "P1",
          plant: "4711",
          productionDate: "2026-07-01",
          hasBeenReworked: false,
          numberOfConductedEndOfLineTests: 1,
        },
      ];
      const a = ok(parseBatch(qualitySchema, { format: "json", rows }));
      const b = ok(parseBatch(qualitySchema, { format: "json", rows: [...rows].reverse() }));
      const csv =
        'numberOfConductedEndOfLineTests,partNumber,plant,productionDate,hasBeenReworked\r\n1,P1,"4711",2026-07-01,false\r\n3,"P1",4711,2026-07-02,true\r\n';
      const c = ok(parseBatch(qualitySchema, { format: "csv", csv }));
      expect(a.map((r) => r.values)).to.deep.equal([
        [1n, 0n, 0n, 1n],
        [1n, 1n, 0n, 3n],
      ]);
      expect(b).to.deep.equal(a);
      expect(c).to.deep.equal(a);
      expect(batchHash(qualitySchema.id, a)).to.equal(batchHash(qualitySchema.id, c));
      expect(batchHash(qualitySchema.id, a)).to.not.equal(batchHash(deliverySchema.id, a));
    });

    it("reports every bad JSON row with its position and reason", function () {
      const errors = errs(
        parseBatch(qualitySchema, {
          format: "json",
          rows: [
            {
              partNumber: "P1",
              plant: "4711",
              productionDate: "2026-07-01",
              hasBeenReworked: false,
              numberOfConductedEndOfLineTests: 1,
            },
            {
              partNumber: "P1",
              plant: "4711",
              productionDate: "2026-13-01",
              hasBeenReworked: false,
              numberOfConductedEndOfLineTests: 1,
            },
            {
              partNumber: "P1",
              plant: "4711",
              productionDate: "2026-07-01",
              hasBeenReworked: "no",
              numberOfConductedEndOfLineTests: -2,
            },
            {
              partNumber: "",
              plant: "4711",
              productionDate: "2026-07-01",
              hasBeenReworked: false,
              numberOfConductedEndOfLineTests: 1,
              extra: 1,
            },
          ],
        }),
      );
      const at = (p: string) => errors.filter((e) => e.position === p).map((e) => e.reason);
      expect(at("rows[1].productionDate")).to.deep.equal(["is not a calendar date"]);
      expect(at("rows[2].hasBeenReworked")).to.have.length(1);
      expect(at("rows[2].numberOfConductedEndOfLineTests")).to.deep.equal([
        "is not an unsigned integer",
      ]);
      expect(at("rows[3].partNumber")).to.deep.equal(["must not be empty"]);
      expect(errors.some((e) => e.position === "rows[3]" && /extra/.test(e.reason))).to.equal(true);
      expect(errors.some((e) => e.position.startsWith("rows[0]"))).to.equal(false);
    });

    it("refuses out-of-range values: above 2^64 - 1, too many decimals, share above 100 %", function () {
      const big = errs(
        parseBatch(deliverySchema, {
          format: "csv",
          csv: "partNumber,plant,departureDate,quantity,leadTimeDays\nP,S,2026-01-01,18446744073709551616,\nP,S,2026-01-01,5,x\n",
        }),
      );
      expect(big).to.deep.equal([
        { position: "line 2.quantity", reason: "is too large for a 64-bit field" },
        { position: "line 3.leadTimeDays", reason: "is not an unsigned integer" },
      ]);
      const pcf = errs(
        parseBatch(pcfSchema, {
          format: "json",
          rows: [
            {
              partNumber: "P",
              plant: "C",
              referencePeriodEnd: "2026-01-01",
              pcfExcludingBiogenicUptake: 1.0000001,
              productMassPerDeclaredUnit: 1,
              primaryDataShare: 100.5,
            },
          ],
        }),
      );
      expect(pcf).to.deep.equal([
        { position: "rows[0].pcfExcludingBiogenicUptake", reason: "has more than 6 decimals" },
        { position: "rows[0].primaryDataShare", reason: "is above the maximum 100" },
      ]);
    });

    it("refuses stray quotes and rows of too many columns, quoting no cell", function () {
      const header = "partNumber,plant,departureDate,quantity,leadTimeDays";
      const stray = errs(
        parseBatch(deliverySchema, { format: "csv", csv: `${header}\nP,S"SECRET,2026-01-01,5,\n` }),
      );
      expect(stray).to.deep.equal([
        {
          position: "csv",
          reason: "line 2: a quote inside an unquoted cell (quote the whole cell and double it)",
        },
      ]);
      const after = errs(
        parseBatch(deliverySchema, {
          format: "csv",
          csv: `${header}\n"P"SECRET,S,2026-01-01,5,\n`,
        }),
      );
      expect(after[0]!.reason).to.equal("line 2: a quoted cell goes on after its closing quote");
      const wide = errs(
        parseBatch(deliverySchema, { format: "csv", csv: `${header}${",x".repeat(100)}\n` }),
      );
      expect(wide).to.deep.equal([
        { position: "csv", reason: "line 1: has 105 columns, at most 64 are read" },
      ]);
      // a quoted cell may hold commas, doubled quotes and line breaks
      const ok1 = parseBatch(deliverySchema, {
        format: "csv",
        csv: `${header}\r\n"P,""1""\nX",S,2026-01-01,5,\r\n`,
      });
      expect(ok1.ok).to.equal(true);
    });

    it("reports bad CSV headers, ragged lines and unterminated quotes", function () {
      expect(
        errs(parseBatch(deliverySchema, { format: "csv", csv: "partNumber,plant\nP,S\n" }))[0]!
          .reason,
      ).to.match(/missing departureDate, quantity, leadTimeDays/);
      expect(
        errs(
          parseBatch(deliverySchema, {
            format: "csv",
            csv: "partNumber,plant,departureDate,quantity,leadTimeDays\nP,S,2026-01-01,5\n",
          }),
        ),
      ).to.deep.equal([{ position: "line 2", reason: "has 4 cells, the header has 5" }]);
      expect(
        errs(parseBatch(deliverySchema, { format: "csv", csv: 'partNumber,plant\n"P,S\n' }))[0]!
          .reason,
      ).to.match(/unterminated/);
    });

    it("reports Catena-X payload errors as JSON pointers", function () {
      const payload = fixture("io.catenax.manufactured_parts_quality_information_3.0.0") as any;
      const good = payload.manufacturedParts[0];
      payload.manufacturedParts = [
        good,
        { ...good, qualityTaskId: "nope" },
        { ...good, productionDate: undefined },
      ];
      const errors = errs(parseBatch(qualitySchema, { format: "catenax", payload }));
      expect(errors).to.deep.equal([
        { position: "/manufacturedParts/1/qualityTaskId", reason: "is not a UUID" },
      ]);
      payload.manufacturedParts[1] = good;
      expect(errs(parseBatch(qualitySchema, { format: "catenax", payload }))).to.deep.equal([
        { position: "/manufacturedParts/2/productionDate", reason: "is required (index key)" },
      ]);
    });

    it("requires what the Catena-X JSON schemas require at the top level", function () {
      const cases = [
        [qualitySchema, "io.catenax.manufactured_parts_quality_information_3.0.0"],
        [deliverySchema, "io.catenax.delivery_information_2.0.0"],
        [pcfSchema, "io.catenax.pcf_10.0.0"],
      ] as const;
      for (const [schema, name] of cases) {
        for (const prop of jsonSchema(name).required) {
          const payload = fixture(name) as Record<string, unknown>;
          delete payload[prop];
          const errors = errs(parseBatch(schema, { format: "catenax", payload }));
          expect(
            errors.map((e) => e.position),
            `${name} without ${prop}`,
          ).to.include(`/${prop}`);
        }
      }
    });
  });

  describe("batchHash", function () {
    it("is keccak256 of the schema id's hash, each record's key (16 bytes), values (8 bytes each), 0x01 + identity, 0x02 when kept, then 0x03 + each removed identity", function () {
      // the definition, written with ethers' hex helpers (how it was computed before)
      const reference = (schemaId: string, recs: MappedRecord[], removed: string[]) => {
        const parts = [keccak256(new TextEncoder().encode(schemaId))];
        for (const r of recs) {
          parts.push(toBeHex(r.key, 16), ...r.values.map((v) => toBeHex(v, 8)));
          if (r.id !== undefined) parts.push("0x01", r.id);
          if (r.keep) parts.push("0x02");
        }
        for (const id of removed) parts.push("0x03", id);
        return keccak256(concat(parts));
      };
      const rnd = (bits: number) => BigInt(hexlify(randomBytes(bits / 8)));
      for (let t = 0; t < 20; t++) {
        const recs: MappedRecord[] = Array.from({ length: t * 3 }, (_, i) => ({
          key: i === 0 ? 2n ** 128n - 2n : rnd(128) % (2n ** 128n - 1n),
          values: [rnd(64), 0n, 2n ** 64n - 1n, rnd(32)],
          ...(i % 2 ? { id: hexlify(randomBytes(16)) } : {}),
          ...(i % 3 === 0 ? { keep: true } : {}),
        }));
        const removed = Array.from({ length: t % 4 }, () => hexlify(randomBytes(16)));
        expect(batchHash(qualitySchema.id, recs, removed)).to.equal(
          reference(qualitySchema.id, recs, removed),
        );
      }
      const bad = { key: 5n, values: [2n ** 64n, 0n, 0n, 0n] } as MappedRecord;
      expect(() => batchHash(qualitySchema.id, [bad])).to.throw(RangeError, "64-bit");
    });
  });

  describe("findSchema", function () {
    it("finds schemas by URN and by short name", function () {
      expect(findSchema("urn:samm:io.catenax.pcf:10.0.0")).to.equal(pcfSchema);
      expect(findSchema("quality")).to.equal(qualitySchema);
      expect(findSchema("nope")).to.equal(undefined);
    });
  });
});
