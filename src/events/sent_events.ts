/**
 * `task-sent` events from a client (`task_send_sent_event`, spec §2.5):
 * published right after each task message, from the `after_task_publish`
 * signal, with the client's `gen<pid>@host` name.
 *
 * @module
 */

import type { Broker } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import type { SignalEvent } from "../app/signals.ts";
import { nodeOrigin } from "../app/node_name.ts";
import { getLogger } from "../log.ts";
import type { LamportClock } from "./clock.ts";
import { EventDispatcher } from "./dispatcher.ts";
import { eventExchange } from "./topology.ts";

/** What the sender needs from the app. */
export interface SentEventsHost extends EventTarget {
  /** The app's broker. */
  getBroker(): Promise<Broker>;
  /** The resolved settings. */
  resolvedConfig(): ResolvedConfig;
  /** The app's Lamport clock. */
  readonly clock: LamportClock;
}

/** Sends `task-sent` after each publish while the app's `task_send_sent_event` is on. */
export function sendTaskSentEvents(host: SentEventsHost): void {
  let dispatcher: Promise<EventDispatcher> | undefined;
  host.addEventListener("after_task_publish", (event) => {
    const config = host.resolvedConfig();
    if (!config.task_send_sent_event) return;
    const { headers, routingKey, exchange } = (event as SignalEvent<"after_task_publish">).detail;
    dispatcher ??= host.getBroker().then((broker) =>
      new EventDispatcher({
        broker,
        exchange: eventExchange(config, broker.url),
        hostname: nodeOrigin(),
        clock: host.clock,
        logger: getLogger("events"),
      })
    );
    void dispatcher.then((events) =>
      events.send("task-sent", {
        uuid: headers.id,
        root_id: headers.root_id,
        parent_id: headers.parent_id ?? null,
        name: headers.task,
        args: headers.argsrepr,
        kwargs: headers.kwargsrepr,
        retries: headers.retries ?? 0,
        eta: headers.eta ?? null,
        expires: headers.expires ?? null,
        queue: routingKey,
        exchange,
        routing_key: routingKey,
      })
    ).catch(() => {});
  });
}
