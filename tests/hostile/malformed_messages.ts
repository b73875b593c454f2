/**
 * A seeded generator of malformed task messages for the fuzz test: nesting
 * depth (body and headers), size (bodies over the limit, compression bombs,
 * corrupt or unknown compression), types (body shapes, header types),
 * encodings (content types, invalid UTF-8, invalid JSON). Every message it
 * makes must be rejected as malformed by a worker with
 * `worker_max_message_size = FUZZ_MAX_MESSAGE_SIZE` and the default depth
 * limit; the same seed gives the same messages.
 *
 * @module
 */

import { brotliCompressSync, constants, deflateSync } from "node:zlib";
import type { WireMessage } from "../../src/broker/types.ts";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";

/** The `worker_max_message_size` the fuzzed worker runs with. */
export const FUZZ_MAX_MESSAGE_SIZE = 256 * 1024;

/** One generated message and what makes it malformed. */
export interface Malformed {
  /** Category and variant, for failure messages. */
  label: string;
  /** The message, published as is. */
  message: WireMessage;
}

/** Options of `malformedMessages`. */
export interface GeneratorOptions {
  /** How many messages. */
  count: number;
  /** Seed of the pseudo-random choices. */
  seed: number;
  /** Deepest header nesting to generate (the publisher's encoder must survive it). */
  maxHeaderDepth: number;
}

const encoder = new TextEncoder();

/** mulberry32: a small seeded PRNG returning [0, 1). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = { int(min: number, max: number): number; pick<T>(items: readonly T[]): T };

function good(): WireMessage {
  return encodeTaskMessage(taskCall("fault.add", [1, 2]));
}

function withBody(body: string | Uint8Array, contentType = "application/json"): WireMessage {
  return { ...good(), body: typeof body === "string" ? encoder.encode(body) : body, contentType };
}

function withHeaders(headers: Record<string, unknown>, body?: Uint8Array): WireMessage {
  const message = good();
  return { ...message, headers: { ...message.headers, ...headers }, body: body ?? message.body };
}

function nestedText(depth: number, random: Random): string {
  const opens: string[] = [];
  for (let i = 0; i < depth; i++) opens.push(random.int(0, 1) ? "[" : '{"k":');
  const closes = opens.map((open) => open === "[" ? "]" : "}").reverse();
  return opens.join("") + "1" + closes.join("");
}

function nestedValue(depth: number, random: Random): unknown {
  let value: unknown = random.pick(["x", 1, null, true]);
  for (let i = 0; i < depth; i++) value = random.int(0, 1) ? [value] : { k: value };
  return value;
}

const BOMB_SIZES = [FUZZ_MAX_MESSAGE_SIZE + 1, 4 * FUZZ_MAX_MESSAGE_SIZE, 64 * 1024 * 1024];
const bombs = new Map<string, Uint8Array>();

function bomb(codec: "gzip" | "brotli", size: number): Uint8Array {
  const key = `${codec}:${size}`;
  let bytes = bombs.get(key);
  if (!bytes) {
    // A valid body padded with spaces: only its inflated size is wrong.
    const text = encoder.encode(`[[1, 2], {}, {}]${" ".repeat(size)}`);
    bytes = new Uint8Array(
      codec === "gzip"
        ? deflateSync(text)
        : brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
    );
    bombs.set(key, bytes);
  }
  return bytes;
}

const depth = (random: Random, options: GeneratorOptions): Malformed => {
  const where = random.pick(["args", "kwargs", "embed", "headers", "header-list"]);
  if (where === "headers" || where === "header-list") {
    const levels = random.int(300, options.maxHeaderDepth);
    const name = where === "headers" ? "x-deep" : random.pick(["stamps", "x-list", "lang2"]);
    return {
      label: `depth: ${where} ${levels}`,
      message: withHeaders({ [name]: nestedValue(levels, random) }),
    };
  }
  const levels = random.int(260, 6000);
  const nested = nestedText(levels, random);
  const body = where === "args"
    ? `[[${nested}], {}, {}]`
    : where === "kwargs"
    ? `[[], {"a": ${nested}}, {}]`
    : `[[], {}, {"callbacks": null, "x": ${nested}}]`;
  return { label: `depth: ${where} ${levels}`, message: withBody(body) };
};

const size = (random: Random): Malformed => {
  const kind = random.pick(["plain", "huge", "gzip", "brotli", "corrupt", "unknown"]);
  if (kind === "plain" || kind === "huge") {
    // "huge": over the Redis consumer's element limit too (moved to the dead list unparsed).
    const n = (kind === "huge" ? 6 * FUZZ_MAX_MESSAGE_SIZE : FUZZ_MAX_MESSAGE_SIZE) +
      random.int(1, 4096);
    return {
      label: `size: body of ${n} bytes`,
      message: withBody(`[["${"x".repeat(n)}"], {}, {}]`),
    };
  }
  if (kind === "gzip" || kind === "brotli") {
    const inflated = random.pick(BOMB_SIZES);
    const compression = kind === "gzip" ? "application/x-gzip" : "application/x-brotli";
    return {
      label: `size: ${kind} bomb inflating to ${inflated} bytes`,
      message: withHeaders({ compression }, bomb(kind, inflated)),
    };
  }
  if (kind === "corrupt") {
    const bytes = new Uint8Array(random.int(1, 64)).map(() => random.int(0, 255));
    bytes[0] = 0x78; // zlib's first byte, then garbage
    const compression = random.pick(["application/x-gzip", "application/x-brotli"]);
    return { label: "size: corrupt compressed body", message: withHeaders({ compression }, bytes) };
  }
  const compression = random.pick(["application/x-bz2", "zstd", "application/x-lzma", 5, { a: 1 }]);
  return {
    label: `size: unknown compression ${JSON.stringify(compression)}`,
    message: withHeaders({ compression }),
  };
};

const BODY_SHAPES = [
  "{}",
  "null",
  "1",
  '"x"',
  "[]",
  "[1, 2]",
  "[[], {}]",
  "[[], {}, {}, 4]",
  "[{}, {}, {}]",
  "[[], [], {}]",
  "[[], null, {}]",
  '[[], "k", {}]',
  "[[], {}, 5]",
  '[[], {}, "embed"]',
  '[[], {}, {"callbacks": 5}]',
  '[[], {}, {"errbacks": [1]}]',
  '[[], {}, {"chain": [{"no": "task"}]}]',
  '[[], {}, {"chord": "x"}]',
  '[[{"__type__": "nope", "__value__": 1}], {}, {}]',
  '[[{"__type__": "datetime", "__value__": "not a date"}], {}, {}]',
  '{"task": "fault.add", "id": "x", "args": [1, 2]}',
];

const HEADER_TYPES: [string, unknown][] = [
  ["task", 123],
  ["task", null],
  ["task", ""],
  ["task", ["fault.add"]],
  ["task", { name: "fault.add" }],
  ["id", 42],
  ["id", null],
  ["id", ""],
  ["id", { id: "x" }],
  ["eta", "not-a-date"],
  ["eta", 12345],
  ["eta", ["2026-01-01"]],
  ["eta", "2026-13-45T99:00:00"],
  ["expires", "yesterday"],
  ["expires", { at: 1 }],
  ["retries", -1],
  ["retries", "x"],
  ["retries", 1.5],
  ["retries", [1]],
  ["root_id", 5],
  ["parent_id", ["p"]],
  ["group", 7],
  ["shadow", { s: 1 }],
];

const types = (random: Random): Malformed => {
  if (random.int(0, 1)) {
    const shape = random.pick(BODY_SHAPES);
    return { label: `types: body ${shape}`, message: withBody(shape) };
  }
  const [key, value] = random.pick(HEADER_TYPES);
  if (key === "task" && value === null) {
    const message = good();
    delete message.headers.task;
    return { label: "types: no task header", message };
  }
  return {
    label: `types: header ${key} = ${JSON.stringify(value)}`,
    message: withHeaders({ [key]: value }),
  };
};

const CONTENT_TYPES = [
  "application/x-python-serialize",
  "application/x-yaml",
  "application/x-msgpack",
  "application/data",
  "",
  "text/plain",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
];

const INVALID_UTF8 = [
  [0xff, 0xfe, 0x5b, 0x5d],
  [0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d], // overlong "/"
  [0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d], // a lone surrogate
  [0x5b, 0x22, 0xe2, 0x82, 0x22, 0x5d], // truncated sequence
  [0x5b, 0x22, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22, 0x5d], // 5-byte form
];

const INVALID_JSON = [
  "[[1, 2], {}, {}",
  "[[1, 2], {}, {},]",
  "[[NaN], {}, {}]",
  "[[Infinity], {}, {}]",
  "[['single'], {}, {}]",
  "[[1, 2], {} /* comment */, {}]",
  "[[1, 2], {a: 1}, {}]",
  "",
  "\u0000",
  "[[1, 2], {}, {}]]",
];

const encodings = (random: Random): Malformed => {
  const kind = random.pick(["content-type", "utf-8", "utf-16", "json", "truncated"]);
  if (kind === "content-type") {
    const type = random.pick(CONTENT_TYPES);
    return {
      label: `encodings: content type ${JSON.stringify(type)}`,
      message: withBody("[[1, 2], {}, {}]", type),
    };
  }
  if (kind === "utf-8") {
    return {
      label: "encodings: invalid UTF-8",
      message: withBody(new Uint8Array(random.pick(INVALID_UTF8))),
    };
  }
  if (kind === "utf-16") {
    const text = "[[1, 2], {}, {}]";
    const bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) bytes[2 * i] = text.charCodeAt(i);
    return { label: "encodings: UTF-16LE body", message: withBody(bytes) };
  }
  if (kind === "json") {
    const text = random.pick(INVALID_JSON);
    return { label: `encodings: invalid JSON ${JSON.stringify(text)}`, message: withBody(text) };
  }
  const whole = '[[1, 2, "some text"], {"key": [1, {"x": null}]}, {"callbacks": null}]';
  const cut = random.int(1, whole.length - 1);
  return { label: `encodings: body cut at ${cut}`, message: withBody(whole.slice(0, cut)) };
};

/**
 * `options.count` malformed messages, drawn from the categories in turn
 * (depth, size, types, encodings) with seeded choices inside each.
 */
export function malformedMessages(options: GeneratorOptions): Malformed[] {
  const next = prng(options.seed);
  const random: Random = {
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
  const makers = [
    () => depth(random, options),
    () => size(random),
    () => types(random),
    () => encodings(random),
  ];
  const out: Malformed[] = [];
  for (let i = 0; i < options.count; i++) out.push(makers[i % makers.length]());
  return out;
}
