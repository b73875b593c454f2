/**
 * Canvas interop, celeriac client → Python Celery 5.2.6 worker, on the three
 * pairings, and GroupResult.save() / restore() both ways. See
 * canvas_celeriac_client.ts.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { REDIS_URL } from "../integration/redis_test_tools.ts";
import assert from "node:assert/strict";
import { Celery, group } from "../../mod.ts";
import { PYTHON } from "../services.ts";
import { envVars, PYTHON_APP_DIR } from "./python/harness.ts";
import { celeriacCanvasToPythonWorker } from "./canvas_celeriac_client.ts";
import type { InteropSetup } from "./worker_scenarios.ts";
import { canvasServicesUp as available, onPairing, pairing } from "./canvas_pairing.ts";

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: () =>
    onPairing("rabbitmq+redis", (setup) => celeriacCanvasToPythonWorker(setup, { chords: true })),
});

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: () =>
    onPairing("rabbitmq+rpc", (setup) => celeriacCanvasToPythonWorker(setup, { chords: false })),
});

Deno.test({
  name: "canvas: celeriac client → Python worker, Redis broker and results",
  ignore: !available,
  fn: () => onPairing("redis", (setup) => celeriacCanvasToPythonWorker(setup, { chords: true })),
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
