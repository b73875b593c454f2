/**
 * The usual production pairing with real Python Celery 5.2.6: RabbitMQ as
 * broker and Redis for results, both directions. celeriac's amqp broker and
 * Redis result backend talk to a Python worker, and a Python client talks to
 * celeriac's amqp consumer answering through the Redis backend.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import { createBroker } from "../../src/transports/amqp/broker.ts";
import { AMQP_URL, amqpConfig, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteResultKeys, REDIS_URL } from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { runPythonClient, startPythonWorker } from "./python/harness.ts";
import {
  queueSpec,
  RESULT_EXPIRES,
  sendTask,
  serveTasks,
  taskCall,
} from "./redis_interop_tools.ts";

const available = (await serviceAvailable("rabbitmq")) && (await serviceAvailable("redis"));

function mixed(queue: string) {
  const config = amqpConfig({
    task_default_queue: queue,
    result_backend: REDIS_URL,
    result_expires: RESULT_EXPIRES,
  });
  const python = {
    broker: AMQP_URL,
    backend: REDIS_URL,
    queue,
    config: { result_expires: RESULT_EXPIRES },
  };
  return { config, python };
}

Deno.test({
  name: "RabbitMQ broker + Redis results: celeriac client → Python worker, 500 in flight",
  ignore: !available,
  fn: async () => {
    const queue = uniqueName("interop-mixed-py-worker");
    const { config, python } = mixed(queue);
    const worker = await startPythonWorker({ env: python });
    const broker = await createBroker(AMQP_URL, config);
    const backend = await createResultBackend(REDIS_URL, config);
    const ids: string[] = [];
    const send = async (call: ReturnType<typeof taskCall>) => {
      ids.push(await sendTask(broker, backend, queue, call));
      return call.id;
    };
    const wait = (id: string) => backend.waitFor(id, { intervalMs: 100, timeoutMs: 60_000 });
    try {
      const echoed = await wait(await send(taskCall("interop.echo", [1], { k: "ü" })));
      assert.deepEqual(echoed.result, { args: [1], kwargs: { k: "ü" } });
      const failed = await wait(await send(taskCall("interop.fail_custom", ["custom", 42])));
      assert.equal(failed.status, "FAILURE");
      assert.deepEqual(failed.result, {
        exc_type: "InteropError",
        exc_message: ["custom", 42],
        exc_module: "celery_app",
      });
      const bulk = await Promise.all(
        Array.from({ length: 500 }, (_, i) => send(taskCall("interop.add", [i, i]))),
      );
      const results = await Promise.all(bulk.map(wait));
      assert.deepEqual(results.map((r) => r.result), bulk.map((_, i) => 2 * i));
    } finally {
      await worker.stop();
      await backend.close();
      await broker.close();
      await deleteAmqpEntities([queue]);
      await deleteResultKeys(ids);
    }
  },
});

Deno.test({
  name: "RabbitMQ broker + Redis results: Python client → celeriac, failures and 500 in flight",
  ignore: !available,
  fn: async () => {
    const queue = uniqueName("interop-mixed-py-client");
    const { config, python } = mixed(queue);
    const broker = await createBroker(AMQP_URL, config);
    const backend = await createResultBackend(REDIS_URL, config);
    const seen: string[] = [];
    const server = serveTasks(
      broker.consume({ queues: [queueSpec(queue)], prefetch: 50 }),
      backend,
      seen,
    );
    try {
      const out = await runPythonClient({
        calls: [
          { method: "delay", task: "interop.add", args: [2, 3] },
          { task: "interop.echo", kwargs: { word: "wörd" } },
          { task: "interop.fail", args: ["nope"] },
        ],
        bulk: { count: 500, timeout: 120 },
      }, python);
      assert.equal(out.calls[0].value, 5);
      assert.deepEqual(out.calls[1].value, { args: [], kwargs: { word: "wörd" } });
      assert.deepEqual(out.calls[2].error, {
        type: "TypeError",
        module: "builtins",
        args: ["nope"],
      });
      assert.equal(out.bulk?.received, 500, JSON.stringify(out.bulk?.missing));
      assert.deepEqual(out.bulk?.wrong, []);
    } finally {
      await server.stop();
      await broker.close();
      await backend.close();
      await deleteAmqpEntities([queue]);
      await deleteResultKeys(seen);
    }
  },
});
