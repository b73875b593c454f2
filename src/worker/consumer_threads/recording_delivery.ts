/**
 * A delivery as a consumer thread hands it to its task handler: the same
 * delivery, which records the task id in the thread's settled ring once the
 * handler is done with it, if it was acked or dropped (see
 * `settled_ring.ts`). Not at the ack itself: an early ack comes before the
 * run, and a run whose result is not stored yet must run again if its
 * message comes back, not be taken as settled.
 *
 * @module
 */

import type { Delivery, WireMessage } from "../../broker/types.ts";
import { runKey } from "./messages.ts";
import type { SettledRing } from "./settled_ring.ts";

/** Wraps `inner`; its final settle is recorded in `ring` by `handled()`. */
export class RecordingDelivery implements Delivery {
  readonly #inner: Delivery;
  readonly #ring: SettledRing;
  /** How it was settled for good, if it was: acked, or dropped (rejected without requeue). */
  #settled?: "acked" | "dropped";

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

  /** Acks it. */
  ack(): Promise<void> {
    this.#settled = "acked";
    return this.#inner.ack();
  }

  /** Rejects it; a requeue leaves it unsettled (it must run again). */
  reject(requeue: boolean): Promise<void> {
    this.#settled = requeue ? undefined : "dropped";
    return this.#inner.reject(requeue);
  }

  /** The task id in its headers, if it has one. */
  get taskId(): string | undefined {
    const id = this.#inner.message?.headers?.id;
    return typeof id === "string" ? id : undefined;
  }

  /** The handler is done with it (result stored, message settled): records the settle. */
  handled(): void {
    const id = this.taskId;
    if (!this.#settled || id === undefined) return;
    const retries = Number(this.#inner.message.headers.retries) || 0;
    this.#ring.record(runKey(id, retries), this.#settled === "dropped");
  }
}
