/**
 * Sending events (spec §2.1–§2.4). Worker events go out one by one with
 * routing key `worker.<kind>`; task events are gathered and sent as one
 * JSON array with routing key `task.multi`, as Celery's worker does. Celery
 * flushes once per turn of its event loop (or every 24 events); celeriac
 * flushes at most every `TASK_EVENT_FLUSH_MS` (or every `TASK_EVENT_BATCH`
 * events), so a busy worker publishes a few messages a second, not one per
 * task (a publish per task cost a third of the drain rate). Monitors accept
 * arrays of any length. Publishing never throws: a failed publish is logged
 * and the event dropped (events are transient).
 *
 * @module
 */

import type { Broker, ExchangeSpec, WireMessage } from "../broker/types.ts";
import type { Logger } from "../log.ts";
import type { LamportClock } from "./clock.ts";
import { eventGroup, eventRoutingKey, utcOffsetHours } from "./event_types.ts";

/** Most task events sent together. */
export const TASK_EVENT_BATCH = 256;
/** Longest time a task event waits to be sent, in milliseconds. */
export const TASK_EVENT_FLUSH_MS = 50;

/** What a dispatcher needs. */
export interface DispatcherOptions {
  /** Where events go. */
  broker: Broker;
  /** The events exchange (`eventExchange(config, url)`). */
  exchange: ExchangeSpec;
  /** Sender's node name. */
  hostname: string;
  /** The node's Lamport clock. */
  clock: LamportClock;
  /** Where failed publishes are logged. */
  logger: Logger;
  /** Gather task events into `task.multi` arrays (workers); false sends each at once (clients). */
  batchTaskEvents?: boolean;
}

const encoder = new TextEncoder();

/** Publishes events for one node. */
export class EventDispatcher {
  /** Whether `task-*` events are sent (`-E`, `enable_events`). Worker events always are. */
  taskEvents = true;
  readonly #options: DispatcherOptions;
  readonly #pending = new Set<Promise<void>>();
  #buffer: Record<string, unknown>[] = [];
  #flushTimer?: ReturnType<typeof setTimeout>;
  #failures = 0;
  #offset = 0;
  #offsetAt = -Infinity;
  readonly #pid = Deno.pid;

  /** Creates a dispatcher; nothing is published before `send`. */
  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** The sender's node name. */
  get hostname(): string {
    return this.#options.hostname;
  }

  /**
   * Sends one event of `type` with `fields` plus the common fields
   * (hostname, utcoffset, pid, clock, timestamp). A `task-*` event is
   * skipped while task events are off.
   */
  send(type: string, fields: Record<string, unknown> = {}): void {
    const group = eventGroup(type);
    if (group === "task" && !this.taskEvents) return;
    const now = Date.now();
    if (now - this.#offsetAt > 60_000) { // the offset changes twice a year: read it once a minute
      this.#offset = utcOffsetHours(new Date(now));
      this.#offsetAt = now;
    }
    const event = {
      hostname: this.#options.hostname,
      utcoffset: this.#offset,
      pid: this.#pid,
      clock: this.#options.clock.forward(),
      ...fields,
      timestamp: now / 1000,
      type,
    };
    if (group === "task" && this.#options.batchTaskEvents) {
      this.#buffer.push(event);
      if (this.#buffer.length >= TASK_EVENT_BATCH) this.flush();
      else this.#flushTimer ??= setTimeout(() => this.flush(), TASK_EVENT_FLUSH_MS);
      return;
    }
    this.#publish(event, eventRoutingKey(type));
  }

  /** Sends the gathered task events now. */
  flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#publish(batch, "task.multi");
  }

  /** Sends what is gathered and waits until every publish is done. */
  async close(): Promise<void> {
    this.flush();
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  #publish(body: unknown, routingKey: string): void {
    const { broker, exchange, hostname, logger } = this.#options;
    const message: WireMessage = {
      headers: { hostname },
      properties: { deliveryMode: 1, priority: 0 },
      contentType: "application/json",
      contentEncoding: "utf-8",
      body: encoder.encode(JSON.stringify(body)),
    };
    const publishing = broker
      .publish(message, { exchange: exchange.name, routingKey, declareExchange: exchange })
      .then(() => {
        this.#failures = 0;
      })
      .catch((error) => {
        // One line per outage, not one per event.
        if (this.#failures++ === 0) {
          logger.warning(`Cannot send events: ${error?.message ?? error}`);
        }
      })
      .finally(() => this.#pending.delete(publishing));
    this.#pending.add(publishing);
  }
}
