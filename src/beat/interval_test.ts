import assert from "node:assert/strict";
import { interval } from "./interval.ts";
import { ConfigurationError } from "../errors.ts";

Deno.test("due when last run + interval has passed; next check in one interval", () => {
  const every30 = interval(30);
  const last = new Date("2026-01-01T00:00:00Z");
  assert.deepEqual(every30.isDue(last, new Date("2026-01-01T00:00:10Z")), {
    isDue: false,
    nextInSeconds: 20,
  });
  assert.deepEqual(every30.isDue(last, new Date("2026-01-01T00:00:30Z")), {
    isDue: true,
    nextInSeconds: 30,
  });
  // Missed many intervals: due once.
  assert.deepEqual(every30.isDue(last, new Date("2026-01-01T05:00:00Z")), {
    isDue: true,
    nextInSeconds: 30,
  });
});

Deno.test("an interval ignores DST: clocks going back do not pause it (Celery 5.2.6 pauses 1 h)", () => {
  const every30 = interval(30);
  // Europe/Berlin falls back at 2026-10-25T01:00Z; the zone does not matter to intervals.
  const state = every30.isDue(
    new Date("2026-10-25T00:59:50Z"),
    new Date("2026-10-25T01:00:10Z"),
    "Europe/Berlin",
  );
  assert.deepEqual(state, { isDue: false, nextInSeconds: 10 });
});

Deno.test("parts, repr, invalid values", () => {
  assert.equal(interval({ days: 1, hours: 2, minutes: 3, seconds: 4.5 }).seconds, 93784.5);
  assert.equal(String(interval(30)), "<freq: 30.00 seconds>");
  assert.equal(String(interval(60)), "<freq: 1.00 minute>");
  assert.equal(String(interval(300)), "<freq: 5.00 minutes>");
  assert.equal(String(interval(86400 * 2)), "<freq: 2.00 days>");
  for (const bad of [0, -1, NaN, Infinity, "30" as unknown as number]) {
    assert.throws(() => interval(bad), ConfigurationError);
  }
});
