/**
 * Warm and cold shutdown of a worker process by real signals, counting every
 * task. Warm (SIGTERM): the running tasks finish and store their results,
 * the prefetched ones go back to the queue and run on the next worker, each
 * exactly once. Cold (a second SIGINT): running tasks are terminated; an
 * acks_late one goes back to the queue and runs again, an early-acked one is
 * gone, as in Celery (spec §5.4).
 */

import assert from "node:assert/strict";
import { countRuns, openWorld, waitUntil, type WorldKind } from "./worlds.ts";
import { WorkerProcess } from "./worker_process.ts";

async function warmShutdown(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind, { visibilityTimeout: 1 });
  if (!world) return;
  const app = world.app();
  // All eight wait in the queue before the worker starts: it takes them at once, so the SIGTERM
  // follows the first two starts closely, however slowly this machine sends.
  const results = [];
  for (let i = 0; i < 8; i++) results.push(await app.sendTask("fault.record", [world.dir, 2000]));
  const first = await WorkerProcess.start(world, { concurrency: 2, prefetchMultiplier: 4 });
  await waitUntil(() => countRuns(world.runs(), "start").size >= 2, "two running tasks");
  await first.waitFor(/(received[\s\S]*){8}/);
  const startedBeforeStop = [...countRuns(world.runs(), "start").keys()].sort();
  const status = await first.kill("SIGTERM");
  assert.equal(status.code, 0, first.output);
  assert.match(first.output, /worker: Warm shutdown \(MainProcess\)/);
  assert.equal(startedBeforeStop.length, 2, "two tasks were running when the SIGTERM came");
  assert.deepEqual(
    [...countRuns(world.runs()).keys()].sort(),
    startedBeforeStop,
    "the two running tasks finished before the exit",
  );
  assert.deepEqual(
    [...countRuns(world.runs(), "start").keys()].sort(),
    startedBeforeStop,
    "no prefetched task started after the SIGTERM",
  );
  const second = await WorkerProcess.start(world, { concurrency: 2 });
  try {
    await Promise.all(results.map((result) => result.get({ timeout: 30 })));
  } finally {
    await second.kill("SIGTERM");
  }
  const runs = countRuns(world.runs());
  const lost = results.filter((result) => !runs.has(result.id)).length;
  const duplicates = [...runs.values()].filter((count) => count > 1).length;
  console.log(`${kind} warm: N=8, 8 results, lost ${lost}, duplicates ${duplicates}`);
  assert.equal(lost, 0);
  assert.equal(duplicates, 0, "early-acked tasks run exactly once across a warm shutdown");
}

async function coldShutdown(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind, { visibilityTimeout: 1 });
  if (!world) return;
  const app = world.app();
  const first = await WorkerProcess.start(world, { concurrency: 2, prefetchMultiplier: 2 });
  const early = await app.sendTask("fault.record", [world.dir, 1500]);
  const late = await app.sendTask("fault.record_late", [world.dir, 1500]);
  const rest = [];
  for (let i = 0; i < 4; i++) rest.push(await app.sendTask("fault.record_late", [world.dir, 50]));
  // Both long tasks running (in the threads pool the second may wait behind the first on one
  // thread until `-O fair` gives it to the other once that one is free).
  await waitUntil(() => {
    const started = countRuns(world.runs(), "start");
    return started.has(early.id) && started.has(late.id);
  }, "the two long tasks running");
  first.signal("SIGINT");
  await first.waitFor(/Hitting Ctrl\+C again/);
  const status = await first.kill("SIGINT");
  assert.equal(status.code, 0, first.output);
  assert.match(first.output, /worker: Cold shutdown \(MainProcess\)/);
  const finished = countRuns(world.runs());
  assert.ok(!finished.has(early.id) && !finished.has(late.id), "the running tasks were terminated");
  const second = await WorkerProcess.start(world, { concurrency: 2 });
  try {
    await Promise.all([late, ...rest].map((result) => result.get({ timeout: 30 })));
  } finally {
    await second.kill("SIGTERM");
  }
  const runs = countRuns(world.runs());
  const starts = countRuns(world.runs(), "start");
  console.log(
    `${kind} cold: N=6, ${runs.size} results, lost ${6 - runs.size} ` +
      `(the early-acked task that was running, as in Celery), ` +
      `acks_late task started ${starts.get(late.id)} times`,
  );
  assert.equal(await early.state(), "PENDING", "the early-acked running task is gone");
  assert.equal(starts.get(early.id), 1);
  assert.equal(starts.get(late.id), 2, "the acks_late running task ran again");
  for (const result of [late, ...rest]) assert.equal(runs.get(result.id), 1);
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`warm shutdown: running tasks finish, prefetched ones run next time (${kind})`, () =>
    warmShutdown(kind));
}

for (const kind of ["sqlite", "amqp"] as const) {
  Deno.test(`cold shutdown: acks_late tasks come back, early-acked running ones are lost (${kind})`, () =>
    coldShutdown(kind));
}
