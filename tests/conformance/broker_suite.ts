/**
 * The broker conformance suite: the behaviour every Broker adapter (memory,
 * SQLite, Redis, RabbitMQ) must show. An adapter's test file calls
 * `brokerConformance("name", capabilities, open)`; a test of priorities,
 * delays or fanout runs only where the adapter's `capabilities` constant
 * declares it, and is reported ignored elsewhere.
 *
 * ```ts ignore
 * brokerConformance("memory", MEMORY_BROKER_CAPABILITIES, () =>
 *   createBroker(`memory://${uniqueName("m")}`, DEFAULT_SETTINGS));
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Broker, BrokerCapabilities, WireMessage } from "../../src/broker/types.ts";
import { type BrokerConformanceOptions, BrokerHarness } from "./broker_harness.ts";
import { registerFeatureTests } from "./broker_suite_features.ts";
import { bodyText, eventually, publishTexts, targetOf } from "./suite_tools.ts";

export type { BrokerConformanceOptions } from "./broker_harness.ts";

/** A test body: gets a harness that cleans up after it. */
export type BrokerTestBody = (harness: BrokerHarness) => Promise<void>;

/** A declared capability a test needs (the test is `ignore`d on an adapter without it). */
export type BrokerNeed = (capabilities: BrokerCapabilities) => boolean;

/** Registers a test; `needs` names a capability the adapter must declare, or it is ignored. */
export type DefineBrokerTest = (name: string, body: BrokerTestBody, needs?: BrokerNeed) => void;

/**
 * Registers every broker conformance test for one adapter. `capabilities` is
 * what the adapter declares (its exported constant): a test of a capability
 * it lacks is registered as ignored, so a run shows it ignored, not passed.
 */
export function brokerConformance(
  adapterName: string,
  capabilities: BrokerCapabilities,
  open: () => Promise<Broker>,
  options: BrokerConformanceOptions = {},
): void {
  const define: DefineBrokerTest = (name, body, needs) => {
    Deno.test({
      name: `${adapterName} broker conformance: ${name}`,
      ignore: (options.ignore ?? false) || (needs !== undefined && !needs(capabilities)),
      sanitizeResources: options.sanitizeResources ?? true,
      sanitizeOps: options.sanitizeOps ?? true,
      fn: async () => {
        const harness = new BrokerHarness(open, options);
        try {
          await body(harness);
        } finally {
          await harness.cleanup();
        }
      },
    });
  };
  registerCoreTests(define, options);
  registerFeatureTests(define, options);
  define("the opened broker declares the capabilities the suite was given", async (h) => {
    const broker = await h.open();
    assert.deepEqual({ ...broker.capabilities }, { ...capabilities });
  });
}

function registerCoreTests(
  define: DefineBrokerTest,
  options: BrokerConformanceOptions,
): void {
  define("publish → consume keeps headers, properties and body bytes exactly", async (h) => {
    const broker = await h.open();
    const queue = h.queue("roundtrip");
    const body = new Uint8Array(256).map((_, i) => i);
    const sent: WireMessage = {
      headers: {
        lang: "py",
        task: "proj.tasks.add",
        id: crypto.randomUUID(),
        eta: null,
        retries: 0,
        timelimit: [null, null],
        argsrepr: "(2, 2)",
        ignore_result: false,
        stamps: { "ünïcode": "✓ ok", nested: [1, "two", true] },
      },
      properties: { correlationId: crypto.randomUUID(), replyTo: "reply.q", deliveryMode: 2 },
      contentType: "application/octet-stream",
      contentEncoding: "binary",
      body,
    };
    await broker.declareQueue(queue);
    await broker.publish(sent, { exchange: "", routingKey: queue.name });
    await broker.publish({ ...sent, body: body.slice(10, 20) }, targetOf(queue));
    const reader = h.consume(broker, [queue], 10);
    for (const [exchange, bytes] of [["", body], [queue.exchange, body.slice(10, 20)]] as const) {
      const delivery = await reader.expect(5000, `the message sent through "${exchange}"`);
      assert.deepEqual(delivery.message.headers, sent.headers);
      for (const [key, value] of Object.entries(sent.properties)) {
        assert.deepEqual(delivery.message.properties[key as keyof typeof sent.properties], value);
      }
      assert.equal(delivery.message.contentType, sent.contentType);
      assert.equal(delivery.message.contentEncoding, sent.contentEncoding);
      assert.deepEqual(new Uint8Array(delivery.message.body), bytes);
      assert.equal(delivery.exchange, exchange);
      assert.equal(delivery.routingKey, queue.name);
      assert.equal(delivery.queue, queue.name);
      assert.equal(delivery.redelivered, false);
      await delivery.ack();
    }
  });

  define("FIFO order within a queue", async (h) => {
    const broker = await h.open();
    const queue = h.queue("fifo");
    const texts = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await publishTexts(broker, queue, texts);
    const reader = h.consume(broker, [queue], 4);
    const got: string[] = [];
    for (const _ of texts) {
      const delivery = await reader.expect(5000, `message ${got.length}`);
      got.push(bodyText(delivery));
      await delivery.ack();
    }
    assert.deepEqual(got, texts);
  });

  define("ack removes the message", async (h) => {
    const broker = await h.open();
    const queue = h.queue("ack");
    await publishTexts(broker, queue, ["only"]);
    const reader = h.consume(broker, [queue], 1);
    await (await reader.expect(5000, "the message")).ack();
    await reader.cancel();
    await broker.close();
    const again = await h.open();
    assert.equal(await again.messageCount(queue.name), 0);
    const second = h.consume(again, [queue], 1);
    assert.equal(await second.next(500), undefined, "an acked message came back");
  });

  define("reject(true) redelivers with redelivered=true", async (h) => {
    const broker = await h.open();
    const queue = h.queue("requeue");
    await publishTexts(broker, queue, ["again"]);
    const reader = h.consume(broker, [queue], 1);
    const first = await reader.expect(5000, "the message");
    assert.equal(first.redelivered, false);
    await first.reject(true);
    const second = await reader.expect(5000, "the requeued message");
    assert.equal(bodyText(second), "again");
    assert.equal(second.redelivered, true);
    assert.deepEqual(second.message.headers, first.message.headers);
    await second.ack();
  });

  define("reject(false) drops the message", async (h) => {
    const broker = await h.open();
    const queue = h.queue("drop");
    await publishTexts(broker, queue, ["dropped", "kept"]);
    const reader = h.consume(broker, [queue], 1);
    const first = await reader.expect(5000, "the first message");
    assert.equal(bodyText(first), "dropped");
    await first.reject(false);
    const second = await reader.expect(5000, "the second message");
    assert.equal(bodyText(second), "kept");
    await second.ack();
    assert.equal(await reader.next(500), undefined, "a rejected message came back");
    assert.equal(await broker.messageCount(queue.name), 0);
  });

  define("prefetch: never more unsettled deliveries than prefetch", async (h) => {
    const broker = await h.open();
    const queue = h.queue("prefetch");
    await publishTexts(broker, queue, Array.from({ length: 8 }, (_, i) => `p${i}`));
    const reader = h.consume(broker, [queue], 3);
    const held = await reader.take(3, 5000);
    assert.equal(await reader.next(400), undefined, "a 4th delivery arrived with prefetch 3");
    await held[0].ack();
    await held[1].reject(false);
    const more = await reader.take(2, 5000);
    assert.equal(await reader.next(400), undefined, "more than prefetch after settling two");
    for (const delivery of [held[2], ...more]) await delivery.ack();
    assert.equal((await reader.take(3, 5000)).length, 3);
  });

  define("hold(): an exempt delivery frees its prefetch slot until settled", async (h) => {
    const broker = await h.open();
    const queue = h.queue("exempt");
    await publishTexts(broker, queue, ["e0", "e1", "e2", "e3"]);
    const reader = h.consume(broker, [queue], 1);
    const first = await reader.expect(5000, "the first message");
    assert.equal(await reader.next(400), undefined, "a 2nd delivery arrived with prefetch 1");
    assert.ok(first.hold, "every adapter implements Delivery.hold");
    first.hold();
    const second = await reader.expect(5000, "a 2nd delivery once the 1st is exempt");
    assert.equal(await reader.next(400), undefined, "exempting one freed more than one slot");
    first.hold(); // a second hold changes nothing
    assert.equal(await reader.next(300), undefined, "holding twice freed another slot");
    await first.ack(); // settling the exempt one frees nothing either
    assert.equal(await reader.next(300), undefined, "settling an exempt delivery freed a slot");
    await second.ack();
    const third = await reader.expect(5000, "a 3rd delivery once the 2nd is settled");
    await third.ack();
    await (await reader.expect(5000, "the last message")).ack();
  });

  define("a delivery settles once: a second ack or reject does nothing", async (h) => {
    const broker = await h.open();
    const queue = h.queue("once");
    await publishTexts(broker, queue, ["s0", "s1"]);
    const reader = h.consume(broker, [queue], 1);
    const first = await reader.expect(5000, "the first message");
    await first.ack();
    await first.reject(true); // must not put it back
    await first.ack();
    const second = await reader.expect(5000, "the second message");
    assert.equal(bodyText(second), "s1");
    assert.equal(await reader.next(400), undefined, "a 3rd delivery with prefetch 1");
    await second.reject(true);
    await second.ack(); // the requeue stands
    const again = await reader.expect(5000, "the requeued message back");
    assert.equal(bodyText(again), "s1");
    await again.ack();
    assert.equal(await reader.next(400), undefined, "a settled message came back");
  });

  define("consuming several queues at once", async (h) => {
    const broker = await h.open();
    const queues = [h.queue("multi-a"), h.queue("multi-b")];
    for (const queue of queues) {
      await publishTexts(broker, queue, [1, 2, 3].map((i) => `${queue.name}/${i}`));
    }
    const reader = h.consume(broker, queues, 0);
    const got = await reader.take(6, 5000);
    for (const delivery of got) {
      assert.equal(bodyText(delivery).split("/")[0], delivery.queue);
      await delivery.ack();
    }
    const names = got.map((d) => bodyText(d)).sort();
    assert.deepEqual(names, queues.flatMap((q) => [1, 2, 3].map((i) => `${q.name}/${i}`)).sort());
  });

  define("messageCount and purge", async (h) => {
    const broker = await h.open();
    const queue = h.queue("count");
    await broker.declareQueue(queue);
    assert.equal(await broker.messageCount(queue.name), 0);
    await publishTexts(broker, queue, ["a", "b", "c", "d", "e"]);
    await eventually("messageCount = 5", async () => await broker.messageCount(queue.name) === 5);
    assert.equal(await broker.purge(queue.name), 5);
    assert.equal(await broker.messageCount(queue.name), 0);
    const reader = h.consume(broker, [queue], 1);
    assert.equal(await reader.next(300), undefined, "a purged message was delivered");
  });

  define("a message unacked when its broker closes comes back redelivered", async (h) => {
    const first = await h.open();
    const queue = h.queue("unacked");
    await publishTexts(first, queue, ["held"]);
    const reader = h.consume(first, [queue], 1);
    const held = await reader.expect(5000, "the message");
    assert.equal(held.redelivered, false);
    await first.close();
    const second = await h.open();
    const timeout = options.redeliveryTimeoutMs ?? 10_000;
    const again = await h.consume(second, [queue], 1).expect(timeout, "the unacked message back");
    assert.equal(bodyText(again), "held");
    assert.equal(again.redelivered, true);
    await again.ack();
  });

  define("cancelling the stream stops deliveries; held ones can still be settled", async (h) => {
    const broker = await h.open();
    const queue = h.queue("cancel");
    await publishTexts(broker, queue, ["c0", "c1", "c2", "c3", "c4"]);
    const reader = h.consume(broker, [queue], 3);
    const held = await reader.take(2, 5000);
    await reader.cancel();
    await held[0].ack();
    await held[1].reject(false);
    await eventually(
      "the 3 messages not handed out are ready again",
      async () => await broker.messageCount(queue.name) === 3,
    );
    const next = h.consume(broker, [queue], 0);
    const rest = (await next.take(3, 5000)).map((d) => bodyText(d));
    assert.deepEqual(rest.sort(), ["c2", "c3", "c4"]);
  });
}
