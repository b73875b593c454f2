/**
 * Celery's `app.control.inspect()`: read-only commands whose replies are
 * merged into one object keyed by node name, or `null` when no worker
 * answered within the timeout (as Celery returns `None`).
 *
 * @module
 */

import type { Control } from "./control.ts";

/** Options of `app.control.inspect()`. */
export interface InspectOptions {
  /** Node names to ask; default all. */
  destination?: string[] | string | null;
  /** Seconds to wait for replies (default 1). */
  timeout?: number;
  /** Stop after this many replies. */
  limit?: number;
  /** Node-name pattern (`glob` by default). */
  pattern?: string;
  /** `glob` or `pcre`. */
  matcher?: "glob" | "pcre";
}

/** Replies by node name. */
export type NodeReplies<T = unknown> = Record<string, T>;

/** A request as workers describe it in `active`, `reserved`, `scheduled` and `query_task`. */
export interface RequestInfo {
  /** Task id. */
  id: string;
  /** Task name. */
  name: string;
  /** Arguments (repr strings with `safe`). */
  args: unknown;
  /** Keyword arguments. */
  kwargs: unknown;
  /** Task name again (Celery's `type`). */
  type: string;
  /** Node name. */
  hostname: string;
  /** When it started (epoch seconds), or null. */
  time_start: number | null;
  /** Whether its message is acknowledged. */
  acknowledged: boolean;
  /** Where the message came from. */
  delivery_info: Record<string, unknown>;
  /** Process running it, or null. */
  worker_pid: number | null;
}

/** Read-only remote commands. */
export class Inspect {
  readonly #control: Control;
  readonly #options: InspectOptions;

  /** Use `app.control.inspect(options)`. */
  constructor(control: Control, options: InspectOptions) {
    this.#control = control;
    this.#options = options;
  }

  /** Sends `command` and merges the replies; null when none came. */
  async call<T = unknown>(
    command: string,
    args: Record<string, unknown> = {},
  ): Promise<NodeReplies<T> | null> {
    const replies = await this.#control.broadcast(command, {
      ...this.#options,
      arguments: args,
      reply: true,
    });
    if (replies.length === 0) return null;
    return Object.assign({}, ...replies) as NodeReplies<T>;
  }

  /** `{"ok": "pong"}` per node. */
  ping(): Promise<NodeReplies<{ ok: string }> | null> {
    return this.call("ping");
  }

  /** Statistics per node (pool, broker, totals, clock, uptime). */
  stats(): Promise<NodeReplies<Record<string, unknown>> | null> {
    return this.call("stats");
  }

  /** Registered task names per node. */
  registered(...taskinfoitems: string[]): Promise<NodeReplies<string[]> | null> {
    return this.call("registered", { taskinfoitems });
  }

  /** Tasks running now. */
  active(safe: boolean | null = null): Promise<NodeReplies<RequestInfo[]> | null> {
    return this.call("active", { safe });
  }

  /** Tasks prefetched, not yet running (ETA tasks excluded). */
  reserved(): Promise<NodeReplies<RequestInfo[]> | null> {
    return this.call("reserved");
  }

  /** Tasks held for their ETA: `{eta, priority, request}`. */
  scheduled(): Promise<
    NodeReplies<{ eta: string; priority: number; request: RequestInfo }[]> | null
  > {
    return this.call("scheduled");
  }

  /** Revoked task ids. */
  revoked(): Promise<NodeReplies<string[]> | null> {
    return this.call("revoked");
  }

  /** Queues consumed, as kombu describes them. */
  activeQueues(): Promise<NodeReplies<Record<string, unknown>[]> | null> {
    return this.call("active_queues");
  }

  /** Settings that differ from the defaults (secrets masked). */
  conf(withDefaults = false): Promise<NodeReplies<Record<string, unknown>> | null> {
    return this.call("conf", { with_defaults: withDefaults });
  }

  /** What each node knows of these task ids: `{id: [state, request]}`. */
  queryTask(...ids: string[]): Promise<
    NodeReplies<Record<string, [string, RequestInfo]>> | null
  > {
    return this.call("query_task", { ids });
  }

  /** A bug-report text per node. */
  report(): Promise<NodeReplies<{ ok: string }> | null> {
    return this.call("report");
  }

  /** Each node's Lamport clock. */
  clock(): Promise<NodeReplies<{ clock: number }> | null> {
    return this.call("clock");
  }
}
