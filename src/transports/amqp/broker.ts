/**
 * The RabbitMQ broker adapter (`amqp://`, `pyamqp://`, `amqps://`), wire
 * compatible with Python Celery: publishes with publisher confirms to the
 * exchange and routing key it is given (Celery uses the default exchange `""`
 * with routing key = queue name), declares queues once per connection with
 * Python's arguments, retries publishing per `task_publish_retry_policy`, and
 * consumes through `consumer.ts`.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import type {
  Broker,
  BrokerCapabilities,
  ConnectOptions,
  ConsumeOptions,
  Delivery,
  PublishTarget,
  QueueSpec,
  WireMessage,
} from "../../broker/types.ts";
import { AmqpConnection, amqpErrorCode } from "./connection.ts";
import { ConsumerSession } from "./consumer.ts";
import { bodyBuffer, publishOptions } from "./message.ts";
import { publishConfirmed } from "./publisher.ts";
import { declareExchange, declareQueue } from "./topology.ts";
import { parseAmqpUrl } from "./url.ts";

/** What the RabbitMQ adapter can do. */
export const AMQP_CAPABILITIES: BrokerCapabilities = Object.freeze({
  priorities: "higher-first",
  fanout: true,
  delayedDelivery: false,
  crossProcess: true,
  persistent: true,
  deadLetter: true,
  // RabbitMQ's default consumer_timeout (30 min): a channel holding a delivery longer is closed.
  maxUnackedMs: 30 * 60 * 1000,
});

/** The RabbitMQ broker. Create it with `createBroker`. */
export class AmqpBroker implements Broker {
  readonly url: string;
  readonly capabilities: BrokerCapabilities = AMQP_CAPABILITIES;
  readonly #connection: AmqpConnection;
  #closed?: Promise<void>;
  readonly #config: ResolvedConfig;
  readonly #sessions = new Set<ConsumerSession>();

  /** Wraps an (already opened) connection. */
  constructor(url: string, connection: AmqpConnection, config: ResolvedConfig) {
    this.url = url;
    this.#connection = connection;
    this.#config = config;
  }

  /** The kept-alive connection (the rpc backend shares the code, not the connection). */
  get connection(): AmqpConnection {
    return this.#connection;
  }

  /** Publishes and resolves once RabbitMQ confirmed; retries per `task_publish_retry_policy`. */
  async publish(message: WireMessage, target: PublishTarget): Promise<void> {
    const { queue, declareExchange: exchange } = target;
    await publishConfirmed(this.#connection, {
      exchange: target.exchange,
      routingKey: target.routingKey,
      body: bodyBuffer(message.body),
      options: publishOptions(message),
      before: queue
        ? () => declareQueue(this.#connection, queue, this.#config)
        : exchange
        ? () => declareExchange(this.#connection, exchange)
        : undefined,
    }, this.#config.task_publish_retry ? this.#config.task_publish_retry_policy : null);
  }

  /** Consumes `options.queues` (declared first) with `basic.qos` = `options.prefetch`. */
  consume(options: ConsumeOptions): ReadableStream<Delivery> {
    const session = new ConsumerSession(this.#connection, options, this.#config);
    this.#sessions.add(session);
    return session.stream;
  }

  /** Declares the queue, its exchange and binding as Celery does. */
  async declareQueue(queue: QueueSpec): Promise<void> {
    await declareQueue(this.#connection, queue, this.#config, true);
  }

  /** Ready messages in `queue` (passive declare); 0 when it does not exist. */
  async messageCount(queue: string): Promise<number> {
    const channel = await this.#connection.opsChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch (error) {
      if (amqpErrorCode(error) === 404) return 0;
      throw error;
    }
  }

  /** Deletes the ready messages of `queue`; 0 when it does not exist. */
  async purge(queue: string): Promise<number> {
    const channel = await this.#connection.opsChannel();
    try {
      await channel.checkQueue(queue);
    } catch (error) {
      if (amqpErrorCode(error) === 404) return 0;
      throw error;
    }
    return (await channel.purgeQueue(queue)).messageCount;
  }

  /** Stops every consumer and closes the connection; unsettled deliveries are redelivered. */
  async close(): Promise<void> {
    for (const session of this.#sessions) await session.close();
    this.#sessions.clear();
    // Once: a shared connection counts each user's close.
    this.#closed ??= this.#connection.close();
    await this.#closed;
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens a RabbitMQ broker. Wrong credentials, an unknown vhost or a refused
 * connection throw one BrokerConnectionError naming the masked URL and the cause.
 *
 * @example
 * ```ts ignore
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const broker = await createBroker("amqp://guest:guest@localhost:5672//", DEFAULT_SETTINGS);
 * await broker.publish(message, { exchange: "", routingKey: "celery" });
 * await broker.close();
 * ```
 */
export async function createBroker(
  url: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<AmqpBroker> {
  const connection = AmqpConnection.open(await parseAmqpUrl(url, config), config, options);
  await connection.get();
  return new AmqpBroker(url, connection, config);
}
