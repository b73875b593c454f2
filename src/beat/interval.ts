/**
 * Interval schedules: Celery's `schedule(timedelta(...))`, also what a plain
 * number of seconds in `beat_schedule` means.
 *
 * Celery 5.2.6 re-labels `last_run_at` with the current UTC offset when a DST
 * change lies between the last run and now, which pauses a 30-second task for
 * an hour when clocks go back. celeriac measures intervals between instants,
 * so a DST change neither pauses nor doubles an interval task.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { humanizeSeconds, type Schedule, type ScheduleState } from "./schedule.ts";

/** A duration in parts, like Python's `timedelta(days=…, hours=…, minutes=…, seconds=…)`. */
export interface Duration {
  /** Days. */
  days?: number;
  /** Hours. */
  hours?: number;
  /** Minutes. */
  minutes?: number;
  /** Seconds (may be fractional). */
  seconds?: number;
}

/** Runs every `seconds`, counted from the last run (its send time). */
export class Interval implements Schedule {
  /** The interval in seconds (Celery's `run_every.total_seconds()`). */
  readonly seconds: number;

  /** Creates the schedule; throws a ConfigurationError unless `seconds` is a number above 0. */
  constructor(seconds: number) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
      throw new ConfigurationError(
        `Invalid interval ${JSON.stringify(seconds)}: accepted is a number of seconds above 0.`,
      );
    }
    this.seconds = seconds;
  }

  /**
   * When the last run plus the interval has passed, the entry is due and next
   * checked in `seconds`. The time zone does not matter to an interval.
   */
  isDue(lastRunAt: Date, now: Date, _timeZone?: string): ScheduleState {
    const remaining = (lastRunAt.getTime() + this.seconds * 1000 - now.getTime()) / 1000;
    if (remaining <= 0) return { isDue: true, nextInSeconds: this.seconds };
    return { isDue: false, nextInSeconds: remaining };
  }

  /** Celery's repr: `<freq: 30.00 seconds>`. */
  toString(): string {
    return `<freq: ${humanizeSeconds(this.seconds)}>`;
  }
}

/**
 * An interval schedule, from seconds or from parts.
 *
 * @example
 * ```ts
 * import { interval } from "./interval.ts";
 * const every30s = interval(30);
 * const last = new Date("2026-01-01T00:00:00Z");
 * console.assert(every30s.isDue(last, new Date("2026-01-01T00:00:30Z")).isDue);
 * console.assert(interval({ minutes: 5 }).seconds === 300);
 * ```
 */
export function interval(every: number | Duration): Interval {
  if (typeof every === "number") return new Interval(every);
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = every ?? {};
  return new Interval(days * 86400 + hours * 3600 + minutes * 60 + seconds);
}
