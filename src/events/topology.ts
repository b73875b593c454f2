/**
 * Where events travel (spec §2.1, §2.2, §2.7): the `celeryev` exchange, a
 * durable topic exchange on RabbitMQ and a fanout (pub/sub channel
 * `/<db>.celeryev/<routing key>`) on Redis, and the queue a receiver binds
 * to it.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/settings.ts";
import type { ExchangeSpec, QueueSpec } from "../broker/types.ts";

/** True for a broker URL whose transport makes the events exchange a fanout (Redis). */
export function fanoutEvents(brokerUrl: string): boolean {
  return /^(redis|rediss|sentinel|redis\+socket):/i.test(brokerUrl);
}

/**
 * The events exchange for a broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventExchange } from "./topology.ts";
 * const config = { event_exchange: "celeryev" } as Parameters<typeof eventExchange>[0];
 * assert.equal(eventExchange(config, "amqp://localhost//").type, "topic");
 * assert.equal(eventExchange(config, "redis://localhost/0").type, "fanout");
 * ```
 */
export function eventExchange(
  config: Pick<ResolvedConfig, "event_exchange">,
  brokerUrl: string,
): ExchangeSpec {
  return {
    name: config.event_exchange,
    type: fanoutEvents(brokerUrl) ? "fanout" : "topic",
    durable: true,
  };
}

/** A receiver's own queue `celeryev.<uuid>`, bound with `bindingKey` (default `#`: every event). */
export function receiverQueue(
  config: Pick<
    ResolvedConfig,
    "event_exchange" | "event_queue_prefix" | "event_queue_ttl" | "event_queue_expires"
  >,
  brokerUrl: string,
  bindingKey = "#",
): QueueSpec {
  const exchange = eventExchange(config, brokerUrl);
  return {
    name: `${config.event_queue_prefix}.${crypto.randomUUID()}`,
    exchange: exchange.name,
    exchangeType: exchange.type,
    routingKey: bindingKey,
    durable: false,
    autoDelete: true,
    arguments: {
      "x-message-ttl": Math.round(config.event_queue_ttl * 1000),
      "x-expires": Math.round(config.event_queue_expires * 1000),
    },
  };
}
