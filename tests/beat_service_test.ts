/**
 * The beat service with an injected clock: what it sends, what it persists,
 * and what a restart does (neither re-send nor forget; a run missed while
 * down fires once).
 */

import assert from "node:assert/strict";
import { interval } from "../src/beat/interval.ts";
import type { BeatApp } from "../src/beat/service.ts";
import { fakeApp, fakeClock, recorder, SEEDS, type Sent } from "./beat/fake_beat.ts";
import type { StoredSchedule } from "../src/beat/store.ts";

Deno.test("sends each entry on schedule: 30 s interval and 08:00 on the 1st (Tokyo)", async () => {
  const clock = fakeClock("2026-01-31T22:58:00Z"); // 07:58 Feb 1 in Tokyo
  const sent: Sent[] = [];
  const app = fakeApp({ beat_schedule: SEEDS, timezone: "Asia/Tokyo" });
  await clock.run(app, "2026-01-31T23:01:00Z", { scheduleFile: null, send: recorder(clock, sent) });
  const report = sent.filter((s) => s.name === "monthly-report");
  assert.deepEqual(report.map((s) => s.at), ["2026-01-31T23:00:00.000Z"]);
  const pings = sent.filter((s) => s.name === "every-30-seconds").map((s) => s.at);
  assert.equal(pings.length, 5); // 22:58:30 … 23:00:30; beat stops at 23:01:00
  assert.equal(pings[0], "2026-01-31T22:58:30.000Z"); // one interval after start
  assert.deepEqual(sent[0].args, [1]);
});

Deno.test("a restart neither re-sends nor forgets; a run missed while down fires once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-" });
  try {
    const scheduleFile = `${dir}/celerybeat-schedule.json`;
    const clock = fakeClock("2026-03-01T07:59:00Z");
    const sent: Sent[] = [];
    const app = fakeApp({ beat_schedule: SEEDS });
    const send = recorder(clock, sent);
    await clock.run(app, "2026-03-01T08:00:45Z", { scheduleFile, send });
    assert.deepEqual(sent.map((s) => `${s.name}@${s.at.slice(11, 19)}`), [
      "every-30-seconds@07:59:30",
      "monthly-report@08:00:00", // both due: the one whose last run is older goes first
      "every-30-seconds@08:00:00",
      "every-30-seconds@08:00:30",
    ]);
    const stored: StoredSchedule = JSON.parse(await Deno.readTextFile(scheduleFile));
    assert.equal(stored.entries["monthly-report"].total_run_count, 1);
    assert.equal(stored.entries["monthly-report"].last_run_at, "2026-03-01T08:00:00.000000+00:00");
    assert.equal(stored.tz, null);
    assert.equal(stored.utc_enabled, true);

    // Restart 5 seconds later: nothing is re-sent, the 30 s cadence continues.
    sent.length = 0;
    clock.set("2026-03-01T08:00:50Z");
    await clock.run(app, "2026-03-01T08:01:10Z", { scheduleFile, send });
    assert.deepEqual(sent.map((s) => `${s.name}@${s.at.slice(11, 19)}`), [
      "every-30-seconds@08:01:00",
    ]);

    // Down from 08:01:10 until April 1, 09:00: 30 s entry and the 08:00 report fire once each.
    sent.length = 0;
    clock.set("2026-04-01T09:00:00Z");
    await clock.run(app, "2026-04-01T09:00:20Z", { scheduleFile, send });
    assert.deepEqual(sent.map((s) => `${s.name}@${s.at.slice(11, 19)}`).sort(), [
      "every-30-seconds@09:00:00",
      "monthly-report@09:00:00",
    ]);
    const after: StoredSchedule = JSON.parse(await Deno.readTextFile(scheduleFile));
    assert.equal(after.entries["monthly-report"].total_run_count, 2);
    assert.equal(after.entries["every-30-seconds"].total_run_count, 5); // 3 + 1 + 1
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a restart before the first send keeps each entry's start time (Celery syncs at start)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-" });
  try {
    const scheduleFile = `${dir}/celerybeat-schedule.json`;
    const clock = fakeClock("2026-06-01T12:00:00Z");
    const sent: Sent[] = [];
    const send = recorder(clock, sent);
    const app = fakeApp({ beat_schedule: { ping: { task: "t.ping", schedule: 30 } } });
    await clock.run(app, "2026-06-01T12:00:20Z", { scheduleFile, send });
    assert.equal(sent.length, 0);
    const stored: StoredSchedule = JSON.parse(await Deno.readTextFile(scheduleFile));
    assert.equal(stored.entries.ping.last_run_at, "2026-06-01T12:00:00.000000+00:00");
    assert.equal(stored.entries.ping.total_run_count, 0);

    clock.set("2026-06-01T12:00:25Z");
    await clock.run(app, "2026-06-01T12:01:05Z", { scheduleFile, send });
    assert.deepEqual(sent.map((s) => s.at.slice(11, 19)), ["12:00:30", "12:01:00"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config changes: removed entries are dropped, new ones start from now, a tz change resets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-" });
  try {
    const scheduleFile = `${dir}/schedule.json`;
    const clock = fakeClock("2026-05-01T00:00:00Z");
    const sent: Sent[] = [];
    const send = recorder(clock, sent);
    const first = { a: { task: "t.a", schedule: 60 }, b: { task: "t.b", schedule: 60 } };
    await clock.run(fakeApp({ beat_schedule: first }), "2026-05-01T00:01:30Z", {
      scheduleFile,
      send,
    });
    const second = {
      b: { task: "t.b2", schedule: interval(60) },
      c: { task: "t.c", schedule: 60 },
    };
    clock.set("2026-05-01T00:10:00Z");
    sent.length = 0;
    await clock.run(fakeApp({ beat_schedule: second }), "2026-05-01T00:10:30Z", {
      scheduleFile,
      send,
    });
    // b kept its last run (00:01:00) and is overdue, with the new task name; c is new.
    assert.deepEqual(sent.map((s) => `${s.name}:${s.task}@${s.at.slice(11, 19)}`), [
      "b:t.b2@00:10:00",
    ]);
    const stored: StoredSchedule = JSON.parse(await Deno.readTextFile(scheduleFile));
    assert.deepEqual(Object.keys(stored.entries).sort(), ["b", "c"]);
    assert.equal(stored.entries.b.total_run_count, 2);

    // Same entries under another time zone: state is discarded, nothing is overdue.
    clock.set("2026-05-01T01:00:00Z");
    sent.length = 0;
    const tokyo = fakeApp({ beat_schedule: second, timezone: "Asia/Tokyo" });
    await clock.run(tokyo, "2026-05-01T01:00:30Z", { scheduleFile, send });
    assert.deepEqual(sent, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a send that fails still counts as a run: no retry storm", async () => {
  const clock = fakeClock("2026-01-01T00:00:00Z");
  let attempts = 0;
  const app = fakeApp({ beat_schedule: { x: { task: "t.x", schedule: 10 } } });
  await clock.run(app, "2026-01-01T00:01:00Z", {
    scheduleFile: null,
    send: () => {
      attempts++;
      return Promise.reject(new Error("broker down"));
    },
  });
  assert.equal(attempts, 5); // 00:00:10 … 00:00:50
});

Deno.test("sends through the app: registered task via applyAsync, others by name, snake_case options", async () => {
  const clock = fakeClock("2026-01-01T00:00:00Z");
  const calls: unknown[][] = [];
  const app: BeatApp = {
    ...fakeApp(
      {
        beat_schedule: {
          known: {
            task: "proj.add",
            schedule: 5,
            args: [1, 2],
            options: { queue: "q", expires: 10 },
          },
          remote: {
            task: "other.task",
            schedule: 5,
            kwargs: { k: "v" },
            options: { routing_key: "rk" },
          },
        },
      },
    ),
    sendTask: (name, args, options) => {
      calls.push(["sendTask", name, args, options]);
      return Promise.resolve({ id: "id-1" });
    },
    tasks: {
      get: (name) =>
        name === "proj.add"
          ? {
            applyAsync: (args, options) => {
              calls.push(["applyAsync", args, options]);
              return Promise.resolve({ id: "id-2" });
            },
          }
          : undefined,
    },
  };
  await clock.run(app, "2026-01-01T00:00:07Z", { scheduleFile: null });
  assert.deepEqual(calls.sort((a, b) => String(a[0]).localeCompare(String(b[0]))), [
    ["applyAsync", [1, 2], { kwargs: {}, queue: "q", expires: 10 }],
    ["sendTask", "other.task", [], { kwargs: { k: "v" }, routingKey: "rk" }],
  ]);
});
