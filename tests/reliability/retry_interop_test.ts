/**
 * Retries interoperate with Python Celery 5.2.6 (RabbitMQ broker, Redis
 * results), both directions, every run counted:
 *
 * 1. a Python client's task retried by a celeriac worker: Python sees RETRY,
 *    then the value (retries 2, parent_id = the task's id), or the rebuilt
 *    exception (the `exc`, or celery.exceptions.MaxRetriesExceededError);
 * 2. a celeriac client's task retried by a Python worker: celeriac sees
 *    RETRY, then the value or the exception;
 * 3. a retry published by one worker runs on the other: celeriac's retry
 *    message runs on the Python worker, and Python's on celeriac's.
 */

import assert from "node:assert/strict";
import type { BoundTask } from "../../src/task/task.ts";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { deleteResultKeys } from "../integration/redis_test_tools.ts";
import { SERVICES } from "../services.ts";
import { PythonWorker, runPythonClient } from "./python_harness.ts";
import { openWorld, waitUntil } from "./worlds.ts";

Deno.test("retries interoperate with Python Celery 5.2.6 in both directions", async () => {
  await using world = await openWorld("amqp");
  if (!world) return;
  const app = world.app({ result_backend: SERVICES.redis });
  app.task(function hop(self: BoundTask, countdown = 2) {
    if (self.request.retries === 0) self.retry({ countdown });
    return {
      by: "celeriac",
      id: self.request.id,
      retries: self.request.retries,
      parent_id: self.request.parentId,
    };
  }, { name: "rel.hop", bind: true, maxRetries: 3 });
  const python = {
    broker: String(world.settings.broker_url),
    backend: SERVICES.redis,
    queue: world.queue,
  };
  const ids: string[] = [];
  try {
    // Phase 1: a celeriac worker; a Python client.
    let worker = await app.worker({ concurrency: 2, pool: "async", banner: false });
    const seen = await runPythonClient(python, [
      { task: "fault.retrying", args: [world.dir, 2, 0.5], watch_states: true, get: true },
      { task: "fault.always_retry", args: [world.dir, true], get: true },
      { task: "fault.always_retry", args: [world.dir, false], get: true },
    ]);
    ids.push(...seen.map((call) => call.id));
    assert.ok(seen[0].states!.includes("RETRY"), `Python saw ${seen[0].states}`);
    assert.deepEqual(seen[0].value, { retries: 2, parentId: seen[0].id });
    assert.equal(seen[1].error?.type, "FlakyError");
    assert.deepEqual(seen[1].error?.args, ["always"]);
    assert.equal(seen[2].error?.type, "MaxRetriesExceededError");
    assert.equal(seen[2].error?.module, "celery.exceptions");
    // Sent last, so the Python client's run above (seconds on a loaded machine) cannot outlast
    // the retry's countdown: the retry must still be held when the worker stops.
    const hopA = await app.sendTask("rel.hop", [5]);
    ids.push(hopA.id);
    await waitUntil(async () => await hopA.state() === "RETRY", "celeriac's first hop run");
    await worker.stop(); // the retry, held for its ETA, goes back to the queue

    // Phase 2: a Python worker; a celeriac client.
    await using pythonWorker = await PythonWorker.start(python);
    assert.deepEqual(await hopA.get({ timeout: 30 }), {
      by: "python",
      id: hopA.id,
      retries: 1,
      parent_id: hopA.id,
    });
    const flaky = await app.sendTask("rel.flaky", [2, 0.5]);
    const withExc = await app.sendTask("rel.always", [true]);
    const withoutExc = await app.sendTask("rel.always", [false]);
    const hopB = await app.sendTask("rel.hop", []);
    ids.push(flaky.id, withExc.id, withoutExc.id, hopB.id);
    await waitUntil(async () => await flaky.state() === "RETRY", "RETRY from the Python worker");
    assert.deepEqual(await flaky.get({ timeout: 30 }), { retries: 2, parent_id: flaky.id });
    const runtime = await withExc.get({ timeout: 30, propagate: false }) as RemoteError;
    assert.equal(runtime.excType, "RuntimeError");
    const maxed = await withoutExc.get({ timeout: 30, propagate: false }) as RemoteError;
    assert.equal(maxed.excType, "MaxRetriesExceededError");
    await waitUntil(async () => await hopB.state() === "RETRY", "Python's first hop run");
    await pythonWorker.stop();

    // Phase 3: celeriac runs the retry the Python worker published.
    worker = await app.worker({ concurrency: 2, pool: "async", banner: false });
    try {
      assert.deepEqual(await hopB.get({ timeout: 30 }), {
        by: "celeriac",
        id: hopB.id,
        retries: 1,
        parent_id: hopB.id,
      });
    } finally {
      await worker.stop();
    }
    const runs = world.runs().filter((line) => line.endsWith(" run"));
    console.log(
      `Python client -> celeriac worker: RETRY seen, 3 + 3 + 3 runs (${runs.length}); ` +
        `celeriac client -> Python worker: RETRY seen, value and exceptions; ` +
        `retry messages crossed both ways (celeriac -> Python, Python -> celeriac)`,
    );
    assert.equal(runs.length, 9);
  } finally {
    await deleteResultKeys(ids);
  }
});
