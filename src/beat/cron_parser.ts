/**
 * Expands one crontab field (`"*\/15"`, `"1,13,30-45/5"`, `"mon-fri"`, `[0, 30]`, `8`)
 * into the set of values it matches, with Celery's `crontab_parser` rules:
 * `*`, numbers, lists, ranges (a range whose end is below its start wraps
 * around, `sat-mon` = {6, 0, 1}), steps over a range or `*` (`*\/10` in the day
 * of month = {1, 11, 21, 31}), day names (any word whose first three letters
 * name a day, case-insensitive, Sunday = 0). Month names (`jan`…`dec`) are
 * accepted in the month field, as Celery does since 5.5.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** A crontab field as a user writes it: a pattern string, a number, or a list of numbers. */
export type CronField = string | number | readonly number[];

/** The five crontab fields, under celeriac's option names. */
export type CronFieldName = "minute" | "hour" | "dayOfWeek" | "dayOfMonth" | "monthOfYear";

/** The values one crontab field accepts. */
export interface FieldRange {
  /** Smallest value. */
  min: number;
  /** How many values (Celery's `max_`): the largest is `min + count - 1`. */
  count: number;
  /** Names accepted as values (first three letters), in value order from `min`. */
  names?: readonly string[];
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const MONTH_NAMES = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
] as const;

/** Each field's range, as in Celery's `crontab._expand_cronspec` calls. */
export const CRON_FIELD_RANGES: Readonly<Record<CronFieldName, FieldRange>> = {
  minute: { min: 0, count: 60 },
  hour: { min: 0, count: 24 },
  dayOfWeek: { min: 0, count: 7, names: DAY_NAMES },
  dayOfMonth: { min: 1, count: 31 },
  monthOfYear: { min: 1, count: 12, names: MONTH_NAMES },
};

/** A field failed to parse; `expandCronField` turns it into a ConfigurationError. */
class FieldError extends Error {}

function fieldError(field: CronFieldName, value: CronField, reason: string): ConfigurationError {
  return new ConfigurationError(`Invalid crontab ${field} ${JSON.stringify(value)}: ${reason}`);
}

function expandNumber(token: string, range: FieldRange): number {
  let value: number;
  if (/^\d+$/.test(token)) {
    value = Number(token);
  } else {
    const index = /^[a-z]+$/i.test(token) && range.names
      ? range.names.indexOf(token.slice(0, 3).toLowerCase() as never)
      : -1;
    if (index < 0) {
      const kind = range.names === DAY_NAMES
        ? "a number or a day name (sun…sat)"
        : range.names
        ? "a number or a month name (jan…dec)"
        : "a number";
      throw new FieldError(`'${token}' is not ${kind}.`);
    }
    value = index + range.min;
  }
  const last = range.min + range.count - 1;
  if (value > last) throw new FieldError(`Invalid end range: ${value} > ${last}.`);
  if (value < range.min) throw new FieldError(`Invalid beginning range: ${value} < ${range.min}.`);
  return value;
}

function expandRange(from: string, to: string | undefined, range: FieldRange): number[] {
  const start = expandNumber(from, range);
  if (to === undefined) return [start];
  const end = expandNumber(to, range);
  const values: number[] = [];
  if (end < start) { // wraps around, as Celery's `sat-mon`
    for (let v = start; v < range.min + range.count; v++) values.push(v);
    for (let v = range.min; v <= end; v++) values.push(v);
  } else {
    for (let v = start; v <= end; v++) values.push(v);
  }
  return values;
}

function everyNth(values: number[], step: string): number[] {
  if (step === "") throw new FieldError("empty step after '/'.");
  if (!/^\d+$/.test(step) || Number(step) === 0) {
    throw new FieldError(`the step '${step}' is not a whole number of 1 or more.`);
  }
  const n = Number(step);
  return values.filter((_, index) => index % n === 0);
}

function expandPart(part: string, range: FieldRange): number[] {
  let match = /^(\w+?)-(\w+)\/(\w*)$/.exec(part);
  if (match) return everyNth(expandRange(match[1], match[2], range), match[3]);
  match = /^(\w+?)-(\w+)$/.exec(part);
  if (match) return expandRange(match[1], match[2], range);
  const all = Array.from({ length: range.count }, (_, i) => range.min + i);
  match = /^\*\/(\w*)$/.exec(part);
  if (match) return everyNth(all, match[1]);
  if (part === "*") return all;
  if (part.startsWith("-")) throw new FieldError("negative numbers are not supported.");
  if (!/^\w+$/.test(part)) throw new FieldError(`'${part}' is not a number, range or step.`);
  return expandRange(part, undefined, range);
}

/**
 * The sorted values a field matches. Throws a ConfigurationError naming the
 * field and the value when it does not parse or is out of range.
 *
 * @example
 * ```ts
 * import { expandCronField } from "./cron_parser.ts";
 * console.assert(expandCronField("minute", "*\/15").join() === "0,15,30,45");
 * console.assert(expandCronField("dayOfWeek", "sat-mon").join() === "0,1,6");
 * ```
 */
export function expandCronField(field: CronFieldName, value: CronField): number[] {
  const range = CRON_FIELD_RANGES[field];
  const found = new Set<number>();
  try {
    if (typeof value === "string") {
      for (const raw of value.split(",")) {
        const part = raw.trim();
        if (part === "") throw new FieldError("empty part.");
        for (const v of expandPart(part, range)) found.add(v);
      }
    } else if (typeof value === "number" || Array.isArray(value)) {
      for (const v of typeof value === "number" ? [value] : value) {
        if (!Number.isInteger(v)) {
          throw new FieldError(`${JSON.stringify(v)} is not a whole number.`);
        }
        found.add(v);
      }
    } else {
      throw new FieldError(
        `a ${typeof value} was given. Accepted: a pattern string, a number or a list of numbers.`,
      );
    }
  } catch (error) {
    if (error instanceof FieldError) throw fieldError(field, value, error.message);
    throw error;
  }
  if (found.size === 0) throw fieldError(field, value, "matches no value.");
  const last = range.min + range.count - 1;
  for (const v of found) {
    if (v < range.min || v > last) {
      throw fieldError(
        field,
        value,
        `Invalid crontab pattern.  Valid range is ${range.min}-${last}. '${v}' was found.`,
      );
    }
  }
  return [...found].sort((a, b) => a - b);
}
