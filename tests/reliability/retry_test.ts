/**
 * Retries end to end on each broker, tasks running in worker threads:
 * `self.retry()` republishes with the same id, `retries` + 1 and `parent_id`
 * = the task's id; the client sees RETRY; past `maxRetries` the task fails
 * with the `exc` given to `retry()`, else MaxRetriesExceededError;
 * `autoretryFor` with backoff; app-level `task_default_retry_delay` and
 * `task_max_retries`. Every run is counted.
 */

import assert from "node:assert/strict";
import type { AsyncResult } from "../../src/task/async_result.ts";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { FAULT_APP_LOCATION, openWorld, waitUntil, type World, type WorldKind } from "./worlds.ts";

/** `retries` values of the runs of `id`, in order. */
function retriesOf(world: World, id: string): number[] {
  return world.runs().filter((line) => line.startsWith(`${id} `) && line.endsWith(" run"))
    .map((line) => Number(line.split(" ")[1]));
}

async function failureOf(result: AsyncResult): Promise<RemoteError> {
  return await result.get({ timeout: 20, propagate: false }) as RemoteError;
}

async function retriesEndToEnd(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind);
  if (!world) return;
  const app = world.app({ task_default_retry_delay: 0.1, task_max_retries: 1 });
  const worker = await app.worker({
    concurrency: 2,
    appLocation: FAULT_APP_LOCATION,
    banner: false,
  });
  try {
    const N = 20;
    const many = [];
    for (let i = 0; i < N; i++) {
      many.push(await app.sendTask("fault.retrying", [world.dir, 2, 0.1]));
    }
    const watched = await app.sendTask("fault.retrying", [world.dir, 1, 1.5]);
    const withExc = await app.sendTask("fault.always_retry", [world.dir, true]);
    const withoutExc = await app.sendTask("fault.always_retry", [world.dir, false]);
    const auto = await app.sendTask("fault.autoretry", [world.dir]);
    const appDefaults = await app.sendTask("fault.defaults_retry", [world.dir]);

    await waitUntil(async () => await watched.state() === "RETRY", "the RETRY state");
    const retryMeta = await watched.meta();
    assert.equal((retryMeta!.result as { exc_type: string }).exc_type, "FlakyError");
    assert.deepEqual(await watched.get({ timeout: 20 }), { retries: 1, parentId: watched.id });

    for (const result of many) {
      assert.deepEqual(await result.get({ timeout: 20 }), { retries: 2, parentId: result.id });
      assert.deepEqual(retriesOf(world, result.id), [0, 1, 2], "three runs, retries 0, 1, 2");
    }
    assert.equal((await failureOf(withExc)).excType, "FlakyError", "past maxRetries: the exc");
    assert.deepEqual(retriesOf(world, withExc.id), [0, 1, 2]);
    const maxed = await failureOf(withoutExc);
    assert.equal(maxed.excType, "MaxRetriesExceededError");
    assert.equal(maxed.excModule, "celery.exceptions");
    assert.deepEqual(retriesOf(world, withoutExc.id), [0, 1, 2]);
    assert.equal((await failureOf(auto)).excType, "FlakyError", "autoretryFor gives up");
    assert.deepEqual(retriesOf(world, auto.id), [0, 1, 2]);
    assert.equal((await failureOf(appDefaults)).excType, "MaxRetriesExceededError");
    assert.deepEqual(retriesOf(world, appDefaults.id), [0, 1], "task_max_retries = 1");
    const runs = world.runs().filter((line) => line.endsWith(" run")).length;
    console.log(`${kind}: ${N + 5} tasks, ${runs} runs, every retry counted once`);
    assert.equal(runs, N * 3 + 2 + 3 + 3 + 3 + 2);
  } finally {
    await worker.stop();
  }
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`retries end to end: RETRY visible, retries grow, limits (${kind})`, () =>
    retriesEndToEnd(kind));
}
