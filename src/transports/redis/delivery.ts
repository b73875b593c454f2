/**
 * One message handed out by the Redis consumer, settled once.
 *
 * @module
 */

import type { Delivery, WireMessage } from "../../broker/types.ts";

/** What settling does; the consumer supplies it. */
export interface SettleActions {
  /** Removes the message (kombu: ZREM + HDEL). */
  ack(): Promise<void>;
  /** Puts it back at the far end of its list with the redelivered flags (kombu: LPUSH). */
  requeue(): Promise<void>;
  /** Stops counting it against prefetch until settled (`Delivery.hold`). */
  hold?(): void;
}

/** A delivery from a Redis list or a fanout channel. */
export class RedisDelivery implements Delivery {
  /** The message. */
  readonly message: WireMessage;
  /** `delivery_info.exchange`. */
  readonly exchange: string;
  /** `delivery_info.routing_key`. */
  readonly routingKey: string;
  /** The queue it was consumed from. */
  readonly queue: string;
  /** kombu marked it redelivered. */
  readonly redelivered: boolean;
  readonly #actions: SettleActions;
  #settled?: Promise<void>;

  /** Creates a delivery; settling runs `actions` once. */
  constructor(
    fields: Pick<Delivery, "message" | "exchange" | "routingKey" | "queue" | "redelivered">,
    actions: SettleActions,
  ) {
    this.message = fields.message;
    this.exchange = fields.exchange;
    this.routingKey = fields.routingKey;
    this.queue = fields.queue;
    this.redelivered = fields.redelivered;
    this.#actions = actions;
  }

  /** Removes the message from Redis. A second settle returns the first one's promise. */
  ack(): Promise<void> {
    this.#settled ??= this.#actions.ack();
    return this.#settled;
  }

  /** Keeps it unsettled without holding a prefetch slot (the ledger keeps it visible). */
  hold(): void {
    if (!this.#settled) this.#actions.hold?.();
  }

  /** `requeue`: back on its queue, redelivered; otherwise dropped, as kombu does. */
  reject(requeue: boolean): Promise<void> {
    this.#settled ??= requeue ? this.#actions.requeue() : this.#actions.ack();
    return this.#settled;
  }
}
