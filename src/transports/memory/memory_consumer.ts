/**
 * One consumer of the memory broker: hands messages out as a
 * `ReadableStream` of deliveries, only when the reader asks for one and only
 * while fewer than `prefetch` deliveries are unsettled.
 *
 * @module
 */

import type { Delivery } from "../../broker/types.ts";
import { DeliveryWindow, PullStream } from "../delivery_window.ts";
import type { MemoryHub, QueueListener } from "./memory_hub.ts";
import type { MemoryQueue, StoredMessage } from "./memory_queue.ts";

/** Consumes some queues of a hub. */
export class MemoryConsumer implements QueueListener {
  readonly queueNames: ReadonlySet<string>;
  /** The deliveries; cancelling it stops this consumer. */
  readonly stream: ReadableStream<Delivery>;
  readonly #hub: MemoryHub;
  readonly #queues: MemoryQueue[];
  readonly #window: DeliveryWindow<[StoredMessage, string]>;
  readonly #out: PullStream;
  #timer?: ReturnType<typeof setTimeout>;
  #next = 0;
  #stopped = false;

  /** Starts consuming `queueNames` of `hub`. */
  constructor(hub: MemoryHub, queueNames: string[], prefetch: number) {
    this.#hub = hub;
    this.queueNames = new Set(queueNames);
    this.#queues = [...this.queueNames].map((name) => hub.queue(name));
    this.#window = new DeliveryWindow(prefetch, { changed: () => this.wake() });
    this.#out = new PullStream(() => this.wake(), () => this.stop());
    this.stream = this.#out.stream;
    hub.listen(this);
  }

  /** Hands out a message if the reader waits for one and prefetch allows it. */
  wake(): void {
    if (this.#stopped || !this.#out.waiting) return;
    if (this.#window.room() <= 0) return;
    const now = Date.now();
    for (let i = 0; i < this.#queues.length; i++) {
      const queue = this.#queues[(this.#next + i) % this.#queues.length];
      queue.promoteDue(now);
      const entry = queue.shift();
      if (!entry) continue;
      this.#next = (this.#next + i + 1) % this.#queues.length;
      const name = queue.name;
      const settled = () => Promise.resolve();
      const delivery = this.#window.handOut(
        { ...entry, queue: name },
        {
          ack: settled,
          drop: settled,
          requeue: () => Promise.resolve(this.#hub.requeue(name, entry)),
        },
        [entry, name],
      );
      this.#out.offer(delivery);
      return;
    }
    this.#armDelayTimer(now);
  }

  /** Stops handing out messages; unsettled deliveries can still be settled. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#hub.unlisten(this);
    clearTimeout(this.#timer);
    this.#out.release();
  }

  /** Stops, ends the stream and gives every unsettled message back (broker closed). */
  close(): void {
    const wasStopped = this.#stopped;
    this.stop();
    if (!wasStopped) {
      this.#out.close();
    }
    const out = this.#window.outstanding();
    this.#window.forgetAll();
    for (const [entry, queueName] of out) this.#hub.requeue(queueName, entry);
  }

  #armDelayTimer(now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#queues.map((q) => q.nextDueAt()).filter((at) => at !== undefined);
    if (due.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.wake();
    }, Math.max(0, Math.min(...due) - now));
  }
}
