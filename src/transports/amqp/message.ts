/**
 * Converting between celeriac's `WireMessage` and amqplib's publish options
 * and received messages (AMQP basic properties).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Message, Options } from "./amqplib.ts";
import type { MessageProperties, WireMessage } from "../../broker/types.ts";
import { decodeFieldTable, encodeFieldTable } from "./field_table.ts";

/** Body bytes as the Buffer amqplib sends (no copy). */
export function bodyBuffer(body: Uint8Array): Buffer {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The basic properties to publish `message` with. */
export function publishOptions(message: WireMessage): Options.Publish {
  const { properties } = message;
  const options: Options.Publish = {
    headers: encodeFieldTable(message.headers),
    mandatory: false,
  };
  if (message.contentType) options.contentType = message.contentType;
  if (message.contentEncoding) options.contentEncoding = message.contentEncoding;
  if (properties.correlationId !== undefined) options.correlationId = properties.correlationId;
  if (properties.replyTo !== undefined) options.replyTo = properties.replyTo;
  if (properties.deliveryMode !== undefined) options.deliveryMode = properties.deliveryMode;
  if (properties.priority !== undefined) options.priority = properties.priority;
  if (properties.expiration !== undefined) options.expiration = properties.expiration;
  return options;
}

/** A received message as a `WireMessage`; the body is copied out of amqplib's frame buffer. */
export function wireMessageOf(message: Message): WireMessage {
  const raw = message.properties;
  const properties: MessageProperties = {};
  if (raw.correlationId !== undefined) properties.correlationId = String(raw.correlationId);
  if (raw.replyTo !== undefined) properties.replyTo = String(raw.replyTo);
  if (raw.deliveryMode === 1 || raw.deliveryMode === 2) properties.deliveryMode = raw.deliveryMode;
  if (typeof raw.priority === "number") properties.priority = raw.priority;
  if (raw.expiration !== undefined) properties.expiration = String(raw.expiration);
  return {
    headers: decodeFieldTable(raw.headers as Record<string, unknown> | undefined),
    properties,
    contentType: raw.contentType === undefined ? "" : String(raw.contentType),
    contentEncoding: raw.contentEncoding === undefined ? "" : String(raw.contentEncoding),
    // Copy: the content may be a view into a larger socket buffer, which
    // structuredClone (to a Web Worker) would copy whole.
    body: new Uint8Array(message.content),
  };
}
