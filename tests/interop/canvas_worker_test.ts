/**
 * Canvas interop, Python client → celeriac worker process, on the three
 * pairings Celery users run: RabbitMQ with Redis results, RabbitMQ with
 * rpc:// (where Celery 5.2.6 refuses chords), and Redis for both. See
 * canvas_scenarios.ts for what each scenario checks.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import assert from "node:assert/strict";
import { Celery, group } from "../../mod.ts";
import { PYTHON, serviceAvailable, uniqueName } from "../services.ts";
import { envVars, PYTHON_APP_DIR } from "./python/harness.ts";
import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { celeriacCanvasToPythonWorker } from "./canvas_celeriac_client.ts";
import type { InteropSetup } from "./worker_scenarios.ts";

const available = await serviceAvailable("rabbitmq") && await serviceAvailable("redis");

/** A pairing with results kept 10 minutes (canvas ids the test never sees expire by themselves). */
function pairing(
  broker: string,
  backend: string,
  config: Record<string, unknown> = {},
): InteropSetup {
  const queue = uniqueName("it-canvas");
  const settings = { result_expires: 600, ...config };
  return {
    broker,
    backend,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker, backend, queue, config: settings },
    resultIds: [],
  };
}

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: false });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: Python client → celeriac worker, Redis broker and results",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("it-canvas")}:`;
    const setup = pairing(REDIS_URL, REDIS_URL, {
      broker_transport_options: { global_keyprefix: prefix },
    });
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true });
    } finally {
      await deleteKeysWithPrefix(prefix);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas reference: the same checks pass against a Python worker (RabbitMQ + Redis results)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true, reference: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: false });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, Redis broker and results",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("it-canvas")}:`;
    const setup = pairing(REDIS_URL, REDIS_URL, {
      broker_transport_options: { global_keyprefix: prefix },
    });
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: true });
    } finally {
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → celeriac worker, RabbitMQ + Redis results and RabbitMQ + rpc",
  ignore: !available,
  fn: async () => {
    for (const [backend, chords] of [[REDIS_URL, true], ["rpc://", false]] as const) {
      const setup = pairing(AMQP_URL, backend);
      try {
        await celeriacCanvasToPythonWorker(setup, { chords, worker: "celeriac" });
      } finally {
        await deleteAmqpEntities([setup.queue]);
      }
    }
  },
});

Deno.test({
  name: "GroupResult.save() / restore() read each other's groups with Python Celery (Redis)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    await using app = new Celery("client", {
      broker: AMQP_URL,
      backend: REDIS_URL,
      config: { task_default_queue: setup.queue, ...setup.config },
      setAsCurrent: false,
    });
    const add = app.task(function add(x: number, y: number) {
      return x + y;
    }, { name: "interop.add" });
    const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
    try {
      const saved = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
      await saved.get({ timeout: 10 });
      await saved.save();
      const python = await runPython(
        `r = app.GroupResult.restore(${JSON.stringify(saved.id)})\n` +
          `print(json.dumps(r.get(timeout=10)))\n` +
          `g = group(add.s(5, 5), add.s(6, 6))(); g.get(timeout=10); g.save()\n` +
          `print(json.dumps(g.id))`,
        setup,
      );
      const [restoredByPython, pythonGroupId] = python.map((line) => JSON.parse(line));
      assert.deepEqual(restoredByPython, [2, 4]);
      const restored = await app.restoreGroup(pythonGroupId);
      assert.deepEqual(await restored?.get({ timeout: 10 }), [10, 12]);
      await restored?.delete();
      assert.equal(await app.restoreGroup(pythonGroupId), undefined);
      await saved.delete();
    } finally {
      await worker.stop();
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

async function runPython(code: string, setup: InteropSetup): Promise<string[]> {
  const script = "import json\nfrom celery import group\nfrom canvas_app import app\n" +
    "add = app.tasks['interop.add']\n" + code;
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", script],
    cwd: PYTHON_APP_DIR,
    env: envVars({ ...setup.python, app: "canvas_app" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  return text.trim().split("\n");
}

Deno.test({
  name: "canvas reference: the rpc:// checks pass against a Python worker (RabbitMQ + rpc)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: false, reference: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});
