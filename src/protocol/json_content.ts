/**
 * The JSON serializer: the only content celeriac encodes or decodes. Reading
 * also understands kombu 5.3+'s tagged values (`{"__type__", "__value__"}`).
 *
 * @module
 */

import { ContentDisallowed, ProtocolError } from "../errors.ts";
import { parseCeleryDate } from "./dates.ts";

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

/** Encodes a value as UTF-8 JSON bytes. Throws a ProtocolError for values JSON cannot carry. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(stringifyJson(value));
}

/** Encodes a value as JSON text; `Date` becomes Celery's date text, `Uint8Array` is refused. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item) => {
      if (typeof item === "bigint") return Number(item);
      if (item instanceof Uint8Array) {
        throw new TypeError("Object of type bytes is not JSON serializable");
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

/** Parses JSON text, reviving kombu 5.3+ tagged values. Throws ProtocolError on invalid JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (_key, item) => {
      if (item && typeof item === "object" && !Array.isArray(item)) {
        const keys = Object.keys(item);
        if (keys.length === 2 && "__type__" in item && "__value__" in item) {
          return reviveTagged(item.__type__, item.__value__);
        }
      }
      return item;
    });
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
 */
export function decodeContent(
  body: Uint8Array,
  contentType: string,
  accepted: ReadonlySet<string>,
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
  return parseJson(text);
}
