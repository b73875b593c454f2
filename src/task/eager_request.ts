/**
 * The request given to a task run in-process (`apply()` or a local call).
 *
 * @module
 */

import type { ApplyOptions } from "./options.ts";
import type { TaskRequest } from "./request.ts";
import { nodeName } from "../app/node_name.ts";

/** A request for an eager run: `isEager` is true and delivery info is empty. */
export function eagerRequest(task: string, args: unknown[], options: ApplyOptions): TaskRequest {
  const id = options.taskId ?? crypto.randomUUID();
  return {
    id,
    task,
    args,
    kwargs: options.kwargs ?? {},
    retries: options.retries ?? 0,
    hostname: nodeName(),
    deliveryInfo: {
      exchange: "",
      routingKey: "",
      priority: options.priority ?? 0,
      redelivered: false,
    },
    rootId: options.rootId ?? id,
    parentId: options.parentId ?? null,
    group: options.groupId ?? null,
    eta: null,
    expires: null,
    correlationId: id,
    replyTo: "",
    origin: nodeName(),
    timeLimit: [options.timeLimit ?? null, options.softTimeLimit ?? null],
    headers: options.headers ?? {},
    isEager: true,
    embed: { callbacks: null, errbacks: null, chain: null, chord: null },
  };
}
