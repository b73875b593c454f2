/**
 * What only the threads pool (`-P threads`, threads that consume for
 * themselves, issue 15) must show, on Redis with Redis results: a revoke
 * with `terminate` stops a busy loop by replacing its thread (REVOKED
 * stored, the next tasks run); a cold shutdown gives back at once the
 * acks_late message a thread was running (the supervisor restores what the
 * thread left unacknowledged, instead of Redis's visibility timeout);
 * `add_consumer` / `cancel_consumer` reach every thread; and a `memory://`
 * broker, which lives in one thread, is refused with a clear error when
 * `-P threads` is asked for; it and the embedded SQLite broker run the
 * workers pool by default. The rest (scenarios, hard limits, fair dispatch, rate limits,
 * thread deaths) runs on both pools in the tests of those names.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigurationError } from "../../src/errors.ts";
import type { RequestInfo } from "../../src/control/inspect.ts";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { deleteKeysWithPrefix } from "../integration/redis_test_tools.ts";
import { serviceAvailable, SERVICES, uniqueName } from "../services.ts";
import { add, app, sleep, spinUnlimited } from "./fixtures/worker_app.ts";
import { FAULT_APP_LOCATION, openWorld } from "../reliability/worlds.ts";

const redisUp = await serviceAvailable("redis");

/** Points the app at Redis under a fresh key prefix; returns the queue and a cleanup. */
function onRedis(extra: Record<string, unknown> = {}) {
  const queue = uniqueName("threads");
  const prefix = `${queue}:`;
  const transport = { global_keyprefix: prefix };
  app.conf.update({
    broker_url: SERVICES.redis,
    result_backend: SERVICES.redis,
    broker_transport_options: transport,
    result_backend_transport_options: transport,
    task_default_queue: queue,
    task_acks_late: false,
    ...extra,
  });
  return { queue, cleanup: async () => void await deleteKeysWithPrefix(prefix) };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = performance.now() + ms;
  while (!await check()) {
    if (performance.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("threads pool: memory:// is refused, naming the broker and the pool to use", async () => {
  app.conf.update({
    broker_url: `memory://${uniqueName("threads")}`,
    result_backend: null,
    task_default_queue: uniqueName("threads"),
  });
  try {
    await assert.rejects(
      () => app.worker({ pool: "threads", concurrency: 1, banner: false }),
      (error: Error) =>
        error instanceof ConfigurationError && /memory:\/\//.test(error.message) &&
        /workers pool/.test(error.message),
    );
  } finally {
    await app.close();
  }
});

for (const broker of ["memory", "sqlite"] as const) {
  Deno.test(`the default pool on ${broker}:// is the workers pool`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-threads-default-" });
    app.conf.update({
      broker_url: broker === "memory"
        ? `memory://${uniqueName("threads")}`
        : `sqlite://${dir}/embedded.sqlite3`,
      result_backend: broker === "memory" ? "memory://" : `sqlite://${dir}/embedded.sqlite3`,
      task_default_queue: uniqueName("threads"),
    });
    const worker = await app.worker({ concurrency: 1, banner: false });
    try {
      assert.equal(await (await add.delay(2, 5)).get({ timeout: 10 }), 7);
      const stats = await app.control.inspect({ destination: worker.hostname, timeout: 2 })
        .stats();
      assert.equal(
        (stats?.[worker.hostname].pool as Record<string, unknown>).implementation,
        "workers",
      );
    } finally {
      await worker.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "threads pool: add_consumer makes every thread consume a queue; after cancel_consumer " +
    "its messages wait in it, and run once it is added again",
  ignore: !redisUp,
  fn: async () => {
    const { cleanup } = onRedis();
    const extra = uniqueName("threads-extra");
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool: "threads", concurrency: 2, banner: false });
      const node = worker.hostname;
      const one = (command: string, args: Record<string, unknown>) =>
        app.control.broadcast(command, { arguments: args, reply: true, destination: [node] })
          .then((replies) => replies[0]?.[node]);
      const consumed = async () =>
        (await app.control.inspect({ destination: node }).activeQueues())?.[node]
          .map((queue) => queue.name).sort();
      assert.deepEqual(await one("add_consumer", { queue: extra }), {
        ok: `add consumer ${extra}`,
      });
      assert.deepEqual(await consumed(), [app.conf.task_default_queue, extra].sort());
      const viaExtra = await Promise.all(
        [1, 2, 3, 4].map((n) => add.applyAsync([n, n], { queue: extra })),
      );
      assert.deepEqual(await Promise.all(viaExtra.map((r) => r.get({ timeout: 20 }))), [
        2,
        4,
        6,
        8,
      ]);
      assert.deepEqual(await one("cancel_consumer", { queue: extra }), {
        ok: `no longer consuming from ${extra}`,
      });
      assert.deepEqual(await consumed(), [app.conf.task_default_queue]);
      const waiting = await add.applyAsync([20, 1], { queue: extra });
      assert.equal(await (await add.delay(1, 1)).get({ timeout: 20 }), 2, "the default queue runs");
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await waiting.state(), "PENDING", "not consumed once cancelled");
      assert.deepEqual(await one("add_consumer", { queue: extra }), {
        ok: `add consumer ${extra}`,
      });
      assert.equal(
        await waiting.get({ timeout: 20 }),
        21,
        "nothing lost: it runs once added again",
      );
    } finally {
      await worker?.stop();
      await app.close();
      await cleanup();
    }
  },
});

Deno.test({
  name: "threads pool: inspect active shows a busy loop, revoke with terminate stops it; REVOKED " +
    "stored; the next tasks run",
  ignore: !redisUp,
  fn: async () => {
    const { cleanup } = onRedis({ task_track_started: true });
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool: "threads", concurrency: 2, banner: false });
      const loop = await spinUnlimited.delay(); // no time limit: only the revoke can stop it
      await waitFor("the loop starts", async () => await loop.state() === "STARTED");
      const active = await app.control.inspect({ destination: [worker.hostname] }).active();
      const running = active?.[worker.hostname] ?? [];
      assert.deepEqual(
        running.map((r) => [r.id, r.name, r.args, r.kwargs, r.delivery_info?.routing_key]),
        [[loop.id, "wtest.spin_unlimited", [], {}, app.conf.task_default_queue]],
      );
      const queried = await app.control.inspect({ destination: [worker.hostname] })
        .queryTask(loop.id);
      assert.deepEqual(
        queried?.[worker.hostname][loop.id].map((part) =>
          typeof part === "string" ? part : part.id
        ),
        ["active", loop.id],
        "query_task finds the run in its thread",
      );
      await app.control.revoke(loop.id, { terminate: true });
      const error = await loop.get({ timeout: 20, propagate: false }) as RemoteError;
      assert.equal(error.excType, "TaskRevokedError");
      assert.equal(await loop.state(), "REVOKED");
      const sums = await Promise.all(
        [1, 2, 3, 4].map(async (i) => await (await add.delay(i, i)).get({ timeout: 20 })),
      );
      assert.deepEqual(sums, [2, 4, 6, 8]);
    } finally {
      await worker?.stop();
      await app.close();
      await cleanup();
    }
  },
});

Deno.test({
  name: "threads pool: inspect reserved and scheduled list what the threads hold",
  ignore: !redisUp,
  fn: async () => {
    const { cleanup } = onRedis({ task_track_started: true });
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool: "threads", concurrency: 1, banner: false });
      const long = await sleep.delay(4000); // async: the thread still answers while it runs
      await waitFor("the sleep starts", async () => await long.state() === "STARTED");
      const waiting = [await add.delay(1, 1), await add.delay(2, 2)];
      const later = await add.applyAsync([3, 3], { countdown: 30 });
      const inspect = app.control.inspect({ destination: [worker.hostname] });
      let reserved: RequestInfo[] = [];
      await waitFor("both adds reserved", async () => {
        reserved = (await inspect.reserved())?.[worker!.hostname] ?? [];
        return reserved.length === 2;
      });
      assert.deepEqual(
        reserved.map((r) => [r.id, r.name, r.args]).sort(),
        waiting.map((r, i) => [r.id, "wtest.add", [i + 1, i + 1]]).sort(),
      );
      // Sent last: it may reach the thread after the adds.
      let scheduled: { request: RequestInfo }[] = [];
      await waitFor("the countdown task scheduled", async () => {
        scheduled = (await inspect.scheduled())?.[worker!.hostname] ?? [];
        return scheduled.length === 1;
      });
      assert.deepEqual(scheduled.map((s) => s.request.id), [later.id]);
      assert.deepEqual(await Promise.all(waiting.map((r) => r.get({ timeout: 20 }))), [2, 4]);
      await later.revoke();
    } finally {
      await worker?.stop();
      await app.close();
      await cleanup();
    }
  },
});

Deno.test({
  name: "threads pool: a cold shutdown gives back a running acks_late message at once (Redis)",
  ignore: !redisUp,
  fn: async () => {
    const { queue, cleanup } = onRedis({ task_acks_late: true, task_track_started: true });
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool: "threads", concurrency: 1, banner: false });
      const long = await sleep.delay(60_000);
      await waitFor("the long task starts", async () => await long.state() === "STARTED");
      await worker.stop("cold");
      worker = undefined;
      // Redis's visibility timeout is an hour: only the supervisor's restore brings it back now.
      const broker = await app.getBroker();
      assert.equal(await broker.messageCount(queue), 1, "the running acks_late message is queued");
    } finally {
      await worker?.stop();
      await app.close();
      await cleanup();
    }
  },
});

Deno.test("threads pool: max tasks per child: eight tasks on one thread run 3 + 3 + 2", async () => {
  await using world = await openWorld("sqlite");
  const worldApp = world!.app({ worker_max_tasks_per_child: 3 });
  const worker = await worldApp.worker({
    pool: "threads",
    concurrency: 1,
    appLocation: FAULT_APP_LOCATION,
    banner: false,
  });
  try {
    const executors: string[] = [];
    for (let i = 0; i < 8; i++) {
      const result = await worldApp.sendTask("fault.executor", []);
      executors.push(await result.get({ timeout: 20 }) as string);
    }
    const runs = executors.reduce<number[]>((counts, id, i) => {
      if (i === 0 || id !== executors[i - 1]) counts.push(0);
      counts[counts.length - 1]++;
      return counts;
    }, []);
    assert.deepEqual(runs, [3, 3, 2], `executors: ${executors.join(", ")}`);
    assert.equal(new Set(executors).size, 3, "a fresh thread each time");
  } finally {
    await worker.stop();
  }
});

Deno.test({
  name: "threads pool: task events come from the threads under the worker's name; heartbeats " +
    "count their runs; disable_events reaches the threads",
  ignore: !redisUp,
  fn: async () => {
    const { cleanup } = onRedis();
    const abort = new AbortController();
    const seen: Record<string, unknown>[] = [];
    const listening = (async () => {
      for await (const event of app.events({ signal: abort.signal })) seen.push(event);
    })();
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({
        pool: "threads",
        concurrency: 2,
        banner: false,
        events: true,
        heartbeatInterval: 0.5,
      });
      const node = worker.hostname;
      const first = await add.delay(2, 3);
      assert.equal(await first.get({ timeout: 20 }), 5);
      const of = (type: string, id: string) =>
        seen.find((event) => event.type === type && event.uuid === id);
      await waitFor(
        "task-succeeded",
        () => Promise.resolve(of("task-succeeded", first.id) !== undefined),
      );
      for (const type of ["task-received", "task-started", "task-succeeded"]) {
        assert.equal(of(type, first.id)?.hostname, node, `${type} from ${node}`);
      }
      await waitFor(
        "a heartbeat counting the run",
        () =>
          Promise.resolve(
            seen.some((event) =>
              event.type === "worker-heartbeat" && event.hostname === node &&
              (event.processed as number) >= 1
            ),
          ),
      );
      await app.control.broadcast("disable_events", { destination: [node], reply: true });
      const second = await add.delay(1, 1);
      assert.equal(await second.get({ timeout: 20 }), 2);
      await waitFor(
        "a later heartbeat",
        () =>
          Promise.resolve(
            seen.some((event) =>
              event.type === "worker-heartbeat" && event.hostname === node &&
              (event.processed as number) >= 2
            ),
          ),
      );
      assert.equal(of("task-received", second.id), undefined, "no task event once disabled");
      assert.equal(await (await add.delay(2, 2)).get({ timeout: 20 }), 4);
    } finally {
      await worker?.stop();
      abort.abort();
      await listening;
      await app.close();
      await cleanup();
    }
  },
});
