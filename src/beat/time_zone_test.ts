import assert from "node:assert/strict";
import { appTimeZone, checkTimeZone, firstInstantOf, wallTimeOf } from "./time_zone.ts";
import { ConfigurationError } from "../errors.ts";

Deno.test("app zone: timezone, else UTC with enable_utc, else the system zone", () => {
  assert.equal(appTimeZone({ timezone: null, enable_utc: true }), "UTC");
  assert.equal(appTimeZone({ timezone: "Asia/Tokyo", enable_utc: true }), "Asia/Tokyo");
  assert.equal(appTimeZone({ timezone: "Asia/Tokyo", enable_utc: false }), "Asia/Tokyo");
  assert.equal(appTimeZone({ timezone: null, enable_utc: false }), Temporal.Now.timeZoneId());
});

Deno.test("an unknown zone is a ConfigurationError naming the setting and the value", () => {
  assert.throws(
    () => checkTimeZone("Mars/Olympus"),
    (error: unknown) =>
      error instanceof ConfigurationError &&
      error.message.includes(`"timezone": "Mars/Olympus"`),
  );
});

Deno.test("wall time and back, including DST gaps and overlaps", () => {
  const berlin = "Europe/Berlin";
  assert.deepEqual(wallTimeOf(Date.UTC(2026, 0, 1, 7, 59, 59), "Asia/Tokyo"), {
    year: 2026,
    month: 1,
    day: 1,
    hour: 16,
    minute: 59,
  });
  const wall = (hour: number, minute: number, month = 3, day = 29) => ({
    year: 2026,
    month,
    day,
    hour,
    minute,
  });
  // Spring forward 02:00 → 03:00: 02:30 does not exist; it maps to the jump.
  assert.equal(firstInstantOf(wall(2, 30), berlin), Date.UTC(2026, 2, 29, 1, 0));
  assert.equal(firstInstantOf(wall(3, 0), berlin), Date.UTC(2026, 2, 29, 1, 0));
  assert.equal(firstInstantOf(wall(1, 59), berlin), Date.UTC(2026, 2, 29, 0, 59));
  // Fall back 03:00 → 02:00: 02:30 happens twice; the first one counts.
  assert.equal(firstInstantOf(wall(2, 30, 10, 25), berlin), Date.UTC(2026, 9, 25, 0, 30));
  assert.equal(firstInstantOf(wall(3, 0, 10, 25), berlin), Date.UTC(2026, 9, 25, 2, 0));
});
