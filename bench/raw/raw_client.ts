/**
 * The client half of the raw broker-client loops: publish prebuilt task
 * messages with amqplib (no publisher confirms: the clock stops when the broker
 * counts the messages, or when results come back) or ioredis (pipelined LPUSH), and
 * wait for results on an rpc reply queue or a Redis PSUBSCRIBE. Counterpart
 * of amqp_worker.ts and redis_worker.ts.
 *
 * @module
 */

import { Redis } from "ioredis";
import { connect } from "../../src/transports/amqp/amqplib.ts";
import type { Channel, ChannelModel } from "../../src/transports/amqp/amqplib.ts";
import { bodyBuffer, publishOptions } from "../../src/transports/amqp/message.ts";
import { encodeEnvelope } from "../../src/transports/redis/envelope.ts";
import type { RunPlace } from "../setups.ts";
import { waitUntil } from "../stats.ts";
import { type RawMessage, rawMessages } from "./messages.ts";

type Publish = (batch: RawMessage[]) => Promise<void>;

/** A raw client on one run's queue. */
export class RawClient implements AsyncDisposable {
  readonly #place: RunPlace;
  readonly #waiting = new Map<string, () => void>();
  #amqp?: { model: ChannelModel; channel: Channel; replyQueue?: string };
  #redis?: Redis;
  #subscriber?: Redis;

  private constructor(place: RunPlace) {
    this.#place = place;
  }

  /** Connects to the place's broker (and its result transport). */
  static async open(place: RunPlace): Promise<RawClient> {
    const client = new RawClient(place);
    if (place.setup.broker === "amqp") {
      const model = await connect(place.brokerUrl, { noDelay: true });
      const channel = await model.createChannel();
      await channel.assertQueue(place.queue, { durable: true });
      client.#amqp = { model, channel };
    } else {
      client.#redis = new Redis(place.brokerUrl);
    }
    return client;
  }

  async #replyTo(): Promise<string | undefined> {
    if (this.#place.setup.results === "rpc") {
      const amqp = this.#amqp!;
      if (!amqp.replyQueue) {
        const { queue } = await amqp.channel.assertQueue("", { exclusive: true, autoDelete: true });
        await amqp.channel.consume(queue, (message) => {
          if (message) this.#arrived(String(message.properties.correlationId));
        }, { noAck: true });
        amqp.replyQueue = queue;
      }
      return amqp.replyQueue;
    }
    if (!this.#subscriber) {
      this.#subscriber = new Redis(this.#place.backendUrl);
      this.#subscriber.on("pmessage", (_pattern, channel: string) => {
        this.#arrived(channel.slice("celery-task-meta-".length));
      });
      await this.#subscriber.psubscribe("celery-task-meta-*");
    }
    return "";
  }

  #arrived(id: string): void {
    const wake = this.#waiting.get(id);
    this.#waiting.delete(id);
    wake?.();
  }

  #publisher(): Publish {
    const queue = this.#place.queue;
    if (this.#amqp) {
      const channel = this.#amqp.channel;
      return (batch) => {
        for (const { wire } of batch) {
          channel.publish("", queue, bodyBuffer(wire.body), publishOptions(wire));
        }
        return Promise.resolve();
      };
    }
    const redis = this.#redis!;
    return async (batch) => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < batch.length; i += 100) {
        pipeline.lpush(
          queue,
          ...batch.slice(i, i + 100).map(({ id, wire }) => encodeEnvelope(wire, "", queue, id)),
        );
      }
      await pipeline.exec();
    };
  }

  async #queued(): Promise<number> {
    if (this.#amqp) return (await this.#amqp.channel.checkQueue(this.#place.queue)).messageCount;
    return await this.#redis!.llen(this.#place.queue);
  }

  /** Milliseconds to publish `count` prebuilt messages until the broker reports them queued. */
  async enqueue(count: number): Promise<number> {
    const messages = rawMessages(count);
    const publish = this.#publisher();
    const started = performance.now();
    await publish(messages);
    await waitUntil(async () => await this.#queued() >= count, "raw enqueue count");
    return performance.now() - started;
  }

  #resultOf(id: string): Promise<void> {
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  /** Milliseconds from the first publish to the last of `count` results. */
  async roundTrip(count: number): Promise<number> {
    const replyTo = await this.#replyTo();
    const publish = this.#publisher();
    for (const message of rawMessages(20, replyTo)) {
      const done = this.#resultOf(message.id);
      await publish([message]);
      await done;
    }
    const messages = rawMessages(count, replyTo);
    const started = performance.now();
    const results = messages.map(({ id }) => this.#resultOf(id));
    for (let i = 0; i < count; i += 1000) await publish(messages.slice(i, i + 1000));
    await Promise.all(results);
    return performance.now() - started;
  }

  /** `count` sequential publish → result round trips (ms each). */
  async latency(count: number): Promise<number[]> {
    const replyTo = await this.#replyTo();
    const publish = this.#publisher();
    const samples: number[] = [];
    for (const [i, message] of rawMessages(count + 20, replyTo).entries()) {
      const started = performance.now();
      const done = this.#resultOf(message.id);
      await publish([message]);
      await done;
      if (i >= 20) samples.push(performance.now() - started);
    }
    return samples;
  }

  /** Closes connections. */
  async close(): Promise<void> {
    await this.#amqp?.model.close().catch(() => {});
    this.#redis?.disconnect();
    this.#subscriber?.disconnect();
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
