import assert from "node:assert/strict";
import { State } from "./state.ts";
import { parseEventBody, receivedEvent } from "./receiver.ts";
import { LamportClock } from "./clock.ts";

const common = (clock: number, timestamp = 1000 + clock) => ({
  hostname: "w1@h",
  utcoffset: 0,
  pid: 7,
  clock,
  timestamp,
});

Deno.test("State: a late task-received does not undo SUCCESS; a retry starts a new cycle", () => {
  const state = new State();
  state.event({ ...common(3), type: "task-succeeded", uuid: "a", result: "4", runtime: 0.1 });
  state.event({ ...common(1), type: "task-received", uuid: "a", name: "proj.add", args: "(2, 2)" });
  const task = state.tasks.get("a")!;
  assert.equal(task.state, "SUCCESS");
  assert.equal(task.name, "proj.add");
  assert.equal(task.received, 1001);
  state.event({ ...common(5), type: "task-retried", uuid: "b", exception: "KeyError('x')" });
  state.event({ ...common(6), type: "task-received", uuid: "b", retries: 1 });
  assert.equal(state.tasks.get("b")!.state, "RECEIVED");
});

Deno.test("State: bounded; workers alive while heartbeats come, offline clears them", () => {
  const state = new State({ maxTasks: 2 });
  for (const uuid of ["a", "b", "c"]) state.event({ ...common(1), type: "task-sent", uuid });
  assert.deepEqual([...state.tasks.keys()], ["b", "c"]);
  const now = 5000;
  state.event({ ...common(2), type: "worker-heartbeat", freq: 2, local_received: now });
  const worker = state.workers.get("w1@h")!;
  assert.equal(state.isAlive(worker, now + 3.9), true);
  assert.equal(state.isAlive(worker, now + 4.1), false);
  state.event({ ...common(3), type: "worker-offline", freq: 2, local_received: now + 1 });
  assert.equal(state.isAlive(worker, now + 1), false);
});

Deno.test("receiving: arrays (task.multi) and objects; malformed bodies name the problem", () => {
  assert.equal(parseEventBody('[{"type": "task-started"}, {"type": "task-succeeded"}]').length, 2);
  assert.equal(parseEventBody('{"type": "worker-heartbeat"}').length, 1);
  assert.throws(() => parseEventBody('{"no": "type"}'), /not an event/);
  assert.throws(() => parseEventBody("[1]"), /not an event/);
  const clock = new LamportClock();
  const event = receivedEvent({ ...common(41), type: "worker-heartbeat" }, clock);
  assert.equal(clock.value, 42);
  assert.equal(typeof event.local_received, "number");
  const sent = receivedEvent({ ...common(900), type: "task-sent", uuid: "x" }, clock);
  assert.equal(sent.clock, 41, "task-sent clocks are not trusted");
});
