import assert from "node:assert/strict";
import { entriesFromConfig } from "./entry.ts";
import { parseSchedule, restoreRunState, ScheduleFile, serializeSchedule } from "./store.ts";

const UTC = { timezone: null, enable_utc: true };

Deno.test("round trip through the schedule file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-store-" });
  try {
    const file = new ScheduleFile(`${dir}/s.json`);
    assert.equal((await file.load(UTC)).size, 0, "a missing file is an empty store");
    const entries = entriesFromConfig({ a: { task: "t.a", schedule: 5 } }, new Date(0));
    const a = entries.get("a")!;
    a.lastRunAt = new Date("2026-01-01T00:00:05.123Z");
    a.totalRunCount = 3;
    await file.save(entries.values(), UTC);
    const stored = await file.load(UTC);
    assert.deepEqual(stored.get("a"), { lastRunAt: a.lastRunAt, totalRunCount: 3 });
    const text = await Deno.readTextFile(`${dir}/s.json`);
    assert.match(text, /"last_run_at": "2026-01-01T00:00:05.123000\+00:00"/);
    assert.match(text, /"schedule": "<freq: 5.00 seconds>"/);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["s.json"],
      "no temp files left",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corrupted text, tz or utc changes give an empty state", () => {
  const entries = entriesFromConfig({ a: { task: "t.a", schedule: 5 } }, new Date(1000));
  const text = serializeSchedule(entries.values(), UTC);
  assert.equal(parseSchedule(text, UTC, "x").size, 1);
  assert.equal(parseSchedule("not json", UTC, "x").size, 0);
  assert.equal(parseSchedule("[]", UTC, "x").size, 0);
  assert.equal(parseSchedule(text, { timezone: "Asia/Tokyo", enable_utc: true }, "x").size, 0);
  assert.equal(parseSchedule(text, { timezone: null, enable_utc: false }, "x").size, 0);
});

Deno.test("restoreRunState: stored state applies by name; a later own send is kept", () => {
  const entries = entriesFromConfig({ a: { task: "t", schedule: 5 } }, new Date(5000));
  const a = entries.get("a")!;
  restoreRunState(entries, new Map([["gone", { lastRunAt: new Date(1), totalRunCount: 1 }]]));
  assert.equal(a.lastRunAt.getTime(), 5000);
  const shared = new Map([["a", { lastRunAt: new Date(1000), totalRunCount: 4 }]]);
  restoreRunState(entries, shared, new Map());
  assert.deepEqual([a.lastRunAt.getTime(), a.totalRunCount], [1000, 4], "start time is no run");
  [a.lastRunAt, a.totalRunCount] = [new Date(7000), 5];
  restoreRunState(entries, shared, new Map([["a", new Date(7000)]]));
  assert.deepEqual([a.lastRunAt.getTime(), a.totalRunCount], [7000, 5], "own later send kept");
  restoreRunState(
    entries,
    new Map([["a", { lastRunAt: new Date(9000), totalRunCount: 6 }]]),
    new Map([["a", new Date(7000)]]),
  );
  assert.deepEqual([a.lastRunAt.getTime(), a.totalRunCount], [9000, 6]);
});
