/**
 * Fanout queues on Redis, as kombu does them (spec §4.7): a fanout exchange
 * is a pub/sub channel `/<db>.<exchange>[/<routing key>]`, and a consumer of
 * a fanout queue PSUBSCRIBEs to it. Only consumers subscribed when a message
 * is published receive it, and nothing is recorded in `unacked`: acking or
 * rejecting such a delivery does nothing.
 *
 * @module
 */

import { getLogger } from "../../log.ts";
import type { QueueSpec } from "../../broker/types.ts";
import { type DecodedEnvelope, decodeEnvelope, parseEnvelope } from "./envelope.ts";
import type { RedisConnection } from "./facade.ts";
import type { KombuKeys } from "./keys.ts";

const log = getLogger("redis");

/**
 * Subscribes `subscriber` to the channels of `queues` (all fanout) and calls
 * `deliver(queueName, decoded)` for each message, once per bound queue.
 */
export async function subscribeFanout(
  subscriber: RedisConnection,
  keys: KombuKeys,
  queues: QueueSpec[],
  deliver: (queue: string, decoded: DecodedEnvelope) => void,
): Promise<void> {
  subscriber.onMessage((channel, text) => {
    const exchange = keys.exchangeOfChannel(channel);
    const parsed = parseEnvelope(text);
    const decoded = typeof parsed === "string" ? parsed : decodeEnvelope(parsed);
    if (typeof decoded === "string") {
      const reason = decoded.replace(/^the element/, "it");
      log.warning(`Dropped a malformed fanout message on ${JSON.stringify(channel)}: ${reason}.`);
      return;
    }
    for (const queue of queues) if (queue.exchange === exchange) deliver(queue.name, decoded);
  });
  await subscriber.psubscribe(queues.map((q) => keys.fanoutSubscription(q.exchange, q.routingKey)));
}
