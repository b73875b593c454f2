/**
 * How remote control replies are printed, as Celery's command line prints
 * them (`celery/bin/base.py` `pretty`, `control.py`): one `->  <node>: OK`
 * line per reply with its body indented, then `N nodes online.`; with
 * `--json`, the replies as one JSON document.
 *
 * @module
 */

function indent(text: string, by: number): string {
  const pad = " ".repeat(by);
  return text.split("\n").map((line) => pad + line).join("\n");
}

/** Celery's `pretty(value)`: a status (`OK`/`ERROR`) and the text. */
export function pretty(value: unknown): [string, string] {
  if (Array.isArray(value)) {
    return [
      "OK",
      value.length ? value.map((item) => `* ${formatItem(item)}`).join("\n") : "- empty -",
    ];
  }
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if ("ok" in record) return ["OK", indent(pretty(record.ok)[1], 4)];
    if ("error" in record) return ["ERROR", indent(pretty(record.error)[1], 4)];
    return ["OK", JSON.stringify(sortKeys(value), null, 4)];
  }
  if (typeof value === "string") return ["OK", value];
  return ["OK", value === null || value === undefined ? "None" : JSON.stringify(value)];
}

function formatItem(item: unknown): string {
  return typeof item === "string" ? item : JSON.stringify(item);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((
        key,
      ) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** One reply as Celery prints it: `->  node: OK` and, with `showBody`, the body indented by 4. */
export function replyLines(reply: Record<string, unknown>, showBody: boolean): string {
  const [node] = Object.keys(reply);
  const [status, body] = pretty(reply[node]);
  const head = `->  ${node}: ${status}`;
  return showBody && body ? `${head}\n${indent(body, 4)}` : head;
}

/** `1 node online.` / `3 nodes online.` (preceded by an empty line, as Celery). */
export function nodesOnline(count: number): string {
  return `\n${count} ${count === 1 ? "node" : "nodes"} online.`;
}

/** Celery's error when nobody answered (exit code 69, `EX_UNAVAILABLE`). */
export const NO_REPLIES = "No nodes replied within time constraint";

/** Exit code when no node replied. */
export const EX_UNAVAILABLE = 69;
