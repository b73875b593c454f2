/**
 * The delivery window every transport's consumer shares: which deliveries
 * are out (handed to the reader, not settled), how many of them count
 * against `prefetch` (all but those exempt: `Delivery.hold()`, a message a
 * worker keeps waiting for its ETA or rate limit), settle-once, and what is
 * still out when the consumer closes. A transport supplies only how to fetch
 * (asking `room()`) and how to ack, requeue or drop one message
 * (`SettleActions`); RabbitMQ, whose window is the broker's `basic.qos`,
 * listens to `exemptChanged` to widen it.
 *
 * One word per idea: "out" (handed out, not settled), "exempt" (out but not
 * counted against prefetch), "room" (how many more may be fetched).
 *
 * @module
 */

import type { Delivery, WireMessage } from "../broker/types.ts";

/** How a transport settles one message. Each runs at most once per delivery. */
export interface SettleActions {
  /** Removes the message from the broker. */
  ack(): Promise<void>;
  /** Gives it back to its queue, marked redelivered. */
  requeue(): Promise<void>;
  /** Drops it (dead-lettered where the broker can). */
  drop(): Promise<void>;
}

/** What a window tells its transport. */
export interface WindowListener {
  /** A delivery was settled or became exempt: there may be room to fetch again. */
  changed?(): void;
  /** The number of exempt deliveries changed (RabbitMQ: basic.qos = prefetch + exempt). */
  exemptChanged?(exempt: number): void;
}

/** The fields of a delivery besides how it is settled. */
export type DeliveryFields = Pick<
  Delivery,
  "message" | "exchange" | "routingKey" | "queue" | "redelivered"
>;

/** One consume stream's window (or one AMQP channel's). */
export class DeliveryWindow<Key = unknown> {
  /** Most deliveries out and counted at once (0: no limit). */
  readonly prefetch: number;
  readonly #listener: WindowListener;
  readonly #out = new Map<WindowDelivery<Key>, Key>();
  #exempt = 0;

  /** A window of `prefetch` (0: none) telling `listener` what changes. */
  constructor(prefetch: number, listener: WindowListener = {}) {
    this.prefetch = prefetch;
    this.#listener = listener;
  }

  /** Deliveries out (handed out, not settled). */
  get out(): number {
    return this.#out.size;
  }

  /** Deliveries out that count against prefetch. */
  get counted(): number {
    return this.#out.size - this.#exempt;
  }

  /** Exempt deliveries (out, not counted). */
  get exempt(): number {
    return this.#exempt;
  }

  /**
   * How many more may be fetched while `buffered` are fetched and not yet
   * handed out (Infinity without a limit).
   */
  room(buffered = 0): number {
    if (this.prefetch <= 0) return Infinity;
    return this.prefetch - this.counted - buffered;
  }

  /** Hands out a message: it is out, and counted, until settled once through `actions`. */
  handOut(
    fields: DeliveryFields,
    actions: SettleActions,
    key: Key,
    lost?: AbortSignal,
  ): WindowDelivery<Key> {
    const delivery = new WindowDelivery(this, fields, actions, lost);
    this.#out.set(delivery, key);
    return delivery;
  }

  /** The keys of the deliveries still out (a consumer closing gives them back). */
  outstanding(): Key[] {
    return [...this.#out.values()];
  }

  /** Forgets every delivery out, without settling (their broker connection is gone). */
  forgetAll(): void {
    for (const delivery of this.#out.keys()) delivery.forget();
    this.#out.clear();
    this.#exempt = 0;
  }

  /** @internal A delivery became exempt. */
  exemptOne(delivery: WindowDelivery<Key>): boolean {
    if (!this.#out.has(delivery)) return false;
    this.#exempt++;
    this.#listener.exemptChanged?.(this.#exempt);
    this.#listener.changed?.();
    return true;
  }

  /** @internal A delivery was settled (`wasExempt`: it had been exempt). */
  settled(delivery: WindowDelivery<Key>, wasExempt: boolean): boolean {
    if (!this.#out.delete(delivery)) return false;
    if (wasExempt) {
      this.#exempt--;
      this.#listener.exemptChanged?.(this.#exempt);
    }
    this.#listener.changed?.();
    return true;
  }
}

/** A delivery of a window: settled at most once; a second settle returns the first one's promise. */
export class WindowDelivery<Key = unknown> implements Delivery {
  /** The message. */
  readonly message: WireMessage;
  /** Exchange it was published to. */
  readonly exchange: string;
  /** Routing key it was published with. */
  readonly routingKey: string;
  /** The queue it came from. */
  readonly queue: string;
  /** The broker delivered it before. */
  readonly redelivered: boolean;
  /** Aborts when it can no longer be settled (its AMQP channel closed). */
  readonly lost?: AbortSignal;
  readonly #window: DeliveryWindow<Key>;
  readonly #actions: SettleActions;
  #exempt = false;
  #settled?: Promise<void>;

  /** Use `DeliveryWindow.handOut`. */
  constructor(
    window: DeliveryWindow<Key>,
    fields: DeliveryFields,
    actions: SettleActions,
    lost?: AbortSignal,
  ) {
    this.message = fields.message;
    this.exchange = fields.exchange;
    this.routingKey = fields.routingKey;
    this.queue = fields.queue;
    this.redelivered = fields.redelivered;
    this.lost = lost;
    this.#window = window;
    this.#actions = actions;
  }

  /** Stops counting against prefetch until settled (Celery's qos increment for held ETA messages). */
  hold(): void {
    if (this.#settled || this.#exempt) return;
    this.#exempt = this.#window.exemptOne(this);
  }

  /** Removes the message from the broker. */
  ack(): Promise<void> {
    return this.#settle(() => this.#actions.ack());
  }

  /** Gives it back (`requeue`) or drops it. */
  reject(requeue: boolean): Promise<void> {
    return this.#settle(() => requeue ? this.#actions.requeue() : this.#actions.drop());
  }

  /** @internal Marks it settled without acting (its connection is gone). */
  forget(): void {
    this.#settled ??= Promise.resolve();
  }

  /** Starts the transport's action, then frees the window (a requeued message is back first). */
  #settle(act: () => Promise<void>): Promise<void> {
    if (this.#settled) return this.#settled;
    try {
      this.#settled = act();
    } catch (error) {
      this.#settled = Promise.reject(error);
    }
    this.#window.settled(this, this.#exempt);
    return this.#settled;
  }
}

/**
 * The pull-based stream a consumer hands deliveries out through
 * (highWaterMark 0): a delivery leaves only when the reader asks for one,
 * so nothing is fetched for a reader that is not reading.
 */
export class PullStream {
  /** The deliveries; cancelling it calls `onCancel`. */
  readonly stream: ReadableStream<Delivery>;
  #controller?: ReadableStreamDefaultController<Delivery>;
  #resolvePull?: () => void;

  /** `onPull` runs when the reader asks for a delivery (call `offer` then or later). */
  constructor(onPull: () => void, onCancel: () => void) {
    this.stream = new ReadableStream<Delivery>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () =>
        new Promise<void>((resolve) => {
          this.#resolvePull = resolve;
          onPull();
        }),
      cancel: () => onCancel(),
    }, { highWaterMark: 0 });
  }

  /** Whether the reader is waiting for a delivery. */
  get waiting(): boolean {
    return this.#resolvePull !== undefined;
  }

  /** Hands `delivery` to the waiting reader. */
  offer(delivery: Delivery): void {
    const resolve = this.#resolvePull;
    this.#resolvePull = undefined;
    this.#controller!.enqueue(delivery);
    resolve?.();
  }

  /** Lets a waiting pull end without a delivery (the consumer stopped). */
  release(): void {
    this.#resolvePull?.();
    this.#resolvePull = undefined;
  }

  /** Ends the stream (the broker closed); a cancelled stream is left as it is. */
  close(): void {
    try {
      this.#controller?.close();
    } catch { /* cancelled already */ }
  }
}
