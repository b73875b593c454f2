/**
 * Time limits in a worker process (threads pool, RabbitMQ):
 *
 * - soft: the task's `signal` aborts with SoftTimeLimitExceeded; caught, the
 *   task returns normally, uncaught it fails with it; Celery's log line;
 * - hard: a CPU-bound infinite loop is stopped, TimeLimitExceeded stored,
 *   Celery's two log lines; the thread is replaced (the process again has
 *   exactly `-c` worker threads, so the looping ones are really gone) and the
 *   tasks sent after it all run;
 * - the `timelimit` header sent by a Python Celery 5.2.6 client
 *   (`time_limit=`, `soft_time_limit=`) is honoured.
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { countRuns, openWorld, waitUntil } from "./worlds.ts";
import { WorkerProcess } from "./worker_process.ts";
import { runPythonClient } from "./python_harness.ts";

/** Names of the worker threads (`worker-N`) of process `pid`. */
function workerThreads(pid: number): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`).trim();
      if (/^worker-\d+$/.test(name)) names.push(name);
    } catch {
      // the thread ended while we looked
    }
  }
  return names;
}

Deno.test("time limits: soft aborts the signal, hard stops a busy loop and replaces the thread; Python's timelimit header", async () => {
  await using world = await openWorld("amqp");
  if (!world) return;
  const app = world.app();
  await using worker = await WorkerProcess.start(world, { concurrency: 2 });
  assert.equal(workerThreads(worker.pid).length, 2);
  const softCaught = await app.sendTask("fault.soft", [true], { softTimeLimit: 0.3 });
  const softUncaught = await app.sendTask("fault.soft", [false], { softTimeLimit: 0.3 });
  const busy = [];
  for (let i = 0; i < 3; i++) {
    busy.push(await app.sendTask("fault.busy", [world.dir], { timeLimit: 0.5 }));
  }
  const after = [];
  for (let i = 0; i < 10; i++) after.push(await app.sendTask("fault.add", [i, 1]));
  const [fromPython] = await runPythonClient(
    { broker: String(world.settings.broker_url), backend: "", queue: world.queue },
    [
      { task: "fault.busy", args: [world.dir], options: { time_limit: 1 } },
      { task: "fault.soft", args: [true], options: { soft_time_limit: 0.3 } },
    ],
  ).then((calls) => [calls.map((call) => app.asyncResult(call.id))]);

  assert.equal(await softCaught.get({ timeout: 20 }), "soft-caught: SoftTimeLimitExceeded");
  const soft = await softUncaught.get({ timeout: 20, propagate: false }) as RemoteError;
  assert.equal(soft.excType, "SoftTimeLimitExceeded");
  for (const result of [...busy, fromPython[0]]) {
    const error = await result.get({ timeout: 20, propagate: false }) as RemoteError;
    assert.equal(error.excType, "TimeLimitExceeded");
  }
  assert.equal(await fromPython[1].get({ timeout: 20 }), "soft-caught: SoftTimeLimitExceeded");
  assert.deepEqual(
    await Promise.all(after.map((result) => result.get({ timeout: 20 }))),
    [...Array(10).keys()].map((i) => i + 1),
  );
  assert.equal(countRuns(world.runs(), "start").size, 4, "four busy loops started");
  await waitUntil(() => workerThreads(worker.pid).length === 2, "two worker threads left");

  const output = worker.output;
  for (const result of busy) {
    assert.match(
      output,
      new RegExp(`Hard time limit \\(0\\.5s\\) exceeded for fault\\.busy\\[${result.id}\\]`),
    );
  }
  assert.match(
    output,
    new RegExp(`Hard time limit \\(1s\\) exceeded for fault\\.busy\\[${fromPython[0].id}\\]`),
  );
  assert.equal(output.match(/Task handler raised error: TimeLimitExceeded\(0\.5\)/g)?.length, 3);
  assert.match(
    output,
    new RegExp(`Soft time limit \\(0\\.3s\\) exceeded for fault\\.soft\\[${softCaught.id}\\]`),
  );
  console.log(
    "4 busy loops stopped by hard limits (3 celeriac, 1 Python timelimit header), " +
      `threads now ${workerThreads(worker.pid).join(", ")}; 10 later tasks all ran`,
  );
  await worker.kill("SIGTERM");
});
