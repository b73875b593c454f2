/**
 * Consuming as a `ReadableStream` of deliveries. One channel per stream:
 * `basic.qos` (global for classic queues, as Celery; per consumer when a
 * quorum queue is consumed), the queues declared, `basic.consume` on each.
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
  /** `basic.qos` global flag used on this channel. */
  globalQos: boolean;
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
        this.#state?.channel.close().catch(() => {});
        // A channel error on a live connection (406 inequivalent arguments,
        // 403, 404) will not heal by retrying: end the stream with it.
        if (amqpErrorCode(error) !== undefined && this.#connection.isCurrent(model)) throw error;
        if (this.#connection.isCurrent(model)) await pause(200, this.#connection.closingSignal);
        continue;
      }
      if (this.#stopped) return;
      // The channel may have closed while it was being set up: then go round at once.
      if (state.open) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          state.channel.once("close", () => resolve());
          if (!state.open) resolve();
        });
      }
      this.#wake = undefined;
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
      globalQos: !quorum,
      closed: new AbortController(),
      acks: new AckBatcher(channel),
    };
    channel.on("error", (error: Error) => log.debug(`Consumer channel error: ${error.message}`));
    channel.once("close", () => this.#onChannelClosed(state));
    this.#state = state;
    await channel.prefetch(this.#options.prefetch, state.globalQos);
    for (const queue of this.#options.queues) await declareOn(channel, queue, this.#config);
    for (const queue of this.#options.queues) {
      if (this.#stopped) break;
      await this.#consume(state, queue.name);
    }
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
      if (this.#stopped || state !== this.#state) {
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
    if (this.#stopped || !state.open) return;
    log.warning(`Consumer of queue ${JSON.stringify(queue)} cancelled by the broker; resuming.`);
    const spec = this.#options.queues.find((q) => q.name === queue);
    setTimeout(() => {
      if (this.#stopped || !state.open || !spec) return;
      declareOn(state.channel, spec, this.#config)
        .then(() => this.#consume(state, queue))
        .catch((error) => log.error(`Could not resume consuming ${queue}: ${error.message}`));
    }, 1000);
  }

  #onChannelClosed(state: ChannelState): void {
    state.open = false;
    state.acks.close();
    state.closed.abort();
    // Buffered deliveries of a closed channel come back from the broker.
    if (state === this.#state) this.#buffer.length = 0;
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
    const base = this.#options.prefetch;
    if (base <= 0 || !state.open || this.#stopped) return;
    state.channel.prefetch(base + exempt, state.globalQos).catch((error: Error) =>
      log.debug(`Could not change basic.qos: ${error.message}`)
    );
  }

  /** A stopped consumer closes its channel once nothing is out on it. */
  #onSettled(state: ChannelState): void {
    if (this.#stopped && state.window.out === 0 && state.open) {
      state.open = false;
      state.acks.flush();
      state.channel.close().catch(() => {});
    }
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
    if (state?.open && state.window.out === 0) {
      state.open = false;
      state.acks.flush();
      await state.channel.close().catch(() => {});
    }
    this.#wake?.();
  }

  /** Stops and ends the stream (the broker is closing); acks made so far are sent first. */
  async close(): Promise<void> {
    await this.stop();
    if (this.#state?.open) this.#state.acks.flush();
    try {
      this.#controller.close();
    } catch {
      // already closed, cancelled or errored
    }
  }
}
