/**
 * The request a running task sees: Celery's `self.request`.
 *
 * @module
 */

import { pythonRepr } from "../protocol/python_repr.ts";

/** How the message arrived. */
export interface DeliveryInfo {
  /** Exchange it was published to. */
  exchange: string;
  /** Routing key. */
  routingKey: string;
  /** Message priority. */
  priority: number;
  /** Delivered before and not acked. */
  redelivered: boolean;
}

/** Everything known about the current run of a task (Celery's `Task.request`). */
export interface TaskRequest {
  /** Task id. */
  id: string;
  /** Registered task name. */
  task: string;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Record<string, unknown>;
  /** How many times this task was retried. */
  retries: number;
  /** The worker's node name (`celery@host`). */
  hostname: string;
  /** Delivery details. */
  deliveryInfo: DeliveryInfo;
  /** First task of the workflow. */
  rootId: string;
  /** Task that sent this one. */
  parentId: string | null;
  /** Group id. */
  group: string | null;
  /** Position in a chord header, when the task is one of its parts. */
  groupIndex?: number | null;
  /** ETA as ISO text, when the task was delayed. */
  eta: string | null;
  /** Expiry as ISO text. */
  expires: string | null;
  /** Correlation id. */
  correlationId: string;
  /** rpc reply queue. */
  replyTo: string;
  /** Sender's node name. */
  origin: string;
  /** `[hard, soft]` time limits in seconds. */
  timeLimit: [number | null, number | null];
  /** Non-protocol headers sent with the task. */
  headers: Record<string, unknown>;
  /** True when run by `apply()` or a local call. */
  isEager: boolean;
  /** Canvas callbacks, chain and chord information (as received). */
  embed: {
    callbacks: unknown[] | null;
    errbacks: unknown[] | null;
    chain: unknown[] | null;
    chord: unknown | null;
  };
}

/**
 * The request under Celery's field names (`delivery_info`, `root_id`,
 * `is_eager`, …), as Celery's `Context` holds them; custom headers appear as
 * their own keys, as in Celery.
 */
export function celeryContext(request: TaskRequest): Record<string, unknown> {
  const context: Record<string, unknown> = {
    id: request.id,
    task: request.task,
    args: request.args,
    kwargs: request.kwargs,
    retries: request.retries,
    hostname: request.hostname,
    delivery_info: {
      exchange: request.deliveryInfo.exchange,
      routing_key: request.deliveryInfo.routingKey,
      priority: request.deliveryInfo.priority,
      redelivered: request.deliveryInfo.redelivered,
    },
    root_id: request.rootId,
    parent_id: request.parentId,
    group: request.group,
    eta: request.eta,
    expires: request.expires,
    correlation_id: request.correlationId,
    reply_to: request.replyTo,
    origin: request.origin,
    timelimit: request.timeLimit,
    is_eager: request.isEager,
    callbacks: request.embed.callbacks,
    errbacks: request.embed.errbacks,
    chain: request.embed.chain,
    chord: request.embed.chord,
  };
  for (const [key, value] of Object.entries(request.headers)) {
    if (!(key in context)) context[key] = value;
  }
  return context;
}

/**
 * Text like Celery's `<Context: {...}>`, for the seeds' `debug_task`:
 * `console.log(\`Request: ${describeRequest(self.request)}\`)`.
 *
 * @example
 * ```ts
 * import { describeRequest } from "./request.ts";
 * import { eagerRequest } from "./eager_request.ts";
 * const text = describeRequest(eagerRequest("proj.add", [2, 2], { taskId: "t-1" }));
 * console.assert(text.startsWith("<Context: {'id': 't-1', 'task': 'proj.add', 'args': [2, 2]"));
 * ```
 */
export function describeRequest(request: TaskRequest): string {
  return `<Context: ${pythonRepr(celeryContext(request))}>`;
}
