/**
 * Celery's remote control wire format, kombu's "pidbox" (spec §3.1–§3.4):
 * requests go to the fanout exchange `celery.pidbox`, each worker reads its
 * own queue `<node>.celery.pidbox`, and replies go through the direct
 * exchange `reply.celery.pidbox` to the client's `<oid>.reply.celery.pidbox`
 * queue with routing key `<oid>`. Exchanges are not durable; queues are
 * auto-deleted and expire.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/settings.ts";
import type { ExchangeSpec, QueueSpec, WireMessage } from "../broker/types.ts";

/** The settings the mailbox reads. */
export type MailboxConfig = Pick<
  ResolvedConfig,
  "control_exchange" | "control_queue_ttl" | "control_queue_expires"
>;

/** Where a reply goes. */
export interface ReplyTo {
  /** The reply exchange (`reply.celery.pidbox`). */
  exchange: string;
  /** The client's oid. */
  routing_key: string;
}

/** A control request, as on the wire (spec §3.3). */
export interface ControlRequest {
  /** Command name (`ping`, `revoke`, …). */
  method: string;
  /** Keyword arguments of the command. */
  arguments: Record<string, unknown>;
  /** Node names that should handle it; null for all. */
  destination: string[] | null;
  /** Node-name pattern used when `destination` is null. */
  pattern: string | null;
  /** `glob` or `pcre`. */
  matcher: string | null;
  /** Present when a reply is wanted. */
  ticket?: string;
  /** Present when a reply is wanted. */
  reply_to?: ReplyTo;
}

/** The fanout exchange requests are published to (`celery.pidbox`). */
export function requestExchange(config: MailboxConfig): ExchangeSpec {
  return { name: `${config.control_exchange}.pidbox`, type: "fanout", durable: false };
}

/** The direct exchange replies are published to (`reply.celery.pidbox`). */
export function replyExchange(config: MailboxConfig): ExchangeSpec {
  return { name: `reply.${config.control_exchange}.pidbox`, type: "direct", durable: false };
}

function expiringQueue(
  config: MailboxConfig,
  name: string,
  exchange: ExchangeSpec,
  routingKey: string,
): QueueSpec {
  return {
    name,
    exchange: exchange.name,
    exchangeType: exchange.type,
    exchangeDurable: false,
    routingKey,
    durable: false,
    autoDelete: true,
    arguments: {
      "x-expires": Math.round(config.control_queue_expires * 1000),
      "x-message-ttl": Math.round(config.control_queue_ttl * 1000),
    },
  };
}

/**
 * A worker's own queue, `<node>.celery.pidbox`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeQueue } from "./mailbox.ts";
 * const config = { control_exchange: "celery", control_queue_ttl: 300, control_queue_expires: 10 };
 * const queue = nodeQueue(config, "w1@host");
 * assert.equal(queue.name, "w1@host.celery.pidbox");
 * assert.equal(queue.exchange, "celery.pidbox");
 * assert.deepEqual(queue.arguments, { "x-expires": 10000, "x-message-ttl": 300000 });
 * ```
 */
export function nodeQueue(config: MailboxConfig, hostname: string): QueueSpec {
  return expiringQueue(
    config,
    `${hostname}.${config.control_exchange}.pidbox`,
    requestExchange(config),
    "",
  );
}

/** A client's reply queue, `<oid>.reply.celery.pidbox`, bound with routing key `<oid>`. */
export function replyQueue(config: MailboxConfig, oid: string): QueueSpec {
  const exchange = replyExchange(config);
  return expiringQueue(config, `${oid}.${exchange.name}`, exchange, oid);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function jsonMessage(
  body: unknown,
  headers: Record<string, unknown>,
  deliveryMode: 1 | 2,
): WireMessage {
  return {
    headers,
    properties: { deliveryMode, priority: 0 },
    contentType: "application/json",
    contentEncoding: "utf-8",
    body: encoder.encode(JSON.stringify(body)),
  };
}

/** The message of a request: headers `clock` and `expires` (epoch seconds, 0 for none). */
export function encodeRequest(
  request: ControlRequest,
  clock: number,
  expires: number,
): WireMessage {
  return jsonMessage(request, { clock, expires }, 2);
}

/** A worker's reply `{<node>: value}`, with headers `ticket` and `clock`. */
export function encodeReply(
  hostname: string,
  value: unknown,
  ticket: string,
  clock: number,
): WireMessage {
  return jsonMessage({ [hostname]: value ?? null }, { ticket, clock }, 1);
}

/** Reads a request; throws an Error naming what is wrong. */
export function parseRequest(message: WireMessage): ControlRequest {
  const type = message.contentType || "application/json";
  if (!/json/i.test(type)) throw new Error(`content type ${JSON.stringify(type)} is not JSON`);
  const value: unknown = JSON.parse(decoder.decode(message.body));
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("the body is not an object");
  }
  const body = value as Record<string, unknown>;
  if (typeof body.method !== "string" || body.method === "") {
    throw new Error(`"method" is ${JSON.stringify(body.method)}, not a command name`);
  }
  const args = body.arguments ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new Error(`"arguments" of ${body.method} is not an object`);
  }
  const destination = body.destination ?? null;
  if (destination !== null && !(Array.isArray(destination) || typeof destination === "string")) {
    throw new Error(`"destination" is not a list of node names`);
  }
  const replyTo = body.reply_to as ReplyTo | undefined | null;
  const validReply = replyTo && typeof replyTo === "object" &&
    typeof replyTo.exchange === "string" && typeof replyTo.routing_key === "string" &&
    typeof body.ticket === "string";
  return {
    method: body.method,
    arguments: args as Record<string, unknown>,
    destination: typeof destination === "string" ? [destination] : destination,
    pattern: typeof body.pattern === "string" ? body.pattern : null,
    matcher: typeof body.matcher === "string" ? body.matcher : null,
    ...(validReply ? { ticket: body.ticket as string, reply_to: replyTo } : {}),
  };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped.replace(/\[!/g, "[^")}$`);
}

/**
 * Whether `hostname` should handle `request` (kombu's `Node.handle_message`):
 * named in `destination`, or matching `pattern` with `matcher`, or all when neither is given.
 */
export function addressedTo(request: ControlRequest, hostname: string): boolean {
  if (request.destination && request.destination.length) {
    return request.destination.includes(hostname);
  }
  if (request.pattern && request.matcher) {
    try {
      const regexp = request.matcher === "pcre"
        ? new RegExp(`^(?:${request.pattern})`)
        : globToRegExp(request.pattern);
      return regexp.test(hostname);
    } catch {
      return false;
    }
  }
  return true;
}
