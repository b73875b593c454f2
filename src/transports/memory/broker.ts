/**
 * The `memory://<name>` broker: queues inside this process. Brokers opened
 * with the same URL in one process share their queues, so a client and an
 * in-process worker (or a test) can talk without any service running.
 * Nothing survives the process.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { BrokerConnectionError } from "../../errors.ts";
import type {
  Broker,
  BrokerCapabilities,
  BrokerFactory,
  ConsumeOptions,
  Delivery,
  PublishTarget,
  QueueSpec,
  WireMessage,
} from "../../broker/types.ts";
import { MemoryConsumer } from "./memory_consumer.ts";
import { hubFor, type MemoryHub } from "./memory_hub.ts";

/** What the memory broker can do. */
export const MEMORY_BROKER_CAPABILITIES: BrokerCapabilities = Object.freeze({
  priorities: "higher-first",
  fanout: true,
  delayedDelivery: true,
  crossProcess: false,
  persistent: false,
  deadLetter: false,
  maxUnackedMs: null,
});

/** An in-process broker over the shared hub of its URL's name. */
export class MemoryBroker implements Broker {
  readonly url: string;
  readonly capabilities: BrokerCapabilities = MEMORY_BROKER_CAPABILITIES;
  readonly #hub: MemoryHub;
  readonly #consumers = new Set<MemoryConsumer>();
  #closed = false;

  /** Opens a broker on the hub named by `url` (`memory://name`). */
  constructor(url: string) {
    this.url = url;
    this.#hub = hubFor(url);
  }

  publish(message: WireMessage, target: PublishTarget): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#hub.publish(message, target);
    return Promise.resolve();
  }

  consume(options: ConsumeOptions): ReadableStream<Delivery> {
    if (this.#closed) throw this.#closedError();
    for (const queue of options.queues) this.#hub.declare(queue);
    const consumer = new MemoryConsumer(
      this.#hub,
      options.queues.map((q) => q.name),
      options.prefetch,
    );
    this.#consumers.add(consumer);
    return consumer.stream;
  }

  declareQueue(queue: QueueSpec): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#hub.declare(queue);
    return Promise.resolve();
  }

  messageCount(queue: string): Promise<number> {
    if (!this.#hub.hasQueue(queue)) return Promise.resolve(0);
    const found = this.#hub.queue(queue);
    found.promoteDue(Date.now());
    return Promise.resolve(found.readyCount);
  }

  /** Deletes every message of the queue not handed out, delayed ones included. */
  purge(queue: string): Promise<number> {
    if (!this.#hub.hasQueue(queue)) return Promise.resolve(0);
    return Promise.resolve(this.#hub.queue(queue).purge());
  }

  /** Ends every consume stream of this broker and gives its unsettled messages back. */
  close(): Promise<void> {
    this.#closed = true;
    for (const consumer of this.#consumers) consumer.close();
    this.#consumers.clear();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #closedError(): BrokerConnectionError {
    return new BrokerConnectionError(`Cannot use the broker ${this.url}: it is closed.`);
  }
}

/**
 * Opens a `memory://` broker.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const broker = await createBroker("memory://doc", DEFAULT_SETTINGS);
 * await broker.publish(
 *   { headers: {}, properties: {}, contentType: "text/plain", contentEncoding: "utf-8", body: new Uint8Array([104, 105]) },
 *   { exchange: "", routingKey: "hello" },
 * );
 * console.log(await broker.messageCount("hello")); // 1
 * await broker.close();
 * ```
 */
export const createBroker: BrokerFactory = (url: string, _config: ResolvedConfig) =>
  Promise.resolve(new MemoryBroker(url));
