/**
 * RabbitMQ stopped and started under load (`rabbitmqctl stop_app` /
 * `start_app`) on a private node: the consumer reconnects with backoff and
 * goes on, publishers retry per the publish retry policy, and every
 * confirmed message is delivered.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createBroker } from "../../src/transports/amqp/broker.ts";
import type { QueueSpec } from "../../src/broker/types.ts";
import { textMessage } from "../conformance/suite_tools.ts";
import { amqpConfig } from "./amqp_helpers.ts";
import { privateNodeAvailable, PrivateRabbit } from "./amqp_private_node.ts";

const available = await privateNodeAvailable();
const decoder = new TextDecoder();

Deno.test({
  name: "amqp: stop_app/start_app under load loses no confirmed message; consuming resumes",
  ignore: !available,
  fn: async () => {
    await using rabbit = await PrivateRabbit.start();
    const config = amqpConfig({
      broker_url: rabbit.url,
      broker_connection_max_retries: null,
      // Long enough to ride out the restart (Celery's default gives up after ~1 s).
      task_publish_retry_policy: {
        max_retries: 60,
        interval_start: 0,
        interval_step: 0.2,
        interval_max: 0.5,
      },
    });
    const queue: QueueSpec = {
      name: "restart",
      exchange: "restart",
      exchangeType: "direct",
      routingKey: "restart",
      durable: true,
      autoDelete: false,
      arguments: {},
    };
    const worker = await createBroker(rabbit.url, config);
    const client = await createBroker(rabbit.url, config);
    const seen = new Set<string>();
    const consuming = (async () => {
      for await (const delivery of worker.consume({ queues: [queue], prefetch: 20 })) {
        seen.add(JSON.parse(decoder.decode(delivery.message.body)));
        await delivery.ack();
      }
    })();
    try {
      const confirmed: string[] = [];
      let restarted: Promise<void> | undefined;
      let restartDone = false;
      let afterRestart = 0;
      // Publish in batches of 10 from before the restart until 100 more went out after it.
      for (let i = 0; afterRestart < 100; i += 10) {
        if (restartDone) afterRestart += 10;
        const batch = Array.from({ length: 10 }, (_, j) => `m${i + j}`);
        await Promise.all(batch.map(async (text) => {
          await client.publish(textMessage(text), { exchange: "", routingKey: "restart", queue });
          confirmed.push(text);
        }));
        if (i === 100) {
          restarted = (async () => {
            await rabbit.stopApp();
            await new Promise((resolve) => setTimeout(resolve, 1000));
            await rabbit.startApp();
            restartDone = true;
          })();
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await restarted;
      const deadline = Date.now() + 30_000;
      while (confirmed.some((text) => !seen.has(text)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const lost = confirmed.filter((text) => !seen.has(text));
      assert.deepEqual(lost, [], `${lost.length} confirmed messages never arrived`);
      // Both really lost their connection and made a new one.
      assert.ok(worker.connection.generation >= 2, "the consumer never reconnected");
      assert.ok(client.connection.generation >= 2, "the publisher never reconnected");
    } finally {
      await client.close();
      await worker.close();
      await consuming;
    }
  },
});
