import assert from "node:assert/strict";
import { crontab, crontabFromString } from "./crontab.ts";
import { ConfigurationError } from "../errors.ts";

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();

Deno.test("captured: mon-fri every 3 hours, last run Fri 23:30, now Sat 10:00", () => {
  const schedule = crontab({ minute: 0, hour: "*/3", dayOfWeek: "mon-fri" });
  const state = schedule.isDue(at("2026-11-20T23:30:00Z"), at("2026-11-21T10:00:00Z"));
  assert.deepEqual(state, { isDue: false, nextInSeconds: 136800 }); // Monday 00:00
});

Deno.test("day fields are ANDed: dayOfWeek 1 with dayOfMonth 1-7 is the first Monday", () => {
  const firstMonday = crontab({ minute: 0, hour: 0, dayOfWeek: 1, dayOfMonth: "1-7" });
  let t = at("2026-01-01T00:00:00Z");
  const runs: string[] = [];
  for (let i = 0; i < 4; i++) runs.push(iso(t = firstMonday.nextRunAfter(t)));
  assert.deepEqual(runs, [
    "2026-01-05T00:00:00.000Z",
    "2026-02-02T00:00:00.000Z",
    "2026-03-02T00:00:00.000Z",
    "2026-04-06T00:00:00.000Z",
  ]);
});

Deno.test("08:00 on the first of the month fires at 08:00 in the app zone", () => {
  const monthly = crontab({ minute: 0, hour: 8, dayOfMonth: 1 });
  const last = at("2026-05-20T00:00:00Z");
  assert.equal(iso(monthly.nextRunAfter(last, "Asia/Tokyo")), "2026-05-31T23:00:00.000Z");
  assert.equal(iso(monthly.nextRunAfter(last, "Europe/Berlin")), "2026-06-01T06:00:00.000Z");
  assert.equal(iso(monthly.nextRunAfter(last, "America/New_York")), "2026-06-01T12:00:00.000Z");
  assert.equal(iso(monthly.nextRunAfter(last)), "2026-06-01T08:00:00.000Z");
});

Deno.test("is_due: a missed slot is due once, and the next check counts from now", () => {
  const hourly = crontab({ minute: 0 });
  // Beat was down from 09:10 to 12:20: three slots missed, one run now, next at 13:00.
  const state = hourly.isDue(at("2026-01-01T09:10:00Z"), at("2026-01-01T12:20:00Z"));
  assert.deepEqual(state, { isDue: true, nextInSeconds: 40 * 60 });
  // After that run (last run = 12:20), nothing is due until 13:00.
  const after = hourly.isDue(at("2026-01-01T12:20:00Z"), at("2026-01-01T12:20:01Z"));
  assert.deepEqual(after, { isDue: false, nextInSeconds: 39 * 60 + 59 });
});

Deno.test("the slot of the last run's own minute is not run again", () => {
  const everyMinute = crontab();
  const state = everyMinute.isDue(at("2026-01-01T10:05:00.300Z"), at("2026-01-01T10:05:59Z"));
  assert.deepEqual(state, { isDue: false, nextInSeconds: 1 });
});

Deno.test("a clock jumping back does not send twice", () => {
  const everyMinute = crontab();
  const state = everyMinute.isDue(at("2026-01-01T11:00:00Z"), at("2026-01-01T10:00:30Z"));
  assert.equal(state.isDue, false);
  assert.equal(state.nextInSeconds, 3630);
});

Deno.test("Europe/Berlin: 02:30 on the spring-forward day runs when clocks jump; once on fall-back", () => {
  const daily = crontab({ minute: 30, hour: 2 });
  const spring = daily.nextRunAfter(at("2026-03-28T12:00:00Z"), "Europe/Berlin");
  assert.equal(iso(spring), "2026-03-29T01:00:00.000Z"); // 03:00 CEST, the jump
  const autumn = daily.nextRunAfter(at("2026-10-24T12:00:00Z"), "Europe/Berlin");
  assert.equal(iso(autumn), "2026-10-25T00:30:00.000Z"); // 02:30 CEST, the first 02:30
  const next = daily.nextRunAfter(autumn, "Europe/Berlin");
  assert.equal(iso(next), "2026-10-26T01:30:00.000Z"); // not the second 02:30 (CET)
});

Deno.test("a crontab that can never run is a ConfigurationError", () => {
  assert.throws(
    () => crontab({ dayOfMonth: "30-31", monthOfYear: 2 }),
    (error: unknown) =>
      error instanceof ConfigurationError && /dayOfMonth "30-31" never happens/.test(error.message),
  );
  // Feb 29 exists, on a Monday only every few years: valid, and found.
  const leapMonday = crontab({ minute: 0, hour: 0, dayOfMonth: 29, monthOfYear: 2, dayOfWeek: 1 });
  assert.equal(
    iso(leapMonday.nextRunAfter(at("2025-01-01T00:00:00Z"))),
    "2044-02-29T00:00:00.000Z",
  );
});

Deno.test("repr and crontabFromString", () => {
  assert.equal(String(crontab()), "<crontab: * * * * * (m/h/d/dM/MY)>");
  assert.equal(
    String(crontab({ minute: [0, 30], hour: "8-17", dayOfWeek: "mon-fri" })),
    "<crontab: 0,30 8-17 mon-fri * * (m/h/d/dM/MY)>",
  );
  const line = crontabFromString("*/15 9-17 1 jan-jun mon-fri");
  assert.deepEqual(line.values.minute, [0, 15, 30, 45]);
  assert.deepEqual(line.values.dayOfMonth, [1]);
  assert.deepEqual(line.values.monthOfYear, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(line.values.dayOfWeek, [1, 2, 3, 4, 5]);
  assert.throws(() => crontabFromString("0 8 1 *"), /expected 5 fields/);
});

Deno.test("where celeriac deliberately differs from Celery 5.2.6", () => {
  // Celery compares a UTC midnight with New York's local time and skips to Feb 1 (27 days).
  const nightly = crontab({ minute: 0, hour: 21, dayOfMonth: "1-31" });
  const state = nightly.isDue(
    at("2026-01-06T02:00:00.500Z"),
    at("2026-01-06T03:00:00Z"),
    "America/New_York",
  );
  assert.deepEqual(state, { isDue: false, nextInSeconds: 82800 }); // Jan 6, 21:00 EST
  // Celery's "this hour" shortcut ignores 10:15 yesterday and waits for 10:00 today.
  const quarterly = crontab({ minute: "*/15", hour: 10 });
  const missed = quarterly.isDue(at("2026-01-05T10:05:00Z"), at("2026-01-06T09:00:00Z"));
  assert.equal(missed.isDue, true);
});
