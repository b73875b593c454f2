/**
 * `task-sent` events from a client (`task_send_sent_event`, spec §2.5):
 * published right after each task message by the send path (`taskSent()`, as
 * Celery's `send_task_message` does), with the client's `gen<pid>@host` name.
 *
 * @module
 */

import type { Broker } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { nodeOrigin } from "../app/node_name.ts";
import { getLogger } from "../log.ts";
import type { LamportClock } from "./clock.ts";
import { EventDispatcher } from "./dispatcher.ts";
import { eventExchange } from "./topology.ts";

/** What the sender needs from the app. */
export interface SentEventsHost {
  /** The app's broker. */
  getBroker(): Promise<Broker>;
  /** The app's Lamport clock. */
  readonly clock: LamportClock;
}

/** A task message just published, as `after_task_publish` describes it. */
export interface PublishedTask {
  /** The message's headers. */
  headers: Record<string, unknown>;
  /** Where it went. */
  routingKey: string;
  /** Its exchange. */
  exchange: string;
}

type TaskSentSender = (config: ResolvedConfig, published: PublishedTask) => void;

/** Each app's sender, by the target its sends dispatch signals to (the app). */
const senders = new WeakMap<object, TaskSentSender>();

/**
 * Makes `host` send `task-sent` after each publish while its
 * `task_send_sent_event` is on (`taskSent()` is called by the send path).
 */
export function sendTaskSentEvents(host: SentEventsHost): void {
  let dispatcher: Promise<EventDispatcher> | undefined;
  senders.set(host, (config, { headers, routingKey, exchange }) => {
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

/**
 * After a publish: the `task-sent` event of the app behind `signals`, when
 * its `config` has `task_send_sent_event` on (as Celery's
 * `send_task_message` sends it, not through a signal).
 */
export function taskSent(signals: object, config: ResolvedConfig, published: PublishedTask): void {
  if (config.task_send_sent_event) senders.get(signals)?.(config, published);
}
