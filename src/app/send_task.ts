/**
 * The client's send path: route, build the protocol v2 message, let the result
 * backend prepare, publish, and hand back an `AsyncResult`.
 *
 * @module
 */

import type { Broker } from "../broker/types.ts";
import type { ResultBackend } from "../backend/types.ts";
import { ConfigurationError } from "../errors.ts";
import { taskSent } from "../events/sent_events.ts";
import { parseCeleryDate } from "../protocol/dates.ts";
import {
  type Embed,
  emptyEmbed,
  encodeTaskMessage,
  type TaskCall,
} from "../protocol/task_message.ts";
import type { ApplyOptions } from "../task/options.ts";
import type { TaskDefinition } from "../task/task.ts";
import { resolveTarget } from "./routing.ts";
import type { ResolvedConfig } from "./settings.ts";
import { sendSignal } from "./signals.ts";

/** What the send path needs from the app. */
export interface SendContext {
  /** Resolved settings. */
  config: ResolvedConfig;
  /** The connected broker. */
  broker: Broker;
  /** The result backend, or undefined when results are disabled. */
  backend: ResultBackend | undefined;
  /** This client's reply-to name (Celery's oid). */
  oid: string;
  /** Node name for the `origin` header. */
  origin: string;
  /** Where signals are dispatched. */
  signals: EventTarget;
  /** The running task's request, when sending from inside a task. */
  parent?: { id: string; rootId: string };
}

function toDate(value: Date | string, field: string): Date {
  return value instanceof Date ? value : parseCeleryDate(value, field);
}

function expiresAt(expires: ApplyOptions["expires"], now: number): Date | null {
  if (expires === undefined || expires === null) return null;
  if (typeof expires === "number") return new Date(now + expires * 1000);
  return toDate(expires, "expires");
}

function checkNumber(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
    throw new ConfigurationError(`Invalid ${name} ${JSON.stringify(value)}: expected a number.`);
  }
}

/** Builds the protocol call for one send (no I/O). */
export function buildTaskCall(
  name: string,
  args: unknown[],
  options: ApplyOptions,
  task: TaskDefinition | undefined,
  context: Omit<SendContext, "broker" | "backend">,
  replyTo: string,
  priority: number,
): TaskCall {
  checkNumber("countdown", options.countdown);
  checkNumber("priority", options.priority);
  const now = Date.now();
  const id = options.taskId ?? crypto.randomUUID();
  const eta = options.eta !== undefined
    ? toDate(options.eta, "eta")
    : options.countdown !== undefined
    ? new Date(now + options.countdown * 1000)
    : null;
  const ignoreResult = options.ignoreResult ?? task?.options.ignoreResult ??
    context.config.task_ignore_result;
  const deliveryMode = context.config.task_default_delivery_mode;
  return {
    id,
    task: name,
    args,
    kwargs: options.kwargs ?? {},
    embed: emptyEmbed(),
    eta,
    expires: expiresAt(options.expires, now),
    retries: options.retries ?? 0,
    timeLimit: [options.timeLimit ?? null, options.softTimeLimit ?? null],
    rootId: options.rootId ?? context.parent?.rootId ?? id,
    parentId: options.parentId ?? context.parent?.id ?? null,
    group: options.groupId ?? null,
    groupIndex: options.groupIndex ?? null,
    shadow: options.shadow ?? null,
    origin: context.origin,
    ignoreResult,
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: options.headers ?? {},
    replyTo,
    correlationId: id,
    priority,
    deliveryMode: deliveryMode === "transient" || deliveryMode === 1 ? 1 : 2,
  };
}

/** What a canvas adds to a message: its embed, and the `reply_to` it was frozen with. */
export interface CanvasParts {
  /** Callbacks, errbacks, chain and chord. */
  embed?: Embed;
  /** `reply_to` when the result backend gives none. */
  replyTo?: string;
}

/** Sends one task; returns its id and whether its result is ignored. */
export async function sendTaskMessage(
  name: string,
  args: unknown[],
  options: ApplyOptions,
  task: TaskDefinition | undefined,
  context: SendContext,
  canvas: CanvasParts = {},
): Promise<{ id: string; ignored: boolean }> {
  const target = resolveTarget(name, {
    queue: options.queue,
    exchange: options.exchange,
    routingKey: options.routingKey,
    taskQueue: task?.options.queue,
  }, context.config);
  const priority = options.priority ?? target.priority ?? task?.options.priority ??
    context.config.task_default_priority ?? 0;
  const id = options.taskId ?? crypto.randomUUID();
  const ignored = options.ignoreResult ?? task?.options.ignoreResult ??
    context.config.task_ignore_result;
  const reply = context.backend && !ignored ? await context.backend.prepare(id) : undefined;
  const call = buildTaskCall(
    name,
    args,
    { ...options, taskId: id },
    task,
    context,
    reply ?? canvas.replyTo ?? context.oid,
    priority,
  );
  if (canvas.embed) call.embed = canvas.embed;
  const message = encodeTaskMessage(call);
  sendSignal(context.signals, "before_task_publish", {
    sender: name,
    headers: message.headers,
    body: [call.args, call.kwargs, call.embed],
    routingKey: target.routingKey,
    exchange: target.exchange,
  });
  await context.broker.publish(message, {
    exchange: target.exchange,
    routingKey: target.routingKey,
    queue: target.queue,
    deliverAt: call.eta ?? undefined,
  });
  const published = {
    headers: message.headers,
    routingKey: target.routingKey,
    exchange: target.exchange,
  };
  taskSent(context.signals, context.config, published);
  sendSignal(context.signals, "after_task_publish", { sender: name, ...published });
  return { id, ignored };
}
