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

/** Text like Celery's `Request: <Context: {...}>` for debugging. */
export function describeRequest(request: TaskRequest): string {
  return `<Context: ${pythonRepr({ ...request })}>`;
}
