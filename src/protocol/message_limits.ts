/**
 * What one message may cost a worker, decided before the cost is paid: how
 * deeply its body and headers may nest (checked on the JSON text before it is
 * parsed, and on decoded headers without recursion), and how many bytes its
 * body may have before and after decompression. A message over a limit is a
 * ProtocolError naming the limit: it is rejected as malformed, never run.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/** The limits one message is held to. */
export interface MessageLimits {
  /** Deepest nesting of arrays and objects in the body or the headers. */
  maxDepth: number;
  /** Largest body, in bytes, as received and after decompression. */
  maxBytes: number;
}

/**
 * The defaults (settings `worker_max_message_depth`, `worker_max_message_size`):
 * 256 levels, far below the ~3,500 at which recursive code (repr, structured
 * clone) runs out of stack, and far above any real task's arguments; 64 MiB.
 */
export const DEFAULT_MESSAGE_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxDepth: 256,
  maxBytes: 64 * 1024 * 1024,
});

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Throws a ProtocolError when JSON `text` nests deeper than `maxDepth`
 * (brackets inside strings do not count). One pass over the text, no parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkJsonDepth } from "./message_limits.ts";
 * checkJsonDepth("[[1], {}]", 2);
 * assert.throws(() => checkJsonDepth("[[[1]]]", 2), /deeper than 2 levels/);
 * ```
 */
export function checkJsonDepth(text: string, maxDepth: number, what = "message body"): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) throw tooDeep(what, maxDepth);
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
}

/**
 * Throws a ProtocolError when a decoded value (headers) nests deeper than
 * `maxDepth`, or holds a table the AMQP decoder refused to descend into
 * (`TooDeepValue`). Walks with an explicit stack: no recursion.
 */
export function checkValueDepth(value: unknown, maxDepth: number, what = "message headers"): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item instanceof TooDeepValue) throw tooDeep(what, maxDepth);
    if (item === null || typeof item !== "object" || ArrayBuffer.isView(item)) continue;
    if (depth >= maxDepth) throw tooDeep(what, maxDepth);
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
}

/**
 * Throws a ProtocolError when a body of `size` bytes is over `maxBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBodySize } from "./message_limits.ts";
 * assert.throws(() => checkBodySize(2048, 1024), /over the limit of 1024 bytes/);
 * ```
 */
export function checkBodySize(size: number, maxBytes: number, what = "message body"): void {
  if (size > maxBytes) {
    throw new ProtocolError(
      `The ${what} is ${size} bytes, over the limit of ${maxBytes} bytes ` +
        `(setting worker_max_message_size).`,
    );
  }
}

/**
 * Stands in for an AMQP table or array nested too deeply to decode (see
 * `amqplib_codec.ts`): decoding it would overflow the stack and close the
 * connection; the message carrying it is rejected by `checkValueDepth`.
 */
export class TooDeepValue {
  /** How deep the decoder was when it stopped. */
  readonly depth: number;
  /** Marks a value the decoder skipped at `depth`. */
  constructor(depth: number) {
    this.depth = depth;
  }
}

function tooDeep(what: string, maxDepth: number): ProtocolError {
  return new ProtocolError(
    `Too deeply nested ${what}: deeper than ${maxDepth} levels ` +
      `(setting worker_max_message_depth).`,
  );
}
