/**
 * Receiving events (spec §2.7): a queue `celeryev.<uuid>` bound to the events
 * exchange with `#` (RabbitMQ), or a subscription to `/<db>.celeryev/*`
 * (Redis), read as a `ReadableStream` of typed events. Bodies may be one
 * event or an array (`task.multi`); each event gets `local_received`, its
 * `timestamp` corrected to this host's offset, and moves the clock on.
 * A malformed message is logged and skipped.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/settings.ts";
import type { Broker, QueueSpec } from "../broker/types.ts";
import { getLogger } from "../log.ts";
import { LamportClock } from "./clock.ts";
import { type CeleryEvent, utcOffsetHours } from "./event_types.ts";
import { receiverQueue } from "./topology.ts";

const log = getLogger("events");
const decoder = new TextDecoder();

/** Options of `app.events()`. */
export interface EventStreamOptions {
  /** Binding key (RabbitMQ topic syntax): `#` (default) for all, `worker.#`, `task.#`. */
  bindingKey?: string;
  /** Only events whose type is in this list (e.g. `["task-succeeded"]`); default all. */
  types?: readonly string[];
  /** Stops the stream. */
  signal?: AbortSignal;
  /** The receiver's clock (default a fresh one). */
  clock?: LamportClock;
  /** The queue to read (default a fresh `receiverQueue`); declare it first to miss nothing. */
  queue?: QueueSpec;
}

/**
 * Turns one message body into events; throws with the reason when it is not
 * an event or an array of events.
 */
export function parseEventBody(text: string): Record<string, unknown>[] {
  const value: unknown = JSON.parse(text);
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) {
    if (typeof item !== "object" || item === null || typeof item.type !== "string") {
      throw new Error(`not an event (an object with a "type"): ${text.slice(0, 200)}`);
    }
  }
  return list as Record<string, unknown>[];
}

/** Adds receiver-side fields to a received event, as Celery's `EventReceiver.event_from_message`. */
export function receivedEvent(raw: Record<string, unknown>, clock: LamportClock): CeleryEvent {
  const now = Date.now() / 1000;
  const offset = typeof raw.utcoffset === "number" ? raw.utcoffset : 0;
  const timestamp = typeof raw.timestamp === "number" ? raw.timestamp : now;
  const event = {
    ...raw,
    timestamp: timestamp - (offset - utcOffsetHours()) * 3600,
    local_received: now,
  } as CeleryEvent;
  if (event.type === "task-sent") event.clock = Math.max(clock.value || 1, 1) - 1; // clients are not in step
  else clock.adjust(event.clock);
  return event;
}

/**
 * Throws for the embedded SQLite broker: it keeps a receiver's queue (and
 * every event routed to it) after the receiver is gone, since it has no
 * queue expiry; events need RabbitMQ, Redis or memory://.
 */
export function assertExpiringQueues(broker: Broker): void {
  if (/^sqlite:/i.test(broker.url)) {
    throw new Error(
      "Cannot receive events on the embedded SQLite broker: it cannot expire a monitor's queue, " +
        "so events would pile up after the monitor stops. Use RabbitMQ, Redis or memory://.",
    );
  }
}

/**
 * Reads events from `broker` as a stream. Cancel the stream (or abort
 * `options.signal`) to stop; the queue is deleted by the broker when unused.
 */
export function eventStream(
  broker: Broker,
  config: ResolvedConfig,
  options: EventStreamOptions = {},
): ReadableStream<CeleryEvent> {
  assertExpiringQueues(broker);
  const queue = options.queue ?? receiverQueue(config, broker.url, options.bindingKey ?? "#");
  const clock = options.clock ?? new LamportClock();
  const types = options.types ? new Set(options.types) : undefined;
  const reader = broker.consume({ queues: [queue], prefetch: 0 }).getReader();
  const stop = () => void reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", stop, { once: true });
  return new ReadableStream<CeleryEvent>({
    async pull(controller) {
      while (true) {
        const { done, value } = await reader.read();
        if (done) {
          options.signal?.removeEventListener("abort", stop);
          return controller.close();
        }
        void value.ack().catch(() => {});
        let events: Record<string, unknown>[];
        try {
          events = parseEventBody(decoder.decode(value.message.body));
        } catch (error) {
          log.warning(`Skipped a malformed event message: ${(error as Error).message}`);
          continue;
        }
        const wanted = types ? events.filter((raw) => types.has(raw.type as string)) : events;
        for (const raw of wanted) controller.enqueue(receivedEvent(raw, clock));
        if (wanted.length) return;
      }
    },
    cancel() {
      options.signal?.removeEventListener("abort", stop);
      return reader.cancel();
    },
  });
}
