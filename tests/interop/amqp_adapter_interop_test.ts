/**
 * Interop at the adapter level with real Python Celery 5.2.6 on RabbitMQ:
 * task messages published through the amqp broker run on a Python worker
 * whose rpc replies the rpc backend reads; tasks a Python client sends are
 * consumed through the amqp broker and answered through the rpc backend,
 * which the Python client reads. Both directions with 1,000 tasks in flight.
 * (`amqp_interop_test.ts` does the same through celeriac's app and worker.)
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ResolvedConfig } from "../../src/app/config.ts";
import { createResultBackend } from "../../src/transports/amqp/backend.ts";
import { createBroker } from "../../src/transports/amqp/broker.ts";
import type { QueueSpec } from "../../src/broker/types.ts";
import { acceptedContentTypes } from "../../src/protocol/json_content.ts";
import { buildResultMeta, errorResultMeta } from "../../src/protocol/result_meta.ts";
import {
  decodeTaskMessage,
  emptyEmbed,
  encodeTaskMessage,
  type TaskCall,
} from "../../src/protocol/task_message.ts";
import { AMQP_URL, amqpConfig, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { runPythonClient, startPythonWorker } from "./python/harness.ts";

const available = await serviceAvailable("rabbitmq");

function queueSpec(name: string): QueueSpec {
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

function call(task: string, args: unknown[], kwargs: Record<string, unknown>, replyTo: string) {
  const id = crypto.randomUUID();
  const message: TaskCall = {
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
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: { "x-custom": "hello" },
    replyTo,
    correlationId: id,
    priority: 0,
    deliveryMode: 2,
  };
  return message;
}

Deno.test({
  name: "amqp adapters → Python worker: results and a Python exception over rpc, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const queue = uniqueName("interop-py-worker");
    const config: ResolvedConfig = amqpConfig({ task_default_queue: queue });
    const worker = await startPythonWorker({ env: { broker: AMQP_URL, queue } });
    const broker = await createBroker(AMQP_URL, config);
    const backend = await createResultBackend("rpc://", config);
    try {
      const send = async (task: string, args: unknown[], kwargs: Record<string, unknown> = {}) => {
        const message = call(task, args, kwargs, "");
        message.replyTo = await backend.prepare(message.id);
        await broker.publish(encodeTaskMessage(message), {
          exchange: "",
          routingKey: queue,
          queue: queueSpec(queue),
        });
        return message.id;
      };
      const wait = (id: string) => backend.waitFor(id, { intervalMs: 100, timeoutMs: 30_000 });

      const seen = await wait(await send("interop.request", [1, "ü"], { k: [1, 2] }));
      assert.equal(seen.status, "SUCCESS");
      const request = seen.result as Record<string, unknown>;
      assert.deepEqual(request.args, [1, "ü"]);
      assert.deepEqual(request.kwargs, { k: [1, 2] });
      assert.deepEqual(request.timelimit, [null, null]);
      assert.equal(request.retries, 0);
      assert.equal(request.x_custom, "hello");
      assert.equal(request.routing_key, queue);

      const failed = await wait(await send("interop.fail", ["bad input"]));
      assert.equal(failed.status, "FAILURE");
      assert.deepEqual(failed.result, {
        exc_type: "ValueError",
        exc_message: ["bad input"],
        exc_module: "builtins",
      });
      assert.match(String(failed.traceback), /ValueError: bad input/);

      const ids: string[] = [];
      for (let i = 0; i < 1000; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) => send("interop.add", [i + j, i + j]));
        ids.push(...await Promise.all(batch));
      }
      const results = await Promise.all(ids.map(wait));
      assert.deepEqual(results.map((r) => r.result), ids.map((_, i) => 2 * i));
    } finally {
      await backend.close();
      await broker.close();
      await worker.stop();
      await deleteAmqpEntities([queue]);
    }
  },
});

/** Runs add/fail/echo messages from `stream` and answers through `store` until cancelled. */
async function serveTasks(
  stream: ReadableStream<import("../../src/broker/types.ts").Delivery>,
  store: (meta: ReturnType<typeof buildResultMeta>, call: TaskCall) => Promise<void>,
): Promise<void> {
  const accepted = acceptedContentTypes(["json"]);
  for await (const delivery of stream) {
    const task = decodeTaskMessage(delivery.message, accepted);
    const context = { taskId: task.id };
    const [x, y] = task.args as number[];
    const meta = task.task === "interop.fail"
      ? errorResultMeta(context, "FAILURE", new TypeError(String(task.args[0])))
      : task.task === "interop.add"
      ? buildResultMeta(context, "SUCCESS", x + y)
      : buildResultMeta(context, "SUCCESS", { args: task.args, kwargs: task.kwargs });
    await store(meta, task);
    await delivery.ack();
  }
}

Deno.test({
  name: "Python client → amqp adapters: delay, apply_async, send_task and failures over rpc",
  ignore: !available,
  fn: async () => {
    const queue = uniqueName("interop-py-client");
    const other = uniqueName("interop-py-client-q2");
    const config = amqpConfig({ task_default_queue: queue });
    const broker = await createBroker(AMQP_URL, config);
    const backend = await createResultBackend("rpc://", config);
    const stream = broker.consume({ queues: [queueSpec(queue), queueSpec(other)], prefetch: 50 });
    const serving = serveTasks(
      stream,
      (meta, task) =>
        backend.store(meta, { replyTo: task.replyTo, correlationId: task.correlationId }),
    );
    try {
      const out = await runPythonClient({
        calls: [
          { method: "delay", task: "interop.add", args: [2, 3] },
          {
            task: "interop.echo",
            kwargs: { word: "wörd" },
            options: { countdown: 1, queue: other },
          },
          { method: "send_task", task: "interop.add", args: [40, 2] },
          { task: "interop.fail", args: ["nope"] },
        ],
        bulk: { count: 1000, timeout: 120 },
      }, { broker: AMQP_URL, queue });
      assert.equal(out.calls[0].value, 5);
      assert.deepEqual(out.calls[1].value, { args: [], kwargs: { word: "wörd" } });
      assert.equal(out.calls[2].value, 42);
      assert.deepEqual(out.calls[3].error, {
        type: "TypeError",
        module: "builtins",
        args: ["nope"],
      });
      assert.equal(out.bulk?.received, 1000, JSON.stringify(out.bulk?.missing));
      assert.deepEqual(out.bulk?.wrong, []);
    } finally {
      await broker.close();
      await serving.catch(() => {});
      await backend.close();
      await deleteAmqpEntities([queue, other]);
    }
  },
});
