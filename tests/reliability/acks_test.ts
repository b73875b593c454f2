/**
 * Acknowledgement rules (spec §3.4, §5.5) with tasks in worker threads (the
 * `workers` pool and the `threads` pool, whose threads consume for
 * themselves), on SQLite and RabbitMQ (whose dead-letter queue shows what was
 * rejected):
 *
 * - a thread that dies mid-task (`Deno.exit(3)`, or an error thrown outside
 *   the task later) is detected and replaced; its task is requeued and runs
 *   again with acks_late + reject_on_worker_lost, and fails with
 *   WorkerLostError otherwise (acks_late alone, or early ack);
 * - with `task_acks_on_failure_or_timeout` off, an acks_late task that fails,
 *   hits its hard time limit or loses its thread (without
 *   reject_on_worker_lost) is rejected without requeue (dead-lettered), and
 *   nothing is redelivered.
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { countRuns, FAULT_APP_LOCATION, openWorld, waitUntil, type WorldKind } from "./worlds.ts";

async function threadDeath(kind: WorldKind, pool: "workers" | "threads"): Promise<void> {
  await using world = await openWorld(kind, { deadLetter: true });
  if (!world) return;
  const app = world.app({ task_acks_on_failure_or_timeout: false });
  const worker = await app.worker({
    pool,
    concurrency: 2,
    appLocation: FAULT_APP_LOCATION,
    banner: false,
  });
  try {
    const requeued = [];
    for (const how of ["exit", "throw-later"]) {
      requeued.push(await app.sendTask("fault.exit_once_requeue", [world.dir, how]));
    }
    const lostLate = await app.sendTask("fault.exit_once_late", [world.dir, "exit"]);
    const lostEarly = await app.sendTask("fault.exit_once", [world.dir, "throw-later"]);
    const failed = await app.sendTask("fault.fails_late", [world.dir]);
    const timedOut = await app.sendTask("fault.busy_late", [world.dir], { timeLimit: 0.5 });
    const after = [];
    for (let i = 0; i < 10; i++) after.push(await app.sendTask("fault.add", [i, i]));

    for (const result of requeued) assert.equal(await result.get({ timeout: 20 }), "survived");
    const exited = await lostLate.get({ timeout: 20, propagate: false }) as RemoteError;
    assert.equal(exited.excType, "WorkerLostError");
    assert.equal(exited.message, "Worker exited prematurely: exitcode 3.");
    const threw = await lostEarly.get({ timeout: 20, propagate: false }) as RemoteError;
    assert.equal(threw.excType, "WorkerLostError");
    assert.match(threw.message, /^Worker exited prematurely: uncaught error: .*thrown later/);
    assert.equal(
      (await failed.get({ timeout: 20, propagate: false }) as RemoteError).excType,
      "FlakyError",
    );
    assert.equal(
      (await timedOut.get({ timeout: 20, propagate: false }) as RemoteError).excType,
      "TimeLimitExceeded",
    );
    assert.deepEqual(
      await Promise.all(after.map((result) => result.get({ timeout: 20 }))),
      [...Array(10).keys()].map((i) => 2 * i),
      "the replaced threads keep running tasks",
    );
    const starts = countRuns(world.runs(), "start");
    for (const result of requeued) {
      if (pool === "workers") assert.equal(starts.get(result.id), 2, "requeued, ran again");
      // With the threads pool a thread is its own consumer: when it dies, an acks_late task it
      // finished just before but had not acknowledged yet (storing its result) runs once more.
      else assert.ok(starts.get(result.id)! >= 2, "requeued, ran again");
    }
    for (const result of [lostLate, lostEarly, timedOut]) assert.equal(starts.get(result.id), 1);
    assert.equal(countRuns(world.runs()).get(failed.id), 1, "a failure is not redelivered");
    // Rejects are written just after the results: wait for the third.
    await waitUntil(async () => await world.deadLetters() >= 3, "three dead letters", 5000)
      .catch(() => {});
    const dead = await world.deadLetters();
    console.log(
      `${kind}: 2 thread deaths requeued and re-run, 2 failed with WorkerLostError, ` +
        `${dead} rejected to the dead letters (failure, time-out, lost acks_late), 10 later ran`,
    );
    assert.equal(dead, 3, "acks_on_failure_or_timeout off: failure, time-out, lost rejected");
  } finally {
    await worker.stop();
  }
}

for (const pool of ["workers", "threads"] as const) {
  for (const kind of ["sqlite", "amqp"] as const) {
    Deno.test(`a dying thread is replaced; acks_late, reject_on_worker_lost, acks_on_failure_or_timeout (${kind}, pool ${pool})`, () =>
      threadDeath(kind, pool));
  }
}
