/**
 * Years of crontab runs in milliseconds, across every DST change of zones
 * with DST (Europe/Berlin, America/New_York, Australia/Lord_Howe with its
 * 30-minute shift): each matching wall-clock minute runs exactly once, in
 * order; a minute the clocks skip runs at the jump; a repeated minute runs
 * at its first occurrence only.
 */

import assert from "node:assert/strict";
import { crontab, type CrontabOptions } from "../src/beat/crontab.ts";
import { interval } from "../src/beat/interval.ts";

const DST_ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"];
const START = Date.UTC(2025, 0, 1);
const YEARS = 2;
const END = Date.UTC(2025 + YEARS, 0, 1);

function zoned(instant: number, zone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(zone);
}

function wallKey(dt: { year: number; month: number; day: number; hour: number; minute: number }) {
  return `${dt.year}-${dt.month}-${dt.day} ${dt.hour}:${dt.minute}`;
}

function runs(options: CrontabOptions, zone: string, start = START, end = END): number[] {
  const schedule = crontab(options);
  const out: number[] = [];
  for (let t = schedule.nextRunAfter(new Date(start), zone); t.getTime() < end;) {
    out.push(t.getTime());
    t = schedule.nextRunAfter(t, zone);
  }
  return out;
}

/** Every matching wall-clock minute in [start, end), found by walking local dates (not crontab's search). */
function expectedSlots(options: CrontabOptions, zone: string, start = START, end = END) {
  const c = crontab(options).values;
  const slots: Temporal.PlainDateTime[] = [];
  let date = zoned(start, zone).toPlainDate();
  const last = zoned(end, zone).toPlainDate();
  while (Temporal.PlainDate.compare(date, last) <= 0) {
    if (
      c.monthOfYear.includes(date.month) && c.dayOfMonth.includes(date.day) &&
      c.dayOfWeek.includes(date.dayOfWeek % 7)
    ) {
      for (const hour of c.hour) {
        for (const minute of c.minute) slots.push(date.toPlainDateTime({ hour, minute }));
      }
    }
    date = date.add({ days: 1 });
  }
  return slots;
}

function checkEverySlotOnce(options: CrontabOptions, zone: string) {
  const fired = runs(options, zone);
  for (let i = 1; i < fired.length; i++) assert.ok(fired[i] > fired[i - 1], "runs go forward");
  const byWall = new Map(fired.map((t) => [wallKey(zoned(t, zone)), t]));
  assert.equal(byWall.size, fired.length, "no wall-clock minute runs twice");
  const used = new Set<number>();
  let gaps = 0;
  let repeats = 0;
  for (const slot of expectedSlots(options, zone)) {
    const first = slot.toZonedDateTime(zone, { disambiguation: "earlier" });
    const instant = first.epochMilliseconds;
    if (instant <= START || instant >= END) continue;
    const label = `${JSON.stringify(options)} in ${zone}: ${slot}`;
    if (first.toPlainDateTime().equals(slot)) {
      const later = slot.toZonedDateTime(zone, { disambiguation: "later" }).epochMilliseconds;
      if (later !== instant) repeats++;
      assert.equal(byWall.get(wallKey(slot)), instant, `${label} runs at its first occurrence`);
      used.add(instant);
    } else {
      gaps++;
      const jump = first.getTimeZoneTransition("next")!.epochMilliseconds;
      assert.ok(fired.includes(jump), `${label} (skipped by the clocks) runs at the jump`);
      used.add(jump);
    }
  }
  assert.equal(used.size, fired.length, "every run stands for a matching minute");
  return { runs: fired.length, gaps, repeats };
}

Deno.test("hourly and half-hourly crontabs cover every wall-clock slot once across 2 years of DST", () => {
  for (const zone of DST_ZONES) {
    const hourly = checkEverySlotOnce({ minute: "0,30" }, zone);
    assert.ok(hourly.runs > YEARS * 365 * 46, `${zone}: ${hourly.runs} runs`);
    assert.ok(hourly.gaps >= YEARS, `${zone}: DST gaps crossed: ${hourly.gaps}`);
    assert.ok(hourly.repeats >= YEARS, `${zone}: repeated slots crossed: ${hourly.repeats}`);
  }
});

Deno.test("schedules that hit the DST hours exactly: 02:30 daily, Sundays, first Mondays", () => {
  const tables: CrontabOptions[] = [
    { minute: 30, hour: 2 },
    { minute: "*/20", hour: "1-3", dayOfWeek: "sun" },
    { minute: 0, hour: 8, dayOfMonth: 1 },
    { minute: 15, hour: "0-4", dayOfWeek: 1, dayOfMonth: "1-7" },
  ];
  for (const zone of DST_ZONES) {
    for (const options of tables) checkEverySlotOnce(options, zone);
  }
});

Deno.test("every minute across single DST days", () => {
  const days: Array<[string, number]> = [
    ["Europe/Berlin", Date.UTC(2026, 2, 28, 12)],
    ["Europe/Berlin", Date.UTC(2026, 9, 24, 12)],
    ["America/New_York", Date.UTC(2026, 2, 7, 20)],
    ["Australia/Lord_Howe", Date.UTC(2026, 3, 4, 6)],
  ];
  for (const [zone, start] of days) {
    const fired = runs({}, zone, start, start + 86_400_000);
    const walls = fired.map((t) => wallKey(zoned(t, zone)));
    assert.equal(new Set(walls).size, walls.length, `${zone}: a minute ran twice`);
    for (let i = 1; i < fired.length; i++) assert.ok(fired[i] > fired[i - 1]);
  }
});

Deno.test("08:00 daily: one run per local day, always at 08:00 local, for 2 years", () => {
  for (const zone of [...DST_ZONES, "Asia/Tokyo", "UTC"]) {
    const fired = runs({ minute: 0, hour: 8 }, zone);
    const days = new Set<string>();
    for (const t of fired) {
      const local = zoned(t, zone);
      assert.equal(`${local.hour}:${local.minute}`, "8:0", `${zone} ${local}`);
      days.add(local.toPlainDate().toString());
    }
    assert.equal(days.size, fired.length);
    assert.ok(Math.abs(fired.length - YEARS * 365) <= 2, `${zone}: ${fired.length}`);
  }
});

Deno.test("beat's loop (injected clock, 300 s max sleep) over a year sends the monthly seed 12 times", () => {
  const monthly = crontab({ minute: 0, hour: 8, dayOfMonth: 1 });
  const zone = "Europe/Berlin";
  let now = Date.UTC(2026, 0, 1);
  let last = now;
  const sent: string[] = [];
  while (now < Date.UTC(2027, 0, 1)) {
    const state = monthly.isDue(new Date(last), new Date(now), zone);
    if (state.isDue) {
      sent.push(zoned(now, zone).toPlainDateTime().toString());
      last = now;
    }
    now += Math.min(state.nextInSeconds, 300) * 1000;
  }
  assert.deepEqual(
    sent,
    Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, "0")}-01T08:00:00`),
  );
});

Deno.test("interval: exact real-time spacing across DST changes", () => {
  const every30 = interval(30);
  let now = Date.UTC(2026, 2, 29, 0, 30);
  let last = now;
  const sent: number[] = [];
  while (now < Date.UTC(2026, 2, 29, 1, 30)) {
    const state = every30.isDue(new Date(last), new Date(now), "Europe/Berlin");
    if (state.isDue) sent.push(last = now);
    now += state.nextInSeconds * 1000;
  }
  assert.equal(sent.length, 119);
  for (let i = 1; i < sent.length; i++) assert.equal(sent[i] - sent[i - 1], 30_000);
});
