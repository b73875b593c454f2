/**
 * Sending a task again: Celery's retry (spec §5.10) publishes a copy with the
 * same id, `retries + 1`, the new ETA, `parent_id` = the task's own id and the
 * same root and embed, to where the original came from. A held ETA message
 * is also published again, as it is, when the worker must not hold it longer
 * (see `eta_plan.ts`).
 *
 * @module
 */

import type { Broker, Delivery } from "../broker/types.ts";
import { encodeTaskMessage, type TaskCall } from "../protocol/task_message.ts";
import type { RetryOutcome } from "../task/outcome.ts";

/** Publishes the retry of `call`; resolves once the broker has it. */
export async function publishRetry(
  broker: Broker,
  call: TaskCall,
  delivery: Delivery,
  outcome: RetryOutcome,
  origin: string,
): Promise<void> {
  const eta = new Date(outcome.eta);
  const next: TaskCall = {
    ...call,
    args: outcome.args ?? call.args,
    kwargs: outcome.kwargs ?? call.kwargs,
    retries: call.retries + 1,
    eta,
    parentId: call.id,
    origin,
    argsrepr: "",
    kwargsrepr: "",
  };
  await broker.publish(encodeTaskMessage(next), {
    exchange: delivery.exchange,
    routingKey: delivery.routingKey || delivery.queue,
    deliverAt: eta,
  });
}

/**
 * Publishes a held message again, unchanged but for its AMQP `expiration`
 * (recomputed from the `expires` header, so the copy cannot outlive it), to
 * where it came from; `deliverAt` parks it in a broker with delayed
 * delivery. Resolves once the broker has the copy; the caller then acks the
 * held one.
 */
export async function publishCopy(
  broker: Broker,
  delivery: Delivery,
  call: TaskCall,
  deliverAt?: Date,
): Promise<void> {
  const properties = { ...delivery.message.properties };
  delete properties.expiration;
  if (call.expires) {
    properties.expiration = String(Math.max(1, call.expires.getTime() - Date.now()));
  }
  await broker.publish({ ...delivery.message, properties }, {
    exchange: delivery.exchange,
    routingKey: delivery.routingKey || delivery.queue,
    deliverAt,
  });
}
