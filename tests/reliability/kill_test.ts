/**
 * SIGKILL of a worker process mid-task with acks_late, on each broker: N
 * tasks sent, the worker killed while some run, a new worker started; every
 * task must complete (0 lost), and any task run twice must be one that had
 * started before the kill (its ack never reached the broker). "Completed
 * twice" are tasks whose result was stored but whose late ack was not yet
 * written when the process died; "started twice" adds the tasks that were
 * running at the kill and ran again after it.
 *
 * Redeliveries: RabbitMQ at once (the connection dropped); Redis after the
 * shortened `visibility_timeout` (1 s), restored by the new worker; SQLite
 * after the 1 s lease runs out.
 */

import assert from "node:assert/strict";
import { countRuns, openWorld, type WorldKind } from "./worlds.ts";
import { WorkerProcess } from "./worker_process.ts";

const N = 30;
const TASK_MS = 250;

async function killMidTask(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind, { visibilityTimeout: 1 });
  if (!world) return;
  const app = world.app();
  const first = await WorkerProcess.start(world, { concurrency: 2 });
  const results = [];
  for (let i = 0; i < N; i++) {
    results.push(await app.sendTask("fault.record_late", [world.dir, TASK_MS]));
  }
  await first.waitFor(/(Task fault\.record_late\[[^\]]+\] succeeded[\s\S]*){3}/);
  await first.kill("SIGKILL");
  const beforeKill = world.runs();
  const startedBeforeKill = new Set(countRuns(beforeKill, "start").keys());
  const second = await WorkerProcess.start(world, { concurrency: 2 });
  try {
    const values = await Promise.all(results.map((result) => result.get({ timeout: 30 })));
    assert.deepEqual(values, results.map((result) => result.id), "every task returned its id");
  } finally {
    await second.kill("SIGTERM");
  }
  const completed = countRuns(world.runs());
  const starts = countRuns(world.runs(), "start");
  const lost = results.filter((result) => !completed.has(result.id));
  const duplicates = [...completed].filter(([, runs]) => runs > 1).map(([id]) => id);
  const rerun = [...starts].filter(([, runs]) => runs > 1).map(([id]) => id);
  console.log(
    `${kind}: N=${N} sent, ${completed.size} results, lost ${lost.length}, ` +
      `completed twice ${duplicates.length}, started twice ${rerun.length} ` +
      `(at the kill: ${startedBeforeKill.size} started, ${countRuns(beforeKill).size} completed)`,
  );
  assert.equal(lost.length, 0, "no task lost");
  for (const id of rerun) {
    assert.ok(startedBeforeKill.has(id), `${id} ran twice but had not started before the kill`);
  }
  assert.ok(startedBeforeKill.size >= 3, "the kill came mid-stream");
  assert.ok(countRuns(beforeKill).size < N, "the kill came before the end");
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`SIGKILL of an acks_late worker mid-task loses nothing (${kind})`, async () => {
    await killMidTask(kind);
  });
}

Deno.test("a V8 out-of-memory ends the worker process; its acks_late task runs after a restart (sqlite)", async () => {
  await using world = await openWorld("sqlite", { visibilityTimeout: 1 });
  if (!world) return;
  const app = world.app();
  const flags = ["--max-old-space-size=128"];
  const first = await WorkerProcess.start(world, { concurrency: 1, v8Flags: flags });
  const result = await app.sendTask("fault.oom_once", [world.dir]);
  const status = await first.exited();
  assert.notEqual(status.code, 0, "the process died of the out-of-memory");
  assert.match(first.output, /out of memory/i);
  await using second = await WorkerProcess.start(world, {
    concurrency: 1,
    pool: "async",
    v8Flags: flags,
  });
  assert.equal(await result.get({ timeout: 30 }), "survived");
  assert.equal(countRuns(world.runs(), "start").get(result.id), 2);
  console.log(`OOM: process exited with ${status.code}; the task ran again after the restart`);
  await second.kill("SIGTERM");
});
