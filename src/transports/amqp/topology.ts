/**
 * Declaring queues, exchanges and bindings exactly as Celery does (spec
 * §3.1): a durable exchange of the queue's type, the queue with the same
 * arguments Python uses (RabbitMQ refuses a redeclaration whose arguments
 * differ), and the binding. The default exchange `""` and `amq.*` exchanges
 * are never declared.
 *
 * @module
 */

import type { Channel } from "./amqplib.ts";
import type { ResolvedConfig } from "../../app/config.ts";
import type { ExchangeSpec, QueueSpec } from "../../broker/types.ts";
import type { AmqpConnection } from "./connection.ts";
import { encodeFieldTable } from "./field_table.ts";

/**
 * The declaration arguments of `queue`: its own, plus `x-max-priority` from
 * `task_queue_max_priority` (when the queue sets none, as Celery's `Queues`
 * does) and `x-queue-type: quorum` for the default queue when
 * `task_default_queue_type` is `quorum` (Celery 5.5).
 */
export function queueArguments(queue: QueueSpec, config: ResolvedConfig): Record<string, unknown> {
  const args: Record<string, unknown> = { ...queue.arguments };
  if (
    config.task_default_queue_type === "quorum" && queue.name === config.task_default_queue &&
    !("x-queue-type" in args)
  ) {
    args["x-queue-type"] = "quorum";
  }
  const quorum = args["x-queue-type"] === "quorum";
  if (config.task_queue_max_priority !== null && !("x-max-priority" in args) && !quorum) {
    args["x-max-priority"] = config.task_queue_max_priority;
  }
  return args;
}

/** True when the queue is a quorum queue (no global QoS, always durable). */
export function isQuorum(queue: QueueSpec, config: ResolvedConfig): boolean {
  return queueArguments(queue, config)["x-queue-type"] === "quorum";
}

function declarable(exchange: string): boolean {
  return exchange !== "" && !exchange.startsWith("amq.");
}

/** Declares exchange, queue and binding on `channel` (no caching). */
export async function declareOn(
  channel: Channel,
  queue: QueueSpec,
  config: ResolvedConfig,
): Promise<void> {
  const args = queueArguments(queue, config);
  const quorum = args["x-queue-type"] === "quorum";
  if (declarable(queue.exchange)) {
    await channel.assertExchange(queue.exchange, queue.exchangeType, {
      durable: queue.exchangeDurable ?? true,
      autoDelete: false,
    });
  }
  await channel.assertQueue(queue.name, {
    durable: quorum ? true : queue.durable,
    exclusive: false,
    autoDelete: quorum ? false : queue.autoDelete,
    arguments: encodeFieldTable(args),
  });
  if (declarable(queue.exchange)) {
    await channel.bindQueue(queue.name, queue.exchange, queue.routingKey, {});
  }
}

function declarationKey(queue: QueueSpec, config: ResolvedConfig): string {
  return JSON.stringify([
    queue.name,
    queue.exchange,
    queue.exchangeType,
    queue.routingKey,
    queue.durable,
    queue.autoDelete,
    queueArguments(queue, config),
    queue.exchangeDurable ?? true,
  ]);
}

/** Declarations on their way, per connection: concurrent publishes share one. */
const inFlight = new WeakMap<AmqpConnection, Map<string, Promise<void>>>();

/**
 * Declares `queue` once per connection (kombu's `maybe_declare`), or always
 * with `force`. Publishes racing to declare the same queue wait for one
 * declaration (a thousand concurrent first sends made a thousand of each).
 */
export async function declareQueue(
  connection: AmqpConnection,
  queue: QueueSpec,
  config: ResolvedConfig,
  force = false,
): Promise<void> {
  const key = declarationKey(queue, config);
  if (!force && connection.isDeclared(key)) return;
  let pending = inFlight.get(connection);
  if (!pending) inFlight.set(connection, pending = new Map());
  const running = force ? undefined : pending.get(key);
  if (running) return await running;
  const work = (async () => {
    const channel = await connection.opsChannel();
    const generation = connection.generation;
    await declareOn(channel, queue, config);
    connection.markDeclared(key, generation);
  })();
  if (!force) pending.set(key, work);
  try {
    await work;
  } finally {
    if (pending.get(key) === work) pending.delete(key);
  }
}

/** Declares an exchange once per connection (events and remote control publish to exchanges without a queue). */
export async function declareExchange(
  connection: AmqpConnection,
  exchange: ExchangeSpec,
): Promise<void> {
  if (!declarable(exchange.name)) return;
  const key = JSON.stringify(["exchange", exchange.name, exchange.type, exchange.durable]);
  if (connection.isDeclared(key)) return;
  const channel = await connection.opsChannel();
  const generation = connection.generation;
  await channel.assertExchange(exchange.name, exchange.type, {
    durable: exchange.durable,
    autoDelete: false,
  });
  connection.markDeclared(key, generation);
}
