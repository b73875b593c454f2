/**
 * Routing: which queue a task goes to and how the queue is declared
 * (`task_queues`, `task_routes`, `task_default_*`, `queue=` at call time).
 *
 * @module
 */

import type { PublishTarget, QueueSpec } from "../broker/types.ts";
import { ConfigurationError } from "../errors.ts";
import type { QueueOptions, ResolvedConfig, RouteOptions } from "./settings.ts";

function queueArguments(options: QueueOptions, config: ResolvedConfig): Record<string, unknown> {
  const args: Record<string, unknown> = { ...(options.arguments ?? {}) };
  const maxPriority = options.maxPriority ?? config.task_queue_max_priority;
  if (maxPriority != null) args["x-max-priority"] = maxPriority;
  if (options.queueType === "quorum") args["x-queue-type"] = "quorum";
  return args;
}

/** The full declaration of a configured queue. */
export function queueSpec(options: QueueOptions, config: ResolvedConfig): QueueSpec {
  return {
    name: options.name,
    exchange: options.exchange ?? options.name,
    exchangeType: options.exchangeType ?? "direct",
    routingKey: options.routingKey ?? options.name,
    durable: options.durable ?? true,
    autoDelete: options.autoDelete ?? false,
    arguments: queueArguments(options, config),
  };
}

/** The default queue (`task_default_queue` and friends). */
export function defaultQueue(config: ResolvedConfig): QueueSpec {
  const name = config.task_default_queue;
  return queueSpec({
    name,
    exchange: config.task_default_exchange ?? name,
    exchangeType: config.task_default_exchange_type,
    routingKey: config.task_default_routing_key ?? name,
    queueType: config.task_default_queue_type,
  }, config);
}

/** Looks up a queue by name; unknown names are created with defaults when allowed. */
export function findQueue(name: string, config: ResolvedConfig): QueueSpec {
  const configured = config.task_queues?.find((queue) => queue.name === name);
  if (configured) return queueSpec(configured, config);
  if (name === config.task_default_queue) return defaultQueue(config);
  if (!config.task_create_missing_queues) {
    throw new ConfigurationError(
      `Queue ${JSON.stringify(name)} is not in task_queues and task_create_missing_queues is off.`,
    );
  }
  return queueSpec({ name }, config);
}

/** Queues a worker consumes: `-Q a,b`, else every `task_queues` entry, else the default queue. */
export function consumedQueues(names: readonly string[], config: ResolvedConfig): QueueSpec[] {
  if (names.length > 0) return names.map((name) => findQueue(name, config));
  if (config.task_queues?.length) return config.task_queues.map((q) => queueSpec(q, config));
  return [defaultQueue(config)];
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${escaped}$`);
}

/** The `task_routes` entry for a task name: exact names first, then globs in order. */
export function routeFor(taskName: string, config: ResolvedConfig): RouteOptions | undefined {
  const routes = config.task_routes;
  if (!routes) return undefined;
  const exact = routes[taskName];
  const found = exact ??
    Object.entries(routes).find(([pattern]) =>
      pattern.includes("*") && globToRegExp(pattern).test(taskName)
    )?.[1];
  if (found === undefined) return undefined;
  return typeof found === "string" ? { queue: found } : found;
}

/** Where one call goes. */
export interface RouteRequest {
  /** `queue` from the call. */
  queue?: string;
  /** `exchange` from the call. */
  exchange?: string;
  /** `routingKey` from the call. */
  routingKey?: string;
  /** The task's own default queue. */
  taskQueue?: string;
}

/**
 * Decides the publish target. As Celery 5.2's `send_task_message`: for a
 * direct exchange, unless both an exchange and a routing key are given, the
 * queue is reached through the default exchange `""` with the queue name as
 * routing key; otherwise the given (or the queue's) exchange and key are used.
 */
export function resolveTarget(
  taskName: string,
  request: RouteRequest,
  config: ResolvedConfig,
): PublishTarget & { queue: QueueSpec; priority?: number } {
  const route = request.queue ? undefined : routeFor(taskName, config);
  const queueName = request.queue ?? route?.queue ?? request.taskQueue ?? config.task_default_queue;
  const queue = findQueue(queueName, config);
  const exchange = request.exchange ?? route?.exchange;
  const routingKey = request.routingKey ?? route?.routing_key;
  const priority = route?.priority;
  if ((!exchange || !routingKey) && queue.exchangeType === "direct") {
    return { exchange: "", routingKey: queue.name, queue, priority };
  }
  return {
    exchange: exchange ?? queue.exchange,
    routingKey: routingKey ?? queue.routingKey,
    queue,
    priority,
  };
}
