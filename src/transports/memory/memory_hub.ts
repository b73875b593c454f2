/**
 * The shared state behind `memory://<name>` brokers: every broker opened with
 * the same name in one process sees the same queues and exchanges.
 *
 * @module
 */

import type { ExchangeType, PublishTarget, QueueSpec, WireMessage } from "../../broker/types.ts";
import { type Binding, routeMessage } from "../exchange_routing.ts";
import { MemoryQueue, type StoredMessage } from "./memory_queue.ts";

/** Something waiting for messages on some queues (a consumer). */
export interface QueueListener {
  /** Queue names it consumes. */
  readonly queueNames: ReadonlySet<string>;
  /** Called when one of its queues may have a message ready. */
  wake(): void;
}

/** Queues, exchanges and listeners of one `memory://` name. */
export class MemoryHub {
  readonly #queues = new Map<string, MemoryQueue>();
  readonly #exchanges = new Map<string, { type: ExchangeType; bindings: Binding[] }>();
  readonly #listeners = new Set<QueueListener>();
  #seq = 0;

  /** The queue named `name`, created when missing (publishing to an unknown queue creates it). */
  queue(name: string): MemoryQueue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(name);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Whether a queue of that name exists. */
  hasQueue(name: string): boolean {
    return this.#queues.has(name);
  }

  /** Declares a queue and binds it to its exchange (idempotent). */
  declare(spec: QueueSpec): void {
    this.queue(spec.name);
    if (spec.exchange === "") return;
    let exchange = this.#exchanges.get(spec.exchange);
    if (!exchange) {
      exchange = { type: spec.exchangeType, bindings: [] };
      this.#exchanges.set(spec.exchange, exchange);
    }
    const known = exchange.bindings.some((b) =>
      b.queue === spec.name && b.routingKey === spec.routingKey
    );
    if (!known) exchange.bindings.push({ queue: spec.name, routingKey: spec.routingKey });
  }

  /** Stores a private copy of `message` in every queue its target routes to. */
  publish(message: WireMessage, target: PublishTarget): void {
    if (target.queue) this.declare(target.queue);
    const exchange = this.#exchanges.get(target.exchange);
    const names = routeMessage(
      target.exchange,
      exchange?.type,
      exchange?.bindings ?? [],
      target.routingKey,
    );
    const dueAt = target.deliverAt?.getTime() ?? 0;
    for (const name of names) {
      const entry: StoredMessage = {
        seq: ++this.#seq,
        message: copyMessage(message),
        exchange: target.exchange,
        routingKey: target.routingKey,
        priority: message.properties.priority ?? 0,
        redelivered: false,
      };
      if (dueAt > Date.now()) this.queue(name).pushDelayed(entry, dueAt);
      else this.queue(name).push(entry);
      this.wake(name);
    }
  }

  /** Puts a handed-out message back at its place, marked redelivered. */
  requeue(queueName: string, entry: StoredMessage): void {
    entry.redelivered = true;
    this.queue(queueName).push(entry);
    this.wake(queueName);
  }

  /** Starts telling `listener` about new messages. */
  listen(listener: QueueListener): void {
    this.#listeners.add(listener);
  }

  /** Stops telling `listener`. */
  unlisten(listener: QueueListener): void {
    this.#listeners.delete(listener);
  }

  /** Wakes every listener of `queueName`. */
  wake(queueName: string): void {
    for (const listener of this.#listeners) {
      if (listener.queueNames.has(queueName)) listener.wake();
    }
  }
}

function copyMessage(message: WireMessage): WireMessage {
  return {
    headers: structuredClone(message.headers),
    properties: { ...message.properties },
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    body: message.body.slice(),
  };
}

const hubs = new Map<string, MemoryHub>();

/** The hub for a `memory://` URL: `memory://name` and `memory://name/` share one; `memory://` is "". */
export function hubFor(url: string): MemoryHub {
  const name = url.replace(/^memory:\/\//i, "").replace(/\/+$/, "");
  let hub = hubs.get(name);
  if (!hub) {
    hub = new MemoryHub();
    hubs.set(name, hub);
  }
  return hub;
}
