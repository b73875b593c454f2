/**
 * Consuming as a `ReadableStream` of deliveries. One channel per stream:
 * `basic.qos`, the queues declared, `basic.consume` on each.
 *
 * The window is the channel's, as Celery's. Several classic queues share a
 * global `basic.qos`. A single consumer on the channel takes the same window
 * as its own limit, which costs RabbitMQ much less (measured at prefetch 4:
 * 74–82 against 125 µs of broker CPU per task, `bench/window_cost.ts`).
 * RabbitMQ cannot change an existing consumer's limit, and a global limit
 * counts only deliveries made under it, so the first ETA hold that must
 * widen the window retires the channel (`#retire`): it stops consuming and
 * keeps its deliveries until they are settled, while a new channel consumes
 * under a global limit of prefetch + exempt − what the retiring one still
 * has counted. Quorum queues take per-consumer limits only.
 * The stream is pull-based: a delivery is handed out only when read, so the
 * ones still buffered when the stream is cancelled go straight back to the
 * queue. After a connection loss the session reconnects with backoff,
 * re-declares and re-consumes; deliveries from the lost channel can no
 * longer be settled (the broker redelivers them).
 *
 * @module
 */

import type { Channel } from "./amqplib.ts";
import type { ResolvedConfig } from "../../app/config.ts";
import { getLogger } from "../../log.ts";
import type { ConsumeOptions, Delivery } from "../../broker/types.ts";
import { AckBatcher } from "./ack_batcher.ts";
import { type AmqpConnection, amqpErrorCode, pause } from "./connection.ts";
import { wireMessageOf } from "./message.ts";
import { DeliveryWindow, type SettleActions } from "../delivery_window.ts";
import { declareOn, isQuorum } from "./topology.ts";

const log = getLogger("broker.amqp");

/** A channel and whether it is still open (deliveries from a closed one cannot be settled). */
interface ChannelState {
  channel: Channel;
  open: boolean;
  consumerTags: Map<string, string>;
  /** Deliveries out on this channel (the broker's basic.qos is the window; exempt ones widen it). */
  window: DeliveryWindow<number>;
  /**
   * `consumer`: each consumer's own limit, set before it consumes; `global`:
   * one limit for the channel, changed as deliveries become exempt.
   */
  qos: "consumer" | "global";
  /** A quorum queue is consumed: per-consumer limits only, never retired. */
  quorum: boolean;
  /** The `basic.qos` changes, in order. */
  qosChanges: Promise<void>;
  /** The last global limit sent. */
  limit: number;
  /** Set when the channel retires: settles once its consumers are cancelled. */
  retired?: Promise<void>;
  /** Aborts when the channel closes: its deliveries can no longer be settled. */
  closed: AbortController;
  /** Sends the channel's acks together at the end of each turn. */
  acks: AckBatcher;
}

/** One `consume()` call: its channel, its buffer and its reconnect loop. */
export class ConsumerSession {
  readonly stream: ReadableStream<Delivery>;
  readonly #connection: AmqpConnection;
  readonly #options: ConsumeOptions;
  readonly #config: ResolvedConfig;
  readonly #buffer: Delivery[] = [];
  #controller!: ReadableStreamDefaultController<Delivery>;
  #demand = false;
  #stopped = false;
  #state?: ChannelState;
  /** Channels that stopped consuming (`#retire`) and still have deliveries out. */
  readonly #retiring = new Set<ChannelState>();
  #wake?: () => void;

  /** Starts consuming `options.queues` on `connection`. */
  constructor(connection: AmqpConnection, options: ConsumeOptions, config: ResolvedConfig) {
    this.#connection = connection;
    this.#options = options;
    this.#config = config;
    this.stream = new ReadableStream<Delivery>({
      start: (controller) => {
        this.#controller = controller;
        this.#run().catch((error) => this.#fail(error));
      },
      pull: () => {
        const next = this.#buffer.shift();
        if (next) this.#controller.enqueue(next);
        else this.#demand = true;
      },
      cancel: () => this.stop(),
    }, { highWaterMark: 0 });
  }

  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    log.error(`Consumer stopped: ${(error as Error).message}`);
    this.#controller.error(error);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const model = await this.#connection.getWithRetry();
      if (this.#stopped) return;
      let state: ChannelState;
      try {
        state = await this.#setUp(await model.createChannel());
      } catch (error) {
        if (this.#state && !this.#state.retired) this.#state.channel.close().catch(() => {});
        // A channel error on a live connection (406 inequivalent arguments,
        // 403, 404) will not heal by retrying: end the stream with it.
        if (amqpErrorCode(error) !== undefined && this.#connection.isCurrent(model)) throw error;
        if (this.#connection.isCurrent(model)) await pause(200, this.#connection.closingSignal);
        continue;
      }
      if (this.#stopped) return;
      // The channel may have closed while it was being set up: then go round at once.
      if (state.open && !state.retired) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          state.channel.once("close", () => resolve());
          if (!state.open) resolve();
        });
      }
      this.#wake = undefined;
      await state.retired; // its consumers are cancelled before the next channel opens
    }
  }

  async #setUp(channel: Channel): Promise<ChannelState> {
    const quorum = this.#options.queues.some((queue) => isQuorum(queue, this.#config));
    const state: ChannelState = {
      channel,
      open: true,
      consumerTags: new Map(),
      window: new DeliveryWindow(this.#options.prefetch, {
        changed: () => this.#onSettled(state),
        exemptChanged: (exempt) => this.#onExempt(state, exempt),
      }),
      qos: quorum || (this.#retiring.size === 0 && this.#options.queues.length === 1)
        ? "consumer"
        : "global",
      quorum,
      qosChanges: Promise.resolve(),
      limit: this.#options.prefetch,
      closed: new AbortController(),
      acks: new AckBatcher(channel),
    };
    channel.on("error", (error: Error) => log.debug(`Consumer channel error: ${error.message}`));
    channel.once("close", () => this.#onChannelClosed(state));
    this.#state = state;
    if (state.qos === "global" && state.limit > 0) state.limit = this.#globalLimit(state);
    await channel.prefetch(state.limit, state.qos === "global");
    for (const queue of this.#options.queues) await declareOn(channel, queue, this.#config);
    for (const queue of this.#options.queues) {
      if (this.#stopped) break;
      await this.#consume(state, queue.name);
    }
    if (this.#retiring.size) this.#applyQos(); // settled meanwhile
    return state;
  }

  async #consume(state: ChannelState, queue: string): Promise<void> {
    const { consumerTag } = await state.channel.consume(queue, (raw) => {
      if (raw === null) {
        this.#onServerCancel(state, queue);
        return;
      }
      const tag = raw.fields.deliveryTag;
      state.acks.delivered(tag);
      const delivery = state.window.handOut(
        {
          message: wireMessageOf(raw),
          exchange: raw.fields.exchange,
          routingKey: raw.fields.routingKey,
          queue,
          redelivered: raw.fields.redelivered,
        },
        this.#settleActions(state, tag),
        tag,
        state.closed.signal,
      );
      if (this.#stopped || (state !== this.#state && !this.#retiring.has(state))) {
        delivery.reject(true);
      } else if (this.#demand) {
        this.#demand = false;
        this.#controller.enqueue(delivery);
      } else {
        this.#buffer.push(delivery);
      }
    }, { noAck: false });
    state.consumerTags.set(queue, consumerTag);
    if (this.#stopped) await state.channel.cancel(consumerTag).catch(() => {});
  }

  /** The broker cancelled a consumer (its queue was deleted): declare it again and resume. */
  #onServerCancel(state: ChannelState, queue: string): void {
    state.consumerTags.delete(queue);
    if (this.#stopped || !state.open || state.retired) return;
    log.warning(`Consumer of queue ${JSON.stringify(queue)} cancelled by the broker; resuming.`);
    const spec = this.#options.queues.find((q) => q.name === queue);
    setTimeout(() => {
      if (this.#stopped || !state.open || state.retired || !spec) return;
      declareOn(state.channel, spec, this.#config)
        .then(() => this.#consume(state, queue))
        .catch((error) => log.error(`Could not resume consuming ${queue}: ${error.message}`));
    }, 1000);
  }

  #onChannelClosed(state: ChannelState): void {
    state.open = false;
    this.#retiring.delete(state);
    state.acks.close();
    state.closed.abort();
    // Buffered deliveries of a closed channel come back from the broker.
    for (let i = this.#buffer.length - 1; i >= 0; i--) {
      if (this.#buffer[i].lost === state.closed.signal) this.#buffer.splice(i, 1);
    }
  }

  /** Acks and rejects go out with the channel's batch; nothing to do once it closed. */
  #settleActions(state: ChannelState, tag: number): SettleActions {
    const send = (write: (acks: AckBatcher) => void) => {
      if (!state.open) return Promise.resolve();
      try {
        write(state.acks);
      } catch (error) {
        log.debug(`Could not settle a delivery: ${(error as Error).message}`);
      }
      return Promise.resolve();
    };
    return {
      ack: () => send((acks) => acks.ack(tag)),
      requeue: () => send((acks) => acks.reject(tag, true)),
      drop: () => send((acks) => acks.reject(tag, false)),
    };
  }

  /** Exempt deliveries widen the window: basic.qos = prefetch + exempt (Celery's ETA rule). */
  #onExempt(state: ChannelState, exempt: number): void {
    if (this.#options.prefetch <= 0 || !state.open || this.#stopped) return;
    if (state === this.#state && state.qos === "consumer" && !state.quorum) {
      if (exempt > 0) this.#retire(state);
      return;
    }
    this.#applyQos();
  }

  /**
   * The current channel's global limit: prefetch, plus its exempt deliveries,
   * less the counted ones retiring channels still have out (a global limit
   * counts only its own channel's deliveries). At least 1: a channel retires
   * with a delivery exempt, and its consumer's own limit was prefetch.
   */
  #globalLimit(current: ChannelState): number {
    let limit = this.#options.prefetch + current.window.exempt;
    for (const state of this.#retiring) limit -= state.window.counted;
    return Math.max(limit, 1);
  }

  /** Sends the current channel's window (in order with earlier changes) when it changed. */
  #applyQos(): void {
    const state = this.#state;
    if (!state?.open || (state.qos === "consumer" && !state.quorum)) return;
    state.qosChanges = state.qosChanges.then(async () => {
      if (!state.open || this.#stopped) return;
      // Quorum queues: as Celery's per-consumer qos, it applies to consumers started later.
      const limit = state.quorum
        ? this.#options.prefetch + state.window.exempt
        : this.#globalLimit(state);
      if (limit === state.limit) return;
      state.limit = limit;
      await state.channel.prefetch(limit, !state.quorum);
    }).catch((error: Error) => log.debug(`Could not change basic.qos: ${error.message}`));
  }

  /**
   * Stops consuming on `state`, whose consumers' own limits cannot widen, and
   * has the run loop open the next channel under a global limit. The
   * retiring channel's deliveries stay settleable there; it closes once the
   * last is settled (`#onSettled`).
   */
  #retire(state: ChannelState): void {
    if (state.retired) return;
    this.#retiring.add(state);
    state.retired = (async () => {
      // After cancel-ok nothing more arrives for the consumer, so its count is final.
      for (const tag of state.consumerTags.values()) {
        await state.channel.cancel(tag).catch(() => {});
      }
      state.consumerTags.clear();
      if (state.window.out === 0) this.#closeRetired(state);
    })();
    void state.retired.then(() => this.#wake?.());
  }

  #closeRetired(state: ChannelState): void {
    this.#retiring.delete(state);
    void this.#close(state);
  }

  /** Sends the channel's pending acks, then closes it (once; nothing more goes out on it). */
  async #close(state: ChannelState): Promise<void> {
    if (!state.open) return;
    state.open = false;
    state.acks.flush();
    await state.channel.close().catch(() => {});
  }

  /** A stopped consumer closes its channel once nothing is out on it. */
  #onSettled(state: ChannelState): void {
    if (this.#retiring.has(state)) {
      if (state.window.out === 0) this.#closeRetired(state);
      this.#applyQos(); // its counted deliveries make room on the current channel
      return;
    }
    if (this.#stopped && state.window.out === 0) void this.#close(state);
  }

  /** Stops consuming (basic.cancel); buffered deliveries are requeued, handed-out ones stay settleable. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const state = this.#state;
    if (state?.open) {
      for (const tag of state.consumerTags.values()) {
        await state.channel.cancel(tag).catch(() => {});
      }
    }
    for (const delivery of this.#buffer.splice(0)) await delivery.reject(true);
    if (state && state.window.out === 0) await this.#close(state);
    this.#wake?.();
  }

  /** Stops and ends the stream (the broker is closing); acks made so far are sent first. */
  async close(): Promise<void> {
    await this.stop();
    if (this.#state?.open) this.#state.acks.flush();
    for (const state of this.#retiring) state.acks.flush();
    try {
      this.#controller.close();
    } catch {
      // already closed, cancelled or errored
    }
  }
}
