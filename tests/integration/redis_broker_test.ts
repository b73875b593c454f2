/**
 * The Redis broker against real Redis: kombu's key layout on the wire,
 * restore after a consumer is killed, no restore while a consumer still holds
 * a message, malformed list elements, fanout over pub/sub, connection errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createBroker, type RedisBroker } from "../../src/transports/redis/broker.ts";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import { BrokerConnectionError } from "../../src/errors.ts";
import type { QueueSpec } from "../../src/broker/types.ts";
import {
  bodyText,
  DeliveryReader,
  directQueue,
  eventually,
  publishTexts,
  sleep,
  textMessage,
} from "../conformance/suite_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { deleteKeysWithPrefix, rawRedis, REDIS_URL, redisTestConfig } from "./redis_test_tools.ts";

const available = await serviceAvailable("redis");

function setup(visibility = 3600) {
  const prefix = `${uniqueName("celeriac-redis-broker")}:`;
  const config = redisTestConfig(prefix, {
    broker_transport_options: { global_keyprefix: prefix, visibility_timeout: visibility },
  });
  const open = async () => await createBroker(REDIS_URL, config) as RedisBroker;
  return { prefix, config, open };
}

Deno.test({
  name: "redis broker: kombu's keys, envelope, binding and unacked entry on the wire",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup();
    const broker = await open();
    const redis = rawRedis();
    try {
      const queue = directQueue("layout");
      const message = textMessage("five", { properties: { deliveryMode: 2, priority: 5 } });
      await broker.publish(message, { exchange: "", routingKey: "layout", queue });
      const members = await redis.smembers(`${prefix}_kombu.binding.layout`);
      assert.deepEqual(members, ["layout\x06\x16\x06\x16layout"]);
      const [raw] = await redis.lrange(`${prefix}layout\x06\x163`, 0, -1);
      const envelope = JSON.parse(raw);
      assert.equal(envelope["content-type"], "application/json");
      assert.equal(atob(envelope.body), JSON.stringify("five"));
      assert.deepEqual(envelope.properties.delivery_info, { exchange: "", routing_key: "layout" });
      assert.equal(envelope.properties.body_encoding, "base64");
      assert.match(envelope.properties.delivery_tag, /^[0-9a-f-]{36}$/);
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 1 }));
      const delivery = await reader.expect(5000, "the message");
      const tag = envelope.properties.delivery_tag;
      const entry = JSON.parse(await redis.hget(`${prefix}unacked`, tag) ?? "null");
      assert.deepEqual(entry, [envelope, "", "layout"]);
      const score = Number(await redis.zscore(`${prefix}unacked_index`, tag));
      assert.ok(Math.abs(score - Date.now() / 1000) < 5, `score ${score}`);
      await delivery.ack();
      assert.equal(await redis.hlen(`${prefix}unacked`), 0);
      assert.equal(await redis.zcard(`${prefix}unacked_index`), 0);
      await reader.cancel();
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "redis broker: a consumer killed with SIGKILL loses nothing; the message is restored",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup(1);
    const queue = directQueue(uniqueName("crash"));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./redis_hold_child.ts", import.meta.url).pathname,
        REDIS_URL,
        prefix,
        queue.name,
        "1",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const broker = await open();
    const redis = rawRedis();
    try {
      await publishTexts(broker, queue, ["crash"]);
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("held")) seen += (await lines.read()).value ?? "";
      child.kill("SIGKILL");
      await child.status;
      await lines.cancel();
      assert.equal(await redis.hlen(`${prefix}unacked`), 1, "the killed consumer's entry");
      assert.equal(await broker.messageCount(queue.name), 0);
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 1 }));
      const again = await reader.expect(6000, "the restored message");
      assert.equal(bodyText(again), "crash");
      assert.equal(again.redelivered, true);
      await again.ack();
      assert.equal(await redis.hlen(`${prefix}unacked`), 0);
      await reader.cancel();
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "redis broker: a message held past visibility_timeout is not restored while held",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup(1);
    const [holder, other] = [await open(), await open()];
    const redis = rawRedis();
    const queue = directQueue("long");
    try {
      await publishTexts(holder, queue, ["long task"]);
      const held = new DeliveryReader(holder.consume({ queues: [queue], prefetch: 1 }));
      const delivery = await held.expect(5000, "the long task");
      const tag = (await redis.hkeys(`${prefix}unacked`))[0];
      const firstScore = Number(await redis.zscore(`${prefix}unacked_index`, tag));
      const watcher = new DeliveryReader(other.consume({ queues: [queue], prefetch: 1 }));
      assert.equal(await watcher.next(2500), undefined, "restored while its consumer held it");
      const laterScore = Number(await redis.zscore(`${prefix}unacked_index`, tag));
      assert.ok(laterScore > firstScore + 1.5, `score refreshed: ${firstScore} → ${laterScore}`);
      await delivery.ack();
      assert.equal(await redis.hlen(`${prefix}unacked`), 0);
      assert.equal(await watcher.next(800), undefined, "delivered again after the ack");
      await held.cancel();
      await watcher.cancel();
    } finally {
      await holder.close();
      await other.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

const MALFORMED = [
  "not json at all",
  JSON.stringify({ body: "e30=", properties: {} }),
  JSON.stringify({ body: "e30=", properties: { delivery_tag: "t1" } }),
  JSON.stringify({
    body: "%%%",
    properties: {
      delivery_tag: crypto.randomUUID(),
      body_encoding: "base64",
      delivery_info: { exchange: "", routing_key: "bad" },
    },
  }),
];

Deno.test({
  name: "redis broker: malformed list elements go to <queue>.dead; nothing is lost or crashes",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup();
    const broker = await open();
    const redis = rawRedis();
    const queue: QueueSpec = directQueue("bad");
    const list = `${prefix}bad`;
    try {
      // Batch-pop path: elements already waiting, good ones between bad ones.
      await publishTexts(broker, queue, ["good 1"]);
      for (const raw of MALFORMED.slice(0, 2)) await redis.lpush(list, raw);
      await publishTexts(broker, queue, ["good 2"]);
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 10 }));
      const first = await reader.take(2, 5000);
      assert.deepEqual(first.map(bodyText), ["good 1", "good 2"]);
      // BRPOP path: elements pushed while the consumer waits.
      await sleep(100);
      for (const raw of MALFORMED.slice(2)) await redis.lpush(list, raw);
      await publishTexts(broker, queue, ["good 3"]);
      assert.equal(bodyText(await reader.expect(5000, "good 3")), "good 3");
      for (const delivery of first) await delivery.ack();
      await eventually(
        "all four malformed elements dead-lettered",
        async () => await redis.llen(`${prefix}bad.dead`) === 4,
      );
      assert.deepEqual(
        (await redis.lrange(`${prefix}bad.dead`, 0, -1)).sort(),
        [...MALFORMED].sort(),
      );
      assert.equal(await redis.llen(list), 0);
      assert.equal(await redis.hlen(`${prefix}unacked`), 1, "only good 3 is still unacked");
      await reader.cancel();
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "redis broker: fanout is kombu's pub/sub (PUBLISH /<db>.<exchange>) to live consumers",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup();
    const broker = await open();
    const exchange = uniqueName("bcast");
    const queues = ["a", "b"].map((n) => ({
      ...directQueue(`${exchange}.${n}`),
      exchange,
      exchangeType: "fanout" as const,
      routingKey: "",
    }));
    try {
      const readers = queues.map((q) =>
        new DeliveryReader(broker.consume({ queues: [q], prefetch: 0 }))
      );
      // Pub/sub reaches only subscribed consumers: publish until both have subscribed.
      const publishing = setInterval(() => {
        broker.publish(textMessage("to all"), { exchange, routingKey: "" }).catch(() => {});
      }, 100);
      let copies;
      try {
        copies = await Promise.all(readers.map((r, i) => r.expect(5000, `copy ${i}`)));
      } finally {
        clearInterval(publishing);
      }
      for (const [i, delivery] of copies.entries()) {
        assert.equal(bodyText(delivery), "to all");
        assert.equal(delivery.queue, queues[i].name);
        assert.equal(delivery.exchange, exchange);
        await delivery.ack();
      }
      for (const reader of readers) await reader.cancel();
    } finally {
      await broker.close();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "redis: an unreachable server is one BrokerConnectionError naming the masked URL",
  ignore: !available,
  fn: async () => {
    const url = "redis://:hunter2@127.0.0.1:1/3";
    const config = redisTestConfig(undefined, { broker_connection_timeout: 2 });
    for (const open of [createBroker, createResultBackend]) {
      await assert.rejects(() => open(url, config), (error: Error) => {
        assert.ok(error instanceof BrokerConnectionError, String(error));
        assert.match(error.message, /redis:\/\/:\*\*@127\.0\.0\.1:1\/3/);
        assert.match(error.message, /ECONNREFUSED/);
        assert.ok(!error.message.includes("hunter2"));
        return true;
      });
    }
  },
});

Deno.test({
  name: "redis broker: ack_emulation false keeps no unacked bookkeeping (kombu's option)",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("celeriac-redis-noack")}:`;
    const config = redisTestConfig(prefix, {
      broker_transport_options: { global_keyprefix: prefix, ack_emulation: false },
    });
    const broker = await createBroker(REDIS_URL, config);
    const redis = rawRedis();
    const queue = directQueue("noack");
    try {
      await publishTexts(broker, queue, ["one", "two"]);
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 1 }));
      const first = await reader.expect(5000, "one");
      assert.equal(await redis.exists(`${prefix}unacked`, `${prefix}unacked_index`), 0);
      await first.reject(true);
      const again = await reader.expect(5000, "two, then one requeued at the far end");
      assert.equal(bodyText(again), "two");
      await again.ack();
      const requeued = await reader.expect(5000, "one again");
      assert.equal(bodyText(requeued), "one");
      assert.equal(requeued.redelivered, true);
      await reader.cancel();
      await broker.close(); // still unsettled: put back on close
      assert.equal(await redis.llen(`${prefix}noack`), 1);
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name:
    "redis broker: acks made while the consumer waits to fetch more all reach Redis, at close too",
  ignore: !available,
  fn: async () => {
    // Under load the consumer lingers up to 1 ms for half its window to free before it
    // fetches again, while acks are being batched: none may be left behind.
    const { prefix, open } = setup();
    const broker = await open();
    const redis = rawRedis();
    const queue = directQueue("linger");
    const texts = Array.from({ length: 40 }, (_, i) => `m${i}`);
    try {
      await publishTexts(broker, queue, texts);
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 4 }));
      const seen: string[] = [];
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 30; i++) {
        const delivery = await reader.expect(5000, `delivery ${i}`);
        seen.push(bodyText(delivery));
        if (i % 3 === 0) await sleep(1); // sometimes the linger ends before the next ack
        acks.push(delivery.ack());
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tooLate = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("30 acks did not all complete within 5 s")),
          5000,
        );
      });
      await Promise.race([Promise.all(acks), tooLate]).finally(() => clearTimeout(timer));
      assert.deepEqual(seen, texts.slice(0, 30), "in order, each once");
      const held = await redis.hlen(`${prefix}unacked`);
      assert.ok(held <= 4, `only the window is unacked after 30 acks, not ${held}`);
      // Acked, not awaited, then closed at once: the ack still reaches Redis.
      const last = await reader.expect(5000, "delivery 30");
      void last.ack();
      await reader.cancel();
      await broker.close();
      assert.equal(await redis.hlen(`${prefix}unacked`), 0, "the rest was restored");
      const left = await redis.lrange(`${prefix}linger`, 0, -1);
      const bodies = left.map((raw) => atob(JSON.parse(raw).body)).map((b) => JSON.parse(b));
      assert.deepEqual(bodies.sort(), texts.slice(31).sort(), "all but the 31 acked are queued");
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "redis broker: acks made under load ride with the next batch pop, and every one lands",
  ignore: !available,
  fn: async () => {
    const { prefix, open } = setup();
    const broker = await open();
    const redis = rawRedis();
    const queue = directQueue(uniqueName("ride"));
    try {
      const texts = Array.from({ length: 40 }, (_, i) => `m${i}`);
      await publishTexts(broker, queue, texts);
      const commands: string[][] = [];
      // A connection of its own in MONITOR mode (what `redis.monitor()` makes), with its error
      // listener in place first: on a busy shared Redis, MONITOR lines that arrive just before
      // ioredis switches to monitoring, or after disconnect(), are read as replies to no command
      // and emitted as "Command queue state error" (an uncaught error without a listener).
      const monitor = redis.duplicate({ monitor: true, lazyConnect: false });
      monitor.on("error", () => {});
      await new Promise((resolve) => monitor.once("monitoring", resolve));
      monitor.on("monitor", (_time: string, args: string[]) => commands.push(args));
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 4 }));
      const seen: string[] = [];
      for (const _ of texts) {
        const delivery = await reader.expect(5000, `message ${seen.length}`);
        seen.push(bodyText(delivery));
        void delivery.ack(); // as a worker acks at a run's start, without waiting
      }
      await reader.cancel();
      assert.deepEqual(seen.toSorted(), texts.toSorted());
      await eventually("every ack", async () => await redis.hlen(`${prefix}unacked`) === 0);
      assert.equal(await redis.zcard(`${prefix}unacked_index`), 0);
      await monitor.disconnect();
      // A batch pop names its lists and the owner-set slot, then the tags it acks first.
      const pops = commands.filter((args) =>
        args[0].toLowerCase() === "evalsha" && args.includes(`${prefix}unacked`) &&
        args.some((arg) => arg.startsWith(`${prefix}${queue.name}`))
      );
      const carried = pops.filter((args) => {
        const keys = Number(args[2]);
        return args.length > 3 + keys + 4;
      });
      assert.ok(carried.length > 0, `no batch pop carried acks (${pops.length} pops)`);
    } finally {
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(prefix);
    }
  },
});
