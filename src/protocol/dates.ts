/**
 * Celery's date strings: written as `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (six
 * fraction digits, an explicit offset), read leniently: `Z`, any offset,
 * naive (UTC), with or without fractions.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/**
 * Formats a time as Celery does for `eta`/`expires`: UTC, six-digit fraction, `+00:00`.
 * Throws a ProtocolError for an invalid Date or a year Python cannot hold (1–9999).
 *
 * @example
 * ```ts
 * import { formatCeleryDate } from "./dates.ts";
 * const text = formatCeleryDate(new Date(Date.UTC(2026, 10, 22, 3, 22, 39, 13)));
 * console.assert(text === "2026-11-22T03:22:39.013000+00:00");
 * ```
 */
export function formatCeleryDate(date: Date): string {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999) {
    throw new ProtocolError(
      `Cannot format ${String(date)} as a Celery date: ` +
        "not a valid Date in years 1-9999 (Python's datetime range).",
    );
  }
  return `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.` +
    `${pad(date.getUTCMilliseconds(), 3)}000+00:00`;
}

/** Formats a time as Celery 5.2.6's naive-UTC `date_done` (`2026-11-22T03:30:12.095047`). */
export function formatNaiveUtc(date: Date): string {
  return formatCeleryDate(date).slice(0, -6);
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/**
 * Parses an ISO-8601 time as a Celery worker does: `Z`, any `±HH:MM` offset,
 * or naive (read as UTC); the time part and fraction are optional. Fractions
 * are read as fractions of a second (1–9 digits; JavaScript keeps milliseconds).
 * Throws a ProtocolError naming the field and the value when it is not a date.
 *
 * @example
 * ```ts
 * import { parseCeleryDate } from "./dates.ts";
 * const date = parseCeleryDate("2026-11-22T04:22:39.013449+01:00", "ETA");
 * console.assert(date.toISOString() === "2026-11-22T03:22:39.013Z");
 * ```
 */
export function parseCeleryDate(text: unknown, field = "date"): Date {
  if (typeof text !== "string") {
    throw new ProtocolError(
      `Invalid ${field} value ${String(text)}: not a string (${typeof text}).`,
    );
  }
  const match = ISO.exec(text.trim());
  if (!match) {
    throw new ProtocolError(
      `Invalid ${field} value ${JSON.stringify(text)}: not an ISO-8601 date.`,
    );
  }
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = match;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  const [hour, minute, second] = [Number(h), Number(mi), Number(s)];
  let offset = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    offset = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
    if (oh > 23 || om > 59) offset = NaN;
  }
  if (
    year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    hour > 23 || minute > 59 || second > 59 || Number.isNaN(offset)
  ) {
    throw new ProtocolError(`Invalid ${field} value ${JSON.stringify(text)}: out of range.`);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((fraction + "000").slice(0, 3)));
  return new Date(date.getTime() - offset);
}
