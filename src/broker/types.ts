/**
 * The Broker seam: what every transport (memory, embedded SQLite, RabbitMQ,
 * Redis) offers the rest of celeriac. Messages flow out of a broker as a
 * `ReadableStream` of deliveries; each delivery is settled once, by `ack()` or
 * `reject(requeue)`.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/config.ts";
import type { ConnectionShare } from "./connection_share.ts";

/** Message properties, transport-neutral (AMQP basic properties / kombu's `properties`). */
export interface MessageProperties {
  /** The task id for task messages; rpc replies echo it. */
  correlationId?: string;
  /** The rpc reply queue name (Celery sets it on every task message). */
  replyTo?: string;
  /** 2 = persistent, 1 = transient. */
  deliveryMode?: 1 | 2;
  /** 0–255 on RabbitMQ, 0–9 on Redis. */
  priority?: number;
  /** Milliseconds, as a decimal string (AMQP `expiration`). */
  expiration?: string;
}

/** One message as it travels: headers, properties and an encoded body. */
export interface WireMessage {
  /** Application headers (Celery's 16 protocol v2 keys plus custom ones). */
  headers: Record<string, unknown>;
  /** Message properties. */
  properties: MessageProperties;
  /** MIME type of `body`, such as `application/json`; empty when the sender gave none. */
  contentType: string;
  /** Character set of `body`, such as `utf-8`. */
  contentEncoding: string;
  /** The encoded body. */
  body: Uint8Array;
}

/** An exchange type, as in AMQP and kombu. */
export type ExchangeType = "direct" | "topic" | "fanout";

/** A queue and how it is bound (kombu's `Queue(name, Exchange(name, type), routing_key=…)`). */
export interface QueueSpec {
  /** Queue name. */
  name: string;
  /** Exchange the queue is bound to (defaults to the queue name). */
  exchange: string;
  /** Type of that exchange. */
  exchangeType: ExchangeType;
  /** Binding key. */
  routingKey: string;
  /** Survives a broker restart (default true). */
  durable: boolean;
  /** Deleted when its last consumer goes (default false). */
  autoDelete: boolean;
  /** Extra declaration arguments, such as `x-max-priority` or `x-queue-type`. */
  arguments: Record<string, unknown>;
  /** Whether its exchange is durable (default true; Celery's pidbox exchanges are not). */
  exchangeDurable?: boolean;
}

/** An exchange to declare before publishing to it (events, remote control). */
export interface ExchangeSpec {
  /** Exchange name. */
  name: string;
  /** Exchange type. */
  type: ExchangeType;
  /** Survives a broker restart. */
  durable: boolean;
}

/** Where one message goes. */
export interface PublishTarget {
  /** Exchange to publish to; `""` is the default exchange (routing key = queue name). */
  exchange: string;
  /** Routing key. */
  routingKey: string;
  /** The queue to declare (once per connection) before publishing, when known. */
  queue?: QueueSpec;
  /** Adapters with `delayedDelivery` hold the message until this time. */
  deliverAt?: Date;
  /** The exchange to declare (once per connection) before publishing, when no queue is given. */
  declareExchange?: ExchangeSpec;
}

/** Options for consuming. */
export interface ConsumeOptions {
  /** Queues to consume from; they are declared first. */
  queues: QueueSpec[];
  /**
   * Most deliveries handed out and not yet settled (AMQP `basic.qos`). 0 means no limit.
   * The adapter never hands out more unsettled deliveries than this.
   */
  prefetch: number;
}

/** One received message, to be settled exactly once. */
export interface Delivery {
  /** The message. */
  readonly message: WireMessage;
  /** Exchange it was published to. */
  readonly exchange: string;
  /** Routing key it was published with. */
  readonly routingKey: string;
  /** The queue it was consumed from. */
  readonly queue: string;
  /** True when the broker delivered it before and it was not acked. */
  readonly redelivered: boolean;
  /** Removes the message from the broker. */
  ack(): Promise<void>;
  /** Gives the message back (`requeue: true`) or drops / dead-letters it. */
  reject(requeue: boolean): Promise<void>;
  /**
   * Says this delivery will stay unsettled for a while (a worker holding an
   * ETA task until its time): from now until it is settled it no longer
   * counts against `prefetch`, so held messages never starve the window
   * (Celery raises `basic.qos` by one per held ETA message). Optional:
   * without it a held delivery keeps its prefetch slot.
   */
  hold?(): void;
  /**
   * Optional: aborts when this delivery can no longer be settled (its AMQP
   * channel closed with the connection); the broker redelivers it. A worker
   * should not start it then, or it runs twice (Celery drops its reserved
   * requests on connection loss for the same reason).
   */
  readonly lost?: AbortSignal;
}

/** What an adapter can do; the docs and the conformance suite read the same constant. */
export interface BrokerCapabilities {
  /** How `priority` orders delivery. */
  priorities: "higher-first" | "lower-first" | "none";
  /** Fanout exchanges (broadcast to every bound queue). */
  fanout: boolean;
  /** Honours `PublishTarget.deliverAt` by itself. */
  delayedDelivery: boolean;
  /** A client in one process and a worker in another share the queues. */
  crossProcess: boolean;
  /** Messages survive a restart of the broker (or of the process, for embedded ones). */
  persistent: boolean;
  /** `reject(false)` can dead-letter instead of dropping. */
  deadLetter: boolean;
  /**
   * How long the broker lets a delivery stay unacknowledged before it takes
   * it back (RabbitMQ's `consumer_timeout` closes the channel), in ms; null
   * when it never does (Redis refreshes visibility of what a worker holds).
   */
  maxUnackedMs: number | null;
}

/**
 * Where a broker instance names what it would leave unsettled if the thread
 * holding it died (its lease holder, its owner set, its blocking
 * connections), so that another instance can give it back at once
 * (`Broker.trackUnsettled`, `Broker.restoreUnsettled`). Keys change rarely,
 * never per message.
 */
export interface UnsettledRegistry {
  /** A key for `restoreUnsettled`. */
  add(key: string): void;
  /** That key no longer names anything (a connection replaced). */
  remove(key: string): void;
}

/** A message transport. Obtain one from `createBroker(url, config)`. */
export interface Broker extends AsyncDisposable {
  /** The URL it was created from (use `maskUrl` before printing it). */
  readonly url: string;
  /** What this adapter can do. */
  readonly capabilities: BrokerCapabilities;
  /** Publishes one message; resolves once the broker has it. */
  publish(message: WireMessage, target: PublishTarget): Promise<void>;
  /** Starts consuming. Cancelling the stream stops consuming; unsettled deliveries can still be settled. */
  consume(options: ConsumeOptions): ReadableStream<Delivery>;
  /** Declares a queue (idempotent). */
  declareQueue(queue: QueueSpec): Promise<void>;
  /** Number of ready (unconsumed) messages in a queue. */
  messageCount(queue: string): Promise<number>;
  /** Deletes every ready message of a queue; returns how many. */
  purge(queue: string): Promise<number>;
  /** Closes connections. */
  close(): Promise<void>;
  /**
   * Optional: from now on, keep what this instance takes and has not settled
   * findable through the keys it gives `registry`. Brokers that take a
   * delivery back when its connection closes (RabbitMQ) need neither this
   * nor `restoreUnsettled`.
   */
  trackUnsettled?(registry: UnsettledRegistry): void;
  /**
   * Optional: gives back at once what another instance of the same
   * transport left unsettled (`keys`: what it gave its registry; that
   * instance's thread is gone), marked redelivered. Returns how many
   * messages went back.
   */
  restoreUnsettled?(keys: string[]): Promise<number>;
}

/** How an adapter's connections treat the process they live in. */
export interface ConnectOptions {
  /**
   * False for a client's connections: idle sockets and heartbeat timers then
   * do not keep the process alive, so a script that sent a task exits by
   * itself; whoever waits on such a connection holds the process meanwhile
   * (`holdProcess` in `src/app/process_hold.ts`). Default true.
   */
  keepProcessAlive?: boolean;
  /**
   * Connections to share with the app's other adapters (its broker and its
   * result backend): an adapter that can use one connection for both takes
   * it from here (`rpc://` results over the broker's RabbitMQ connection).
   */
  share?: ConnectionShare;
}

/** What an adapter module exports: a factory called with the URL and the resolved config. */
export type BrokerFactory = (
  url: string,
  config: ResolvedConfig,
  options?: ConnectOptions,
) => Promise<Broker>;
