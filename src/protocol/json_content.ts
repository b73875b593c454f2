/**
 * The JSON serializer: the only content celeriac encodes or decodes. Reading
 * also understands kombu 5.3+'s tagged values (`{"__type__", "__value__"}`).
 *
 * @module
 */

import { brotliDecompressSync, inflateSync } from "node:zlib";
import { ContentDisallowed, ProtocolError } from "../errors.ts";
import { formatCeleryDate, parseCeleryDate } from "./dates.ts";
import { checkJsonDepth, DEFAULT_MESSAGE_LIMITS, type MessageLimits } from "./message_limits.ts";

/** The content type and encoding celeriac writes. */
export const JSON_CONTENT_TYPE = "application/json";
/** The encoding celeriac writes. */
export const JSON_CONTENT_ENCODING = "utf-8";

const SERIALIZER_NAMES: Record<string, string> = {
  json: "application/json",
  pickle: "application/x-python-serialize",
  yaml: "application/x-yaml",
  msgpack: "application/x-msgpack",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `JSON.rawJSON` (ES2025, in Deno's V8) and the reviver's source text, not yet in TypeScript's lib. */
const RawJson = JSON as JSON & { rawJSON(text: string): unknown };
type SourceReviver = (
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

/** Encodes a value as UTF-8 JSON bytes. Throws a ProtocolError for values JSON cannot carry. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(stringifyJson(value));
}

/**
 * Encodes a value as JSON text, as a Python peer will read it: a `bigint` is
 * written as its exact digits (a Python `int`), a `Date` as Celery's date text
 * (`2026-11-22T03:22:39.013000+00:00`). `Uint8Array`, `Map` and `Set` are
 * refused, as kombu refuses bytes and sets.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
      const raw = (this as Record<string, unknown>)[key];
      if (raw instanceof Date) return formatCeleryDate(raw);
      if (typeof item === "bigint") return RawJson.rawJSON(item.toString());
      if (item instanceof Uint8Array || item instanceof Map || item instanceof Set) {
        const type = item instanceof Uint8Array ? "bytes" : item.constructor.name;
        throw new TypeError(`Object of type ${type} is not JSON serializable`);
      }
      return item;
    });
  } catch (error) {
    throw new ProtocolError(`Cannot encode value as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function base64ToBytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function reviveTagged(type: unknown, value: unknown): unknown {
  switch (type) {
    case "datetime":
      return parseCeleryDate(value, "tagged datetime");
    case "date":
    case "time":
    case "decimal":
      return value;
    case "uuid": {
      const hex = String((value as { hex?: string })?.hex ?? "");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
        hex.slice(20)
      }`;
    }
    case "bytes":
      return encoder.encode(String(value));
    case "base64":
      return base64ToBytes(String(value));
    default:
      throw new ProtocolError(`Unknown tagged JSON type ${JSON.stringify(type)}.`);
  }
}

const reviveJson: SourceReviver = function (_key, item, context) {
  if (typeof item === "number" && !Number.isSafeInteger(item) && Number.isInteger(item)) {
    const source = context?.source;
    if (source && /^-?\d+$/.test(source)) return BigInt(source);
  }
  if (item && typeof item === "object" && !Array.isArray(item)) {
    const keys = Object.keys(item);
    if (keys.length === 2 && "__type__" in item && "__value__" in item) {
      return reviveTagged(item.__type__, item.__value__);
    }
  }
  return item;
};

/**
 * Text that may need `reviveJson`: a tagged value (`__type__`, or any escaped
 * ASCII character, which could spell it), or a run of 16+ digits (an integer
 * beyond 2^53 has at least 16).
 */
const NEEDS_REVIVER = /__type__|\\u00[0-7]|\d{16}/;

/**
 * Parses JSON text, reviving kombu 5.3+ tagged values. An integer too large
 * for a double to hold exactly (beyond 2^53) becomes a `bigint`, so Python
 * ints survive the trip. Throws ProtocolError on invalid JSON.
 */
export function parseJson(text: string): unknown {
  try {
    // The reviver makes parsing ~6x slower; most messages do not need it.
    if (!NEEDS_REVIVER.test(text)) return JSON.parse(text);
    return JSON.parse(text, reviveJson as Parameters<typeof JSON.parse>[1]);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`Can't decode message body: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Maps accept_content names (`json`) and MIME types to MIME types. */
export function acceptedContentTypes(accept: readonly string[]): Set<string> {
  return new Set(accept.map((name) => SERIALIZER_NAMES[name] ?? name));
}

/**
 * Decodes a body of the given content type, enforcing the accepted types.
 * Pickle and unknown types are refused with ContentDisallowed and never executed.
 * JSON nested deeper than `limits.maxDepth` is refused before it is parsed.
 */
export function decodeContent(
  body: Uint8Array,
  contentType: string,
  accepted: ReadonlySet<string>,
  limits: Pick<MessageLimits, "maxDepth"> = DEFAULT_MESSAGE_LIMITS,
): unknown {
  const type = contentType || "application/data";
  if (!accepted.has(type) || type !== JSON_CONTENT_TYPE) {
    const name = Object.entries(SERIALIZER_NAMES).find(([, mime]) => mime === type)?.[0] ?? type;
    throw new ContentDisallowed(
      `Refusing to deserialize untrusted content of type ${name} (${type})`,
    );
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch (error) {
    throw new ProtocolError("Can't decode message body: not valid UTF-8.", { cause: error });
  }
  checkJsonDepth(text, limits.maxDepth);
  return parseJson(text);
}

/** Body codecs celeriac can undo, by the `compression` header value kombu writes. */
const DECOMPRESSORS: Record<
  string,
  (body: Uint8Array, options: { maxOutputLength: number }) => Uint8Array
> = {
  "application/x-gzip": (body, options) => inflateSync(body, options),
  "application/x-brotli": (body, options) => brotliDecompressSync(body, options),
};

/**
 * Undoes kombu body compression named by a message's `compression` header
 * (`application/x-gzip` is a zlib stream). Returns the body unchanged when
 * the header is absent; throws ProtocolError for codecs celeriac lacks, a
 * corrupt body, or one that inflates beyond `maxBytes` (inflation stops
 * there: a small "bomb" never costs more than the limit).
 */
export function decompressBody(
  body: Uint8Array,
  compression: unknown,
  maxBytes: number = DEFAULT_MESSAGE_LIMITS.maxBytes,
): Uint8Array {
  if (compression === undefined || compression === null || compression === "") return body;
  const codec = typeof compression === "string" ? DECOMPRESSORS[compression] : undefined;
  if (!codec) {
    throw new ProtocolError(
      `Cannot decompress message body: unsupported compression ${JSON.stringify(compression)} ` +
        `(supported: ${Object.keys(DECOMPRESSORS).join(", ")}).`,
    );
  }
  try {
    return new Uint8Array(codec(body, { maxOutputLength: maxBytes }));
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ProtocolError(
        `Cannot decompress message body (${compression}): it inflates beyond the limit of ` +
          `${maxBytes} bytes (setting worker_max_message_size).`,
        { cause: error },
      );
    }
    throw new ProtocolError(
      `Cannot decompress message body (${compression}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
