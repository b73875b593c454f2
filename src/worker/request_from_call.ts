/**
 * Turning a decoded task message into the request the task body sees.
 *
 * @module
 */

import type { Delivery } from "../broker/types.ts";
import type { TaskCall } from "../protocol/task_message.ts";
import { formatCeleryDate } from "../protocol/dates.ts";
import type { TaskRequest } from "../task/request.ts";

/** Builds the `TaskRequest` for one delivered task message. */
export function requestFromCall(call: TaskCall, delivery: Delivery, hostname: string): TaskRequest {
  return {
    id: call.id,
    task: call.task,
    args: call.args,
    kwargs: call.kwargs,
    retries: call.retries,
    hostname,
    deliveryInfo: {
      exchange: delivery.exchange,
      routingKey: delivery.routingKey,
      priority: call.priority,
      redelivered: delivery.redelivered,
    },
    rootId: call.rootId,
    parentId: call.parentId,
    group: call.group,
    groupIndex: call.groupIndex,
    eta: call.eta ? formatCeleryDate(call.eta) : null,
    expires: call.expires ? formatCeleryDate(call.expires) : null,
    correlationId: call.correlationId,
    replyTo: call.replyTo,
    origin: call.origin,
    timeLimit: call.timeLimit,
    headers: call.customHeaders,
    isEager: false,
    embed: {
      callbacks: call.embed.callbacks,
      errbacks: call.embed.errbacks,
      chain: call.embed.chain,
      chord: call.embed.chord,
    },
  };
}
