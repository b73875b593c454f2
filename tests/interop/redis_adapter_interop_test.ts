/**
 * Interop at the adapter level with real Python Celery 5.2.6 on Redis, as
 * broker and as result backend: messages the Redis broker publishes run on a
 * Python worker whose results the Redis backend reads; tasks a Python client
 * sends are consumed through the Redis broker and answered through the Redis
 * backend, which the Python client reads. kwargs, failures, priorities and
 * 1,000 tasks in flight, both directions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import { createBroker } from "../../src/transports/redis/broker.ts";
import { serviceAvailable } from "../services.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { runPythonClient, startPythonWorker } from "./python/harness.ts";
import { queueSpec, redisWorld, sendTask, serveTasks, taskCall } from "./redis_interop_tools.ts";

const available = await serviceAvailable("redis");

Deno.test({
  name: "redis adapters → Python worker: kwargs, a Python exception, priorities, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const world = redisWorld();
    const broker = await createBroker(REDIS_URL, world.config);
    const backend = await createResultBackend(REDIS_URL, world.config);
    const ids: string[] = [];
    const send = async (call: ReturnType<typeof taskCall>) => {
      ids.push(await sendTask(broker, backend, world.queue, call));
      return call.id;
    };
    const wait = (id: string) => backend.waitFor(id, { intervalMs: 100, timeoutMs: 60_000 });
    // Queued before the worker starts: a solo worker pops them in priority order.
    const priorities = [9, 3, 0, 6, 9, 3, 0, 6];
    const prioritized: string[] = [];
    for (const [i, priority] of priorities.entries()) {
      prioritized.push(await send(taskCall("interop.add", [priority, i / 100], {}, priority)));
    }
    const worker = await startPythonWorker({ env: world.python, concurrency: 1, pool: "solo" });
    try {
      const done = await Promise.all(prioritized.map(wait));
      const executed = done.map((meta, i) => ({
        at: String(meta.date_done),
        priority: priorities[i],
        i,
      }))
        .sort((a, b) => a.at < b.at ? -1 : 1);
      assert.deepEqual(
        executed.map((e) => e.priority),
        [0, 0, 3, 3, 6, 6, 9, 9],
        "Redis serves lower priority numbers first",
      );
      assert.deepEqual(executed.filter((e) => e.priority === 3).map((e) => e.i), [1, 5], "FIFO");

      const seen = await wait(await send(taskCall("interop.request", [1, "ü"], { k: [1, 2] })));
      assert.equal(seen.status, "SUCCESS");
      const request = seen.result as Record<string, unknown>;
      assert.deepEqual(request.args, [1, "ü"]);
      assert.deepEqual(request.kwargs, { k: [1, 2] });
      assert.equal(request.x_custom, "hello");
      assert.equal(request.routing_key, world.queue);

      const failed = await wait(await send(taskCall("interop.fail", ["bad input"])));
      assert.equal(failed.status, "FAILURE");
      assert.deepEqual(failed.result, {
        exc_type: "ValueError",
        exc_message: ["bad input"],
        exc_module: "builtins",
      });
      assert.match(String(failed.traceback), /ValueError: bad input/);

      const bulk: string[] = [];
      for (let i = 0; i < 1000; i += 100) {
        const batch = Array.from(
          { length: 100 },
          (_, j) => send(taskCall("interop.add", [i + j, i + j])),
        );
        bulk.push(...await Promise.all(batch));
      }
      const results = await Promise.all(bulk.map(wait));
      assert.deepEqual(results.map((r) => r.result), bulk.map((_, i) => 2 * i));
    } finally {
      await worker.stop();
      await backend.close();
      await broker.close();
      await deleteKeysWithPrefix(world.prefix);
      await deleteResultKeys(ids);
    }
  },
});

Deno.test({
  name:
    "Python client → redis adapters: delay, kwargs, send_task, failures, priorities, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const world = redisWorld();
    const other = `${world.queue}-q2`;
    const broker = await createBroker(REDIS_URL, world.config);
    const backend = await createResultBackend(REDIS_URL, world.config);
    const seen: string[] = [];
    const order: string[] = [];
    try {
      // Priorities: queued by Python first, then consumed one at a time.
      const priorities = [6, 0, 9, 3, 6, 0, 9, 3];
      await runPythonClient({
        calls: priorities.map((priority, i) => ({
          task: "interop.echo",
          args: [`${priority}/${i}`],
          options: { priority },
          get: false,
        })),
      }, world.python);
      const first = broker.consume({ queues: [queueSpec(world.queue)], prefetch: 1 });
      const ordered = serveTasks(first, backend, seen, order);
      while (order.length < priorities.length) await new Promise((r) => setTimeout(r, 20));
      await ordered.stop();
      assert.deepEqual(order, ["0/1", "0/5", "3/3", "3/7", "6/0", "6/4", "9/2", "9/6"]);

      const stream = broker.consume({
        queues: [queueSpec(world.queue), queueSpec(other)],
        prefetch: 50,
      });
      const serving = serveTasks(stream, backend, seen);
      const out = await runPythonClient({
        calls: [
          { method: "delay", task: "interop.add", args: [2, 3] },
          {
            task: "interop.echo",
            kwargs: { word: "wörd" },
            options: { countdown: 1, queue: other },
          },
          { method: "send_task", task: "interop.add", args: [40, 2] },
          { task: "interop.fail", args: ["nope"] },
        ],
        bulk: { count: 1000, timeout: 120 },
      }, world.python);
      await serving.stop();
      assert.equal(out.calls[0].value, 5);
      assert.deepEqual(out.calls[1].value, { args: [], kwargs: { word: "wörd" } });
      assert.equal(out.calls[2].value, 42);
      assert.deepEqual(out.calls[3].error, {
        type: "TypeError",
        module: "builtins",
        args: ["nope"],
      });
      assert.equal(out.bulk?.received, 1000, JSON.stringify(out.bulk?.missing));
      assert.deepEqual(out.bulk?.wrong, []);
    } finally {
      await broker.close();
      await backend.close();
      await deleteKeysWithPrefix(world.prefix);
      await deleteResultKeys(seen);
    }
  },
});
