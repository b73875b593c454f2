/**
 * AMQP field-table values (message headers, declaration arguments) written
 * the way py-amqp reads them. amqplib picks the smallest integer type (`b`,
 * `s`), but py-amqp 5.1 reads `b` as unsigned and `s` as a *short string*, so
 * a header such as `retries: 200` would corrupt the whole table for a Python
 * worker. Every integer is therefore written as py-amqp writes it: `I`
 * (signed 32-bit) when it fits, else `l` (64-bit). `null` is `V` (void) at
 * any depth, so `timelimit: [null, null]` is an array of two voids.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { TooDeepValue } from "../../protocol/message_limits.ts";

/** amqplib's way to force a field type: `{"!": type, value}`. */
interface TypedValue {
  "!": string;
  value: unknown;
}

const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2 ** 63;

function encodeNumber(value: number): number | TypedValue {
  if (!Number.isInteger(value)) return value; // amqplib writes non-integers as `d`
  if (value >= -INT32_MAX && value <= INT32_MAX) return { "!": "int", value };
  // py-amqp reads `l` as unsigned 64-bit: exact for positive values; a large
  // negative integer is sent as a double so its value survives.
  if (value > 0 && value < INT64_MAX) return { "!": "long", value };
  return { "!": "double", value };
}

/** One value prepared for amqplib's table encoder. */
export function encodeFieldValue(value: unknown): unknown {
  if (typeof value === "number") return encodeNumber(value);
  if (typeof value === "bigint") return encodeNumber(Number(value));
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    return value.map((item) => item === undefined ? null : encodeFieldValue(item));
  }
  return encodeFieldTable(value as Record<string, unknown>);
}

/** A table (headers, arguments) prepared for amqplib; `undefined` entries are left out. */
export function encodeFieldTable(table: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (value !== undefined) out[key] = encodeFieldValue(value);
  }
  return out;
}

function isTyped(value: object): value is TypedValue {
  return Object.hasOwn(value, "!") && Object.hasOwn(value, "value");
}

/** One value as amqplib decoded it, turned into plain data. */
export function decodeFieldValue(value: unknown): unknown {
  if (value === null || typeof value !== "object" || value instanceof TooDeepValue) return value;
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(decodeFieldValue);
  if (isTyped(value)) {
    if (value["!"] === "timestamp") return new Date(Number(value.value) * 1000);
    if (value["!"] === "decimal") {
      const { places, digits } = value.value as { places: number; digits: number };
      return digits / 10 ** places;
    }
    return value.value;
  }
  return decodeFieldTable(value as Record<string, unknown>);
}

/** A decoded table (headers) as plain data: byte arrays as `Uint8Array`, timestamps as `Date`. */
export function decodeFieldTable(
  table: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table ?? {})) out[key] = decodeFieldValue(value);
  return out;
}
