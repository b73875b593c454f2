/**
 * ETA, countdown and expires on each broker, every run counted:
 *
 * - `expires` in the past, and `expires` passing while the task waits for
 *   its ETA: REVOKED stored, the task never runs;
 * - held ETA messages do not starve the prefetch window (prefetch 1 here):
 *   tasks sent after them run first, and each ETA task runs once, not
 *   before its ETA (on SQLite celeriac's client lets the broker delay the
 *   message, so the worker never holds it);
 * - a delay longer than the (shortened, 1 s) visibility timeout runs exactly
 *   once, with two workers on the queue (a restored copy would run on the
 *   other one); on SQLite also through the park path (`etaHoldLimit`
 *   shorter than the delay: sent back to the broker with `deliverAt`).
 *
 * RabbitMQ's consumer timeout is tested on a private node
 * (amqp_private_node_test.ts).
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import type { Celery } from "../../mod.ts";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";
import { countRuns, openWorld, type World, type WorldKind } from "./worlds.ts";

/** Run times (epoch ms) of `fault.stamp` tasks, by id. */
function stamps(world: World): Map<string, number[]> {
  const byId = new Map<string, number[]>();
  for (const line of world.runs()) {
    const [id, , , what, at] = line.split(" ");
    if (what !== "at") continue;
    byId.set(id, [...byId.get(id) ?? [], Number(at)]);
  }
  return byId;
}

async function etaAndExpires(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind);
  if (!world) return;
  const app = world.app({ worker_prefetch_multiplier: 1 });
  const worker = await app.worker({ concurrency: 1, pool: "async", banner: false });
  try {
    const expired = app.asyncResult(await publishExpired(world, app));
    const expiresWhileHeld = await app.sendTask("fault.record", [world.dir], {
      countdown: 2,
      expires: 1,
    });
    const delayed = [];
    for (let i = 0; i < 3; i++) {
      delayed.push(await app.sendTask("fault.stamp", [world.dir], { countdown: 2 }));
    }
    const etaOf = new Map(delayed.map((result, i) => [result.id, i]));
    const sentAt = Date.now();
    const immediate = [];
    for (let i = 0; i < 5; i++) immediate.push(await app.sendTask("fault.stamp", [world.dir]));
    await Promise.all([...delayed, ...immediate].map((result) => result.get({ timeout: 20 })));
    for (const result of [expired, expiresWhileHeld]) {
      const error = await result.get({ timeout: 20, propagate: false }) as RemoteError;
      assert.equal(await result.state(), "REVOKED");
      assert.equal(error.excType, "TaskRevokedError");
      assert.deepEqual(error.excArgs, ["expired"]);
    }
    const runs = stamps(world);
    assert.equal(countRuns(world.runs(), "start").size, 0, "no revoked task ran");
    for (const result of [...delayed, ...immediate]) {
      assert.equal(runs.get(result.id)?.length, 1, "each task ran once");
    }
    const lastImmediate = Math.max(...immediate.map((result) => runs.get(result.id)![0]));
    const firstDelayed = Math.min(...delayed.map((result) => runs.get(result.id)![0]));
    assert.ok(lastImmediate < firstDelayed, "held ETA messages did not block the window");
    assert.ok(firstDelayed >= sentAt + 1000, "no ETA task ran a second early");
    assert.equal(etaOf.size, 3);
  } finally {
    await worker.stop();
  }
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`ETA holds do not starve prefetch; expires stores REVOKED (${kind})`, () =>
    etaAndExpires(kind));
}

/**
 * Publishes `fault.record` whose `expires` header is long past, without the
 * AMQP `expiration` property: with it (celeriac's and Celery's clients set
 * it), RabbitMQ itself drops a message that expires while queued and no
 * REVOKED is ever stored (spec §7.3); this test is about the worker's check.
 */
async function publishExpired(world: World, app: Celery): Promise<string> {
  const call = taskCall("fault.record", [world.dir]);
  call.expires = new Date("2020-01-01T00:00:00Z");
  const message = encodeTaskMessage(call);
  delete message.properties.expiration;
  const broker = await app.getBroker();
  await broker.publish(message, { exchange: "", routingKey: world.queue });
  return call.id;
}

/**
 * Publishes `fault.stamp` with an ETA header only (no `deliverAt`), as a
 * Python client does, so the worker itself holds or parks it even on SQLite
 * (celeriac's own client lets SQLite delay the message instead).
 */
async function publishWithEta(world: World, app: Celery, seconds: number): Promise<string> {
  const call = taskCall("fault.stamp", [world.dir]);
  call.eta = new Date(Date.now() + seconds * 1000);
  const broker = await app.getBroker();
  await broker.publish(encodeTaskMessage(call), { exchange: "", routingKey: world.queue });
  return call.id;
}

async function longerThanVisibility(
  kind: WorldKind,
  etaHoldLimit?: number,
): Promise<void> {
  await using world = await openWorld(kind, { visibilityTimeout: 1 });
  if (!world) return;
  const app = world.app();
  const workers: CeleryWorker[] = [];
  for (let i = 0; i < 2; i++) {
    workers.push(
      await app.worker({ concurrency: 1, pool: "async", banner: false, etaHoldLimit }),
    );
  }
  try {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await publishWithEta(world, app, 3));
    await Promise.all(ids.map((id) => app.asyncResult(id).get({ timeout: 20 })));
    // A copy restored after the visibility timeout would run now, on either worker.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const runs = stamps(world);
    const counts = ids.map((id) => runs.get(id)?.length ?? 0);
    console.log(`${kind}${etaHoldLimit ? " (parked)" : ""}: 5 ETA tasks, runs ${counts}`);
    assert.deepEqual(counts, [1, 1, 1, 1, 1], "each delayed task ran exactly once");
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

Deno.test("a delay longer than the visibility timeout runs exactly once (Redis, SQLite held, SQLite parked)", async () => {
  await Promise.all([
    longerThanVisibility("redis"),
    longerThanVisibility("sqlite"),
    longerThanVisibility("sqlite", 0.5),
  ]);
});
