/**
 * JSON text exactly as Python's `json.dumps` writes it by default
 * (`", "` and `": "` separators, non-ASCII escaped): for values whose bytes
 * must match what Python peers write, such as chord join members in a Redis
 * set, where the same member written twice must be the same string.
 *
 * @module
 */

function escapeString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  return JSON.stringify(value);
}

/**
 * Python's `json.dumps(value)`.
 *
 * @example
 * ```ts
 * import { pythonJson } from "./python_json.ts";
 * console.assert(pythonJson([1, "a", { b: null }]) === '[1, "a", {"b": null}]');
 * ```
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return escapeString(value);
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === "function") return pythonJson(toJSON.call(value));
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => `${escapeString(key)}: ${pythonJson(item)}`);
  return `{${entries.join(", ")}}`;
}
