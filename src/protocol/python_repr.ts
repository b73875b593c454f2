/**
 * Python `repr()` of JSON values, for the `argsrepr` / `kwargsrepr` headers
 * and for Celery-style log lines (`succeeded in 0.001s: 8`).
 *
 * @module
 */

const MAX_REPR = 1024;

function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

function reprNumber(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  return String(value);
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
  if (value instanceof Date) return reprString(value.toISOString());
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

/** `argsrepr` header: the args as a Python tuple, e.g. `(2, 3)` or `(1,)`. */
export function argsRepr(args: readonly unknown[]): string {
  const inner = args.map(pythonRepr).join(", ");
  return truncateRepr(args.length === 1 ? `(${inner},)` : `(${inner})`);
}

/** `kwargsrepr` header: the kwargs as a Python dict. */
export function kwargsRepr(kwargs: Record<string, unknown>): string {
  return truncateRepr(pythonRepr(kwargs));
}
