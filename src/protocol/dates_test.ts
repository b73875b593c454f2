import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { formatCeleryDate, formatNaiveUtc, parseCeleryDate } from "./dates.ts";

const INSTANT = Date.UTC(2026, 10, 22, 3, 22, 39, 13);

Deno.test("parseCeleryDate: Z, +00:00, offsets and naive (UTC) name the same instant", () => {
  const same = [
    "2026-11-22T03:22:39.013Z",
    "2026-11-22T03:22:39.013z",
    "2026-11-22T03:22:39.013000+00:00",
    "2026-11-22T03:22:39.013000-00:00",
    "2026-11-22T03:22:39.013000",
    "2026-11-22 03:22:39.013000",
    "2026-11-22T05:22:39.013+02:00",
    "2026-11-22T08:52:39.013+0530",
    "2026-11-21T22:22:39.013-05:00",
    "2026-11-22T03:22:39,013Z",
    "  2026-11-22T03:22:39.013Z\n",
  ];
  for (const text of same) assert.equal(parseCeleryDate(text).getTime(), INSTANT, text);
});

Deno.test("parseCeleryDate: 1 to 9 fraction digits are fractions of a second", () => {
  const cases: [string, number][] = [
    ["1", 100],
    ["12", 120],
    ["123", 123],
    ["1234", 123],
    ["12345", 123],
    ["123456", 123],
    ["1234567", 123],
    ["12345678", 123],
    ["123456789", 123],
    ["999999999", 999],
  ];
  for (const [digits, ms] of cases) {
    const date = parseCeleryDate(`2030-01-02T03:04:05.${digits}+00:00`);
    assert.equal(date.getTime(), Date.UTC(2030, 0, 2, 3, 4, 5, ms), digits);
  }
});

Deno.test("parseCeleryDate: optional seconds and time, leap day, early years", () => {
  assert.equal(parseCeleryDate("2030-01-02T03:04").getTime(), Date.UTC(2030, 0, 2, 3, 4));
  assert.equal(parseCeleryDate("2030-01-02").getTime(), Date.UTC(2030, 0, 2));
  assert.equal(parseCeleryDate("2028-02-29T00:00:00Z").getTime(), Date.UTC(2028, 1, 29));
  assert.equal(parseCeleryDate("0050-01-01T00:00:00Z").getUTCFullYear(), 50);
});

Deno.test("parseCeleryDate: garbage is a ProtocolError naming the field and value", () => {
  const bad: unknown[] = [
    "not-a-date",
    "",
    "2026-11-22T03:22:39.Z",
    "2026-11-22T3:22:39",
    "2026-13-01T00:00:00",
    "2026-00-10T00:00:00",
    "2026-02-30T00:00:00",
    "2027-02-29T00:00:00",
    "2026-01-00T00:00:00",
    "2026-01-01T24:00:00",
    "2026-01-01T00:60:00",
    "2026-01-01T00:00:60",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00+01:60",
    "2026-01-01T00:00:00+01",
    "0000-01-01T00:00:00",
    "2026-01-01T00:00:00Zjunk",
    12345,
    null,
    { iso: "2026-01-01" },
    10n,
  ];
  for (const value of bad) {
    assert.throws(
      () => parseCeleryDate(value, "ETA"),
      (error: unknown) => {
        assert.ok(error instanceof ProtocolError, String(value));
        assert.match(error.message, /^Invalid ETA value /);
        if (typeof value === "string") assert.ok(error.message.includes(JSON.stringify(value)));
        return true;
      },
    );
  }
});

Deno.test("formatCeleryDate: six fraction digits and +00:00, as Python's isoformat()", () => {
  assert.equal(formatCeleryDate(new Date(INSTANT)), "2026-11-22T03:22:39.013000+00:00");
  assert.equal(
    formatCeleryDate(new Date(Date.UTC(2030, 0, 2))),
    "2030-01-02T00:00:00.000000+00:00",
  );
  const year5 = new Date(0);
  year5.setUTCFullYear(5, 0, 1);
  assert.equal(formatCeleryDate(year5), "0005-01-01T00:00:00.000000+00:00");
  assert.equal(formatNaiveUtc(new Date(INSTANT)), "2026-11-22T03:22:39.013000");
});

Deno.test("formatCeleryDate: round-trips through parseCeleryDate", () => {
  for (const ms of [0, 1, INSTANT, Date.UTC(9999, 11, 31, 23, 59, 59, 999)]) {
    assert.equal(parseCeleryDate(formatCeleryDate(new Date(ms))).getTime(), ms);
  }
});

Deno.test("formatCeleryDate: invalid Dates and years Python cannot hold are ProtocolErrors", () => {
  assert.throws(() => formatCeleryDate(new Date(NaN)), ProtocolError);
  assert.throws(() => formatCeleryDate(new Date(Date.UTC(10000, 0, 1))), ProtocolError);
  assert.throws(() => formatCeleryDate(new Date(Date.UTC(-1, 0, 1))), /years 1-9999/);
});
