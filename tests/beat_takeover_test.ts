/**
 * Taking over from a leader, with a fake clock and an in-memory lease: the
 * new leader continues from the run state the old one shared through the
 * lease, so a run the old leader sent is not sent again, and a run nobody
 * sent while there was no leader fires once.
 */

import assert from "node:assert/strict";
import type { BeatLease } from "../src/beat/leader_lease.ts";
import type { StoredSchedule } from "../src/beat/store.ts";
import { fakeApp, fakeClock, recorder, SEEDS, type Sent } from "./beat/fake_beat.ts";

/** Leases on one shared record, as beats on one broker would see it. */
function sharedLease() {
  const record = { holder: null as string | null, state: null as string | null };
  return (holder: string): BeatLease => ({
    kind: "test",
    ttl: 30,
    acquire() {
      if (record.holder !== null && record.holder !== holder) return Promise.resolve(false);
      record.holder = holder;
      return Promise.resolve(true);
    },
    loadState: () => Promise.resolve(record.state),
    saveState(state: string) {
      if (record.holder !== holder) return Promise.resolve(false);
      record.state = state;
      return Promise.resolve(true);
    },
    close() {
      if (record.holder === holder) record.holder = null;
      return Promise.resolve();
    },
  });
}

function times(sent: Sent[]) {
  return sent.map((s) => `${s.name}@${s.at.slice(11, 19)}`);
}

Deno.test("a new leader continues the old leader's cadence and sends a missed run once", async () => {
  const lease = sharedLease();
  const clock = fakeClock("2026-03-01T07:59:00Z");
  const app = fakeApp({ beat_schedule: SEEDS });
  const first: Sent[] = [];
  await clock.run(app, "2026-03-01T08:00:45Z", {
    scheduleFile: null,
    lease: lease("a"),
    send: recorder(clock, first),
  });
  assert.deepEqual(times(first), [
    "every-30-seconds@07:59:30",
    "monthly-report@08:00:00",
    "every-30-seconds@08:00:00",
    "every-30-seconds@08:00:30",
  ]);

  // Beat b has no schedule file; from its own start time it would wait until 08:02:40.
  const second: Sent[] = [];
  clock.set("2026-03-01T08:02:10Z");
  await clock.run(app, "2026-03-01T08:02:50Z", {
    scheduleFile: null,
    lease: lease("b"),
    send: recorder(clock, second),
  });
  assert.deepEqual(times(second), [
    "every-30-seconds@08:02:10", // due since 08:01:00: once, not once per missed slot
    "every-30-seconds@08:02:40",
  ]);
});

Deno.test("a beat that does not hold the lease sends nothing", async () => {
  const lease = sharedLease();
  const holder = lease("a");
  assert.equal(await holder.acquire(), true);
  const clock = fakeClock("2026-03-01T07:59:00Z");
  const sent: Sent[] = [];
  await clock.run(fakeApp({ beat_schedule: SEEDS }), "2026-03-01T09:00:00Z", {
    scheduleFile: null,
    lease: lease("b"),
    send: recorder(clock, sent),
  });
  assert.deepEqual(sent, []);
});

Deno.test("the leader shares each run before sending it; a lost lease sends nothing", async () => {
  const lease = sharedLease();
  const observer = lease("observer");
  const clock = fakeClock("2026-03-01T07:59:50Z");
  const app = fakeApp({ beat_schedule: { ping: { task: "t.ping", schedule: 30 } } });
  const sharedAtSend: string[] = [];
  await clock.run(app, "2026-03-01T08:00:50Z", {
    scheduleFile: null,
    lease: lease("a"),
    send: async () => {
      const shared: StoredSchedule = JSON.parse((await observer.loadState())!);
      sharedAtSend.push(shared.entries.ping.last_run_at);
    },
  });
  assert.deepEqual(sharedAtSend, ["2026-03-01T08:00:20.000000+00:00"]);

  // A beat whose lease was taken between its renewal and the send: saveState refuses.
  const lost: BeatLease = { ...lease("b"), acquire: () => Promise.resolve(true) };
  const sent: Sent[] = [];
  await clock.run(app, "2026-03-01T08:02:00Z", {
    scheduleFile: null,
    lease: lost,
    send: recorder(clock, sent),
  });
  assert.equal(sent.length, 0);
});
