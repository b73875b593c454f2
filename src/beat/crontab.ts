/**
 * crontab schedules with Celery's syntax and semantics: a run at every
 * wall-clock minute (in the app time zone) whose minute, hour, day of week,
 * day of month and month all match. The three day fields are ANDed
 * (`dayOfWeek: 1, dayOfMonth: "1-7"` is the first Monday of the month),
 * unlike Vixie cron's OR.
 *
 * `isDue(lastRunAt, now)` finds the first matching minute after the last run;
 * the entry is due when that minute has come. A slot missed while beat was
 * down therefore fires once, not once per missed slot. When due, the next
 * check is counted from now, as in Celery.
 *
 * Daylight saving time: every matching wall-clock minute fires once. A minute
 * that happens twice (clocks go back) fires at its first occurrence only; a
 * minute that does not exist (clocks go forward) fires when the clocks jump,
 * which is also when Celery 5.2.6 fires it. Where celeriac differs from
 * Celery 5.2.6 (whose `remaining` applies the current UTC offset to the next
 * run, and whose `day_of_month` search compares a UTC midnight with a local
 * time and so can skip a month west of UTC, and whose "this hour" shortcut
 * ignores a slot missed on an earlier day), celeriac computes the instant of
 * the next matching wall-clock minute; `tests/beat_celery_reference_test.ts`
 * checks every other case against Celery itself.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { type CronField, type CronFieldName, expandCronField } from "./cron_parser.ts";
import type { Schedule, ScheduleState } from "./schedule.ts";
import { firstInstantOf, type WallTime, wallTimeOf } from "./time_zone.ts";

export type { CronField } from "./cron_parser.ts";

/** The fields of `crontab(...)`; each defaults to `"*"`. */
export interface CrontabOptions {
  /** 0–59. */
  minute?: CronField;
  /** 0–23. */
  hour?: CronField;
  /** 0–6, Sunday = 0; day names such as `mon-fri`. */
  dayOfWeek?: CronField;
  /** 1–31. */
  dayOfMonth?: CronField;
  /** 1–12; month names such as `jan`. */
  monthOfYear?: CronField;
}

const MINUTE = 60_000;
const FIELDS: readonly CronFieldName[] = [
  "minute",
  "hour",
  "dayOfWeek",
  "dayOfMonth",
  "monthOfYear",
];
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]; // leap years included

function lookup(values: readonly number[], size: number): boolean[] {
  const table = new Array<boolean>(size).fill(false);
  for (const v of values) table[v] = true;
  return table;
}

function shown(value: CronField): string {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** A crontab schedule. Create one with `crontab({...})`. */
export class Crontab implements Schedule {
  /** The expanded values of each field, sorted. */
  readonly values: Readonly<Record<CronFieldName, readonly number[]>>;
  /** The fields as given. */
  readonly original: Readonly<Record<CronFieldName, CronField>>;
  readonly #match: Record<CronFieldName, boolean[]>;
  /** The last `nextRunAfter` answer: beat asks about the same last run on every tick. */
  #cached = { last: NaN, zone: "", next: 0 };

  /** Parses the fields; throws a ConfigurationError naming the field and value that do not parse. */
  constructor(options: CrontabOptions = {}) {
    const original = {} as Record<CronFieldName, CronField>;
    const values = {} as Record<CronFieldName, number[]>;
    const match = {} as Record<CronFieldName, boolean[]>;
    for (const field of FIELDS) {
      original[field] = options[field] ?? "*";
      values[field] = expandCronField(field, original[field]);
      match[field] = lookup(values[field], 60);
    }
    const possible = values.monthOfYear.some((month) =>
      values.dayOfMonth.some((day) => day <= DAYS_IN_MONTH[month - 1])
    );
    if (!possible) {
      throw new ConfigurationError(
        `Invalid crontab: dayOfMonth ${JSON.stringify(original.dayOfMonth)} never happens in ` +
          `monthOfYear ${JSON.stringify(original.monthOfYear)}, so it would never run.`,
      );
    }
    this.original = Object.freeze(original);
    this.values = Object.freeze(values);
    this.#match = match;
  }

  /**
   * The first matching wall-clock minute after `wall` (which is read as
   * whole minutes). Pure calendar arithmetic, no time zone.
   */
  nextMatchAfter(wall: WallTime): WallTime {
    const m = this.#match;
    // Walk a "wall clock as UTC" timeline: it has no DST, so every step is exact.
    let t = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) + MINUTE;
    // Bounded: a date that exists at all meets every weekday within 28 years.
    for (let steps = 0; steps < 100_000; steps++) {
      const d = new Date(t);
      const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
      const [hour, minute] = [d.getUTCHours(), d.getUTCMinutes()];
      if (!m.monthOfYear[month + 1]) {
        t = Date.UTC(year, month + 1, 1);
      } else if (!m.dayOfMonth[day] || !m.dayOfWeek[d.getUTCDay()]) {
        t = Date.UTC(year, month, day + 1);
      } else if (!m.hour[hour]) {
        t = Date.UTC(year, month, day, hour + 1);
      } else if (!m.minute[minute]) {
        const later = this.values.minute.find((v) => v > minute);
        t = later === undefined
          ? Date.UTC(year, month, day, hour + 1)
          : t + (later - minute) * MINUTE;
      } else {
        return { year, month: month + 1, day, hour, minute };
      }
    }
    throw new Error(`crontab ${this} found no matching minute after ${JSON.stringify(wall)}`);
  }

  /**
   * The instant of the first run after `lastRunAt`: the next matching
   * wall-clock minute in `timeZone`, by the DST rules in the module docs.
   */
  nextRunAfter(lastRunAt: Date, timeZone = "UTC"): Date {
    const last = lastRunAt.getTime();
    const cached = this.#cached;
    if (cached.last === last && cached.zone === timeZone) return new Date(cached.next);
    let wall = wallTimeOf(last, timeZone);
    // After clocks go back, minutes of the repeated hour already happened once: skip them.
    for (;;) {
      wall = this.nextMatchAfter(wall);
      const instant = firstInstantOf(wall, timeZone);
      if (instant > last) {
        this.#cached = { last, zone: timeZone, next: instant };
        return new Date(instant);
      }
    }
  }

  /** Celery's `is_due`: due when the first matching minute after the last run has come. */
  isDue(lastRunAt: Date, now: Date, timeZone = "UTC"): ScheduleState {
    const next = this.nextRunAfter(lastRunAt, timeZone).getTime();
    if (next > now.getTime()) {
      return { isDue: false, nextInSeconds: (next - now.getTime()) / 1000 };
    }
    const after = this.nextRunAfter(now, timeZone).getTime();
    return { isDue: true, nextInSeconds: (after - now.getTime()) / 1000 };
  }

  /** Celery 5.2.6's repr: `<crontab: 0 8 * 1 * (m/h/d/dM/MY)>`. */
  toString(): string {
    const o = this.original;
    return `<crontab: ${shown(o.minute)} ${shown(o.hour)} ${shown(o.dayOfWeek)} ` +
      `${shown(o.dayOfMonth)} ${shown(o.monthOfYear)} (m/h/d/dM/MY)>`;
  }
}

/**
 * A crontab schedule (Celery's `crontab(minute, hour, day_of_week,
 * day_of_month, month_of_year)`, with named options).
 *
 * @example
 * ```ts
 * import { crontab } from "./crontab.ts";
 * // 08:00 on the first of every month, in the app time zone.
 * const monthly = crontab({ minute: 0, hour: 8, dayOfMonth: 1 });
 * const next = monthly.nextRunAfter(new Date("2026-01-15T12:00:00Z"), "Asia/Tokyo");
 * console.assert(next.toISOString() === "2026-01-31T23:00:00.000Z"); // Feb 1, 08:00 in Tokyo
 * ```
 */
export function crontab(options: CrontabOptions = {}): Crontab {
  return new Crontab(options);
}

/**
 * A crontab from a standard five-field line, `"minute hour day-of-month month
 * day-of-week"` (Celery 5.5's `crontab.from_string`).
 *
 * @example
 * ```ts
 * import { crontabFromString } from "./crontab.ts";
 * console.assert(String(crontabFromString("0 8 1 * *")) === "<crontab: 0 8 * 1 * (m/h/d/dM/MY)>");
 * ```
 */
export function crontabFromString(line: string): Crontab {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new ConfigurationError(
      `Invalid crontab line ${JSON.stringify(line)}: expected 5 fields ` +
        `"minute hour day-of-month month day-of-week", found ${parts.length}.`,
    );
  }
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = parts;
  return new Crontab({ minute, hour, dayOfMonth, monthOfYear, dayOfWeek });
}
