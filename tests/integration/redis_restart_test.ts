/**
 * Redis restarts under load: a private redis-server is stopped and started
 * again while a client publishes tasks and waits for results and a consumer
 * (acks after the work, like `task_acks_late`) processes them. Everything
 * reconnects and goes on; every task gets its result, nothing is lost.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import { buildResultMeta } from "../../src/protocol/result_meta.ts";
import { createBroker } from "../../src/transports/redis/broker.ts";
import { directQueue, sleep, textMessage } from "../conformance/suite_tools.ts";
import { haveRedisServer, PrivateRedis } from "./redis_server.ts";
import { redisTestConfig } from "./redis_test_tools.ts";

const canRun = await haveRedisServer();

Deno.test({
  name: "redis restart under load: consumer and client reconnect; every task gets its result",
  ignore: !canRun,
  fn: async () => {
    const server = await PrivateRedis.start();
    // A short visibility timeout: a batch pop whose reply was lost in the restart is
    // recorded in `unacked` but never delivered, and comes back through restore.
    const config = redisTestConfig("", {
      broker_transport_options: { visibility_timeout: 2 },
      broker_connection_timeout: 10,
    });
    const [client, worker] = [
      await createBroker(server.url, config),
      await createBroker(server.url, config),
    ];
    const [results, store] = [
      await createResultBackend(server.url, config),
      await createResultBackend(server.url, config),
    ];
    const queue = directQueue("restart");
    const total = 300;
    const processed = new Map<string, number>();
    const serving = (async () => {
      for await (const delivery of worker.consume({ queues: [queue], prefetch: 8 })) {
        const id = String(delivery.message.headers.id);
        processed.set(id, (processed.get(id) ?? 0) + 1);
        await sleep(2); // the task
        await store.store(buildResultMeta({ taskId: id }, "SUCCESS", id), {});
        await delivery.ack();
      }
    })();
    try {
      const ids = Array.from({ length: total }, () => crypto.randomUUID());
      const waits: Promise<unknown>[] = [];
      const publishing = (async () => {
        for (const id of ids) {
          await results.prepare(id);
          waits.push(results.waitFor(id, { intervalMs: 100, timeoutMs: 60_000 }));
          const message = textMessage(id);
          message.headers.id = id;
          await client.publish(message, { exchange: "", routingKey: queue.name, queue });
          await sleep(5);
        }
      })();
      await sleep(400);
      await server.stop();
      await sleep(500);
      await server.restart();
      await publishing;
      const metas = await Promise.all(waits) as { result: unknown }[];
      assert.deepEqual(metas.map((m) => m.result), ids);
      assert.equal(ids.filter((id) => !processed.has(id)).length, 0);
      assert.equal(await client.messageCount(queue.name), 0);
    } finally {
      await worker.close();
      await serving.catch(() => {});
      await client.close();
      await results.close();
      await store.close();
      await server.destroy();
    }
  },
});
