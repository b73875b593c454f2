/**
 * kombu's Redis message envelope (spec §4.2): the JSON document stored in a
 * queue list, with a base64 body, hyphenated `content-type` /
 * `content-encoding`, and AMQP-style `properties` carrying `delivery_info`
 * and a uuid4 `delivery_tag`.
 *
 * @module
 */

import type { MessageProperties, WireMessage } from "../../broker/types.ts";

const encoder = new TextEncoder();

/** kombu's envelope, as JSON. */
export interface Envelope {
  /** The body, base64 unless `properties.body_encoding` says otherwise. */
  body?: unknown;
  /** MIME type of the body. */
  "content-type"?: unknown;
  /** Character set of the body. */
  "content-encoding"?: unknown;
  /** Application headers. */
  headers?: unknown;
  /** Message properties plus kombu's `delivery_info`, `delivery_tag`, `body_encoding`. */
  properties: Record<string, unknown> & {
    delivery_tag: string;
    delivery_info: Record<string, unknown> & { exchange: string; routing_key: string };
  };
}

/** A decoded list element. */
export interface DecodedEnvelope {
  /** The parsed envelope (kept to restore it). */
  envelope: Envelope;
  /** The message as the Broker seam carries it. */
  message: WireMessage;
  /** `delivery_info.exchange`. */
  exchange: string;
  /** `delivery_info.routing_key`. */
  routingKey: string;
  /** kombu marked it redelivered. */
  redelivered: boolean;
}

/**
 * Builds the envelope text for publishing `message` to `exchange` / `routingKey`
 * (kombu's `prepare_message` + `_inplace_augment_message`). Key order is kombu's.
 *
 * @example
 * ```ts
 * import { encodeEnvelope } from "./envelope.ts";
 * const text = encodeEnvelope({
 *   headers: { task: "tasks.add", id: "1" }, properties: { deliveryMode: 2 },
 *   contentType: "application/json", contentEncoding: "utf-8",
 *   body: new TextEncoder().encode("[[2, 3], {}, {}]"),
 * }, "", "celery", "tag-1");
 * const envelope = JSON.parse(text);
 * console.assert(envelope.properties.delivery_info.routing_key === "celery");
 * console.assert(atob(envelope.body) === "[[2, 3], {}, {}]");
 * ```
 */
export function encodeEnvelope(
  message: WireMessage,
  exchange: string,
  routingKey: string,
  deliveryTag: string,
): string {
  const p = message.properties;
  const properties: Record<string, unknown> = {};
  if (p.correlationId !== undefined) properties.correlation_id = p.correlationId;
  if (p.replyTo !== undefined) properties.reply_to = p.replyTo;
  if (p.deliveryMode !== undefined) properties.delivery_mode = p.deliveryMode;
  properties.delivery_info = { exchange, routing_key: routingKey };
  properties.priority = p.priority ?? 0;
  if (p.expiration !== undefined) properties.expiration = p.expiration;
  properties.body_encoding = "base64";
  properties.delivery_tag = deliveryTag;
  return JSON.stringify({
    body: message.body.toBase64(),
    "content-encoding": message.contentEncoding || null,
    "content-type": message.contentType || null,
    headers: message.headers,
    properties,
  });
}

/** Why an element cannot be delivered, or undefined when it has what kombu needs. */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "the element is not a JSON object";
  }
  const properties = (value as Record<string, unknown>).properties;
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) {
    return `it has no "properties"`;
  }
  const { delivery_tag: tag, delivery_info: info } = properties as Record<string, unknown>;
  if (typeof tag !== "string" || tag === "") return `it has no "properties.delivery_tag"`;
  const fields = (info ?? {}) as Record<string, unknown>;
  if (typeof fields.exchange !== "string" || typeof fields.routing_key !== "string") {
    return `it has no "properties.delivery_info" with "exchange" and "routing_key"`;
  }
  return undefined;
}

/** Parses a list element; a string result is the reason it is malformed. */
export function parseEnvelope(raw: string): Envelope | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "the element is not a JSON object";
  }
  return envelopeProblem(value) ?? (value as Envelope);
}

function decodeBody(body: unknown, encoding: unknown): Uint8Array | string {
  if (body === undefined || body === null || body === "") return new Uint8Array();
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (encoding === undefined || encoding === null || encoding === "utf-8") {
    return encoder.encode(text);
  }
  if (encoding !== "base64") return `its body_encoding ${JSON.stringify(encoding)} is unknown`;
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    return "its body is not valid base64";
  }
}

function readProperties(raw: Record<string, unknown>): MessageProperties {
  const out: MessageProperties = {};
  if (typeof raw.correlation_id === "string") out.correlationId = raw.correlation_id;
  if (typeof raw.reply_to === "string") out.replyTo = raw.reply_to;
  if (raw.delivery_mode === 1 || raw.delivery_mode === 2) out.deliveryMode = raw.delivery_mode;
  if (typeof raw.priority === "number") out.priority = raw.priority;
  if (typeof raw.expiration === "string") out.expiration = raw.expiration;
  return out;
}

/**
 * Turns a well-formed envelope into the seam's message. kombu's `redelivered`
 * marker header is transport bookkeeping: it is reported as `redelivered` and
 * left out of `headers`. A string result is the reason the body is unreadable.
 */
export function decodeEnvelope(envelope: Envelope): DecodedEnvelope | string {
  const properties = envelope.properties;
  const body = decodeBody(envelope.body, properties.body_encoding);
  if (typeof body === "string") return body;
  const rawHeaders = envelope.headers;
  const headers: Record<string, unknown> =
    typeof rawHeaders === "object" && rawHeaders !== null && !Array.isArray(rawHeaders)
      ? { ...rawHeaders as Record<string, unknown> }
      : {};
  const info = properties.delivery_info;
  const redelivered = headers.redelivered === true || info.redelivered === true;
  if (headers.redelivered === true) delete headers.redelivered;
  const text = (value: unknown) => typeof value === "string" ? value : "";
  return {
    envelope,
    message: {
      headers,
      properties: readProperties(properties),
      contentType: text(envelope["content-type"]),
      contentEncoding: text(envelope["content-encoding"]),
      body,
    },
    exchange: info.exchange,
    routingKey: info.routing_key,
    redelivered,
  };
}

/** The envelope text kombu restores: `headers.redelivered` and `delivery_info.redelivered` set. */
export function redeliveredText(envelope: Envelope): string {
  const copy = structuredClone(envelope);
  if (typeof copy.headers === "object" && copy.headers !== null && !Array.isArray(copy.headers)) {
    (copy.headers as Record<string, unknown>).redelivered = true;
  }
  copy.properties.delivery_info.redelivered = true;
  return JSON.stringify(copy);
}
