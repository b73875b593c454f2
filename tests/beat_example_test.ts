/**
 * examples/periodic/app.ts, the seeds' two schedules, run through beat with a
 * fake clock: the heartbeat every 30 seconds, the report at 08:00 Tokyo time
 * on the first of the month (23:00 UTC the day before), each once.
 */

import assert from "node:assert/strict";
import { app } from "../examples/periodic/app.ts";
import { fakeClock, recorder, type Sent } from "./beat/fake_beat.ts";

Deno.test("examples/periodic: every 30 s, and 08:00 on the 1st in Asia/Tokyo", async () => {
  const clock = fakeClock("2026-02-28T22:59:00Z"); // 07:59 on March 1 in Tokyo
  const sent: Sent[] = [];
  await clock.run(app, "2026-02-28T23:01:10Z", { scheduleFile: null, send: recorder(clock, sent) });
  const at = (name: string) => sent.filter((s) => s.name === name).map((s) => s.at.slice(11, 19));
  assert.deepEqual(at("monthly-report"), ["23:00:00"]);
  assert.deepEqual(at("heartbeat-every-30-seconds"), [
    "22:59:30",
    "23:00:00",
    "23:00:30",
    "23:01:00",
  ]);
  assert.deepEqual(sent.find((s) => s.name === "heartbeat-every-30-seconds")?.args, ["beat"]);
  await app.close();
});
