/**
 * The capability-dependent part of the broker conformance suite: priorities,
 * delayed delivery, fanout, and a bulk run that checks nothing is lost or
 * duplicated.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BrokerCapabilities } from "../../src/broker/types.ts";
import type { BrokerConformanceOptions, BrokerHarness } from "./broker_harness.ts";
import { bodyText, publishTexts, targetOf, textMessage } from "./suite_tools.ts";

type Define = (
  name: string,
  body: (harness: BrokerHarness) => Promise<void>,
  needs?: (capabilities: BrokerCapabilities) => boolean,
) => void;

/** Registers the priority, delay, fanout and bulk tests. */
export function registerFeatureTests(define: Define, options: BrokerConformanceOptions): void {
  define("priorities follow capabilities.priorities", async (h) => {
    const broker = await h.open();
    const mode = broker.capabilities.priorities;
    const levels = options.priorityLevels ?? [0, 3, 6, 9];
    const queue = h.queue("priority", options.priorityQueueArguments ?? { "x-max-priority": 9 });
    // Publish in a scrambled order, two messages per level, before anyone consumes.
    const order = [1, 3, 0, 2].map((i) => levels[i % levels.length]);
    for (const round of ["a", "b"]) {
      for (const priority of order) {
        const message = textMessage(`${priority}${round}`, {
          properties: { deliveryMode: 2, priority },
        });
        await broker.publish(message, targetOf(queue));
      }
    }
    const sorted = [...new Set(order)].sort((a, b) => mode === "higher-first" ? b - a : a - b);
    const expected = sorted.flatMap((p) => [`${p}a`, `${p}b`]);
    const reader = h.consume(broker, [queue], 1);
    const got: string[] = [];
    for (const _ of expected) {
      const delivery = await reader.expect(5000, `message ${got.length}`);
      got.push(bodyText(delivery));
      await delivery.ack();
    }
    assert.deepEqual(got, expected, `${mode} order, FIFO within one priority`);
  }, (capabilities) => capabilities.priorities !== "none");

  define("deliverAt is honoured when capabilities.delayedDelivery", async (h) => {
    const broker = await h.open();
    const queue = h.queue("delayed");
    const deliverAt = new Date(Date.now() + 800);
    await broker.publish(textMessage("later"), targetOf(queue, { deliverAt }));
    await broker.publish(textMessage("now"), targetOf(queue));
    const reader = h.consume(broker, [queue], 0);
    const now = await reader.expect(3000, "the undelayed message");
    assert.equal(bodyText(now), "now");
    await now.ack();
    const later = await reader.expect(5000, "the delayed message");
    const arrivedAt = Date.now();
    assert.equal(bodyText(later), "later");
    assert.ok(
      arrivedAt >= deliverAt.getTime() - 5,
      `delivered ${deliverAt.getTime() - arrivedAt} ms before deliverAt`,
    );
    await later.ack();
  }, (capabilities) => capabilities.delayedDelivery);

  define(
    "fanout exchanges copy a message to every bound queue (when capabilities.fanout)",
    async (h) => {
      const broker = await h.open();
      const exchange = `${h.queue("fanout-x").name}`;
      const queues = [h.queue("fanout-a"), h.queue("fanout-b")].map((q) => ({
        ...q,
        exchange,
        exchangeType: "fanout" as const,
      }));
      for (const queue of queues) await broker.declareQueue(queue);
      await broker.publish(textMessage("to all"), { exchange, routingKey: "ignored" });
      for (const queue of queues) {
        const delivery = await h.consume(broker, [queue], 1).expect(5000, `copy in ${queue.name}`);
        assert.equal(bodyText(delivery), "to all");
        assert.equal(delivery.queue, queue.name);
        assert.equal(delivery.exchange, exchange);
        await delivery.ack();
      }
    },
    (capabilities) => capabilities.fanout,
  );

  const many = options.manyMessages ?? 2000;
  define(`${many} messages: none lost, none duplicated`, async (h) => {
    const broker = await h.open();
    const queue = h.queue("many");
    await broker.declareQueue(queue);
    const texts = Array.from({ length: many }, (_, i) => `n${i}`);
    for (let i = 0; i < texts.length; i += 200) {
      await Promise.all(
        texts.slice(i, i + 200).map((t) => broker.publish(textMessage(t), targetOf(queue))),
      );
    }
    const reader = h.consume(broker, [queue], 100);
    const seen = new Set<string>();
    const acks: Promise<void>[] = [];
    const deadline = Date.now() + 60_000;
    while (seen.size < many) {
      const delivery = await reader.expect(deadline - Date.now(), `message ${seen.size + 1}`);
      const text = bodyText(delivery);
      assert.ok(!seen.has(text), `${text} was delivered twice`);
      seen.add(text);
      acks.push(delivery.ack());
    }
    await Promise.all(acks);
    assert.equal(seen.size, many);
    assert.equal(await reader.next(300), undefined, "an extra delivery after all were acked");
    await publishTexts(broker, queue, ["tail"]);
    assert.equal(bodyText(await reader.expect(5000, "a message published afterwards")), "tail");
  });
}
