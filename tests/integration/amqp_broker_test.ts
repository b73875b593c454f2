/**
 * The RabbitMQ broker beyond the conformance suite: connection errors, URL
 * forms and vhosts, Celery's topology and queue arguments (checked against
 * what Python Celery declares), quorum queues, and recovering from a
 * connection the server closed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createBroker as resolveBroker } from "../../src/broker/resolve.ts";
import { AMQP_CAPABILITIES, createBroker } from "../../src/transports/amqp/broker.ts";
import type { Delivery, QueueSpec } from "../../src/broker/types.ts";
import { BrokerConnectionError } from "../../src/errors.ts";
import { DeliveryReader, eventually, textMessage } from "../conformance/suite_tools.ts";
import { runPythonClient } from "../interop/python/harness.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  AMQP_URL,
  amqpConfig,
  closeOwnConnections,
  deleteAmqpEntities,
  privateVhost,
  queueRow,
  rabbitmqctl,
} from "./amqp_helpers.ts";

const available = await serviceAvailable("rabbitmq");
const hostPort = new URL(AMQP_URL.replace(/^amqp/, "http")).host;
const decoder = new TextDecoder();

function directQueue(name: string, args: Record<string, unknown> = {}): QueueSpec {
  return {
    name,
    exchange: name,
    exchangeType: "direct",
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: args,
  };
}

async function expectConnectionError(url: string, cause: RegExp): Promise<void> {
  await assert.rejects(createBroker(url, amqpConfig()), (error: Error) => {
    assert.ok(error instanceof BrokerConnectionError, `${error.name}: ${error.message}`);
    assert.ok(!error.message.includes("s3cret"), `password shown: ${error.message}`);
    assert.match(error.message, /^Cannot connect to amqps?:\/\/[^ ]*\*\*@/);
    assert.match(error.message, cause);
    return true;
  });
}

Deno.test({
  name: "amqp: wrong password, unknown vhost, refused port and TLS mismatch give one clear error",
  ignore: !available,
  fn: async () => {
    await expectConnectionError(`amqp://guest:s3cret@${hostPort}//`, /login refused.*guest/);
    await expectConnectionError(
      `amqp://guest:guest@${hostPort}/no-such-vhost`,
      /virtual host "no-such-vhost" refused/,
    );
    await expectConnectionError("amqp://guest:s3cret@127.0.0.1:1//", /ECONNREFUSED|refused/);
    await expectConnectionError(
      `amqps://guest:s3cret@${hostPort}//`,
      /./,
    );
  },
});

Deno.test({
  name: "amqp: pyamqp:// alias, Celery's default URL and a named vhost",
  ignore: !available,
  fn: async () => {
    for (
      const url of [AMQP_URL.replace(/^amqp/, "pyamqp"), "amqp://guest:guest@localhost:5672//"]
    ) {
      const broker = await resolveBroker(url, amqpConfig());
      assert.equal(broker.capabilities, AMQP_CAPABILITIES);
      await broker.close();
    }
    const vhost = uniqueName("celeriac-vhost");
    await rabbitmqctl(["add_vhost", vhost]);
    try {
      await rabbitmqctl(["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]);
      const broker = await createBroker(`amqp://guest:guest@${hostPort}/${vhost}`, amqpConfig());
      try {
        const queue = directQueue("lafoglia");
        await broker.publish(textMessage("in a vhost"), {
          exchange: "",
          routingKey: "lafoglia",
          queue,
        });
        assert.equal(await broker.messageCount("lafoglia"), 1);
        const listing = await rabbitmqctl(["list_queues", "-p", vhost, "name", "messages"]);
        assert.match(listing, /^lafoglia\t1$/m);
      } finally {
        await broker.close();
      }
    } finally {
      await rabbitmqctl(["delete_vhost", vhost]);
    }
  },
});

Deno.test({
  name: "amqp: declarations equal Python Celery's (it redeclares them without PRECONDITION_FAILED)",
  ignore: !available,
  fn: async () => {
    const plain = uniqueName("topology-plain");
    const prio = uniqueName("topology-prio");
    const broker = await createBroker(AMQP_URL, amqpConfig({ task_queue_max_priority: 10 }));
    try {
      await broker.publish(textMessage("x"), {
        exchange: "",
        routingKey: prio,
        queue: directQueue(prio),
      });
      // Without task_queue_max_priority, Celery's queues have no arguments at all.
      const plainBroker = await createBroker(AMQP_URL, amqpConfig());
      await plainBroker.declareQueue(directQueue(plain));
      await plainBroker.close();
      assert.equal(await queueRow(plain), `${plain}\ttrue\tfalse\t[]`);
      assert.equal(await queueRow(prio), `${prio}\ttrue\tfalse\t[{"x-max-priority",10}]`);
      const bindings = await rabbitmqctl([
        "list_bindings",
        "source_name",
        "destination_name",
        "routing_key",
      ]);
      assert.match(bindings, new RegExp(`^${prio}\t${prio}\t${prio}$`, "m"));
      const exchanges = await rabbitmqctl([
        "list_exchanges",
        "name",
        "type",
        "durable",
        "auto_delete",
      ]);
      assert.match(exchanges, new RegExp(`^${prio}\tdirect\ttrue\tfalse$`, "m"));
      // Python declares the same entities before publishing; any difference is a 406 error.
      const env = { broker: AMQP_URL, backend: "", queue: prio, maxPriority: 10 };
      const sent = await runPythonClient({
        calls: [{ task: "interop.add", args: [1, 1], get: false, options: { priority: 5 } }],
      }, env);
      assert.equal(sent.calls.length, 1);
      await runPythonClient({ calls: [{ task: "interop.add", args: [1, 1], get: false }] }, {
        ...env,
        queue: plain,
        maxPriority: undefined,
      });
      assert.equal(await broker.messageCount(prio), 2);
      assert.equal(await broker.messageCount(plain), 1);
    } finally {
      await broker.close();
      await deleteAmqpEntities([plain, prio]);
    }
  },
});

Deno.test({
  name:
    "amqp: a quorum default queue is declared with x-queue-type and consumed with per-consumer QoS",
  ignore: !available,
  fn: async () => {
    const name = uniqueName("quorum");
    const config = amqpConfig({ task_default_queue: name, task_default_queue_type: "quorum" });
    const broker = await createBroker(AMQP_URL, config);
    const reader = broker.consume({ queues: [directQueue(name)], prefetch: 2 }).getReader();
    try {
      for (const text of ["q1", "q2", "q3"]) {
        await broker.publish(textMessage(text), {
          exchange: "",
          routingKey: name,
          queue: directQueue(name),
        });
      }
      assert.match(String(await queueRow(name)), /\{"x-queue-type",<<"quorum">>\}|quorum/);
      const first = await reader.read();
      const second = await reader.read();
      assert.deepEqual(
        [first.value, second.value].map((d) => JSON.parse(decoder.decode(d!.message.body))),
        ["q1", "q2"],
      );
      await first.value!.ack();
      const third = await reader.read();
      assert.equal(JSON.parse(decoder.decode(third.value!.message.body)), "q3");
      await second.value!.ack();
      await third.value!.ack();
    } finally {
      await reader.cancel();
      await broker.close();
      await deleteAmqpEntities([name]);
    }
  },
});

Deno.test({
  name: "amqp: publishing to a missing exchange fails at once with the AMQP reason",
  ignore: !available,
  fn: async () => {
    const broker = await createBroker(AMQP_URL, amqpConfig());
    try {
      const started = Date.now();
      await assert.rejects(
        broker.publish(textMessage("x"), { exchange: uniqueName("missing-x"), routingKey: "k" }),
        (error: Error) => error instanceof BrokerConnectionError && /NOT_FOUND/.test(error.message),
      );
      assert.ok(Date.now() - started < 2000);
      await broker.publish(textMessage("after"), { exchange: "", routingKey: "nowhere" });
    } finally {
      await broker.close();
    }
  },
});

Deno.test({
  name: "amqp: after the server closes the connection, consuming resumes and publishing works",
  ignore: !available,
  fn: async () => {
    const name = uniqueName("reconnect");
    const queue = directQueue(name);
    await using place = await privateVhost(); // cut only this test's connections
    const broker = await createBroker(place.url, amqpConfig({ broker_url: place.url }));
    const reader = broker.consume({ queues: [queue], prefetch: 10 }).getReader();
    try {
      await broker.publish(textMessage("before"), { exchange: "", routingKey: name, queue });
      const before = (await reader.read()).value!;
      assert.equal(before.redelivered, false);
      assert.ok(await closeOwnConnections(undefined, place.vhost) >= 1);
      // Settling a delivery of the lost channel is a no-op; the broker redelivers it.
      await before.ack();
      await broker.publish(textMessage("after"), { exchange: "", routingKey: name, queue });
      const again = (await reader.read()).value!;
      assert.equal(JSON.parse(decoder.decode(again.message.body)), "before");
      assert.equal(again.redelivered, true);
      await again.ack();
      const after = (await reader.read()).value!;
      assert.equal(JSON.parse(decoder.decode(after.message.body)), "after");
      await after.ack();
    } finally {
      await reader.cancel();
      await broker.close();
      await deleteAmqpEntities([name]);
    }
  },
});

/** The `basic.qos` RabbitMQ holds for this vhost's channels: `[consumer, global]` per channel with a consumer. */
async function qosOfChannels(vhost: string): Promise<[number, number][]> {
  const listing = await rabbitmqctl([
    "list_channels",
    "vhost",
    "consumer_count",
    "prefetch_count",
    "global_prefetch_count",
  ]);
  return listing.split("\n").map((line) => line.split("\t"))
    .filter((row) => row[0] === vhost && Number(row[1]) > 0)
    .map((row) => [Number(row[2]), Number(row[3])]);
}

/** The body text of a delivery of `textMessage`. */
function bodyOf(delivery: Delivery): string {
  return JSON.parse(decoder.decode(delivery.message.body));
}

/**
 * Publishes `texts` to a new queue on a private vhost (so `qosOfChannels` and
 * `closeOwnConnections` see only this test's channels), consumes it with
 * prefetch 2 and runs `steps`; every message must be settled by the end.
 */
async function withWindowQueue(
  label: string,
  texts: string[],
  steps: (reader: DeliveryReader, vhost: string) => Promise<void>,
): Promise<void> {
  const name = uniqueName(label);
  const queue = directQueue(name);
  await using place = await privateVhost();
  const broker = await createBroker(place.url, amqpConfig({ broker_url: place.url }));
  const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 2 }));
  try {
    for (const text of texts) {
      await broker.publish(textMessage(text), { exchange: "", routingKey: name, queue });
    }
    await steps(reader, place.vhost);
    assert.equal(await broker.messageCount(name), 0);
  } finally {
    await reader.cancel();
    await broker.close();
  }
}

Deno.test({
  name: "amqp: one queue takes a per-consumer window; the first held delivery moves it to a " +
    "global limit on a new channel, prefetch + exempt − what the old channel still counts",
  ignore: !available,
  fn: () =>
    withWindowQueue("window", ["m1", "m2", "m3", "m4", "m5", "m6"], async (reader, vhost) => {
      const [m1, m2] = [await reader.expect(5000, "m1"), await reader.expect(5000, "m2")];
      assert.equal(await reader.next(300), undefined, "a 3rd delivery with prefetch 2");
      assert.deepEqual(await qosOfChannels(vhost), [[2, 0]]);

      m1.hold!(); // the old channel: m1 exempt, m2 counted; the new one may have 2 + 0 − 1
      const m3 = await reader.expect(5000, "m3, on the new channel");
      assert.equal(await reader.next(300), undefined, "the window is 2: m2 and m3 are counted");
      await eventually("the new channel's global limit", async () => {
        const rows = await qosOfChannels(vhost);
        return rows.length === 1 && rows[0][1] === 1;
      });

      await m2.ack(); // the old channel counts nothing now: the limit rises to 2
      const m4 = await reader.expect(5000, "m4 once m2 is settled");
      assert.equal(await reader.next(300), undefined, "m3 and m4 fill the window");
      m3.hold!(); // exempt on the new channel: one more
      const m5 = await reader.expect(5000, "m5 once m3 is held");
      assert.equal(await reader.next(300), undefined, "holding one freed more than one slot");
      await m1.ack(); // settling an exempt delivery frees nothing
      assert.equal(await reader.next(300), undefined, "settling an exempt delivery freed a slot");
      await m4.ack();
      const m6 = await reader.expect(5000, "m6 once m4 is settled");
      assert.deepEqual([m3, m4, m5, m6].map(bodyOf), ["m3", "m4", "m5", "m6"]);
      for (const delivery of [m3, m5, m6]) await delivery.ack();
    }),
});

Deno.test({
  name: "amqp: a connection lost while a channel retires: its deliveries come back and the next " +
    "channel takes a per-consumer window again",
  ignore: !available,
  fn: () =>
    withWindowQueue("window-lost", ["m1", "m2", "m3", "m4"], async (reader, vhost) => {
      const m1 = await reader.expect(5000, "m1");
      await reader.expect(5000, "m2");
      m1.hold!(); // retires the channel; m3 comes on the next one
      const m3 = await reader.expect(5000, "m3, on the new channel");
      assert.ok(await closeOwnConnections(undefined, vhost) >= 1);
      await eventually(
        "the deliveries of both channels lost",
        () => m1.lost!.aborted && m3.lost!.aborted,
      );
      const again = await reader.take(2, 10_000);
      // Requeued m1, m2 and m3 are ahead of m4; which two come first is the broker's order.
      assert.ok(again.every((delivery) => delivery.redelivered && bodyOf(delivery) !== "m4"));
      assert.equal(await reader.next(300), undefined, "a 3rd delivery with prefetch 2");
      assert.deepEqual(await qosOfChannels(vhost), [[2, 0]]);
      for (const delivery of again) await delivery.ack();
      const rest = await reader.take(2, 5000);
      for (const delivery of rest) await delivery.ack();
      assert.deepEqual([...again, ...rest].map(bodyOf).sort(), ["m1", "m2", "m3", "m4"]);
    }),
});
