/**
 * Celery message protocol v2: the one place that knows how a task call is
 * laid out in headers, properties and body, in both directions.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { WireMessage } from "../broker/types.ts";
import { formatCeleryDate, parseCeleryDate } from "./dates.ts";
import {
  decodeContent,
  decompressBody,
  encodeJson,
  JSON_CONTENT_ENCODING,
  JSON_CONTENT_TYPE,
} from "./json_content.ts";
import { argsRepr, kwargsRepr } from "./python_repr.ts";
import {
  checkBodySize,
  checkValueDepth,
  DEFAULT_MESSAGE_LIMITS,
  type MessageLimits,
} from "./message_limits.ts";
import { type Embed, preview, readBody } from "./task_body.ts";

export { emptyEmbed, readBody } from "./task_body.ts";
export type { Embed, SignatureData } from "./task_body.ts";

/** Everything a task message says, in TypeScript names. */
export interface TaskCall {
  /** Task id (uuid). */
  id: string;
  /** Registered task name. */
  task: string;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Record<string, unknown>;
  /** Canvas information. */
  embed: Embed;
  /** Not before this time. */
  eta: Date | null;
  /** Revoke if not started by this time. */
  expires: Date | null;
  /** How many times it was retried. */
  retries: number;
  /** `[hard, soft]` limits in seconds. */
  timeLimit: [number | null, number | null];
  /** First task of the workflow. */
  rootId: string;
  /** Task that sent this one. */
  parentId: string | null;
  /** Group id. */
  group: string | null;
  /** Position in a chord header. */
  groupIndex: number | null;
  /** Display name. */
  shadow: string | null;
  /** Sender node name. */
  origin: string;
  /** Store no SUCCESS result. */
  ignoreResult: boolean;
  /** Repr of args for logs. */
  argsrepr: string;
  /** Repr of kwargs for logs. */
  kwargsrepr: string;
  /** Headers beyond the protocol's own (`x-custom`, stamps, …). */
  customHeaders: Record<string, unknown>;
  /** rpc reply queue. */
  replyTo: string;
  /** Correlation id (the task id). */
  correlationId: string;
  /** Message priority. */
  priority: number;
  /** 2 persistent, 1 transient. */
  deliveryMode: 1 | 2;
}

const PROTOCOL_HEADERS = new Set([
  "lang",
  "task",
  "id",
  "shadow",
  "eta",
  "expires",
  "group",
  "group_index",
  "retries",
  "timelimit",
  "root_id",
  "parent_id",
  "argsrepr",
  "kwargsrepr",
  "origin",
  "ignore_result",
  "redelivered",
  // Describes this message's body only; a message sent on (retry, chain) is not compressed.
  "compression",
]);

/** Builds the wire message for a task call (headers, properties, JSON body). */
export function encodeTaskMessage(call: TaskCall): WireMessage {
  const headers: Record<string, unknown> = {
    lang: "py",
    task: call.task,
    id: call.id,
    shadow: call.shadow,
    eta: call.eta ? formatCeleryDate(call.eta) : null,
    expires: call.expires ? formatCeleryDate(call.expires) : null,
    group: call.group,
    group_index: call.groupIndex,
    retries: call.retries,
    timelimit: call.timeLimit,
    root_id: call.rootId,
    parent_id: call.parentId,
    argsrepr: call.argsrepr || argsRepr(call.args),
    kwargsrepr: call.kwargsrepr || kwargsRepr(call.kwargs),
    origin: call.origin,
    ignore_result: call.ignoreResult,
  };
  for (const [key, value] of Object.entries(call.customHeaders)) {
    if (!(key in headers)) headers[key] = value;
  }
  const expiration = call.expires
    ? String(Math.max(0, call.expires.getTime() - Date.now()))
    : undefined;
  return {
    headers,
    properties: {
      correlationId: call.correlationId || call.id,
      replyTo: call.replyTo,
      deliveryMode: call.deliveryMode,
      priority: call.priority,
      ...(expiration === undefined ? {} : { expiration }),
    },
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: JSON_CONTENT_ENCODING,
    body: encodeJson([call.args, call.kwargs, call.embed]),
  };
}

function optionalString(headers: Record<string, unknown>, key: string): string | null {
  const value = headers[key];
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") {
    throw new ProtocolError(`Invalid "${key}" header ${preview(value)}: not a string.`);
  }
  return value;
}

function numeric(value: unknown): number | null {
  if (
    typeof value === "bigint" && value >= Number.MIN_SAFE_INTEGER &&
    value <= Number.MAX_SAFE_INTEGER
  ) {
    return Number(value);
  }
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Reads the headers of a v2 message; throws ProtocolError naming what is
 * wrong, including headers nested deeper than `maxDepth`.
 */
export function readTaskHeaders(
  message: WireMessage,
  maxDepth: number = DEFAULT_MESSAGE_LIMITS.maxDepth,
): Omit<TaskCall, "args" | "kwargs" | "embed"> {
  const headers = message.headers;
  if (!headers || typeof headers !== "object" || Array.isArray(headers)) {
    throw new ProtocolError("Received and deleted unknown message: headers are not a mapping.");
  }
  checkValueDepth(headers, maxDepth);
  const task = headers.task;
  if (typeof task !== "string" || task === "") {
    throw new ProtocolError(
      'Received and deleted unknown message. Wrong destination?!? (no "task" header; ' +
        "task protocol 1 is not supported)",
    );
  }
  const id = headers.id;
  if (typeof id !== "string" || id === "") {
    throw new ProtocolError(`Invalid task message for ${task}: missing "id" header.`, {
      taskName: task,
    });
  }
  const fields = { taskName: task, taskId: id };
  const eta = headers.eta == null ? null : parseCeleryDate(headers.eta, "ETA");
  const expires = headers.expires == null ? null : parseCeleryDate(headers.expires, "expires");
  const timelimit = Array.isArray(headers.timelimit) ? headers.timelimit : [];
  const retries = numeric(headers.retries ?? 0);
  if (retries === null || !Number.isInteger(retries) || retries < 0) {
    throw new ProtocolError(
      `Invalid "retries" header ${preview(headers.retries)}: not a non-negative integer.`,
      fields,
    );
  }
  const customHeaders: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!PROTOCOL_HEADERS.has(key)) customHeaders[key] = value;
  }
  const groupIndex = headers.group_index;
  return {
    id,
    task,
    eta,
    expires,
    retries,
    timeLimit: [numeric(timelimit[0]), numeric(timelimit[1])],
    rootId: optionalString(headers, "root_id") ?? id,
    parentId: optionalString(headers, "parent_id"),
    group: optionalString(headers, "group"),
    groupIndex: numeric(groupIndex),
    shadow: optionalString(headers, "shadow"),
    origin: typeof headers.origin === "string" ? headers.origin : "",
    ignoreResult: headers.ignore_result === true,
    argsrepr: typeof headers.argsrepr === "string" ? headers.argsrepr : "",
    kwargsrepr: typeof headers.kwargsrepr === "string" ? headers.kwargsrepr : "",
    customHeaders,
    replyTo: message.properties.replyTo ?? "",
    correlationId: message.properties.correlationId ?? id,
    priority: message.properties.priority ?? 0,
    deliveryMode: message.properties.deliveryMode === 1 ? 1 : 2,
  };
}

/**
 * Decodes a task message. Throws ProtocolError (or ContentDisallowed) naming
 * what is wrong; such a message must be rejected, never executed. `limits`
 * (nesting depth, body size before and after decompression) are checked
 * before the work they bound is done.
 */
export function decodeTaskMessage(
  message: WireMessage,
  accepted: ReadonlySet<string>,
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
): TaskCall {
  const headers = readTaskHeaders(message, limits.maxDepth);
  let body: unknown;
  try {
    checkBodySize(message.body.byteLength, limits.maxBytes);
    const plain = decompressBody(message.body, message.headers.compression, limits.maxBytes);
    body = decodeContent(plain, message.contentType, accepted, limits);
  } catch (error) {
    if (error instanceof ProtocolError) {
      const ErrorClass = error.constructor as typeof ProtocolError;
      throw new ErrorClass(error.message, {
        taskName: headers.task,
        taskId: headers.id,
        cause: error,
      });
    }
    throw error;
  }
  try {
    return { ...headers, ...readBody(body) };
  } catch (error) {
    throw new ProtocolError((error as Error).message, {
      taskName: headers.task,
      taskId: headers.id,
      cause: error,
    });
  }
}
