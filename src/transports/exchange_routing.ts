/**
 * Exchange routing for the brokers that route by themselves (memory and
 * embedded SQLite): which queues a message published to an exchange with a
 * routing key lands in, following AMQP's direct, topic and fanout rules.
 *
 * @module
 */

import type { ExchangeType } from "../broker/types.ts";

/** One queue bound to an exchange. */
export interface Binding {
  /** The bound queue. */
  queue: string;
  /** The binding key (ignored by fanout). */
  routingKey: string;
}

/** Whether an AMQP topic pattern (`*` one word, `#` zero or more words) matches a routing key. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const words = routingKey === "" ? [] : routingKey.split(".");
  const parts = pattern === "" ? [] : pattern.split(".");
  const match = (p: number, w: number): boolean => {
    if (p === parts.length) return w === words.length;
    if (parts[p] === "#") {
      for (let skip = w; skip <= words.length; skip++) if (match(p + 1, skip)) return true;
      return false;
    }
    if (w === words.length) return false;
    return (parts[p] === "*" || parts[p] === words[w]) && match(p + 1, w + 1);
  };
  return match(0, 0);
}

/**
 * The queues a message goes to. The default exchange (`""`) routes to the
 * queue named by the routing key, and so does an exchange nobody declared a
 * binding for (kombu would drop such a message into `ae.undeliver`; sending it
 * to the queue it names loses nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bindings = [{ queue: "a", routingKey: "x.*" }, { queue: "b", routingKey: "#" }];
 * assert.deepEqual(routeMessage("logs", "topic", bindings, "x.y"), ["a", "b"]);
 * assert.deepEqual(routeMessage("", "direct", [], "celery"), ["celery"]);
 * ```
 */
export function routeMessage(
  exchange: string,
  type: ExchangeType | undefined,
  bindings: readonly Binding[],
  routingKey: string,
): string[] {
  if (exchange === "" || type === undefined || bindings.length === 0) return [routingKey];
  const matched = bindings.filter((binding) => {
    if (type === "fanout") return true;
    if (type === "topic") return topicMatches(binding.routingKey, routingKey);
    return binding.routingKey === routingKey;
  });
  return [...new Set(matched.map((binding) => binding.queue))];
}
