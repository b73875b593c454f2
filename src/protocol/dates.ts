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
 *
 * @example
 * ```ts
 * import { formatCeleryDate } from "./dates.ts";
 * const text = formatCeleryDate(new Date(Date.UTC(2026, 10, 22, 3, 22, 39, 13)));
 * console.assert(text === "2026-11-22T03:22:39.013000+00:00");
 * ```
 */
export function formatCeleryDate(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.` +
    `${pad(date.getUTCMilliseconds(), 3)}000+00:00`;
}

/** Formats a time as Celery 5.2.6's naive-UTC `date_done` (`2026-11-22T03:30:12.095047`). */
export function formatNaiveUtc(date: Date): string {
  return formatCeleryDate(date).slice(0, -6);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO-8601 time as a Celery worker does. Naive values are UTC.
 * Throws a ProtocolError naming the field and the value when it is not a date.
 */
export function parseCeleryDate(text: unknown, field = "date"): Date {
  if (typeof text !== "string") {
    throw new ProtocolError(`Invalid ${field} value ${JSON.stringify(text)}: not a string.`);
  }
  const match = ISO.exec(text.trim());
  if (!match) {
    throw new ProtocolError(`Invalid ${field} value ${JSON.stringify(text)}: not an ISO-8601 date.`);
  }
  const [, y, mo, d, h, mi, s = "0", fraction = "", zone = "Z"] = match;
  const micros = Number((fraction + "000000").slice(0, 6));
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) +
    Math.floor(micros / 1000);
  if (zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const date = new Date(time);
  if (Number.isNaN(date.getTime()) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23) {
    throw new ProtocolError(`Invalid ${field} value ${JSON.stringify(text)}: out of range.`);
  }
  return date;
}
