/**
 * What every schedule offers beat: Celery's `is_due(last_run_at)` as a pure
 * function of the last run, the current time and the app time zone.
 *
 * @module
 */

/** Celery's `schedstate`: whether an entry is due now, and when to look again. */
export interface ScheduleState {
  /** True when the entry should be sent now. */
  isDue: boolean;
  /**
   * Seconds until the next check: when due, until the run after this one;
   * otherwise until this entry becomes due.
   */
  nextInSeconds: number;
}

/**
 * A periodic schedule: `interval(...)`, `crontab(...)`, or your own object
 * with an `isDue` method.
 */
export interface Schedule {
  /**
   * Celery's `is_due`. `timeZone` is the app zone (an IANA name, `UTC` when
   * omitted); calendar schedules such as crontab are evaluated in it.
   */
  isDue(lastRunAt: Date, now: Date, timeZone?: string): ScheduleState;
  /** Celery's repr, such as `<freq: 30.00 seconds>`. */
  toString(): string;
}

/** A schedule as written in `beat_schedule`: seconds, or a schedule object. */
export type ScheduleLike = number | Pick<Schedule, "isDue">;

const TIME_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/**
 * Celery's `humanize_seconds`: `30` → `30.00 seconds`, `60` → `1.00 minute`,
 * `300` → `5.00 minutes`, `0` → `now`.
 */
export function humanizeSeconds(seconds: number, prefix = ""): string {
  const secs = Number(seconds.toFixed(2));
  for (const [unit, divider] of TIME_UNITS) {
    if (secs >= divider) {
      const amount = secs / divider;
      return `${prefix}${amount.toFixed(2)} ${amount === 1 ? unit : `${unit}s`}`;
    }
  }
  return "now";
}
