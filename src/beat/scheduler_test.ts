import assert from "node:assert/strict";
import { entriesFromConfig } from "./entry.ts";
import { Scheduler } from "./scheduler.ts";

Deno.test("tick: one due entry per tick, then 0; otherwise sleep until due (10 ms early), capped", async () => {
  let t = Date.parse("2026-01-01T00:00:00Z");
  const entries = entriesFromConfig({
    a: { task: "t.a", schedule: 10 },
    b: { task: "t.b", schedule: 10 },
    rare: { task: "t.rare", schedule: 86400 },
  }, new Date(t));
  const sent: string[] = [];
  const scheduler = new Scheduler({
    entries,
    now: () => new Date(t),
    maxInterval: 60,
    send: (entry) => {
      sent.push(entry.name);
      return Promise.resolve("id");
    },
  });
  assert.equal(await scheduler.tick(), 9.99);
  t += 10_000;
  assert.equal(await scheduler.tick(), 0);
  assert.equal(await scheduler.tick(), 0);
  assert.deepEqual(sent.sort(), ["a", "b"]);
  assert.equal(scheduler.unsaved, 2);
  scheduler.markSaved();
  assert.equal(await scheduler.tick(), 9.99);
  assert.equal(entries.get("a")!.totalRunCount, 1);
  assert.equal(entries.get("a")!.lastRunAt.getTime(), t, "last run = the send time");
  // Only the rare entry left: the sleep is capped by maxInterval.
  entries.delete("a");
  entries.delete("b");
  assert.equal(await scheduler.tick(), 60);
});

Deno.test("a run that reserve refuses is not sent and not recorded", async () => {
  const start = new Date("2026-01-01T00:00:00Z");
  const entries = entriesFromConfig({ a: { task: "t.a", schedule: 10 } }, start);
  let t = start.getTime() + 10_000;
  const sent: string[] = [];
  let allow = false;
  const reserved: string[] = [];
  const scheduler = new Scheduler({
    entries,
    now: () => new Date(t),
    maxInterval: 30,
    reserve: (entry) => {
      reserved.push(entry.lastRunAt.toISOString());
      return Promise.resolve(allow);
    },
    send: (entry) => {
      sent.push(entry.name);
      return Promise.resolve("id");
    },
  });
  assert.equal(await scheduler.tick(), 30, "refused: look again after maxInterval");
  assert.deepEqual(sent, []);
  assert.equal(entries.get("a")!.lastRunAt.getTime(), start.getTime(), "record undone");
  assert.equal(entries.get("a")!.totalRunCount, 0);
  assert.equal(scheduler.unsaved, 0);
  allow = true;
  t += 1000;
  assert.equal(await scheduler.tick(), 0);
  assert.deepEqual(sent, ["a"]);
  assert.deepEqual(reserved, ["2026-01-01T00:00:10.000Z", "2026-01-01T00:00:11.000Z"]);
});
