/**
 * The client side of remote control (Celery's `app.control`): broadcast a
 * command to every worker (or to `destination`) and, when a reply is
 * wanted, collect the replies for `timeout` seconds on this client's reply
 * queue (spec §3.3, §3.4). One reply queue per `Control` (kombu's oid);
 * replies are matched to their request by `ticket`.
 *
 * @module
 */

import { consumedQueues } from "../app/routing.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import type { Broker } from "../broker/types.ts";
import type { LamportClock } from "../events/clock.ts";
import {
  type ControlRequest,
  encodeRequest,
  replyExchange,
  replyQueue,
  requestExchange,
} from "./mailbox.ts";
import { Inspect, type InspectOptions } from "./inspect.ts";

/** What a `Control` needs from its app. */
export interface ControlHost {
  /** The app's broker (connected on first use). */
  getBroker(): Promise<Broker>;
  /** The resolved settings. */
  resolvedConfig(): ResolvedConfig;
  /** The app's Lamport clock. */
  readonly clock: LamportClock;
}

/** Options of `broadcast`. */
export interface BroadcastOptions {
  /** Keyword arguments of the command. */
  arguments?: Record<string, unknown>;
  /** Node names to address; default all. */
  destination?: string[] | string | null;
  /** Collect replies (default false: a cast). */
  reply?: boolean;
  /** Seconds to collect replies (default 1). */
  timeout?: number;
  /** Stop after this many replies (default: the number of destinations, if given). */
  limit?: number;
  /** Node-name pattern, used without `destination`. */
  pattern?: string;
  /** `glob` (default with a pattern) or `pcre`. */
  matcher?: "glob" | "pcre";
  /** Called for each reply as it arrives. */
  onReply?: (reply: Record<string, unknown>) => void;
}

/** Options shared by the control commands. */
export interface CommandOptions {
  /** Node names to address; default all. */
  destination?: string[] | string | null;
  /** Collect replies (default false). */
  reply?: boolean;
  /** Seconds to collect replies (default 1). */
  timeout?: number;
}

/** Options of `revoke`. */
export interface RevokeOptions extends CommandOptions {
  /** Also stop the task if it is running (default false). */
  terminate?: boolean;
  /** Signal name used with `terminate` (default `SIGTERM`). */
  signal?: string;
}

const decoder = new TextDecoder();

function destinations(value: string[] | string | null | undefined): string[] | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? [value] : value;
}

/** Remote control of workers. Get it as `app.control`. */
export class Control {
  readonly #host: ControlHost;
  readonly #oid = crypto.randomUUID();
  /** Broadcasts collecting replies now: a second one at once gets its own reply queue. */
  #collecting = 0;

  /** Creates the client; nothing connects before a command is sent. */
  constructor(host: ControlHost) {
    this.#host = host;
  }

  /**
   * Sends `command` to the workers. With `reply: true`, resolves with the
   * replies (`[{"celery@host": value}, …]`) collected for `timeout` seconds.
   */
  async broadcast(
    command: string,
    options: BroadcastOptions = {},
  ): Promise<Record<string, unknown>[]> {
    const config = this.#host.resolvedConfig();
    const broker = await this.#host.getBroker();
    const destination = destinations(options.destination);
    const request: ControlRequest = {
      method: command,
      arguments: options.arguments ?? {},
      destination,
      pattern: options.pattern ?? null,
      matcher: options.pattern ? options.matcher ?? "glob" : null,
    };
    const timeout = options.timeout ?? 1;
    const publish = () =>
      broker.publish(
        encodeRequest(request, this.#host.clock.forward(), Date.now() / 1000 + timeout),
        {
          exchange: requestExchange(config).name,
          routingKey: "",
          declareExchange: requestExchange(config),
        },
      );
    if (!options.reply) {
      await publish();
      return [];
    }
    request.ticket = crypto.randomUUID();
    // Consumers sharing one reply queue would take (and drop) each other's replies.
    const oid = this.#collecting === 0 ? this.#oid : crypto.randomUUID();
    this.#collecting++;
    try {
      return await this.#collect(broker, request, oid, options, publish, destination);
    } finally {
      this.#collecting--;
    }
  }

  async #collect(
    broker: Broker,
    request: ControlRequest,
    oid: string,
    options: BroadcastOptions,
    publish: () => Promise<void>,
    destination: string[] | null,
  ): Promise<Record<string, unknown>[]> {
    const config = this.#host.resolvedConfig();
    const timeout = options.timeout ?? 1;
    request.reply_to = { exchange: replyExchange(config).name, routing_key: oid };
    const queue = replyQueue(config, oid);
    await broker.declareQueue(queue);
    const limit = options.limit ?? (destination ? destination.length : undefined);
    const reader = broker.consume({ queues: [queue], prefetch: 0 }).getReader();
    const replies: Record<string, unknown>[] = [];
    const timer = setTimeout(() => void reader.cancel().catch(() => {}), timeout * 1000);
    try {
      await publish();
      while (limit === undefined || replies.length < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        void value.ack().catch(() => {});
        if (value.message.headers.ticket !== request.ticket) continue; // an older request's reply
        this.#host.clock.adjust(value.message.headers.clock);
        try {
          const body = JSON.parse(decoder.decode(value.message.body));
          if (typeof body !== "object" || body === null || Array.isArray(body)) continue;
          replies.push(body);
          options.onReply?.(body);
        } catch {
          continue; // not JSON: not a reply
        }
      }
    } finally {
      clearTimeout(timer);
      await reader.cancel().catch(() => {});
    }
    return replies;
  }

  /** Read-only commands (`active`, `stats`, …) answered by the workers. */
  inspect(options: InspectOptions = {}): Inspect {
    return new Inspect(this, options);
  }

  /** `ping`: every worker that answers within `timeout` (`[{"celery@h": {"ok": "pong"}}]`). */
  ping(options: Omit<CommandOptions, "reply"> = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("ping", { ...options, reply: true });
  }

  /**
   * Revokes tasks: every worker that hears it discards them; with
   * `terminate`, a running one is stopped (its thread is terminated).
   */
  revoke(
    taskId: string | string[],
    options: RevokeOptions = {},
  ): Promise<Record<string, unknown>[]> {
    return this.broadcast("revoke", {
      ...options,
      arguments: {
        task_id: taskId,
        terminate: options.terminate ?? false,
        signal: options.signal ?? "SIGTERM",
      },
    });
  }

  /** Revokes and terminates running tasks (`revoke` with `terminate: true`). */
  terminate(
    taskId: string | string[],
    options: Omit<RevokeOptions, "terminate"> = {},
  ): Promise<Record<string, unknown>[]> {
    return this.revoke(taskId, { ...options, terminate: true });
  }

  /** Sets a task's rate limit (`"10/m"`, `"1/s"`; `null`/`0` removes it). */
  rateLimit(
    taskName: string,
    rateLimit: string | number | null,
    options: CommandOptions = {},
  ): Promise<Record<string, unknown>[]> {
    return this.broadcast("rate_limit", {
      ...options,
      arguments: { task_name: taskName, rate_limit: rateLimit },
    });
  }

  /** Sets a task's time limits, in seconds. */
  timeLimit(
    taskName: string,
    limits: { soft?: number | null; hard?: number | null },
    options: CommandOptions = {},
  ): Promise<Record<string, unknown>[]> {
    return this.broadcast("time_limit", {
      ...options,
      arguments: { task_name: taskName, soft: limits.soft ?? null, hard: limits.hard ?? null },
    });
  }

  /** Starts consuming `queue` on the workers. */
  addConsumer(
    queue: string,
    options: CommandOptions & { exchange?: string; exchangeType?: string; routingKey?: string } =
      {},
  ): Promise<Record<string, unknown>[]> {
    return this.broadcast("add_consumer", {
      ...options,
      arguments: {
        queue,
        exchange: options.exchange ?? null,
        exchange_type: options.exchangeType ?? null,
        routing_key: options.routingKey ?? null,
      },
    });
  }

  /** Stops consuming `queue` on the workers. */
  cancelConsumer(queue: string, options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("cancel_consumer", { ...options, arguments: { queue } });
  }

  /** Adds `n` threads to each worker's pool. */
  poolGrow(n = 1, options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("pool_grow", { ...options, arguments: { n } });
  }

  /** Removes `n` threads from each worker's pool. */
  poolShrink(n = 1, options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("pool_shrink", { ...options, arguments: { n } });
  }

  /** Turns task events on. */
  enableEvents(options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("enable_events", options);
  }

  /** Turns task events off. */
  disableEvents(options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("disable_events", options);
  }

  /** Asks the workers for a heartbeat event now. */
  heartbeat(options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("heartbeat", options);
  }

  /** Shuts the workers down (warm). No worker replies. */
  shutdown(options: CommandOptions = {}): Promise<Record<string, unknown>[]> {
    return this.broadcast("shutdown", options);
  }

  /** Deletes every waiting message of the app's queues; returns how many. */
  async purge(queues?: string[]): Promise<number> {
    const broker = await this.#host.getBroker();
    const config = this.#host.resolvedConfig();
    const names = queues ?? consumedQueues([], config).map((queue) => queue.name);
    let total = 0;
    for (const name of names) total += await broker.purge(name);
    return total;
  }
}
