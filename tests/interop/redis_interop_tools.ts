/**
 * Shared pieces of the Redis interop tests: task messages built with
 * celeriac's protocol module, a tiny task server over any broker and result
 * backend, and the Python app environment for a Redis broker whose keys live
 * under a test prefix.
 *
 * @module
 */

import type { ResolvedConfig } from "../../src/app/config.ts";
import type { ResultBackend } from "../../src/backend/types.ts";
import type { Broker, Delivery, QueueSpec } from "../../src/broker/types.ts";
import { acceptedContentTypes } from "../../src/protocol/json_content.ts";
import { buildResultMeta, errorResultMeta } from "../../src/protocol/result_meta.ts";
import {
  decodeTaskMessage,
  emptyEmbed,
  encodeTaskMessage,
  type TaskCall,
} from "../../src/protocol/task_message.ts";
import { uniqueName } from "../services.ts";
import { REDIS_URL, redisTestConfig } from "../integration/redis_test_tools.ts";
import type { PythonEnv } from "./python/harness.ts";

/** Seconds results live in these tests (leftovers expire on their own). */
export const RESULT_EXPIRES = 600;

/** A direct queue named like its exchange and routing key. */
export function queueSpec(name: string): QueueSpec {
  return {
    name,
    exchange: name,
    exchangeType: "direct",
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: {},
  };
}

/** A protocol v2 task call as a Python client would send it. */
export function taskCall(
  task: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  priority = 0,
): TaskCall {
  const id = crypto.randomUUID();
  return {
    id,
    task,
    args,
    kwargs,
    embed: emptyEmbed(),
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: `gen${Deno.pid}@celeriac-test`,
    ignoreResult: false,
    argsrepr: JSON.stringify(args),
    kwargsrepr: JSON.stringify(kwargs),
    customHeaders: { "x-custom": "hello" },
    replyTo: "",
    correlationId: id,
    priority,
    deliveryMode: 2,
  };
}

/** One Redis test world: a broker key prefix shared with Python, results without prefix. */
export interface RedisWorld {
  /** The broker's `global_keyprefix`. */
  prefix: string;
  /** The queue the Python app uses by default. */
  queue: string;
  /** celeriac's config. */
  config: ResolvedConfig;
  /** The Python app's environment. */
  python: PythonEnv;
}

/**
 * A fresh world. Celery 5.2.6 has no result `global_keyprefix`, so result keys
 * are plain `celery-task-meta-<uuid>` (unique ids, expiring after 10 minutes,
 * deleted by the tests that know them).
 */
export function redisWorld(
  visibilityTimeout = 3600,
  broker: string = REDIS_URL,
  backend: string = REDIS_URL,
): RedisWorld {
  const prefix = `${uniqueName("celeriac-interop")}:`;
  const transport = { global_keyprefix: prefix, visibility_timeout: visibilityTimeout };
  const queue = uniqueName("interop-redis");
  const config = redisTestConfig(prefix, {
    broker_transport_options: transport,
    result_backend_transport_options: {},
    result_expires: RESULT_EXPIRES,
    task_default_queue: queue,
  });
  return {
    prefix,
    queue,
    config,
    python: {
      broker,
      backend,
      queue,
      config: { broker_transport_options: transport, result_expires: RESULT_EXPIRES },
    },
  };
}

/** Publishes a task call to `queue` through `broker` (after `backend.prepare`). */
export async function sendTask(
  broker: Broker,
  backend: ResultBackend,
  queue: string,
  call: TaskCall,
): Promise<string> {
  call.replyTo = await backend.prepare(call.id) ?? "";
  await broker.publish(encodeTaskMessage(call), {
    exchange: "",
    routingKey: queue,
    queue: queueSpec(queue),
  });
  return call.id;
}

/** A running task server; `stop()` cancels its stream and waits for it. */
export interface TaskServer {
  /** Ends when the stream ends. */
  finished: Promise<void>;
  /** Cancels the stream and waits until serving stopped. */
  stop(): Promise<void>;
}

/**
 * Serves `interop.add`, `interop.fail` and `interop.echo` from `stream`,
 * storing results through `backend`; records every task id in `seen` and the
 * order of `interop.echo` labels in `order`.
 */
export function serveTasks(
  stream: ReadableStream<Delivery>,
  backend: ResultBackend,
  seen: string[] = [],
  order: string[] = [],
): TaskServer {
  const accepted = acceptedContentTypes(["json"]);
  const reader = stream.getReader();
  const finished = (async () => {
    while (true) {
      const { done, value: delivery } = await reader.read();
      if (done) return;
      const task = decodeTaskMessage(delivery.message, accepted);
      seen.push(task.id);
      const context = { taskId: task.id };
      const [x, y] = task.args as number[];
      if (task.task === "interop.echo") order.push(String(task.args[0]));
      const meta = task.task === "interop.fail"
        ? errorResultMeta(context, "FAILURE", new TypeError(String(task.args[0])))
        : task.task === "interop.add"
        ? buildResultMeta(context, "SUCCESS", x + y)
        : buildResultMeta(context, "SUCCESS", { args: task.args, kwargs: task.kwargs });
      await backend.store(meta, { replyTo: task.replyTo, correlationId: task.correlationId });
      await delivery.ack();
    }
  })();
  return {
    finished,
    stop: async () => {
      await reader.cancel();
      await finished;
    },
  };
}
