/**
 * What the worker knows of the tasks it holds, for remote control and
 * events: each received request is reserved, scheduled (waiting for its
 * ETA) or active (running), until it is finished; the revoked ids; the
 * totals per task name. Each step sends its task event (`task-received`,
 * `task-started`, `task-succeeded`, …, spec §2.5) through the dispatcher.
 * The task handler calls one method per step.
 *
 * @module
 */

import type { Delivery } from "../broker/types.ts";
import type { EventDispatcher } from "../events/dispatcher.ts";
import { formatCeleryDate } from "../protocol/dates.ts";
import { pythonRepr, truncateRepr } from "../protocol/python_repr.ts";
import type { TaskCall } from "../protocol/task_message.ts";
import type { EncodedException } from "../backend/types.ts";
import type { TaskOutcome } from "../task/outcome.ts";
import type { RevokedSet } from "./revoked_set.ts";

/** Where a held request is. */
export type RequestPhase = "reserved" | "scheduled" | "active";

/** One received task, from receipt to its outcome. */
export class TrackedRequest {
  /** The decoded message. */
  readonly call: TaskCall;
  /** Its delivery. */
  readonly delivery: Delivery;
  /** Where it is now. */
  phase: RequestPhase;
  /** When it started (epoch seconds), or null. */
  timeStart: number | null = null;
  /** Whether its message is acked. */
  acknowledged = false;
  /** Aborts when a revoke with `terminate` stops it; the reason is the signal name. */
  readonly terminate: AbortController = new AbortController();
  /** Aborts when it is revoked before it started: the pool drops it from its line. */
  readonly discard: AbortController = new AbortController();

  /** Tracks one received request. */
  constructor(call: TaskCall, delivery: Delivery) {
    this.call = call;
    this.delivery = delivery;
    this.phase = call.eta && call.eta.getTime() > Date.now() ? "scheduled" : "reserved";
  }

  /** Celery's request-info object (spec §3.6), for `active`, `reserved`, `scheduled`, `query_task`. */
  info(hostname: string, safe = false): Record<string, unknown> {
    const { call, delivery } = this;
    return {
      id: call.id,
      name: call.task,
      args: safe ? call.argsrepr : call.args,
      kwargs: safe ? call.kwargsrepr : call.kwargs,
      type: call.task,
      hostname,
      time_start: this.timeStart,
      acknowledged: this.acknowledged,
      delivery_info: {
        exchange: delivery.exchange,
        routing_key: delivery.routingKey,
        priority: call.priority,
        redelivered: delivery.redelivered,
      },
      worker_pid: this.timeStart === null ? null : Deno.pid,
    };
  }
}

/** Signal names and numbers, as Python's `signal` module (Linux). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
});

function exceptionRepr(exception: EncodedException): string {
  const message = exception.exc_message;
  const args = Array.isArray(message) ? message : [message];
  return `${exception.exc_type}(${args.map((arg) => pythonRepr(arg)).join(", ")})`;
}

/** The worker's book of held tasks; sends task events. */
export class TaskTracker {
  /** Revoked task ids. */
  readonly revoked: RevokedSet;
  /** Tasks accepted (started) per name (`stats.total`). */
  readonly totals: Map<string, number> = new Map();
  /** Tasks accepted since start. */
  processed = 0;
  /** Time limits set by the `time_limit` command, per task name (seconds, null for none). */
  readonly timeLimits: Map<string, { soft: number | null; hard: number | null }> = new Map();
  readonly #requests = new Set<TrackedRequest>();
  readonly #events: EventDispatcher;
  readonly #onRevoked: () => void;

  /** A tracker sending events through `events`; `onRevoked` runs when ids are added. */
  constructor(events: EventDispatcher, revoked: RevokedSet, onRevoked: () => void = () => {}) {
    this.#events = events;
    this.revoked = revoked;
    this.#onRevoked = onRevoked;
  }

  /** Requests in a phase (or all). */
  requests(phase?: RequestPhase): TrackedRequest[] {
    return [...this.#requests].filter((request) => !phase || request.phase === phase);
  }

  /** Number of tasks running. */
  get active(): number {
    let count = 0;
    for (const request of this.#requests) if (request.phase === "active") count++;
    return count;
  }

  /** A task was received and will be run (not revoked, not expired): `task-received`. */
  received(call: TaskCall, delivery: Delivery): TrackedRequest {
    const request = new TrackedRequest(call, delivery);
    this.#requests.add(request);
    if (!this.#events.taskEvents) return request; // nothing to build
    this.#events.send("task-received", {
      uuid: call.id,
      name: call.task,
      args: call.argsrepr,
      kwargs: call.kwargsrepr,
      root_id: call.rootId,
      parent_id: call.parentId,
      retries: call.retries,
      eta: call.eta ? formatCeleryDate(call.eta) : null,
      expires: call.expires ? formatCeleryDate(call.expires) : null,
    });
    return request;
  }

  /** The ETA passed: the request waits for a slot like any other. */
  due(request: TrackedRequest): void {
    if (request.phase === "scheduled") request.phase = "reserved";
  }

  /** The pool started it (and acked its message unless acks_late): `task-started`. */
  started(request: TrackedRequest, acked: boolean): void {
    request.phase = "active";
    request.timeStart = Date.now() / 1000;
    request.acknowledged = acked;
    this.processed++;
    const name = request.call.task;
    this.totals.set(name, (this.totals.get(name) ?? 0) + 1);
    if (this.#events.taskEvents) this.#events.send("task-started", { uuid: request.call.id });
  }

  /** The run ended with `outcome`; `unacked` when its message was still unsettled (acks_late). */
  finished(request: TrackedRequest, outcome: TaskOutcome, unacked: boolean): void {
    if (!this.#events.taskEvents) return;
    const uuid = request.call.id;
    switch (outcome.state) {
      case "SUCCESS":
        this.#events.send("task-succeeded", {
          uuid,
          result: truncateRepr(pythonRepr(outcome.result), 1024),
          runtime: outcome.runtime,
        });
        break;
      case "FAILURE":
        this.#events.send("task-failed", {
          uuid,
          exception: outcome.repr,
          traceback: outcome.traceback ?? "",
        });
        break;
      case "RETRY":
        this.#events.send("task-retried", {
          uuid,
          exception: exceptionRepr(outcome.exception),
          traceback: outcome.traceback ?? "",
        });
        break;
      case "REJECTED":
        if (unacked) this.#events.send("task-rejected", { uuid, requeue: outcome.requeue });
        break;
    }
  }

  /** The request is done with (whatever happened). */
  forget(request: TrackedRequest | undefined): void {
    if (request) this.#requests.delete(request);
  }

  /**
   * A task is discarded: revoked before it ran, expired (its id joins the
   * revoked set, as in Celery), or terminated while running: `task-revoked`.
   */
  discarded(call: TaskCall, reason: "revoked" | "expired" | "terminated", signal?: string): void {
    if (reason === "expired") this.revoked.add(call.id);
    this.#events.send("task-revoked", {
      uuid: call.id,
      terminated: reason === "terminated",
      signum: reason === "terminated" ? SIGNAL_NUMBERS[signal ?? "SIGTERM"] ?? null : null,
      expired: reason === "expired",
    });
  }

  /** An unknown task name: `task-failed` with `NotRegistered`, as Celery sends. */
  unregistered(call: TaskCall): void {
    this.#events.send("task-failed", {
      uuid: call.id,
      exception: `NotRegistered(${pythonRepr(call.task)})`,
    });
  }

  /**
   * Revokes `ids`; with `terminate`, stops those running now. Returns the
   * ids that were terminated.
   */
  revoke(ids: string[], terminate: boolean, signal: string): string[] {
    this.revoked.add(...ids);
    this.#onRevoked();
    const wanted = new Set(ids);
    const stopped: string[] = [];
    for (const request of this.#requests) {
      if (!wanted.has(request.call.id)) continue;
      if (request.phase !== "active") request.discard.abort();
      else if (terminate) {
        request.terminate.abort(signal);
        stopped.push(request.call.id);
      }
    }
    return stopped;
  }
}
