/**
 * The Redis broker (`redis://`, `rediss://`, `sentinel://`), wire-compatible
 * with kombu 5.2.4's Redis transport: a Python Celery client or worker can
 * share the same queues, `unacked` bookkeeping and bindings.
 *
 * Publishing LPUSHes kombu's envelope onto the queue's list for the message's
 * priority (to the default exchange `""`: the list named by the routing key;
 * to a named exchange: every queue its `_kombu.binding.*` set routes to;
 * to a fanout exchange: PUBLISH on its channel). Consuming is in
 * `consumer.ts`, ack emulation in `unacked.ts`, key names in `keys.ts`.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { getLogger } from "../../log.ts";
import type {
  Broker,
  BrokerCapabilities,
  ConnectOptions,
  ConsumeOptions,
  Delivery,
  ExchangeType,
  PublishTarget,
  QueueSpec,
  UnsettledRegistry,
  WireMessage,
} from "../../broker/types.ts";
import { RedisConsumer } from "./consumer.ts";
import { elementLimit } from "./fetch.ts";
import { encodeEnvelope } from "./envelope.ts";
import { openRedis, type RedisConnection } from "./facade.ts";
import { KombuKeys, routeThroughBindings, topicPattern } from "./keys.ts";
import { parseTransportOptions, type RedisTransportOptions } from "./options.ts";
import { UnackedLedger } from "./unacked.ts";
import { parseRedisUrl, type RedisConnectOptions } from "./url.ts";

const log = getLogger("redis");

/**
 * What the Redis broker can do. Priorities: lower numbers are served first
 * (kombu's BRPOP order), in steps 0/3/6/9. Fanout is kombu's pub/sub: only
 * consumers subscribed at publish time get a copy, so `fanout` is false (the
 * capability promises a copy in every bound queue). `reject(false)` drops.
 */
export const REDIS_BROKER_CAPABILITIES: BrokerCapabilities = Object.freeze({
  priorities: "lower-first",
  fanout: false,
  delayedDelivery: false,
  crossProcess: true,
  persistent: true,
  deadLetter: false,
  maxUnackedMs: null, // held messages have their visibility refreshed
});

/** The Redis broker. Create it with `createBroker`. */
export class RedisBroker implements Broker {
  /** The URL it was created from. */
  readonly url: string;
  /** What it can do. */
  readonly capabilities: BrokerCapabilities = REDIS_BROKER_CAPABILITIES;
  /** The key layout (exposed for tests and tools). */
  readonly keys: KombuKeys;
  readonly #target: RedisConnectOptions;
  readonly #options: RedisTransportOptions;
  readonly #config: ResolvedConfig;
  readonly #commands: RedisConnection;
  readonly #ledger: UnackedLedger;
  readonly #consumers = new Set<RedisConsumer>();
  readonly #exchangeTypes = new Map<string, ExchangeType>();
  readonly #declared = new Set<string>();
  readonly #keepProcessAlive: boolean;
  #closed?: Promise<void>;

  /** Wraps an open commands connection; use `createBroker`. */
  constructor(
    url: string,
    target: RedisConnectOptions,
    options: RedisTransportOptions,
    config: ResolvedConfig,
    commands: RedisConnection,
    connect: ConnectOptions = {},
  ) {
    this.url = url;
    this.#keepProcessAlive = connect.keepProcessAlive ?? true;
    this.#target = target;
    this.#options = options;
    this.#config = config;
    this.#commands = commands;
    this.keys = new KombuKeys(options, target.db);
    this.#ledger = new UnackedLedger(
      commands,
      this.keys,
      options,
      (exchange, routingKey) => this.#route(exchange, routingKey),
    );
  }

  /** The tags this instance holds are kept in an owner set in Redis, named to `registry`. */
  trackUnsettled(registry: UnsettledRegistry): void {
    this.#ledger.own(registry);
  }

  /** Puts back at once the messages another instance (a thread that is gone) held. */
  restoreUnsettled(keys: string[]): Promise<number> {
    return this.#ledger.restoreTags(keys);
  }

  /** Publishes kombu's envelope (fresh uuid4 delivery tag) for `message`. */
  async publish(message: WireMessage, target: PublishTarget): Promise<void> {
    if (target.queue) await this.declareQueue(target.queue);
    if (target.declareExchange) {
      this.#exchangeTypes.set(target.declareExchange.name, target.declareExchange.type);
    }
    const text = encodeEnvelope(message, target.exchange, target.routingKey, crypto.randomUUID());
    const priority = this.keys.messagePriority(message.properties.priority);
    if (target.exchange === "") {
      await this.#commands.lpush(this.keys.listFor(target.routingKey, priority), [text]);
      return;
    }
    if (this.#exchangeTypes.get(target.exchange) === "fanout") {
      await this.#commands.publish(
        this.keys.fanoutChannel(target.exchange, target.routingKey),
        text,
      );
      return;
    }
    const queues = await this.#route(target.exchange, target.routingKey);
    if (queues.length === 0) {
      log.warning(
        `Message to exchange ${JSON.stringify(target.exchange)} with routing key ` +
          `${JSON.stringify(target.routingKey)} matched no queue binding and was dropped.`,
      );
    }
    for (const queue of queues) {
      await this.#commands.lpush(this.keys.listFor(queue, priority), [text]);
    }
  }

  /** The queues a named exchange routes `routingKey` to, from its binding set. */
  async #route(exchange: string, routingKey: string): Promise<string[]> {
    const members = await this.#commands.smembers(this.keys.binding(exchange));
    const bindings = members.flatMap((m) => this.keys.parseBindingMember(m) ?? []);
    const type = this.#exchangeTypes.get(exchange) ?? "direct";
    return routeThroughBindings(bindings, type, routingKey);
  }

  /** Adds the queue's binding to `_kombu.binding.<exchange>` (once per broker instance). */
  async declareQueue(queue: QueueSpec): Promise<void> {
    this.#exchangeTypes.set(queue.exchange, queue.exchangeType);
    if (queue.exchange === "") return;
    const member = this.keys.bindingMember({
      routingKey: queue.routingKey,
      pattern: queue.exchangeType === "topic" ? topicPattern(queue.routingKey) : "",
      queue: queue.name,
    });
    const key = this.keys.binding(queue.exchange);
    if (this.#declared.has(key + member)) return;
    await this.#commands.sadd(key, member);
    this.#declared.add(key + member);
  }

  /** Ready messages: the sum of `LLEN` over the queue's priority lists. */
  async messageCount(queue: string): Promise<number> {
    const batch = this.#commands.pipeline();
    for (const list of this.keys.listsOf(queue)) batch.llen(list.key);
    const sizes = await batch.exec();
    return sizes.reduce<number>((sum, size) => sum + Number(size), 0);
  }

  /** Deletes the queue's lists; returns how many messages they held. */
  async purge(queue: string): Promise<number> {
    const batch = this.#commands.transaction();
    for (const list of this.keys.listsOf(queue)) batch.llen(list.key).del(list.key);
    const replies = await batch.exec();
    return replies.filter((_, i) => i % 2 === 0).reduce<number>((s, n) => s + Number(n), 0);
  }

  /** Starts consuming `options.queues` (see consumer.ts). */
  consume(options: ConsumeOptions): ReadableStream<Delivery> {
    if (this.#closed) throw new Error(`The Redis broker ${this.url} is closed.`);
    const consumer = new RedisConsumer(
      {
        commands: this.#commands,
        open: (role) => this.#open(role),
        declare: async (queues) => {
          for (const queue of queues) await this.declareQueue(queue);
        },
        keys: this.keys,
        options: this.#options,
        ledger: this.#ledger,
        maxElementLength: elementLimit(this.#config.worker_max_message_size),
      },
      options.queues,
      options.prefetch,
    );
    this.#consumers.add(consumer);
    consumer.done.then(() => this.#consumers.delete(consumer));
    return consumer.stream;
  }

  #open(role: "blocking" | "subscriber"): Promise<RedisConnection> {
    return openRedis(this.#target, {
      role,
      connectTimeoutMs: this.#config.broker_connection_timeout * 1000,
      masterName: this.#options.masterName,
      sentinelPassword: this.#options.sentinelPassword,
      purpose: "broker",
      keepProcessAlive: this.#keepProcessAlive,
    });
  }

  /**
   * Stops every consumer, puts back every unsettled delivery (kombu's
   * graceful-shutdown restore: RPUSH with the redelivered flags) and closes
   * the connections.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const consumer of this.#consumers) await consumer.stop();
      await this.#ledger.close();
      await this.#commands.close();
    })();
    return this.#closed;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates the Redis broker for `url`, connected. Reads `broker_transport_options`
 * (kombu's names: `visibility_timeout`, `global_keyprefix`, `master_name`, …),
 * `broker_use_ssl` and `broker_connection_timeout`. An unreachable server is
 * a `BrokerConnectionError` naming the URL with its password masked.
 */
export async function createBroker(
  url: string,
  config: ResolvedConfig,
  connect: ConnectOptions = {},
): Promise<Broker> {
  const options = parseTransportOptions(config.broker_transport_options ?? {});
  const target = parseRedisUrl(url, config.broker_use_ssl);
  const commands = await openRedis(target, {
    role: "commands",
    connectTimeoutMs: config.broker_connection_timeout * 1000,
    masterName: options.masterName,
    sentinelPassword: options.sentinelPassword,
    purpose: "broker",
    keepProcessAlive: connect.keepProcessAlive,
  });
  return new RedisBroker(url, target, options, config, commands, connect);
}
