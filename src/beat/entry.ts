/**
 * Schedule entries: one `beat_schedule` item with its run state (Celery's
 * `ScheduleEntry`), and `add_periodic_task`.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { pythonRepr } from "../protocol/python_repr.ts";
import { interval } from "./interval.ts";
import type { Schedule, ScheduleLike } from "./schedule.ts";

/** One `beat_schedule` item as configured. */
export interface BeatScheduleItem {
  /** Task name. */
  task: string;
  /** Seconds, `interval(...)`, `crontab(...)`, or any object with `isDue`. */
  schedule: ScheduleLike;
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Call options under Celery's names (`queue`, `expires`, `priority`, `routing_key`, …). */
  options?: Record<string, unknown>;
}

/** An entry with its run state. */
export interface ScheduleEntry {
  /** The key in `beat_schedule`. */
  readonly name: string;
  /** Task name. */
  task: string;
  /** When it runs. */
  schedule: Schedule;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Record<string, unknown>;
  /** Call options under Celery's names. */
  options: Record<string, unknown>;
  /** When it was last sent (or when beat first saw it). */
  lastRunAt: Date;
  /** How many times it was sent. */
  totalRunCount: number;
}

/**
 * Celery's `maybe_schedule`: seconds become `interval(seconds)`, a schedule
 * object is used as it is. Throws a ConfigurationError naming the entry otherwise.
 *
 * @example
 * ```ts
 * import { toSchedule } from "./entry.ts";
 * console.assert(String(toSchedule(30)) === "<freq: 30.00 seconds>");
 * ```
 */
export function toSchedule(schedule: ScheduleLike, entryName = "?"): Schedule {
  if (typeof schedule === "number" && schedule > 0) return interval(schedule);
  if (schedule && typeof schedule === "object" && typeof schedule.isDue === "function") {
    return schedule as Schedule;
  }
  throw new ConfigurationError(
    `Invalid schedule for beat_schedule entry ${JSON.stringify(entryName)}: ` +
      `${JSON.stringify(schedule) ?? String(schedule)}. Accepted: seconds above 0, ` +
      `interval(...), crontab(...) or an object with an isDue(lastRunAt, now, timeZone) method.`,
  );
}

/** Builds the entries of a `beat_schedule` table; every entry starts with `lastRunAt = now`. */
export function entriesFromConfig(
  table: Readonly<Record<string, BeatScheduleItem>>,
  now: Date,
): Map<string, ScheduleEntry> {
  const entries = new Map<string, ScheduleEntry>();
  for (const [name, item] of Object.entries(table)) {
    if (!item || typeof item.task !== "string" || item.task === "") {
      throw new ConfigurationError(
        `Invalid beat_schedule entry ${JSON.stringify(name)}: "task" must be a task name.`,
      );
    }
    entries.set(name, {
      name,
      task: item.task,
      schedule: toSchedule(item.schedule, name),
      args: [...(item.args ?? [])],
      kwargs: { ...(item.kwargs ?? {}) },
      options: { ...(item.options ?? {}) },
      lastRunAt: now,
      totalRunCount: 0,
    });
  }
  return entries;
}

/** Options of `addPeriodicTask`. */
export interface PeriodicTaskOptions {
  /** Entry name; default Celery's signature repr, such as `tasks.add(2, 2)`. */
  name?: string;
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Call options under Celery's names (`queue`, `expires`, …). */
  options?: Record<string, unknown>;
}

/**
 * What `addPeriodicTask` schedules: a task name, a task (anything with a
 * `name`), or a signature as a plain object (`{ task, args, kwargs, options }`,
 * the shape signatures travel in).
 */
export type PeriodicTaskTarget =
  | string
  | { readonly name: string }
  | {
    readonly task: string;
    readonly args?: readonly unknown[];
    readonly kwargs?: Readonly<Record<string, unknown>>;
    readonly options?: Readonly<Record<string, unknown>>;
  };

/**
 * Celery's `add_periodic_task`: adds an entry to a `beat_schedule` table and
 * returns its name. A signature's args come first and its kwargs and options
 * are overridden by the ones given here (Celery's `sig.clone(args, kwargs)`).
 *
 * @example
 * ```ts
 * import { addPeriodicTask } from "./entry.ts";
 * const beatSchedule = {};
 * const key = addPeriodicTask(beatSchedule, 10, "tasks.add", { args: [2, 2] });
 * console.assert(key === "tasks.add(2, 2)");
 * ```
 */
export function addPeriodicTask(
  beatSchedule: Record<string, BeatScheduleItem>,
  schedule: ScheduleLike,
  target: PeriodicTaskTarget,
  options: PeriodicTaskOptions = {},
): string {
  const signature = typeof target === "string"
    ? { task: target }
    : "task" in target && typeof target.task === "string"
    ? target
    : { task: (target as { name: string }).name };
  if (typeof signature.task !== "string" || signature.task === "") {
    throw new ConfigurationError(
      `addPeriodicTask needs a task name, a task or a signature; got ${pythonRepr(target)}.`,
    );
  }
  const base = signature as Exclude<PeriodicTaskTarget, string | { readonly name: string }>;
  const args = [...(base.args ?? []), ...(options.args ?? [])];
  const kwargs = { ...base.kwargs, ...options.kwargs };
  const key = options.name ?? signatureRepr(base.task, args, kwargs);
  toSchedule(schedule, key);
  beatSchedule[key] = {
    task: base.task,
    schedule,
    args,
    kwargs,
    options: { ...base.options, ...options.options },
  };
  return key;
}

/** kombu's `reprcall`: `tasks.add(2, 2)`, `tasks.echo('a', k='v')`. */
export function signatureRepr(
  task: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): string {
  const positional = args.map((arg) => pythonRepr(arg));
  const named = Object.entries(kwargs).map(([key, value]) => `${key}=${pythonRepr(value)}`);
  return `${task}(${[...positional, ...named].join(", ")})`;
}
