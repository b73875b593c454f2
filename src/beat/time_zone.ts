/**
 * The app time zone (Celery's `timezone` + `enable_utc`) and the two
 * conversions crontab needs: an instant to the wall-clock time in a zone, and
 * a wall-clock minute back to the instant it first happens.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** A wall-clock minute in some zone. Months and days count from 1; Sunday is day-of-week 0. */
export interface WallTime {
  /** Full year. */
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  /** 0–23. */
  hour: number;
  /** 0–59. */
  minute: number;
}

const checked = new Set<string>(["UTC"]);

/** Throws a ConfigurationError naming the value when `zone` is not an IANA time zone name. */
export function checkTimeZone(zone: string, setting = "timezone"): string {
  if (checked.has(zone)) return zone;
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(zone);
  } catch (cause) {
    throw new ConfigurationError(
      `Invalid value for setting "${setting}": ${JSON.stringify(zone)} is not a time zone. ` +
        `Accepted: an IANA name such as "UTC", "Europe/Berlin" or "Asia/Tokyo".`,
      { cause },
    );
  }
  checked.add(zone);
  return zone;
}

/** The settings that decide the app zone. */
export interface TimeZoneSettings {
  /** `timezone`: an IANA name, or null. */
  timezone: string | null;
  /** `enable_utc`. */
  enable_utc: boolean;
}

/**
 * Celery's `app.timezone`: the `timezone` setting when set, else UTC when
 * `enable_utc` is true (the default), else the system's local zone.
 *
 * @example
 * ```ts
 * import { appTimeZone } from "./time_zone.ts";
 * console.assert(appTimeZone({ timezone: null, enable_utc: true }) === "UTC");
 * console.assert(appTimeZone({ timezone: "Asia/Tokyo", enable_utc: true }) === "Asia/Tokyo");
 * ```
 */
export function appTimeZone(settings: TimeZoneSettings): string {
  if (settings.timezone) return checkTimeZone(settings.timezone);
  return settings.enable_utc ? "UTC" : Temporal.Now.timeZoneId();
}

/** The wall-clock time of an instant in `zone`, truncated to the minute. */
export function wallTimeOf(instant: number, zone: string): WallTime {
  if (zone === "UTC") {
    const date = new Date(instant);
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
    };
  }
  const zoned = Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(zone);
  return {
    year: zoned.year,
    month: zoned.month,
    day: zoned.day,
    hour: zoned.hour,
    minute: zoned.minute,
  };
}

/**
 * The instant a wall-clock minute first happens in `zone`. A minute that
 * happens twice (clocks go back) maps to its first occurrence; a minute that
 * never happens (clocks go forward) maps to the end of the gap, the instant
 * the clocks jump. Both rules keep the mapping non-decreasing, so walking
 * wall-clock minutes in order never walks back in time.
 */
export function firstInstantOf(wall: WallTime, zone: string): number {
  if (zone === "UTC") {
    return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  }
  const local = new Temporal.PlainDateTime(wall.year, wall.month, wall.day, wall.hour, wall.minute);
  const earlier = local.toZonedDateTime(zone, { disambiguation: "earlier" });
  if (earlier.toPlainDateTime().equals(local)) return earlier.epochMilliseconds;
  // In a gap, "earlier" lands before the jump; the jump itself is the next transition.
  const jump = earlier.getTimeZoneTransition("next");
  return jump ? jump.epochMilliseconds : earlier.epochMilliseconds;
}
