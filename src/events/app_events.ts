/**
 * `app.events()`: a stream of the cluster's events for a monitor, connected
 * when first read. As `celery events` does, it asks every worker for a
 * heartbeat as soon as it listens (`wakeup`), so live workers show at once.
 *
 * @module
 */

import type { Broker } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import type { LamportClock } from "./clock.ts";
import type { CeleryEvent } from "./event_types.ts";
import { assertExpiringQueues, eventStream, type EventStreamOptions } from "./receiver.ts";
import { receiverQueue } from "./topology.ts";

/** What `appEventStream` needs from the app. */
export interface EventsHost {
  /** The app's broker. */
  getBroker(): Promise<Broker>;
  /** The resolved settings. */
  resolvedConfig(): ResolvedConfig;
  /** The app's Lamport clock. */
  readonly clock: LamportClock;
  /** Sends a control command without waiting for replies. */
  broadcastCast(command: string): Promise<unknown>;
}

/** Options of `app.events()`. */
export interface AppEventsOptions extends EventStreamOptions {
  /** Ask every worker for a heartbeat once listening (default true). */
  wakeup?: boolean;
}

/** The events of the app's broker as a `ReadableStream` (also an async iterable). */
export function appEventStream(
  host: EventsHost,
  options: AppEventsOptions = {},
): ReadableStream<CeleryEvent> {
  let reader: ReadableStreamDefaultReader<CeleryEvent> | undefined;
  return new ReadableStream<CeleryEvent>({
    async start() {
      const broker = await host.getBroker();
      assertExpiringQueues(broker);
      const config = host.resolvedConfig();
      const clock = options.clock ?? host.clock;
      // Declared (and bound) before the wake-up, so the heartbeats it asks for are not missed.
      const queue = options.queue ?? receiverQueue(config, broker.url, options.bindingKey ?? "#");
      await broker.declareQueue(queue);
      reader = eventStream(broker, config, { ...options, clock, queue }).getReader();
      if (options.wakeup ?? true) await host.broadcastCast("heartbeat");
    },
    async pull(controller) {
      const { done, value } = await reader!.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel() {
      return reader?.cancel();
    },
  });
}
