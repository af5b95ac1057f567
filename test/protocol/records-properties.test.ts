/**
 * Property tests (fast-check) of every parser in protocol/records: CSV, decimals, unsigned
 * integers, dates and date-times, identifiers, index keys, and whole batches in JSON rows, CSV
 * and Catena-X form. Each property either round-trips generated values, compares with a small
 * reference written here from the documented rules, or feeds arbitrary input and asserts that
 * nothing but the documented error type comes out. "Bounded time" is checked by construction:
 * text beyond a parser's length limit is refused by the length check itself, before any parsing.
 *
 * Runs per property: PROPERTY_RUNS (default 200); a failure prints fast-check's seed and the
 * shrunk counterexample, which `fc.assert(…, { seed, path })` replays.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  CsvSyntaxError,
  MAX_CSV_COLUMNS,
  MAX_CSV_RECORD_CHARS,
  parseCsv,
} from "../../protocol/records/csv.js";
import {
  dayNumber,
  dayOfTimestamp,
  deliverySchema,
  idCode,
  indexKey,
  isoDateOfDay,
  KEY_MAX_SENTINEL,
  KEY_MIN_SENTINEL,
  keyRange,
  MAX_DATE_CHARS,
  MAX_NUMBER_CHARS,
  MAX_U64,
  normaliseId,
  packKey,
  parseBatch,
  pcfSchema,
  qualitySchema,
  toFixedPoint,
  toU64,
  unpackKey,
  type ParseResult,
} from "../../protocol/records/index.js";
import { setEnv } from "../support.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const check = <T>(p: fc.IProperty<T>, opts: { numRuns?: number } = {}) =>
  fc.assert(p, { numRuns: Math.min(opts.numRuns ?? RUNS, RUNS) });

/** Calls `f`; returns its value, or the error it threw (asserting it is a `type`). */
function outcome<T>(
  f: () => T,
  type: new (...a: never[]) => Error,
): { ok: true; v: T } | { ok: false; e: Error } {
  try {
    return { ok: true, v: f() };
  } catch (e) {
    expect(e, `threw ${String(e)}`).to.be.instanceOf(type);
    return { ok: false, e: e as Error };
  }
}

const MS_PER_DAY = 86_400_000;
/** Day number of 9999-12-31, the last day with a four-digit year. */
const LAST_DAY = 2_932_896;
const day = fc.integer({ min: 0, max: LAST_DAY });
const u64 = fc.bigInt({ min: 0n, max: MAX_U64 });
/** Text that looks like numbers, dates and CSV more often than uniform strings do. */
const nearText = (alphabet: string, maxLength = 40) =>
  fc.string({ unit: fc.constantFrom(...alphabet.split("")), maxLength });
const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  nearText('0123456789.-+eE :TZ,"\r\n\t'),
);

/** Reference: days in month `m` (1–12) of year `y`, Gregorian. */
const daysIn = (y: number, m: number) =>
  m === 2
    ? y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(m)
      ? 30
      : 31;
const pad = (n: number, w: number) => String(n).padStart(w, "0");

describe("protocol/records under fuzzing (fast-check)", function () {
  describe("parseCsv", function () {
    /** RFC 4180 writer: every cell quoted, quotes doubled; CRLF or LF line ends. */
    const toCsv = (rows: string[][], eol: string) =>
      rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(",")).join(eol) + eol;
    const cell = fc.oneof(fc.string({ maxLength: 12 }), nearText("ab ,\"\r\n;'", 8));
    // cells with line feeds but no carriage return: the lines they span are unambiguous
    const lfCell = cell.map((c) => c.replace(/\r/g, ""));
    // a row of one empty cell is an empty line to csv-parse (skip_empty_lines): not generated
    const rowOf = (c: fc.Arbitrary<string>) =>
      fc.array(c, { minLength: 1, maxLength: 8 }).filter((r) => r.length > 1 || r[0] !== "");

    it("reads back every table written with RFC 4180 quoting, with each row's line number", function () {
      check(
        fc.property(
          fc.array(rowOf(cell), { minLength: 1, maxLength: 8 }),
          fc.constantFrom("\n", "\r\n"),
          fc.boolean(),
          (rows, eol, bom) => {
            const lines = parseCsv((bom ? "\ufeff" : "") + toCsv(rows, eol));
            expect(lines.map((l) => l.cells)).to.deep.equal(rows);
          },
        ),
      );
      check(
        fc.property(
          fc.array(rowOf(lfCell), { minLength: 1, maxLength: 8 }),
          fc.constantFrom("\n", "\r\n"),
          (rows, eol) => {
            const lines = parseCsv(toCsv(rows, eol));
            expect(lines.map((l) => l.cells)).to.deep.equal(rows);
            // the line a row ends on: every line it and the rows before it span
            let line = 0;
            rows.forEach((r, i) => {
              line += r.join(",").split("\n").length;
              expect(lines[i]!.line).to.equal(line);
            });
          },
        ),
      );
    });

    it("throws nothing but CsvSyntaxError for any text, and never quotes a cell in its message", function () {
      check(
        fc.property(
          fc.array(fc.oneof(anyText, fc.constant("SECRETCELL")), { maxLength: 12 }),
          (parts) => {
            const r = outcome(() => parseCsv(parts.join("")), CsvSyntaxError);
            if (!r.ok) {
              expect(r.e.message).to.not.include("SECRETCELL");
              expect(r.e.message).to.match(/^(line \d+: )?[a-z]/);
            }
          },
        ),
      );
    });

    it(`refuses a row of more than ${MAX_CSV_COLUMNS} cells and one longer than ${MAX_CSV_RECORD_CHARS} characters`, function () {
      check(
        fc.property(
          fc.integer({ min: MAX_CSV_COLUMNS + 1, max: 4 * MAX_CSV_COLUMNS }),
          fc.integer({ min: 1, max: 5 }),
          (n, at) => {
            const rows = Array.from({ length: 5 }, (_, i) =>
              i + 1 === at ? "x,".repeat(n - 1) + "x" : "a,b",
            );
            expect(() => parseCsv(rows.join("\n"))).to.throw(
              CsvSyntaxError,
              `line ${at}: has ${n} columns`,
            );
          },
        ),
      );
      // regression: csv-parse bounds the first row only; a long later row was read in full
      check(
        fc.property(
          fc.integer({ min: 1, max: 4 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 3 }),
          (at, quoted, cells) => {
            const cellChars = Math.ceil((MAX_CSV_RECORD_CHARS + 1) / cells);
            const long = Array.from({ length: cells }, () => "y".repeat(cellChars));
            const rows = Array.from({ length: 4 }, (_, i) =>
              i + 1 === at ? long.map((c) => (quoted ? `"${c}"` : c)).join(",") : "a,b",
            );
            expect(() => parseCsv(rows.join("\n") + "\n")).to.throw(
              CsvSyntaxError,
              `line ${at}: a row is longer than ${MAX_CSV_RECORD_CHARS} characters`,
            );
          },
        ),
        { numRuns: 20 },
      );
    });
  });

  describe("toFixedPoint (decimals)", function () {
    const scale = fc.integer({ min: 0, max: 9 });
    /** n / 10^scale written out as a plain decimal. */
    const plain = (n: bigint, s: number) => {
      if (s === 0) return n.toString();
      const t = n.toString().padStart(s + 1, "0");
      return `${t.slice(0, -s)}.${t.slice(-s)}`;
    };

    it("reads back every uint64 fixed-point value written as a decimal, with zeros added or in exponent form", function () {
      check(
        fc.property(
          u64,
          scale,
          fc.nat(3),
          fc.nat(3),
          fc.integer({ min: -5, max: 5 }),
          (n, s, lead, trail, shift) => {
            const p = plain(n, s);
            expect(toFixedPoint(p, s)).to.equal(n);
            const padded = "0".repeat(lead) + p + (s > 0 ? "0".repeat(trail) : "");
            expect(toFixedPoint(padded, s)).to.equal(n);
            // the same value in exponent notation: n · 10^k · 10^−(s + k)
            const k = Math.max(shift, 0);
            expect(toFixedPoint(`${n * 10n ** BigInt(k)}E-${s + k}`, s)).to.equal(n);
            expect(toFixedPoint(`${p}e+0`, s)).to.equal(n);
          },
        ),
      );
    });

    it("agrees with a reference over mantissa and exponent: the exact value if it is a uint64 at the scale, else a RangeError", function () {
      const digits = nearText("0123456789", 25);
      check(
        fc.property(
          fc.boolean(),
          digits.filter((d) => d.length > 0),
          fc.option(digits),
          fc.option(fc.integer({ min: -40, max: 40 })),
          scale,
          (neg, int, frac, exp, s) => {
            const text = `${neg ? "-" : ""}${int}${frac !== null ? "." + frac : ""}${exp !== null ? "e" + exp : ""}`;
            // reference: value = (int frac) · 10^(exp − |frac|); scaled: · 10^s
            const mant = BigInt(int + (frac ?? ""));
            const e = (exp ?? 0) - (frac?.length ?? 0) + s;
            const exact =
              e >= 0
                ? mant * 10n ** BigInt(e)
                : mant % 10n ** BigInt(-e) === 0n
                  ? mant / 10n ** BigInt(-e)
                  : undefined;
            const refused =
              text.length > MAX_NUMBER_CHARS || // bounded before parsing
              frac === "" || // "1." is no decimal
              exact === undefined || // more decimals than the scale
              (neg && mant !== 0n) ||
              exact > MAX_U64;
            const want = refused ? undefined : exact;
            const got = outcome(() => toFixedPoint(text, s), RangeError);
            if (want === undefined) expect(got.ok, `${text} at scale ${s}`).to.equal(false);
            else expect(got, `${text} at scale ${s}`).to.deep.equal({ ok: true, v: want });
          },
        ),
      );
    });

    it("throws nothing but RangeError for any text or JSON number, and refuses overlong text by its length", function () {
      check(
        fc.property(fc.oneof(anyText, fc.double(), fc.integer()), scale, (v, s) => {
          outcome(() => toFixedPoint(v, s), RangeError);
        }),
      );
      check(
        fc.property(
          fc.string({ minLength: MAX_NUMBER_CHARS + 1, maxLength: 10_000 }),
          scale,
          (t, s) => {
            expect(() => toFixedPoint(t, s)).to.throw(
              RangeError,
              `is longer than ${MAX_NUMBER_CHARS} characters`,
            );
          },
        ),
      );
    });

    it("gives a JSON number the value of its decimal text", function () {
      check(
        fc.property(fc.double({ min: 0, max: 1e20, noNaN: true }), scale, (x, s) => {
          const a = outcome(() => toFixedPoint(x, s), RangeError);
          const b = outcome(() => toFixedPoint(String(x), s), RangeError);
          expect(a.ok ? a.v : "refused").to.equal(b.ok ? b.v : "refused");
        }),
      );
    });
  });

  describe("toU64 (unsigned integers)", function () {
    it("reads back every uint64 from its decimal text (with leading zeros and spaces) and refuses the next value", function () {
      check(
        fc.property(u64, fc.nat(5), fc.nat(2), (n, zeros, spaces) => {
          expect(
            toU64(" ".repeat(spaces) + "0".repeat(zeros) + n.toString() + " ".repeat(spaces)),
          ).to.equal(n);
          expect(toU64(n)).to.equal(n);
          if (n <= BigInt(Number.MAX_SAFE_INTEGER)) expect(toU64(Number(n))).to.equal(n);
        }),
      );
      expect(() => toU64((MAX_U64 + 1n).toString())).to.throw(RangeError, "too large");
      expect(() => toU64(MAX_U64 + 1n)).to.throw(RangeError);
    });

    it("throws nothing but RangeError for any text or number, and accepts only digit strings", function () {
      check(
        fc.property(fc.oneof(anyText, fc.double(), fc.integer(), fc.bigInt()), (v) => {
          const r = outcome(() => toU64(v), RangeError);
          if (r.ok && typeof v === "string") expect(v.trim()).to.match(/^\d+$/);
          if (r.ok) expect(r.v >= 0n && r.v <= MAX_U64).to.equal(true);
        }),
      );
    });
  });

  describe("dates and date-times", function () {
    it("reads back every day number from its ISO date, and accepts only canonical calendar dates", function () {
      check(
        fc.property(day, (d) => {
          expect(dayNumber(isoDateOfDay(d))).to.equal(d);
        }),
      );
      // near-dates: month 0–19, day 0–39, years around 1970 and 9999
      const near = fc
        .tuple(
          fc.oneof(fc.integer({ min: 1960, max: 2100 }), fc.integer({ min: 0, max: 9999 })),
          fc.integer({ min: 0, max: 19 }),
          fc.integer({ min: 0, max: 39 }),
        )
        .map(([y, m, dd]) => ({ y, m, dd, s: `${pad(y, 4)}-${pad(m, 2)}-${pad(dd, 2)}` }));
      check(
        fc.property(near, ({ y, m, dd, s }) => {
          const valid = y >= 1970 && m >= 1 && m <= 12 && dd >= 1 && dd <= daysIn(y, m);
          const r = outcome(() => dayNumber(s), RangeError);
          expect(r.ok, s).to.equal(valid);
          if (r.ok) expect(isoDateOfDay(r.v)).to.equal(s);
        }),
      );
    });

    it("throws nothing but RangeError for any text, and what it accepts is canonical", function () {
      check(
        fc.property(anyText, (t) => {
          const r = outcome(() => dayNumber(t), RangeError);
          if (r.ok) expect(isoDateOfDay(r.v)).to.equal(t);
          outcome(() => dayOfTimestamp(t), RangeError);
        }),
      );
      check(
        fc.property(fc.string({ minLength: MAX_DATE_CHARS + 1, maxLength: 10_000 }), (t) => {
          expect(() => dayNumber(t)).to.throw(RangeError, "is not a date YYYY-MM-DD");
          expect(() => dayOfTimestamp(t)).to.throw(RangeError, "is not an ISO 8601 date-time");
        }),
      );
    });

    it("maps every date-time with any offset within ±14:00 to the UTC day of its instant", function () {
      check(
        fc.property(
          fc.integer({ min: 0, max: (LAST_DAY + 1) * MS_PER_DAY - 1 }),
          fc.integer({ min: -14 * 60, max: 14 * 60 }),
          fc.constantFrom("", ".5", ".123456789"),
          (ms, offset, frac) => {
            // the wall-clock time at that offset, written with the offset
            const wall = new Date(ms + offset * 60_000);
            if (wall.getUTCFullYear() > 9999 || ms + offset * 60_000 < Date.UTC(0, 0, 1)) return;
            const iso = wall.toISOString().slice(0, 19);
            const off = `${offset < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offset) / 60), 2)}:${pad(Math.abs(offset) % 60, 2)}`;
            const text = iso + frac + (offset === 0 ? "Z" : off);
            const want = Math.floor(ms / MS_PER_DAY);
            const got = outcome(() => dayOfTimestamp(text), RangeError);
            if (Math.floor(new Date(iso + "Z").getTime() / MS_PER_DAY) < 0) {
              // the wall date is before 1970: refused only when the instant is, too
              if (!got.ok) expect(got.e.message).to.equal("is before 1970-01-01");
              else expect(got.v).to.equal(want);
            } else {
              expect(got, text).to.deep.equal({ ok: true, v: want });
            }
          },
        ),
      );
    });

    it("refuses a date-time without a UTC offset, whatever the machine's time zone (regression)", function () {
      // Before the fix, Date.parse read it in local time: on a gateway in Los Angeles
      // 2026-07-01T23:30:00 became 2026-07-02 06:30 UTC, day 20636, another index key. An
      // offset-less date-time is refused (issue 14); a date alone is still a UTC day.
      for (const tz of ["America/Los_Angeles", "Pacific/Kiritimati", "UTC"]) {
        const restore = setEnv({ TZ: tz });
        try {
          expect(() => dayOfTimestamp("2026-07-01T23:30:00"), tz).to.throw(
            RangeError,
            /no UTC offset/,
          );
          expect(() => dayOfTimestamp("2026-07-01T00:30:00.25"), tz).to.throw(
            RangeError,
            /no UTC offset/,
          );
          expect(dayOfTimestamp("2026-07-01"), tz).to.equal(dayNumber("2026-07-01"));
        } finally {
          restore();
        }
      }
    });

    it("refuses non-ISO text and dates that are not calendar dates in a date-time (regression)", function () {
      // Before the fix, Date.parse accepted all of these (30 February as 2 March, "1" as 2001).
      for (const t of [
        "2026-02-30T00:00:00Z",
        "2026-04-31T12:00:00+02:00",
        "1",
        "March 7, 2026",
        "2026-07-01 10:00",
        "2026-07-01T25:00:00Z",
        "2026-07-01T24:00:01Z",
        "2026-07-01T10:00:00+15:00",
      ]) {
        expect(() => dayOfTimestamp(t), t).to.throw(RangeError);
      }
      expect(dayOfTimestamp("2026-07-01T24:00:00Z")).to.equal(dayNumber("2026-07-02"));
      expect(dayOfTimestamp("2022-12-31")).to.equal(dayNumber("2022-12-31"));
    });
  });

  describe("identifiers and index keys", function () {
    const id = fc
      .oneof(fc.string({ minLength: 1, maxLength: 30 }), nearText("ABCabc-_ 0123456789", 20))
      .filter((s) => normaliseId(s) !== "");

    it("codes every identifier into [1, 2^48 − 2], the same for its case and spacing variants", function () {
      check(
        fc.property(
          nearText("ABCXYZabcxyz-_0123456789", 20).filter((s) => s.length > 0),
          fc.nat(3),
          (s, sp) => {
            const c = idCode(s);
            expect(c >= 1n && c <= 2n ** 48n - 2n).to.equal(true);
            expect(idCode(" ".repeat(sp) + s.toLowerCase() + "\t".repeat(sp))).to.equal(c);
            expect(idCode(s.toUpperCase())).to.equal(c);
          },
        ),
      );
      check(
        fc.property(id, (s) => {
          const c = idCode(s);
          expect(c >= 1n && c <= 2n ** 48n - 2n).to.equal(true);
        }),
      );
    });

    it("throws nothing but RangeError for any identifier text, exactly for the blank ones", function () {
      check(
        fc.property(fc.oneof(anyText, nearText(" \t\n\u00a0\u3000", 6)), (s) => {
          const r = outcome(() => idCode(s), RangeError);
          expect(r.ok).to.equal(normaliseId(s) !== "");
        }),
      );
    });

    it("packs and unpacks part, plant and day, and refuses components out of range", function () {
      const code = fc.bigInt({ min: 0n, max: 2n ** 48n - 1n });
      const d32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
      check(
        fc.property(code, code, d32, (part, plant, d) => {
          expect(unpackKey(packKey(part, plant, d))).to.deep.equal({ part, plant, day: Number(d) });
        }),
      );
      check(
        fc.property(
          fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }),
          fc.constantFrom(0, 1, 2),
          (v, which) => {
            const args: [bigint, bigint, bigint] = [1n, 1n, 1n];
            args[which] = v;
            const inRange = v >= 0n && v <= (which === 2 ? 2n ** 32n - 1n : 2n ** 48n - 1n);
            const r = outcome(() => packKey(...args), RangeError);
            expect(r.ok).to.equal(inRange);
          },
        ),
      );
    });

    it("a key range holds exactly the records of its part, plant and date window, and never a sentinel", function () {
      check(
        fc.property(id, id, day, day, day, (part, plant, a, b, d) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const { keyLo, keyHi } = keyRange({
            partNumber: part,
            plant,
            from: isoDateOfDay(from),
            to: isoDateOfDay(to),
          });
          const k = indexKey(part, plant, d);
          expect(k >= keyLo && k <= keyHi).to.equal(d >= from && d <= to);
          expect(k).to.not.equal(KEY_MIN_SENTINEL);
          expect(k).to.not.equal(KEY_MAX_SENTINEL);
          const all = keyRange({ partNumber: part });
          expect(k >= all.keyLo && k <= all.keyHi).to.equal(true);
          if (from < to) {
            expect(() =>
              keyRange({ partNumber: part, plant, from: isoDateOfDay(to), to: isoDateOfDay(from) }),
            ).to.throw(RangeError, "from is after to");
          }
        }),
      );
    });
  });

  describe("parseBatch (JSON rows, CSV, Catena-X)", function () {
    const qualityRow = fc.record({
      partNumber: nearText("ABCDEFGHIJ-0123456789", 12).filter((s) => s.trim() !== ""),
      plant: nearText("0123456789BPNS", 8).filter((s) => s.trim() !== ""),
      productionDate: day.map(isoDateOfDay),
      hasBeenReworked: fc.boolean(),
      numberOfConductedEndOfLineTests: fc.integer({ min: 1, max: 1000 }),
    });
    type Row = typeof qualityRow extends fc.Arbitrary<infer R> ? R : never;
    const csvOf = (rows: Row[]) =>
      "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests\n" +
      rows
        .map((r) =>
          [
            r.partNumber,
            r.plant,
            r.productionDate,
            String(r.hasBeenReworked),
            String(r.numberOfConductedEndOfLineTests),
          ]
            .map((c) => `"${c.replace(/"/g, '""')}"`)
            .join(","),
        )
        .join("\n"); // one line end throughout (csv-parse takes the first one it meets)
    const catenaxOf = (rows: Row[]) => ({
      manufacturedParts: rows.map((r, i) => ({
        qualityTaskId: `00000000-0000-4000-8000-${pad(i, 12)}`,
        plant: { plantIdentifier: r.plant },
        partNumber: r.partNumber,
        productionDate: r.productionDate,
        hasBeenReworked: r.hasBeenReworked,
        numberOfConductedEndOfLineTests: r.numberOfConductedEndOfLineTests,
      })),
    });
    const records = (r: ParseResult) => {
      expect(r.ok, JSON.stringify(r.ok ? [] : r.errors.slice(0, 3))).to.equal(true);
      return r.ok ? r.records : [];
    };

    it("maps the same quality rows to the same records from JSON rows, CSV and a Catena-X payload, in any order", function () {
      check(
        fc.property(
          fc
            .array(qualityRow, { minLength: 1, maxLength: 12 })
            .chain((rows) =>
              fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length })),
            ),
          ([rows, shuffled]) => {
            const json = records(parseBatch(qualitySchema, { format: "json", rows }));
            expect(
              records(parseBatch(qualitySchema, { format: "json", rows: shuffled })),
            ).to.deep.equal(json);
            expect(
              records(parseBatch(qualitySchema, { format: "csv", csv: csvOf(rows) })),
            ).to.deep.equal(json);
            expect(
              records(parseBatch(qualitySchema, { format: "catenax", payload: catenaxOf(rows) })),
            ).to.deep.equal(json);
            for (const [i, rec] of json.entries()) {
              if (i > 0) expect(json[i - 1]!.key <= rec.key).to.equal(true);
              expect(rec.values[0]).to.equal(1n);
            }
          },
        ),
      );
    });

    it("refuses a batch with one bad cell and names that row and column", function () {
      const bad = fc.oneof(
        fc.record({
          col: fc.constant("numberOfConductedEndOfLineTests"),
          v: fc.oneof(
            fc.integer({ max: -1 }),
            fc.constant(1.5),
            fc.constant("7"),
            fc.constant(2 ** 64),
          ),
        }),
        fc.record({
          col: fc.constant("productionDate"),
          v: fc.oneof(
            anyText.filter((t) => outcome(() => dayNumber(t), RangeError).ok === false),
            fc.constant(20000),
          ),
        }),
        fc.record({
          col: fc.constant("hasBeenReworked"),
          v: fc.oneof(fc.constant("true"), fc.constant(1), fc.constant(null)),
        }),
        fc.record({
          col: fc.constantFrom("partNumber", "plant"),
          v: fc.oneof(
            fc.constant(""),
            fc.constant("   "),
            fc.constant("x".repeat(257)),
            fc.constant(5),
          ),
        }),
      );
      check(
        fc.property(
          fc.array(qualityRow, { minLength: 1, maxLength: 6 }),
          fc.nat(),
          bad,
          (rows, at, { col, v }) => {
            const i = at % rows.length;
            const edited = rows.map((r, j) => (j === i ? { ...r, [col]: v } : r));
            const r = parseBatch(qualitySchema, { format: "json", rows: edited });
            expect(r.ok).to.equal(false);
            if (!r.ok) {
              expect(r.errors.map((e) => e.position)).to.deep.equal([`rows[${i}].${col}`]);
            }
          },
        ),
      );
    });

    it("never throws, whatever the JSON rows, CSV text or Catena-X payload, for every schema", function () {
      const schemas = fc.constantFrom(qualitySchema, deliverySchema, pcfSchema);
      const header = fc.constantFrom(
        "",
        "partNumber,plant,productionDate,hasBeenReworked,numberOfConductedEndOfLineTests\n",
        "partNumber,plant,departureDate,quantity,leadTimeDays\n",
      );
      const data = fc.oneof(
        fc
          .array(fc.anything(), { minLength: 1, maxLength: 5 })
          .map((rows) => ({ format: "json" as const, rows })),
        fc.tuple(header, anyText).map(([h, t]) => ({ format: "csv" as const, csv: h + t || "x" })),
        fc.anything().map((payload) => ({ format: "catenax" as const, payload })),
        fc
          .record({
            manufacturedParts: fc.array(
              fc.record(
                {
                  qualityTaskId: fc.constantFrom("00000000-0000-4000-8000-000000000000", "x"),
                  plant: fc.record({ plantIdentifier: anyText }),
                  partNumber: fc.option(anyText, { nil: undefined }),
                  productionDate: fc.option(anyText, { nil: undefined }),
                  numberOfConductedEndOfLineTests: fc.option(fc.double(), { nil: undefined }),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 4 },
            ),
          })
          .map((payload) => ({ format: "catenax" as const, payload })),
      );
      check(
        fc.property(schemas, data, (schema, d) => {
          const r = parseBatch(schema, d);
          if (!r.ok) {
            expect(r.errors.length).to.be.within(1, 101);
            for (const e of r.errors) {
              expect(e.position).to.be.a("string").and.not.equal("");
              expect(e.reason).to.be.a("string").and.not.equal("");
            }
          } else {
            for (const rec of r.records) {
              expect(rec.values.every((v) => v >= 0n && v <= MAX_U64)).to.equal(true);
            }
          }
        }),
      );
    });
  });
});
