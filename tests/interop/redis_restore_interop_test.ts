/**
 * celeriac and Python Celery 5.2.6 share kombu's ack emulation on Redis:
 * a message held by a killed celeriac consumer is restored by a Python worker
 * (and run), one held by a killed Python consumer is restored by celeriac,
 * and a message a live celeriac consumer holds past `visibility_timeout` is
 * not restored by a Python worker (celeriac refreshes its `unacked_index`
 * score).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import { createBroker } from "../../src/transports/redis/broker.ts";
import { DeliveryReader } from "../conformance/suite_tools.ts";
import { PYTHON, serviceAvailable } from "../services.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  rawRedis,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { startPythonWorker } from "./python/harness.ts";
import { queueSpec, redisWorld, sendTask, taskCall } from "./redis_interop_tools.ts";

const available = await serviceAvailable("redis");

/** Spawns redis_hold_child.ts and resolves once it holds a message. */
async function killedHolder(prefix: string, queue: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../integration/redis_hold_child.ts", import.meta.url).pathname,
      REDIS_URL,
      prefix,
      queue,
      "1",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("held")) seen += (await lines.read()).value ?? "";
  child.kill("SIGKILL");
  await child.status;
  await lines.cancel();
}

Deno.test({
  name: "Python worker restores what a killed celeriac consumer held, not what a live one holds",
  ignore: !available,
  fn: async () => {
    const world = redisWorld(1);
    world.python.config = {
      ...world.python.config,
      broker_transport_options: { global_keyprefix: world.prefix, visibility_timeout: 1 },
    };
    const broker = await createBroker(REDIS_URL, world.config);
    const backend = await createResultBackend(REDIS_URL, world.config);
    const redis = rawRedis();
    const ids: string[] = [];
    const wait = (id: string, timeoutMs = 20_000) =>
      backend.waitFor(id, { intervalMs: 100, timeoutMs });
    try {
      const live = taskCall("interop.add", [20, 22]);
      ids.push(await sendTask(broker, backend, world.queue, live));
      const holder = new DeliveryReader(
        broker.consume({ queues: [queueSpec(world.queue)], prefetch: 1 }),
      );
      const held = await holder.expect(5000, "the message the live consumer holds");
      const crashed = taskCall("interop.add", [1, 1]);
      ids.push(await sendTask(broker, backend, world.queue, crashed));
      await killedHolder(world.prefix, world.queue);
      assert.equal(await redis.hlen(`${world.prefix}unacked`), 2);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const worker = await startPythonWorker({ env: world.python, concurrency: 1, pool: "solo" });
      try {
        assert.equal(
          (await wait(crashed.id)).result,
          2,
          "the killed consumer's task ran in Python",
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(
          await backend.read(live.id),
          undefined,
          "Python ran a task celeriac still held",
        );
        await holder.cancel(); // stop consuming, so the requeued message goes to Python
        await held.reject(true);
        assert.equal((await wait(live.id)).result, 42);
      } finally {
        await worker.stop();
      }
    } finally {
      await backend.close();
      await broker.close();
      await redis.quit();
      await deleteKeysWithPrefix(world.prefix);
      await deleteResultKeys(ids);
    }
  },
});

Deno.test({
  name: "celeriac restores what a killed Python (kombu) consumer held, flagged redelivered",
  ignore: !available,
  fn: async () => {
    const world = redisWorld(1);
    const broker = await createBroker(REDIS_URL, world.config);
    const backend = await createResultBackend(REDIS_URL, world.config);
    try {
      const call = taskCall("interop.add", [3, 4]);
      await sendTask(broker, backend, world.queue, call);
      const script = [
        "import os, sys, kombu",
        "url, prefix, queue = sys.argv[1:4]",
        "conn = kombu.Connection(url, transport_options={'global_keyprefix': prefix})",
        "message = conn.channel().basic_get(queue, no_ack=False)",
        "print(message.headers['id'], flush=True)",
        "os._exit(0)  # like SIGKILL: no ack, no restore at shutdown",
      ].join("\n");
      const out = await new Deno.Command(PYTHON, {
        args: ["-c", script, REDIS_URL, world.prefix, world.queue],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      assert.equal(out.code, 0, decoder.decode(out.stderr));
      assert.equal(decoder.decode(out.stdout).trim(), call.id);
      assert.equal(await broker.messageCount(world.queue), 0);
      const reader = new DeliveryReader(
        broker.consume({ queues: [queueSpec(world.queue)], prefetch: 1 }),
      );
      const restored = await reader.expect(8000, "the message the Python consumer held");
      assert.equal(restored.message.headers.id, call.id);
      assert.equal(restored.redelivered, true);
      await restored.ack();
      await reader.cancel();
    } finally {
      await backend.close();
      await broker.close();
      await deleteKeysWithPrefix(world.prefix);
    }
  },
});
