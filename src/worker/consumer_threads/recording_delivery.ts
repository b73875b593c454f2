/**
 * A delivery as a consumer thread hands it to its task handler: the same
 * delivery, which also records the task id in the thread's settled ring
 * when the message is acked or dropped (see `settled_ring.ts`).
 *
 * @module
 */

import type { Delivery, WireMessage } from "../../broker/types.ts";
import type { SettledRing } from "./settled_ring.ts";

/** Wraps `inner`; its final settle is recorded in `ring`. */
export class RecordingDelivery implements Delivery {
  readonly #inner: Delivery;
  readonly #ring: SettledRing;

  /** Wraps a delivery of the thread's broker. */
  constructor(inner: Delivery, ring: SettledRing) {
    this.#inner = inner;
    this.#ring = ring;
  }

  /** The message. */
  get message(): WireMessage {
    return this.#inner.message;
  }

  /** Exchange it was published to. */
  get exchange(): string {
    return this.#inner.exchange;
  }

  /** Routing key it was published with. */
  get routingKey(): string {
    return this.#inner.routingKey;
  }

  /** Queue it came from. */
  get queue(): string {
    return this.#inner.queue;
  }

  /** Whether the broker delivered it before. */
  get redelivered(): boolean {
    return this.#inner.redelivered;
  }

  /** Aborts when it can no longer be settled. */
  get lost(): AbortSignal | undefined {
    return this.#inner.lost;
  }

  /** Exempts it from the prefetch window, when the transport can. */
  hold(): void {
    this.#inner.hold?.();
  }

  /** Acks it, and records its task id. */
  ack(): Promise<void> {
    this.#record();
    return this.#inner.ack();
  }

  /** Rejects it; a drop (no requeue) is recorded, a requeue is not (it must run again). */
  reject(requeue: boolean): Promise<void> {
    if (!requeue) this.#record(true);
    return this.#inner.reject(requeue);
  }

  #record(dropped = false): void {
    const id = this.#inner.message?.headers?.id;
    if (typeof id === "string") this.#ring.record(id, dropped);
  }
}
