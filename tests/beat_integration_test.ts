/**
 * Beat end to end with the real app and a real broker: `runBeat(app)` with a
 * 1-second entry sends ordinary task messages, as Celery's beat does
 * (spec §4.1): the entry's args and kwargs, a new id per run, numeric
 * `expires` as an absolute header plus a per-message TTL, the entry's queue
 * and priority; the schedule file records the runs; the lease lives on the
 * same broker. The Redis run adds its entry from code (`app.addPeriodicTask`),
 * the RabbitMQ run from `beat_schedule`.
 */

import assert from "node:assert/strict";
import { connect } from "../src/transports/amqp/amqplib.ts";
import { Redis } from "ioredis";
import { Celery } from "../src/app/celery.ts";
import type { Delivery, QueueSpec } from "../src/broker/types.ts";
import { decodeTaskMessage } from "../src/protocol/task_message.ts";
import { runBeat, sendThroughApp } from "../src/beat/service.ts";
import { leaseKeys } from "../src/transports/redis/lease.ts";
import type { StoredSchedule } from "../src/beat/store.ts";
import { serviceAvailable, SERVICES, uniqueName } from "./services.ts";

const ENTRY = "add-every-second";

function newApp(url: string, queue: string, name: string, fromCode: boolean): Celery {
  const item = {
    args: [1, 2],
    kwargs: { k: "v" },
    options: { queue, expires: 10, priority: 5 },
  };
  const app = new Celery(name, {
    broker: url,
    setAsCurrent: false,
    config: fromCode ? {} : {
      beat_schedule: { [ENTRY]: { task: `${name}.add`, schedule: 1, ...item } },
    },
  });
  if (fromCode) {
    assert.equal(app.addPeriodicTask(1, `${name}.add`, { name: ENTRY, ...item }), ENTRY);
  }
  return app;
}

async function beatAgainst(url: string, queue: string, name: string, fromCode: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-" });
  await using app = newApp(url, queue, name, fromCode);
  try {
    const scheduleFile = `${dir}/celerybeat-schedule.json`;
    // Beat stops after its second send; each send's time brackets the message's `expires`.
    const stop = new AbortController();
    const sentBetween: [number, number][] = [];
    const send = sendThroughApp(app);
    await runBeat(app, {
      scheduleFile,
      signal: stop.signal,
      send: async (entry) => {
        const before = Date.now();
        const id = await send(entry);
        sentBetween.push([before, Date.now()]);
        if (sentBetween.length === 2) stop.abort();
        return id;
      },
    });
    const stored: StoredSchedule = JSON.parse(await Deno.readTextFile(scheduleFile));
    assert.equal(stored.entries[ENTRY].total_run_count, 2);

    const broker = await app.getBroker();
    const spec: QueueSpec = {
      name: queue,
      exchange: queue,
      exchangeType: "direct",
      routingKey: queue,
      durable: true,
      autoDelete: false,
      arguments: {},
    };
    const reader = broker.consume({ queues: [spec], prefetch: 10 }).getReader();
    const deliveries: Delivery[] = [];
    while (deliveries.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      deliveries.push(value);
      await value.ack();
    }
    await reader.cancel();
    const calls = deliveries.map((d) =>
      decodeTaskMessage(d.message, new Set(["application/json"]))
    );
    assert.equal(calls.length, 2);
    assert.notEqual(calls[0].id, calls[1].id);
    for (const [i, call] of calls.entries()) {
      assert.equal(call.task, `${name}.add`);
      assert.deepEqual(call.args, [1, 2]);
      assert.deepEqual(call.kwargs, { k: "v" });
      assert.equal(call.eta, null);
      const [before, after] = sentBetween[i];
      const expires = call.expires!.getTime();
      assert.ok(expires >= before + 9_999 && expires <= after + 10_000, `${call.expires}`);
      // Celery sends exactly "10000" for `expires: 10`; celeriac's sendTask may round down by 1 ms.
      const expiration = Number(deliveries[i].message.properties.expiration);
      assert.ok(expiration >= 9990 && expiration <= 10000, `expiration ${expiration}`);
      assert.equal(deliveries[i].message.properties.priority, 5);
    }
    assert.equal(await broker.messageCount(queue), 0, "exactly two runs were sent");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("beat with the app on Redis: two runs of a 1 s entry added by addPeriodicTask", async () => {
  if (!await serviceAvailable("redis")) return;
  const [queue, name] = [uniqueName("beat-q"), uniqueName("beatint")];
  try {
    await beatAgainst(SERVICES.redis, queue, name, true);
  } finally {
    const client = new Redis(SERVICES.redis);
    const keys = leaseKeys(name);
    await client.del(queue, keys.leader, keys.state, `_kombu.binding.${queue}`);
    await client.quit();
  }
});

Deno.test("beat with the app on RabbitMQ: two runs of a 1 s beat_schedule entry", async () => {
  if (!await serviceAvailable("rabbitmq")) return;
  const [queue, name] = [uniqueName("beat-q"), uniqueName("beatint")];
  try {
    await beatAgainst(SERVICES.rabbitmq, queue, name, false);
  } finally {
    const connection = await connect(SERVICES.rabbitmq.replace(/\/\/$/, "/%2F"));
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteQueue(`celeriac.beat.${name}.state`);
    await channel.deleteExchange(queue);
    await connection.close();
  }
});
