/**
 * A hard time limit on each transport (the embedded SQLite default, Redis,
 * RabbitMQ), with the workers pool and with the threads pool: two busy loops
 * stop both threads, each is stopped after its 0.5 s limit with
 * `TimeLimitExceeded` stored under its own id, the threads are replaced, and
 * the twenty tasks prefetched behind them all run at once after, none
 * waiting for a redelivery (issue 15). Each loop runs once: with the threads
 * pool its message comes back when its thread is terminated, and is settled
 * without running again.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteKeysWithPrefix } from "../integration/redis_test_tools.ts";
import { serviceAvailable, SERVICES, uniqueName } from "../services.ts";
import { add, app, spinCounted } from "./fixtures/worker_app.ts";

/** The short tasks must all be done this soon after the loops were stopped (far below any redelivery). */
const AFTER_LIMIT_MS = 10_000;

interface Transport {
  name: string;
  available: () => Promise<boolean>;
  /** Config for the app; `cleanup` removes what the test made. */
  open: (
    queue: string,
  ) => Promise<{ config: Record<string, unknown>; cleanup: () => Promise<void> }>;
}

const TRANSPORTS: Transport[] = [
  {
    name: "sqlite:// (embedded)",
    available: () => Promise.resolve(true),
    open: async () => {
      const dir = await Deno.makeTempDir({ prefix: "celeriac-hard-" });
      const url = `sqlite://${dir}/embedded.sqlite3`;
      return {
        config: { broker_url: url, result_backend: url },
        cleanup: () => Deno.remove(dir, { recursive: true }),
      };
    },
  },
  {
    name: "Redis",
    available: () => serviceAvailable("redis"),
    open: (queue) => {
      const prefix = `${queue}:`;
      const transport = { global_keyprefix: prefix };
      return Promise.resolve({
        config: {
          broker_url: SERVICES.redis,
          result_backend: SERVICES.redis,
          broker_transport_options: transport,
          result_backend_transport_options: transport,
        },
        cleanup: async () => void await deleteKeysWithPrefix(prefix),
      });
    },
  },
  {
    name: "RabbitMQ (rpc results)",
    available: () => serviceAvailable("rabbitmq"),
    open: (queue) =>
      Promise.resolve({
        config: { broker_url: SERVICES.rabbitmq, result_backend: "rpc://" },
        cleanup: () => deleteAmqpEntities([queue]),
      }),
  },
];

for (const transport of TRANSPORTS) {
  const available = await transport.available();
  for (const pool of ["workers", "threads"] as const) {
    Deno.test({
      name: `hard time limit on ${transport.name}, pool ${pool}: busy loops stopped once, ` +
        "the tasks behind them run",
      ignore: !available,
      fn: () => hardLimit(transport, pool),
    });
  }
}

async function hardLimit(transport: Transport, pool: "workers" | "threads"): Promise<void> {
  const queue = uniqueName("hard");
  const opened = await transport.open(queue);
  app.conf.update({ ...opened.config, task_default_queue: queue });
  const dir = await Deno.makeTempDir({ prefix: "celeriac-spins-" });
  let worker: CeleryWorker | undefined;
  try {
    worker = await app.worker({ pool, concurrency: 2, banner: false });
    const loops = [await spinCounted.delay(`${dir}/a`), await spinCounted.delay(`${dir}/b`)];
    const shorts = [];
    for (let i = 0; i < 20; i++) shorts.push(await add.delay(i, 1));
    for (const loop of loops) {
      const error = await loop.get({ timeout: 20, propagate: false }) as RemoteError;
      assert.equal(error.excType, "TimeLimitExceeded", `${loop.id}: ${error.message}`);
    }
    const stopped = performance.now();
    const sums = await Promise.all(shorts.map((result) => result.get({ timeout: 20 })));
    assert.deepEqual(sums, Array.from({ length: 20 }, (_, i) => i + 1));
    const ms = performance.now() - stopped;
    assert.ok(ms < AFTER_LIMIT_MS, `the tasks behind the loops took ${ms.toFixed(0)} ms`);
    // Whatever came back has been taken again by now: one more task, after an empty queue.
    const broker = await app.getBroker();
    while (await broker.messageCount(queue) > 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await (await add.delay(1, 1)).get({ timeout: 20 }), 2);
    for (const name of ["a", "b"]) {
      assert.equal(await Deno.readTextFile(`${dir}/${name}`), "run\n", `loop ${name} ran once`);
    }
  } finally {
    await worker?.stop();
    await app.close();
    await opened.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}
