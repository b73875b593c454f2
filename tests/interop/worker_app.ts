/**
 * The celeriac twin of `python/celery_app.py`: the same `interop.*` task
 * names with the same behaviour, so either side's worker serves either side's
 * client. A worker loads it with `cli.ts worker -A tests/interop/worker_app.ts`.
 *
 * Configured from the environment: `CELERY_BROKER_URL`,
 * `CELERY_RESULT_BACKEND` (read by every app) and `CELERIAC_IT_CONFIG`, a
 * JSON object of further Celery settings (`task_default_queue`,
 * `broker_transport_options`, `task_queues`, …).
 *
 * @module
 */

import { Celery } from "../../mod.ts";

function extraConfig(): Record<string, unknown> {
  const text = Deno.env.get("CELERIAC_IT_CONFIG");
  return text ? JSON.parse(text) : {};
}

/** The interop app. */
export const app: Celery = new Celery("interop", { config: extraConfig() });

/** `interop.add`: `x + y` (keyword arguments `x`, `y` reach the named parameters). */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
}, { name: "interop.add" });

/** `interop.greet`: a greeting; the defaults show which keyword arguments arrived. */
export const greet = app.task(function greet(name: string, greeting = "hello", punctuation = "!") {
  return `${greeting}, ${name}${punctuation}`;
}, { name: "interop.greet" });

/** `interop.fail`: raises Python's `ValueError(message)`. */
export const fail = app.task(function fail(message = "boom") {
  const error = new Error(message);
  error.name = "ValueError";
  throw error;
}, { name: "interop.fail" });

/** An error class of celeriac's own: a Python client sees a class of the same name. */
export class InteropError extends Error {
  /** The arguments, as Python's `exc.args`. */
  readonly args: unknown[];

  /** Creates the error with Python-style arguments. */
  constructor(...args: unknown[]) {
    super(args.map(String).join(", "));
    this.name = "InteropError";
    this.args = args;
  }
}

/** `interop.fail_custom`: raises `InteropError(*args)`. */
export const failCustom = app.task(function failCustom(...args: unknown[]) {
  throw new InteropError(...args);
}, { name: "interop.fail_custom" });

/**
 * `interop.request`: what the worker saw of the message, and when it ran. The
 * destructured last parameter takes every other keyword argument (Python's `**kwargs`).
 */
export const request = app.task(function request(
  self,
  value: unknown,
  { ...kwargs }: Record<string, unknown> = {},
) {
  const r = self.request;
  return {
    id: r.id,
    args: [value],
    kwargs,
    eta: r.eta,
    started: new Date().toISOString(),
    hostname: r.hostname,
    routing_key: r.deliveryInfo.routingKey,
    exchange: r.deliveryInfo.exchange,
    reply_to: r.replyTo,
    correlation_id: r.correlationId,
  };
}, { name: "interop.request", bind: true });

/** `interop.sleep`: waits `seconds`, then returns null (a task to see running, or to terminate). */
export const sleep = app.task(async function sleep(seconds: number) {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return null;
}, { name: "interop.sleep" });
