/**
 * Python `repr()` of JSON values, for Celery-style log lines, and a port of
 * Celery's `saferepr` (celery/utils/saferepr.py), which is what a Python
 * client writes into the `argsrepr` / `kwargsrepr` headers.
 *
 * Numbers are shown as Python sees them after the JSON trip: an integral
 * value below 1e21 is an `int`, anything else a `float` (`1e-07`, `1.5`).
 *
 * @module
 */

import { formatCeleryDate } from "./dates.ts";

const MAX_REPR = 1024;

/** Python's `str.isprintable()` is false for these (plus everything it escapes below). */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

function escapeChar(char: string, quote: string): string {
  switch (char) {
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case quote:
      return `\\${quote}`;
  }
  if (char === " " || !NOT_PRINTABLE.test(char)) return char;
  const code = char.codePointAt(0)!;
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  return code <= 0xffff ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = "";
  for (const char of text) out += escapeChar(char, quote);
  return quote + out + quote;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent when the point is far away. */
function reprFloat(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  const exponent = Number(exponentText);
  const point = exponent + 1;
  if (point <= -4 || point > 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const e = `${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
    return `${sign}${digits[0]}${fraction}e${e}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A number as Python prints the value it decodes from this number's JSON text. */
function reprNumber(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : reprFloat(value);
}

/**
 * Python's `repr()` of a JSON-like value.
 *
 * @example
 * ```ts
 * import { pythonRepr } from "./python_repr.ts";
 * console.assert(pythonRepr({ a: [1, "x", null, true] }) === "{'a': [1, 'x', None, True]}");
 * ```
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return reprNumber(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "string") return reprString(value);
  if (value instanceof Date) return reprString(formatCeleryDate(value));
  if (value instanceof Uint8Array) return `b'<${value.length} bytes>'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (value instanceof Error) return `${value.name}(${reprString(value.message)})`;
  if (typeof value === "object") {
    const items = Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${reprString(key)}: ${pythonRepr(item)}`);
    return `{${items.join(", ")}}`;
  }
  return reprString(String(value));
}

/** Truncates a repr to Celery's 1024 characters. */
export function truncateRepr(text: string, max = MAX_REPR): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

// ---- saferepr: a token-for-token port of celery.utils.saferepr (5.2.6) ----

class Literal {
  constructor(readonly value: string, readonly truncate: boolean, readonly direction: number) {}
}
class KeyToken {
  constructor(readonly value: string) {}
}
class Quoted {
  constructor(readonly value: string) {}
}
class Dirty {
  constructor(readonly object: object) {}
}
/** Marks the args array, which Python shows as a tuple. */
class Tuple {
  constructor(readonly items: readonly unknown[]) {}
}

const DICT_START = new Literal("{", false, 1);
const DICT_KVSEP = new Literal(": ", true, 0);
const DICT_END = new Literal("}", false, -1);
const LIST_START = new Literal("[", false, 1);
const LIST_END = new Literal("]", false, -1);
const LIST_SEP = new Literal(", ", true, 0);
const TUPLE_START = new Literal("(", false, 1);
const TUPLE_END = new Literal(")", false, -1);
const TUPLE_END_SV = new Literal(",)", false, -1);

/** Python `len()`: code points, not UTF-16 units. */
function pyLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** celery.utils.text.truncate: cut at `maxlen` code points, back to the last space, add `...`. */
function truncate(text: string, maxlen: number | undefined): string {
  if (!maxlen || text.length < maxlen) return text;
  const head: string[] = [];
  for (const char of text) {
    if (head.length === maxlen) break;
    head.push(char);
  }
  if (head.length < maxlen) return text;
  const chunk = head.join("");
  const space = chunk.lastIndexOf(" ");
  return (space === -1 ? chunk : chunk.slice(0, space)) + "...";
}

function formatChars(text: string, maxlen: number | undefined): string {
  return `'${truncate(text, maxlen).replaceAll("'", "\\'")}'`;
}

function* chain(...parts: Iterable<unknown>[]): Generator<unknown> {
  for (const part of parts) yield* part;
}

function* chainList(items: readonly unknown[]): Generator<unknown> {
  for (let i = 0; i < items.length; i++) {
    yield items[i];
    if (i < items.length - 1) yield LIST_SEP;
  }
}

function* chainDict(entries: [string, unknown][]): Generator<unknown> {
  for (let i = 0; i < entries.length; i++) {
    yield new KeyToken(entries[i][0]);
    yield DICT_KVSEP;
    yield entries[i][1];
    if (i < entries.length - 1) yield LIST_SEP;
  }
}

type Container = [Literal, Literal, Iterable<unknown>, object];

function container(value: unknown): Container | undefined {
  if (value instanceof Tuple) {
    const end = value.items.length === 1 ? TUPLE_END_SV : TUPLE_END;
    return [TUPLE_START, end, chainList(value.items), value];
  }
  if (Array.isArray(value)) return [LIST_START, LIST_END, chainList(value), value];
  if (
    value !== null && typeof value === "object" && !(value instanceof Date) &&
    !(value instanceof Uint8Array) && !(value instanceof Error)
  ) {
    return [DICT_START, DICT_END, chainDict(Object.entries(value)), value];
  }
  return undefined;
}

type Token = [unknown, Iterator<unknown>];

/** `reprstream`: yields tokens with the iterator they came from. */
function* reprStream(stack: Iterator<unknown>[], maxlevels: number): Generator<Token> {
  const seen = new Set<object>();
  let level = 0;
  while (stack.length) {
    const it = stack.shift()!;
    for (let step = it.next(); !step.done; step = it.next()) {
      const value = step.value;
      if (value instanceof Dirty) {
        seen.delete(value.object);
      } else if (value instanceof Literal) {
        level += value.direction;
        yield [value, it];
      } else if (value instanceof KeyToken) {
        yield [value, it];
      } else if (typeof value === "number" || typeof value === "bigint") {
        yield [typeof value === "number" ? reprNumber(value) : String(value), it];
      } else if (typeof value === "boolean") {
        yield [value ? "True" : "False", it];
      } else if (typeof value === "string" || value instanceof Date) {
        yield [new Quoted(typeof value === "string" ? value : formatCeleryDate(value)), it];
      } else {
        const parts = container(value);
        if (!parts) {
          yield [pythonRepr(value), it];
          continue;
        }
        const [start, end, items, object] = parts;
        if (maxlevels && level >= maxlevels) {
          yield [`${start.value}...${end.value}`, it];
          continue;
        }
        if (seen.has(object)) {
          yield [`<Recursion on ${Array.isArray(object) ? "list" : "dict"}>`, it];
          continue;
        }
        seen.add(object);
        stack.push(
          chain([start], items, [new Dirty(object), end], { [Symbol.iterator]: () => it }),
        );
        break;
      }
    }
  }
}

function* safeReprTokens(value: unknown, maxlen: number | undefined, maxlevels: number) {
  const stack: Iterator<unknown>[] = [[value][Symbol.iterator]()];
  let budget = maxlen;
  const tokens = reprStream(stack, maxlevels);
  for (let step = tokens.next(); !step.done; step = tokens.next()) {
    const [token, it] = step.value;
    if (budget !== undefined && budget <= 0) {
      yield ", ...";
      stack.push(it);
      break;
    }
    let text: string;
    if (token instanceof Literal) text = token.value;
    else if (token instanceof KeyToken) text = safeRepr(token.value, budget, maxlevels);
    else if (token instanceof Quoted) text = formatChars(token.value, budget);
    else text = truncate(String(token), budget);
    yield text;
    if (budget !== undefined) budget -= pyLength(text);
  }
  for (const rest of stack) {
    for (let step = rest.next(); !step.done; step = rest.next()) {
      if (step.value instanceof Literal && !step.value.truncate) yield step.value.value;
    }
  }
}

/**
 * Celery's `saferepr(value, maxlen, maxlevels)`: a repr that stops after about
 * `maxlen` characters and shows containers nested deeper than `maxlevels` as
 * `[...]`. Strings are quoted without escaping (only `'` is escaped), as Celery does.
 *
 * @example
 * ```ts
 * import { safeRepr } from "./python_repr.ts";
 * console.assert(safeRepr({ a: { b: { c: { d: 1 } } } }) === "{'a': {'b': {'c': {...}}}}");
 * ```
 */
export function safeRepr(value: unknown, maxlen?: number, maxlevels = 3): string {
  return [...safeReprTokens(value, maxlen, maxlevels)].join("");
}

/** `argsrepr` header, as Celery writes it: `saferepr(tuple(args), 1024)`, e.g. `(2, 3)` or `(1,)`. */
export function argsRepr(args: readonly unknown[]): string {
  const items = flatItemsRepr(args);
  if (items !== undefined) return args.length === 1 ? `(${items},)` : `(${items})`;
  return safeRepr(new Tuple(args), MAX_REPR);
}

/** `kwargsrepr` header, as Celery writes it: `saferepr(kwargs, 1024)`. */
export function kwargsRepr(kwargs: Record<string, unknown>): string {
  const keys = Object.keys(kwargs);
  if (keys.length === 0 && Object.getPrototypeOf(kwargs) === Object.prototype) return "{}";
  return safeRepr(kwargs, MAX_REPR);
}

// The common case without the token stream: arguments that are all numbers,
// booleans, null or strings, short enough that saferepr cuts nothing (its
// output is then exactly these pieces).

/** Half of saferepr's budget: below it no piece can reach what is left of the budget. */
const FLAT_LIMIT = MAX_REPR / 2;

/** saferepr's text for a value that is not a container, or undefined. */
function flatRepr(value: unknown): string | undefined {
  switch (typeof value) {
    case "number":
      return reprNumber(value);
    case "string":
      return formatChars(value, undefined);
    case "boolean":
      return value ? "True" : "False";
    case "bigint":
      return String(value);
  }
  return value === null ? "None" : undefined;
}

/** `items` as saferepr joins them (`1, 'a'`) when all are flat and short; else undefined. */
function flatItemsRepr(items: readonly unknown[]): string | undefined {
  if (items.length > 16) return undefined;
  let out = "";
  for (let i = 0; i < items.length; i++) {
    const text = flatRepr(items[i]);
    if (text === undefined) return undefined;
    out += i === 0 ? text : `, ${text}`;
    if (out.length >= FLAT_LIMIT) return undefined;
  }
  return out;
}
