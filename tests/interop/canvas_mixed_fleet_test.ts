/**
 * A chord across a mixed fleet: a Python Celery 5.2.6 worker and a celeriac
 * worker consume the same queue, so the header tasks of one chord run on
 * both; the Redis native join (`.j`/`.s` keys, spec §1.7) must fire the body
 * exactly once. Before issue 14, one header task on a celeriac worker was
 * never counted and the chord hung forever. Run on RabbitMQ and on Redis,
 * both with Redis results.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { startCeleriacWorker } from "./celeriac_worker.ts";
import {
  canvasWorkerEnv,
  REMEMBER_URL,
  remembered,
  runPythonCanvas,
  storedResult,
} from "./canvas_scenarios.ts";
import { startPythonWorker } from "./python/harness.ts";
import type { InteropSetup } from "./worker_scenarios.ts";

const available = await serviceAvailable("rabbitmq") && await serviceAvailable("redis");
const HEADER = 200;

async function mixedChord(setup: InteropSetup): Promise<void> {
  const python = await startPythonWorker({
    env: { ...setup.python, app: "canvas_app" },
    queues: [setup.queue],
    concurrency: 2,
    extraEnv: { CELERIAC_IT_REMEMBER_URL: REMEMBER_URL },
  });
  const celeriac = await startCeleriacWorker({
    module: "tests/interop/canvas_app.ts",
    env: canvasWorkerEnv(setup),
    queues: [setup.queue],
    concurrency: 2,
  });
  const token = crypto.randomUUID();
  let out;
  try {
    out = (await runPythonCanvas(["mixed_chord"], token, setup.python, 60)).mixed_chord;
  } finally {
    // Warm shutdown: whatever either worker still had in hand finishes first.
    await Promise.all([python.stop(), celeriac.stop()]);
  }
  const ids = out.parent_ids ?? [];
  setup.resultIds.push(out.id!, ...ids);
  const values = Array.from({ length: HEADER }, (_, i) => 2 * i);
  assert.deepEqual(out.error, undefined, `${python.log}\n${celeriac.stderr}`);
  const received = (out.value as number[][])[0];
  assert.deepEqual(
    setup.config.result_backend_transport_options ? [...received].sort((a, b) => a - b) : received,
    values,
    "the body got every header result (in header order when the join is ordered)",
  );
  const workers = new Set<string>();
  for (const id of ids) workers.add((await storedResult(id))?.worker);
  assert.ok(
    workers.has(celeriac.hostname),
    `the celeriac worker ran header tasks: ${[...workers]}`,
  );
  assert.equal(workers.size, 2, `both workers ran header tasks: ${[...workers]}`);
  assert.deepEqual(
    await remembered(`${token}:mixed_chord`, 1, 1000),
    [[received]],
    "the body ran exactly once",
  );
}

function pairing(broker: string, prefix?: string, ordered = true): InteropSetup {
  const queue = uniqueName("it-canvas-mixed");
  const settings: Record<string, unknown> = { result_expires: 600, result_extended: true };
  if (prefix) settings.broker_transport_options = { global_keyprefix: prefix };
  // Celery's result_chord_ordered: false keeps the chord parts in a list instead of a sorted set.
  if (!ordered) settings.result_backend_transport_options = { result_chord_ordered: false };
  return {
    broker,
    backend: REDIS_URL,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker, backend: REDIS_URL, queue, config: settings },
    resultIds: [],
  };
}

Deno.test({
  name: "mixed fleet (Python + celeriac workers): a 200-task chord completes once, RabbitMQ",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL);
    try {
      await mixedChord(setup);
    } finally {
      await deleteAmqpEntities([setup.queue]);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name:
    "mixed fleet (Python + celeriac workers): a 200-task chord completes once, Redis (unordered join)",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("it-canvas-mixed")}:`;
    const setup = pairing(REDIS_URL, prefix, false);
    try {
      await mixedChord(setup);
    } finally {
      await deleteKeysWithPrefix(prefix);
      await deleteResultKeys(setup.resultIds);
    }
  },
});
