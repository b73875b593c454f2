/**
 * One consumer of the memory broker: hands messages out as a
 * `ReadableStream` of deliveries, only when the reader asks for one and only
 * while fewer than `prefetch` deliveries are unsettled.
 *
 * @module
 */

import type { Delivery, WireMessage } from "../../broker/types.ts";
import type { MemoryHub, QueueListener } from "./memory_hub.ts";
import type { MemoryQueue, StoredMessage } from "./memory_queue.ts";

/** A delivery of the memory broker; settling it a second time does nothing. */
class MemoryDelivery implements Delivery {
  readonly message: WireMessage;
  readonly exchange: string;
  readonly routingKey: string;
  readonly queue: string;
  readonly redelivered: boolean;
  readonly #settle: (requeue: boolean | "ack" | "hold") => void;

  constructor(
    queue: string,
    entry: StoredMessage,
    settle: (how: boolean | "ack" | "hold") => void,
  ) {
    this.message = entry.message;
    this.exchange = entry.exchange;
    this.routingKey = entry.routingKey;
    this.queue = queue;
    this.redelivered = entry.redelivered;
    this.#settle = settle;
  }

  hold(): void {
    this.#settle("hold");
  }

  ack(): Promise<void> {
    this.#settle("ack");
    return Promise.resolve();
  }

  reject(requeue: boolean): Promise<void> {
    this.#settle(requeue);
    return Promise.resolve();
  }
}

/** Consumes some queues of a hub. */
export class MemoryConsumer implements QueueListener {
  readonly queueNames: ReadonlySet<string>;
  /** The deliveries; cancelling it stops this consumer. */
  readonly stream: ReadableStream<Delivery>;
  readonly #hub: MemoryHub;
  readonly #queues: MemoryQueue[];
  readonly #prefetch: number;
  readonly #unsettled = new Map<StoredMessage, string>();
  /** Unsettled deliveries that do not count against prefetch (`Delivery.hold`). */
  readonly #held = new Set<StoredMessage>();
  #controller?: ReadableStreamDefaultController<Delivery>;
  #resolvePull?: () => void;
  #timer?: ReturnType<typeof setTimeout>;
  #next = 0;
  #stopped = false;

  /** Starts consuming `queueNames` of `hub`. */
  constructor(hub: MemoryHub, queueNames: string[], prefetch: number) {
    this.#hub = hub;
    this.queueNames = new Set(queueNames);
    this.#queues = [...this.queueNames].map((name) => hub.queue(name));
    this.#prefetch = prefetch;
    this.stream = new ReadableStream<Delivery>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () =>
        new Promise<void>((resolve) => {
          this.#resolvePull = resolve;
          this.wake();
        }),
      cancel: () => this.stop(),
    }, { highWaterMark: 0 });
    hub.listen(this);
  }

  /** Hands out a message if the reader waits for one and prefetch allows it. */
  wake(): void {
    if (this.#stopped || !this.#resolvePull) return;
    const counted = this.#unsettled.size - this.#held.size;
    if (this.#prefetch > 0 && counted >= this.#prefetch) return;
    const now = Date.now();
    for (let i = 0; i < this.#queues.length; i++) {
      const queue = this.#queues[(this.#next + i) % this.#queues.length];
      queue.promoteDue(now);
      const entry = queue.shift();
      if (!entry) continue;
      this.#next = (this.#next + i + 1) % this.#queues.length;
      this.#unsettled.set(entry, queue.name);
      const delivery = new MemoryDelivery(queue.name, entry, (how) => this.#settle(entry, how));
      const resolve = this.#resolvePull;
      this.#resolvePull = undefined;
      this.#controller!.enqueue(delivery);
      resolve();
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
    this.#resolvePull?.();
    this.#resolvePull = undefined;
  }

  /** Stops, ends the stream and gives every unsettled message back (broker closed). */
  close(): void {
    const wasStopped = this.#stopped;
    this.stop();
    if (!wasStopped) {
      try {
        this.#controller?.close();
      } catch { /* the stream was cancelled already */ }
    }
    const held = [...this.#unsettled];
    this.#unsettled.clear();
    this.#held.clear();
    for (const [entry, queueName] of held) this.#hub.requeue(queueName, entry);
  }

  #settle(entry: StoredMessage, how: boolean | "ack" | "hold"): void {
    const queueName = this.#unsettled.get(entry);
    if (queueName === undefined) return;
    if (how === "hold") {
      this.#held.add(entry);
      this.wake();
      return;
    }
    this.#unsettled.delete(entry);
    this.#held.delete(entry);
    if (how === true) this.#hub.requeue(queueName, entry);
    this.wake();
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
