/**
 * The remote control commands a worker answers (spec §3.6), in Celery's
 * argument names and reply formats: inspect commands return data, control
 * commands return `{"ok": …}` or `{"error": …}`.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/settings.ts";
import type { QueueSpec } from "../broker/types.ts";
import type { LamportClock } from "../events/clock.ts";
import type { EventDispatcher } from "../events/dispatcher.ts";
import type { Logger } from "../log.ts";
import { formatCeleryDate } from "../protocol/dates.ts";
import { VERSION } from "../version.ts";
import { parseRateLimit } from "./rate_limit.ts";
import type { TaskTracker } from "./task_tracker.ts";
import { describeQueue, softwareInfo, workerStats } from "./worker_facts.ts";

/** What the commands can see and change in the worker. */
export interface ControlTarget {
  /** Node name. */
  readonly hostname: string;
  /** Resolved settings. */
  readonly config: ResolvedConfig;
  /** The app's settings as Celery's `conf` command shows them. */
  confTable(withDefaults: boolean): Record<string, unknown>;
  /** Requests, revoked ids, totals. */
  readonly tracker: TaskTracker;
  /** The worker's events. */
  readonly events: EventDispatcher;
  /** The worker's clock. */
  readonly clock: LamportClock;
  /** The worker's logger. */
  readonly logger: Logger;
  /** When the worker started (ms since epoch). */
  readonly startedAt: number;
  /** Registered task names. */
  taskNames(): string[];
  /** A task's rate limit (null for none), or undefined for an unknown task. */
  taskRateLimit(name: string): string | null | undefined;
  /** Sets a task's rate limit (per second, null for none). */
  setRateLimit(name: string, perSecond: number | null): void;
  /** Sets a task's time limits (seconds, null for none). */
  setTimeLimits(name: string, soft: number | null, hard: number | null): void;
  /** Pool kind and size. */
  pool(): { kind: string; size: number; maxTasksPerChild: number | null };
  /** Grows (n > 0) or shrinks (n < 0) the pool; returns an error text when it cannot. */
  resizePool(n: number): string | undefined;
  /** Prefetch count now. */
  prefetchCount(): number;
  /** The broker's connection facts for `stats`. */
  brokerInfo(): Record<string, unknown>;
  /** Queues consumed now. */
  queues(): readonly QueueSpec[];
  /** Starts consuming a queue; false when it already is. */
  addConsumer(queue: QueueSpec): Promise<boolean>;
  /** Optional: task events were turned on or off (the `threads` pool tells its threads). */
  taskEventsChanged?(on: boolean): void;
  /**
   * Optional: the request-info of runs in progress the tracker does not
   * hold (the `threads` pool's threads run them).
   */
  activeElsewhere?(): Record<string, unknown>[];
  /**
   * Optional: what the tracker does not hold in `phase` (the `threads` pool's
   * threads hold it): request-info for `reserved`, `{eta, priority, request}`
   * for `scheduled`.
   */
  requestsElsewhere?(phase: "reserved" | "scheduled"): Promise<Record<string, unknown>[]>;
  /**
   * Optional: ids were revoked; returns the ids it stopped running when
   * `terminate` (the `threads` pool: its threads hold the requests).
   */
  revoked?(ids: string[], terminate: boolean, signal: string): string[];
  /** Stops consuming a queue; false when it was not. */
  cancelConsumer(name: string): Promise<boolean>;
  /** Warm shutdown. */
  shutdown(): void;
}

/** A command: its handler, and whether it only reads. */
export interface ControlCommand {
  /** `inspect` commands only read; `control` commands change the worker. */
  kind: "inspect" | "control";
  /** Runs the command; the value is the reply (undefined: no reply at all, as `shutdown`). */
  handle(target: ControlTarget, args: Record<string, unknown>): unknown;
}

const ok = (text: string) => ({ ok: text });
const error = (text: string) => ({ error: text });

function idList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((id): id is string => typeof id === "string");
  return [];
}

function optionalNumber(value: unknown, name: string): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) {
    throw new Error(`${name} must be a number of seconds`);
  }
  return number;
}

function revoke(target: ControlTarget, args: Record<string, unknown>, force = false) {
  const ids = [...new Set(idList(args.task_id))];
  const terminate = force || args.terminate === true;
  const signal = typeof args.signal === "string" ? args.signal.toUpperCase() : "SIGTERM";
  const name = signal.startsWith("SIG") ? signal : `SIG${signal}`;
  const stopped = [
    ...target.tracker.revoke(ids, terminate, name),
    ...target.revoked?.(ids, terminate, name) ?? [],
  ];
  if (terminate) {
    return stopped.length ? ok(`terminate: ${stopped.join(", ")}`) : ok("terminate: tasks unknown");
  }
  target.logger.info(`Tasks flagged as revoked: ${ids.join(", ")}`);
  return ok(`tasks ${ids.join(", ")} flagged as revoked`);
}

function registered(target: ControlTarget, args: Record<string, unknown>): string[] {
  const builtins = args.builtins === true;
  return target.taskNames()
    .filter((name) => builtins || !name.startsWith("celery."))
    .sort()
    .map((name) => {
      const limit = target.taskRateLimit(name);
      return limit ? `${name} [rate_limit=${limit}]` : name;
    });
}

/**
 * `query_task`: each id's state (`active`, or `reserved` for one waiting,
 * its ETA included) and request-info, from the tracker and, in the
 * `threads` pool, from the threads.
 */
async function queryTask(target: ControlTarget, args: Record<string, unknown>) {
  const ids = new Set(idList(args.ids ?? args.id));
  const out: Record<string, [string, Record<string, unknown>]> = {};
  for (const request of target.tracker.requests()) {
    if (!ids.has(request.call.id)) continue;
    const state = request.phase === "active" ? "active" : "reserved";
    out[request.call.id] = [state, request.info(target.hostname)];
  }
  for (const info of target.activeElsewhere?.() ?? []) {
    if (ids.has(info.id as string)) out[info.id as string] = ["active", info];
  }
  const unknown = [...ids].filter((id) => !(id in out));
  if (!unknown.length || !target.requestsElsewhere) return out;
  const [reserved, scheduled] = await Promise.all([
    target.requestsElsewhere("reserved"),
    target.requestsElsewhere("scheduled"),
  ]);
  const waiting = [
    ...reserved,
    ...scheduled.map((entry) => entry.request as Record<string, unknown>),
  ];
  for (const info of waiting) {
    if (unknown.includes(info.id as string)) out[info.id as string] = ["reserved", info];
  }
  return out;
}

function setEvents(target: ControlTarget, on: boolean) {
  const word = on ? "enabled" : "disabled";
  if (target.events.taskEvents === on) return ok(`task events already ${word}`);
  target.events.taskEvents = on;
  target.taskEventsChanged?.(on);
  target.logger.info(`Events of group {task} ${word} by remote.`);
  return ok(`task events ${word}`);
}

function addConsumer(target: ControlTarget, args: Record<string, unknown>) {
  const name = args.queue;
  if (typeof name !== "string" || name === "") return error("queue name required");
  const exchange = typeof args.exchange === "string" && args.exchange ? args.exchange : name;
  const type = args.exchange_type;
  const queue: QueueSpec = {
    name,
    exchange,
    exchangeType: type === "topic" || type === "fanout" ? type : "direct",
    routingKey: typeof args.routing_key === "string" && args.routing_key ? args.routing_key : name,
    durable: true,
    autoDelete: false,
    arguments: {},
  };
  return target.addConsumer(queue).then((added) =>
    added ? ok(`add consumer ${name}`) : ok(`already consuming from ${name}`)
  );
}

function report(target: ControlTarget): { ok: string } {
  const software = softwareInfo();
  const lines = [
    `software -> celeriac:${VERSION} deno:${Deno.version.deno} v8:${Deno.version.v8}`,
    `platform -> system:${Deno.build.os} arch:${Deno.build.arch}`,
    `implementation -> ${software.sw_ident} ${software.sw_ver}`,
    `loader -> ${target.hostname}`,
    "",
    ...Object.entries(target.confTable(false)).map(([key, value]) =>
      `${key}: ${JSON.stringify(value)}`
    ),
  ];
  return ok(lines.join("\n"));
}

/** `inspect reserved`'s entries for what `tracker` holds. */
export function reservedInfo(tracker: TaskTracker, hostname: string): Record<string, unknown>[] {
  return tracker.requests("reserved").map((r) => r.info(hostname));
}

/** `inspect scheduled`'s entries for what `tracker` holds. */
export function scheduledInfo(tracker: TaskTracker, hostname: string): Record<string, unknown>[] {
  return tracker.requests("scheduled").map((r) => ({
    eta: formatCeleryDate(r.call.eta!),
    priority: r.call.priority,
    request: r.info(hostname),
  }));
}

/** Every command, by Celery's name. */
export const CONTROL_COMMANDS: Readonly<Record<string, ControlCommand>> = Object.freeze({
  ping: { kind: "inspect", handle: () => ok("pong") },
  clock: { kind: "inspect", handle: (t) => ({ clock: t.clock.value }) },
  stats: { kind: "inspect", handle: (t) => workerStats(t) },
  registered: { kind: "inspect", handle: registered },
  active: {
    kind: "inspect",
    handle: (t, a) => [
      ...t.tracker.requests("active").map((r) => r.info(t.hostname, a.safe === true)),
      ...t.activeElsewhere?.() ?? [],
    ],
  },
  reserved: {
    kind: "inspect",
    handle: async (t) => [
      ...reservedInfo(t.tracker, t.hostname),
      ...await t.requestsElsewhere?.("reserved") ?? [],
    ],
  },
  scheduled: {
    kind: "inspect",
    handle: async (t) => [
      ...scheduledInfo(t.tracker, t.hostname),
      ...await t.requestsElsewhere?.("scheduled") ?? [],
    ],
  },
  revoked: { kind: "inspect", handle: (t) => t.tracker.revoked.ids() },
  active_queues: { kind: "inspect", handle: (t) => t.queues().map(describeQueue) },
  query_task: { kind: "inspect", handle: queryTask },
  conf: {
    kind: "inspect",
    handle: (t, a) => t.confTable(a.with_defaults === true),
  },
  report: { kind: "inspect", handle: report },
  hello: {
    kind: "inspect",
    handle: (t, a) => {
      if (a.from_node === t.hostname) return null;
      const added = t.tracker.revoked.merge(a.revoked);
      t.logger.info(`sync with ${String(a.from_node)}${added ? ` (${added} revoked)` : ""}`);
      return { revoked: t.tracker.revoked.toData(), clock: t.clock.forward() };
    },
  },
  revoke: { kind: "control", handle: (t, a) => revoke(t, a) },
  terminate: { kind: "control", handle: (t, a) => revoke(t, a, true) },
  rate_limit: {
    kind: "control",
    handle: (t, a) => {
      const name = String(a.task_name);
      if (t.taskRateLimit(name) === undefined) return error("unknown task");
      let perSecond: number | null;
      try {
        perSecond = parseRateLimit(a.rate_limit as string | number | null);
      } catch (problem) {
        return error(`Invalid rate limit string: ${(problem as Error).message}`);
      }
      t.setRateLimit(name, perSecond);
      return perSecond === null
        ? ok("rate limit disabled successfully")
        : ok("new rate limit set successfully");
    },
  },
  time_limit: {
    kind: "control",
    handle: (t, a) => {
      const name = String(a.task_name);
      if (t.taskRateLimit(name) === undefined) return error("unknown task");
      t.setTimeLimits(name, optionalNumber(a.soft, "soft"), optionalNumber(a.hard, "hard"));
      t.logger.info(
        `New time limits for tasks of type ${name}: soft=${a.soft ?? "none"} hard=${
          a.hard ?? "none"
        }`,
      );
      return ok("time limits set successfully");
    },
  },
  enable_events: { kind: "control", handle: (t) => setEvents(t, true) },
  disable_events: { kind: "control", handle: (t) => setEvents(t, false) },
  heartbeat: {
    kind: "control",
    handle: (t) => {
      t.events.send("worker-heartbeat", { freq: 5, ...softwareInfo() });
      return null;
    },
  },
  pool_grow: {
    kind: "control",
    handle: (t, a) => {
      const problem = t.resizePool(Math.max(1, Number(a.n ?? 1)));
      return problem ? error(problem) : ok("pool will grow");
    },
  },
  pool_shrink: {
    kind: "control",
    handle: (t, a) => {
      const problem = t.resizePool(-Math.max(1, Number(a.n ?? 1)));
      return problem ? error(problem) : ok("pool will shrink");
    },
  },
  add_consumer: { kind: "control", handle: addConsumer },
  cancel_consumer: {
    kind: "control",
    handle: async (t, a) => {
      const name = String(a.queue);
      await t.cancelConsumer(name);
      return ok(`no longer consuming from ${name}`);
    },
  },
  shutdown: {
    kind: "control",
    handle: (t) => {
      t.logger.warning("Got shutdown from remote");
      t.shutdown();
      return undefined;
    },
  },
});
