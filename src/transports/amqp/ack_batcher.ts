/**
 * Sends a channel's acknowledgements together. Deliveries are acked one by
 * one by the worker (as each task starts); the batcher waits for the end of
 * the current event-loop turn and then acknowledges the longest run of
 * consecutive outstanding deliveries with one `basic.ack` (`multiple`),
 * and any other acked delivery on its own. RabbitMQ then handles one frame
 * instead of several and refills the prefetch window in bursts, which is
 * most of its cost per task with Celery's small default window.
 *
 * `multiple` acknowledges every outstanding delivery up to the tag, so the
 * batcher tracks exactly what the broker counts as outstanding on the
 * channel (every delivery, until acked or rejected) and never covers a
 * delivery that is not acked: a reserved task or an ETA task held back
 * stays unacknowledged. Rejections go out at once.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** The two channel calls the batcher makes (amqplib's `Channel`). */
export interface AckChannel {
  /** `basic.ack`; with `allUpTo`, `multiple` is set. */
  ack(message: { fields: { deliveryTag: number } }, allUpTo?: boolean): void;
  /** `basic.reject`. */
  reject(message: { fields: { deliveryTag: number } }, requeue?: boolean): void;
}

/** Acknowledgements of one channel, sent at the end of each turn. */
export class AckBatcher {
  readonly #channel: AckChannel;
  /** Delivery tags delivered and not settled, in delivery (ascending) order. */
  readonly #outstanding = new Set<number>();
  /** Outstanding tags acked by the worker, not sent yet. */
  readonly #acked = new Set<number>();
  #scheduled = false;
  #closed = false;

  /** Batches acknowledgements sent on `channel`. */
  constructor(channel: AckChannel) {
    this.#channel = channel;
  }

  /** A delivery arrived: it is outstanding until acked or rejected. */
  delivered(tag: number): void {
    this.#outstanding.add(tag);
  }

  /** Acknowledges `tag` at the end of this turn (with its neighbours). */
  ack(tag: number): void {
    if (this.#closed || !this.#outstanding.has(tag)) return;
    this.#acked.add(tag);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Rejects `tag` now (acks already made stay batched; frames keep their order). */
  reject(tag: number, requeue: boolean): void {
    if (this.#closed || !this.#outstanding.delete(tag)) return;
    this.#channel.reject({ fields: { deliveryTag: tag } }, requeue);
  }

  /** Sends the pending acknowledgements now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#acked.size === 0) return;
    let upTo = -1;
    let covered = 0;
    for (const tag of this.#outstanding) {
      if (!this.#acked.has(tag)) break;
      upTo = tag;
      covered++;
    }
    if (covered > 1) {
      this.#channel.ack({ fields: { deliveryTag: upTo } }, true);
      for (const tag of this.#outstanding) {
        if (tag > upTo) break;
        this.#outstanding.delete(tag);
        this.#acked.delete(tag);
      }
    }
    for (const tag of this.#acked) {
      this.#channel.ack({ fields: { deliveryTag: tag } });
      this.#outstanding.delete(tag);
    }
    this.#acked.clear();
  }

  /** The channel closed: nothing more can be sent (the broker redelivers what was outstanding). */
  close(): void {
    this.#closed = true;
    this.#outstanding.clear();
    this.#acked.clear();
  }
}
