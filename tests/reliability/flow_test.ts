/**
 * Flow control, each scenario counted (they run side by side, each on its
 * own queue):
 *
 * - `rateLimit: "10/m"`: the second message waits for the bucket (about 6 s
 *   after the worker made it); `worker_disable_rate_limits` lifts it;
 * - `worker_prefetch_multiplier`: with `-c 1`, a worker reserves 1 (or 4)
 *   acks_late messages and leaves the rest ready in the queue (RabbitMQ);
 * - `worker_max_tasks_per_child` 3: eight tasks run on threads 3 + 3 + 2;
 * - `worker_max_memory_per_child`: a thread above the limit after a task is
 *   replaced before the next;
 * - `ignoreResult` (call option and task option): the task runs, no SUCCESS
 *   is stored; a failure of an ignore_result task is not stored either.
 */

import assert from "node:assert/strict";
import type { Celery } from "../../mod.ts";
import { countRuns, FAULT_APP_LOCATION, openWorld, waitUntil, type World } from "./worlds.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";

async function withWorker<T>(
  app: Celery,
  options: Parameters<Celery["worker"]>[0],
  body: (worker: CeleryWorker) => Promise<T>,
): Promise<T> {
  const worker = await app.worker({ banner: false, ...options });
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

/** Run times (epoch ms) of `fault.limited` runs, in order. */
function limitedRunTimes(world: World): number[] {
  return world.runs().map((line) => line.split(" ")).filter((parts) => parts[3] === "at")
    .map((parts) => Number(parts[4])).sort((a, b) => a - b);
}

async function rateLimited(disabled: boolean): Promise<number> {
  await using world = await openWorld("sqlite");
  if (!world) return 0;
  const app = world.app({ worker_disable_rate_limits: disabled });
  return await withWorker(app, { concurrency: 2, pool: "async" }, async () => {
    const results = [];
    for (let i = 0; i < 2; i++) results.push(await app.sendTask("fault.limited", [world.dir]));
    await Promise.all(results.map((result) => result.get({ timeout: 20 })));
    const [first, second] = limitedRunTimes(world);
    return second - first;
  });
}

async function prefetch(multiplier: number): Promise<number> {
  await using world = await openWorld("amqp");
  if (!world) return -1;
  const app = world.app({ worker_prefetch_multiplier: multiplier });
  return await withWorker(app, { concurrency: 1, pool: "async" }, async () => {
    const broker = await app.getBroker();
    const results = [];
    for (let i = 0; i < 6; i++) {
      results.push(await app.sendTask("fault.record_late", [world.dir, 600]));
    }
    await waitUntil(() => countRuns(world.runs(), "start").size === 1, "the first task running");
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the window fill
    const ready = await broker.messageCount(world.queue);
    await Promise.all(results.map((result) => result.get({ timeout: 20 })));
    return ready;
  });
}

async function maxTasksPerChild(): Promise<string[]> {
  await using world = await openWorld("sqlite");
  if (!world) return [];
  const app = world.app({ worker_max_tasks_per_child: 3 });
  return await withWorker(app, { concurrency: 1, appLocation: FAULT_APP_LOCATION }, async () => {
    const executors: string[] = [];
    for (let i = 0; i < 8; i++) {
      const result = await app.sendTask("fault.executor", []);
      executors.push(await result.get({ timeout: 20 }) as string);
    }
    return executors;
  });
}

const MEMORY_LIMIT_KIB = 48 * 1024;

async function maxMemoryPerChild(): Promise<{ executor: string; kib: number }[]> {
  await using world = await openWorld("sqlite");
  if (!world) return [];
  const app = world.app({ worker_max_memory_per_child: MEMORY_LIMIT_KIB });
  return await withWorker(app, { concurrency: 1, appLocation: FAULT_APP_LOCATION }, async () => {
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const result = await app.sendTask("fault.leak", [20 * 1024]);
      seen.push(await result.get({ timeout: 20 }) as { executor: string; kib: number });
    }
    return seen;
  });
}

async function ignoreResult(): Promise<void> {
  await using world = await openWorld("redis");
  if (!world) return;
  const app = world.app();
  await withWorker(app, { concurrency: 2, pool: "async" }, async () => {
    const byCall = await app.sendTask("fault.record", [world.dir], { ignoreResult: true });
    const byTask = await app.sendTask("fault.ignored", [world.dir]);
    const failing = await app.sendTask("fault.ignored_fails", [world.dir]);
    const stored = await app.sendTask("fault.record", [world.dir]);
    assert.equal(await byCall.get(), null, "an ignored result is null at once");
    await stored.get({ timeout: 20 });
    await waitUntil(() => countRuns(world.runs()).size === 4, "all four ran");
    for (const result of [byCall, byTask, failing]) {
      assert.equal(await app.asyncResult(result.id).state(), "PENDING", "nothing stored");
    }
  });
}

Deno.test("flow control: rate limit, prefetch multiplier, max tasks/memory per child, ignoreResult", async () => {
  const [limitedGap, freeGap, ready1, ready4, executors, memory] = await Promise.all([
    rateLimited(false),
    rateLimited(true),
    prefetch(1),
    prefetch(4),
    maxTasksPerChild(),
    maxMemoryPerChild(),
    ignoreResult(),
  ]);
  console.log(
    `10/m: second run ${limitedGap} ms after the first (disabled: ${freeGap} ms); ` +
      `ready in queue with multiplier 1: ${ready1}, 4: ${ready4}; executors per task ` +
      `${executors.map((id) => id.slice(0, 4)).join(",")}; memory KiB ${
        memory.map((m) => `${m.executor.slice(0, 4)}:${m.kib}`).join(",")
      }`,
  );
  assert.ok(limitedGap >= 5000, "the rate limit held the second run back");
  // Without the limit nothing holds it: far under the 6 s a token takes.
  assert.ok(freeGap < 5000, "worker_disable_rate_limits lifts the limit");
  if (ready1 >= 0) {
    assert.equal(ready1, 5, "multiplier 1: one message reserved");
    assert.equal(ready4, 2, "multiplier 4: four messages reserved");
  }
  const runs = executors.map((id, i) => executors.indexOf(id) === i);
  assert.deepEqual(runs, [true, false, false, true, false, false, true, false], "3 + 3 + 2");
  const changes = memory.map((m, i) => i > 0 && m.executor !== memory[i - 1].executor);
  assert.ok(changes.some(Boolean), "the thread was recycled");
  for (let i = 1; i < memory.length; i++) {
    const recycled = changes[i];
    const wasOver = memory[i - 1].kib > MEMORY_LIMIT_KIB;
    assert.equal(recycled, wasOver, `task ${i}: recycled exactly when the last one was over`);
  }
});
