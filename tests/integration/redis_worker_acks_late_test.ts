/**
 * At-least-once on Redis at the worker level, with real worker processes and
 * `task_acks_late`:
 *
 * - a worker SIGKILLed while running one task and holding three prefetched
 *   ones loses none of them: after the (shortened) `visibility_timeout` a new
 *   worker restores all four from `unacked` and runs them;
 * - a task that runs 2.5 times longer than `visibility_timeout`, and one
 *   whose ETA is 2.5 times `visibility_timeout` away, are not restored
 *   while a worker holds them, although another worker keeps restoring:
 *   each runs once (Celery's duplicate-execution bug does not happen).
 *
 * The task (redis_acks_late_app.ts) counts its runs in Redis.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { deleteKeysWithPrefix, rawRedis, REDIS_URL } from "./redis_test_tools.ts";

const available = await serviceAvailable("redis");
const MODULE = "tests/integration/redis_acks_late_app.ts";

/** A fresh key prefix, queue and settings with `visibility_timeout` seconds. */
function world(visibilityTimeout: number) {
  const prefix = `${uniqueName("it-acks-late")}:`;
  const queue = uniqueName("acks-late");
  const settings = {
    task_default_queue: queue,
    task_acks_late: true,
    task_track_started: true,
    broker_transport_options: { global_keyprefix: prefix, visibility_timeout: visibilityTimeout },
    result_backend_transport_options: { global_keyprefix: prefix },
  };
  const env = {
    CELERY_BROKER_URL: REDIS_URL,
    CELERY_RESULT_BACKEND: REDIS_URL,
    CELERIAC_IT_CONFIG: JSON.stringify(settings),
  };
  const client = new Celery("client", {
    broker: REDIS_URL,
    backend: REDIS_URL,
    config: settings,
    setAsCurrent: false,
  });
  return { prefix, queue, env, client };
}

/** Polls `check` every 100 ms until it is true; fails after `limitMs`. */
async function until(what: string, check: () => Promise<boolean>, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test({
  name: "Redis acks_late: a SIGKILLed worker's running and prefetched tasks run again, none lost",
  ignore: !available,
  fn: async () => {
    const { prefix, queue, env, client } = world(2);
    const redis = rawRedis();
    try {
      await using victim = await startCeleriacWorker({ module: MODULE, env, concurrency: 1 });
      const counter = (i: number) => `${prefix}runs:${i}`;
      const results = [
        await client.sendTask("acks_late.hold", [counter(0), 60]),
        ...await Promise.all(
          [1, 2, 3].map((i) => client.sendTask("acks_late.hold", [counter(i), 0])),
        ),
      ];
      // One task running, three prefetched behind it (-c 1, prefetch 4): all four unacked.
      // Running means its first run counted itself: STARTED is stored as the thread is handed the
      // task, before the task's own Redis connection is up, and a task killed before it counted
      // would count 1 on the survivor and hold 60 s there.
      await until(
        "the first task to count its run",
        async () => (await redis.get(counter(0))) === "1",
      );
      assert.equal(await results[0].state(), "STARTED");
      await until("four unacked", async () => (await redis.hlen(`${prefix}unacked`)) === 4);
      await victim.kill();
      assert.equal(await redis.hlen(`${prefix}unacked`), 4, "nothing was acked");
      assert.equal(await redis.llen(`${prefix}${queue}`), 0);
      await using _survivor = await startCeleriacWorker({ module: MODULE, env, concurrency: 2 });
      const runs = await Promise.all(results.map((result) => result.get({ timeout: 30 })));
      assert.deepEqual(runs, [2, 1, 1, 1], "the killed task ran twice, the prefetched ones once");
      await until("unacked to empty", async () => (await redis.hlen(`${prefix}unacked`)) === 0);
    } finally {
      await client.close();
      redis.disconnect();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "Redis acks_late: tasks running or waiting for their ETA past visibility_timeout run once",
  ignore: !available,
  fn: async () => {
    // 2 s: a held message's score is refreshed every 0.5 s, so only a main thread starved
    // for 1.5 s could let the other worker restore it (CI shares 2 cores).
    const { prefix, env, client } = world(2);
    const redis = rawRedis();
    try {
      // Two workers: whichever does not run the task keeps restoring what is visible.
      await using _one = await startCeleriacWorker({ module: MODULE, env, concurrency: 1 });
      await using _two = await startCeleriacWorker({ module: MODULE, env, concurrency: 1 });
      const result = await client.sendTask("acks_late.hold", [`${prefix}runs`, 5]);
      // An ETA 2.5× the visibility timeout away: held unacked by a worker all that time.
      const delayed = await client.sendTask("acks_late.hold", [`${prefix}eta-runs`, 0], {
        countdown: 5,
      });
      assert.equal(await result.get({ timeout: 30 }), 1);
      assert.equal(await delayed.get({ timeout: 30 }), 1);
      assert.equal(await redis.get(`${prefix}runs`), "1", "the long task ran exactly once");
      assert.equal(await redis.get(`${prefix}eta-runs`), "1", "the ETA task ran exactly once");
      // acks_late stores the result first and acks after: the ack may still be on its way.
      await until("unacked to empty", async () => (await redis.hlen(`${prefix}unacked`)) === 0);
    } finally {
      await client.close();
      redis.disconnect();
      await deleteKeysWithPrefix(prefix);
    }
  },
});
