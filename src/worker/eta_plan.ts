/**
 * What the worker does with a task whose ETA (or countdown) is in the future.
 *
 * Celery holds such a message unacked in worker memory until its time. That
 * goes wrong in two known ways: on Redis a message held past the
 * `visibility_timeout` is restored and runs twice, and on RabbitMQ a message
 * unacked past the broker's `consumer_timeout` (30 min by default) gets the
 * whole channel closed. celeriac holds a message at most `holdLimitMs`:
 *
 * - shorter waits are held in memory (the delivery's `hold()` keeps it out of
 *   the prefetch window, as Celery's +1 `basic.qos`);
 * - longer waits on a broker with delayed delivery (embedded SQLite, memory)
 *   are parked in the broker: the message is published again with
 *   `deliverAt` = its ETA, then the held copy is acked;
 * - longer waits on a broker without delayed delivery (RabbitMQ) are held for
 *   `holdLimitMs`, then the message is published again as it is and the held
 *   copy acked, so no delivery stays unacked past the consumer timeout.
 *
 * The new copy is confirmed by the broker before the old one is acked, so the
 * task is never lost; a crash between the two leaves two copies of the same
 * task id (at-least-once). On Redis the broker adapter refreshes the
 * visibility of every message it holds, so holding is safe for any length
 * and the default limit is unbounded.
 *
 * @module
 */

import type { Broker } from "../broker/types.ts";

/** On brokers with delayed delivery, ETAs further than this are parked in the broker. */
export const PARK_AFTER_MS = 60 * 1000;

/** One decision. */
export type EtaPlan =
  /** Due: run now. */
  | { action: "run" }
  /** Hold in memory for `ms`, then run. */
  | { action: "hold"; ms: number }
  /** Publish again with `deliverAt` = the ETA and ack this copy. */
  | { action: "park" }
  /** Hold for `ms`, then publish again as is and ack this copy. */
  | { action: "hold-then-resend"; ms: number };

/**
 * The default longest hold for a broker, from its declared capabilities:
 * half its `maxUnackedMs` (RabbitMQ: 15 of its 30 min consumer timeout),
 * `PARK_AFTER_MS` on delayed-delivery brokers (parking is better there),
 * unbounded elsewhere (Redis refreshes visibility of held messages).
 */
export function defaultHoldLimitMs(broker: Pick<Broker, "capabilities">): number {
  const { maxUnackedMs, delayedDelivery } = broker.capabilities;
  if (maxUnackedMs !== null) {
    return Math.min(maxUnackedMs / 2, delayedDelivery ? PARK_AFTER_MS : Infinity);
  }
  if (delayedDelivery) return PARK_AFTER_MS;
  return Number.POSITIVE_INFINITY;
}

/**
 * Plans a message whose ETA is `waitMs` away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planEta } from "./eta_plan.ts";
 * assert.deepEqual(planEta(5_000, 60_000, false), { action: "hold", ms: 5_000 });
 * assert.deepEqual(planEta(90_000, 60_000, true), { action: "park" });
 * assert.deepEqual(planEta(90_000, 60_000, false), { action: "hold-then-resend", ms: 60_000 });
 * ```
 */
export function planEta(waitMs: number, holdLimitMs: number, delayedDelivery: boolean): EtaPlan {
  if (!(waitMs > 0)) return { action: "run" };
  if (waitMs <= holdLimitMs) return { action: "hold", ms: waitMs };
  if (delayedDelivery) return { action: "park" };
  return { action: "hold-then-resend", ms: holdLimitMs };
}
