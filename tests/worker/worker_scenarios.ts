/**
 * What a worker must do on any broker, with each pool (`workers`, `threads`,
 * `async`, `solo`): run tasks and store results, store failures in Celery's format and
 * go on, reject unknown and malformed messages and survive them, give bound
 * tasks their request, and stop warm. Run by `memory_test.ts` and
 * `sqlite_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RemoteError } from "../../mod.ts";
import type { PoolKind } from "../../src/worker/pool/types.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { uniqueName } from "../services.ts";
import { add, app, describe, fail, sleep, spawn } from "./fixtures/worker_app.ts";

/** Where one test's broker and backend live, and how to remove them. */
export interface Location {
  /** Broker URL. */
  broker: string;
  /** Result backend URL. */
  backend: string;
  /** Removes whatever the location created. */
  cleanup(): Promise<void>;
}

const POOLS: PoolKind[] = ["workers", "threads", "async", "solo"];

/**
 * Resolves once every result in `results` is STARTED or done: the runs have
 * begun (`task_track_started` is on for this; with the `threads` pool task
 * signals fire on the consumer threads, so the main thread cannot count them).
 */
async function allStarted(results: { state(): Promise<string> }[]): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const states = await Promise.all(results.map((result) => result.state()));
    if (states.every((state) => state !== "PENDING")) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the runs did not start within 4 s");
}

/** Resolves once `count` task_prerun signals have fired. */
function prerunCount(count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const listener = () => {
      if (++seen < count) return;
      app.removeEventListener("task_prerun", listener);
      resolve();
    };
    app.addEventListener("task_prerun", listener);
  });
}

/** Resolves with the next task_rejected payload. */
function nextRejection(): Promise<{ sender: string; reason: string }> {
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      app.removeEventListener("task_rejected", listener);
      resolve((event as CustomEvent).detail);
    };
    app.addEventListener("task_rejected", listener);
  });
}

async function steps(t: Deno.TestContext, worker: CeleryWorker, pool: PoolKind, queue: string) {
  await t.step("a task's result is stored", async () => {
    assert.equal(await (await add.delay(4, 4)).get({ timeout: 20 }), 8);
  });

  await t.step(
    "keyword arguments (as a Python client sends them) reach named parameters",
    async () => {
      // A Python client's add.apply_async(kwargs={"x": 10, "y": 5}) sends exactly this body.
      const result = await app.sendTask<number>("wtest.subtract", [], { kwargs: { y: 5, x: 10 } });
      assert.equal(await result.get({ timeout: 20 }), 5);
      const mixed = await app.sendTask<number>("wtest.subtract", [10], { kwargs: { y: 1 } });
      assert.equal(await mixed.get({ timeout: 20 }), 9);
    },
  );

  await t.step("a failure is stored in Celery's format and the worker goes on", async () => {
    const result = await fail.delay("boom");
    const error = await result.get({ timeout: 20, propagate: false });
    assert.ok(error instanceof RemoteError);
    const meta = await result.meta();
    assert.equal(meta?.status, "FAILURE");
    assert.deepEqual(meta?.result, {
      exc_type: "ValueError",
      exc_message: ["boom"],
      exc_module: "builtins",
    });
    assert.match(meta?.traceback ?? "", /ValueError: boom/);
    assert.equal(await (await add.delay(1, 1)).get({ timeout: 20 }), 2);
  });

  await t.step("an unknown task: NotRegistered stored, message rejected", async () => {
    const result = await app.sendTask("wtest.no_such_task", [1]);
    const error = await result.get({ timeout: 20, propagate: false });
    assert.ok(error instanceof RemoteError);
    assert.equal(error.excType, "NotRegistered");
    assert.equal(error.excModule, "celery.exceptions");
    assert.equal(error.message, "wtest.no_such_task");
    assert.equal(await (await app.getBroker()).messageCount(queue), 0);
    assert.equal(await (await add.delay(2, 2)).get({ timeout: 20 }), 4);
  });

  await t.step("a malformed message is rejected and the worker survives", async () => {
    // With `threads`, the task_rejected signal fires on the consumer thread that rejected it.
    const rejected = pool === "threads" ? undefined : nextRejection();
    const broker = await app.getBroker();
    await broker.publish({
      headers: { task: 42 },
      properties: {},
      contentType: "application/json",
      contentEncoding: "utf-8",
      body: new TextEncoder().encode("{not json"),
    }, { exchange: "", routingKey: queue });
    if (rejected) {
      const { sender, reason } = await rejected;
      assert.equal(sender, queue);
      assert.ok(reason.length > 0);
    }
    assert.equal(await (await add.delay(3, 3)).get({ timeout: 20 }), 6);
    assert.equal(await broker.messageCount(queue), 0);
    assert.equal(await (await add.delay(3, 3)).get({ timeout: 20 }), 6);
  });

  await t.step("a bound task gets its request", async () => {
    const result = await describe.applyAsync([], {
      kwargs: { _tag: "x" },
      headers: { "x-trace": "t-1" },
      parentId: "parent-1",
      rootId: "root-1",
    });
    const seen = await result.get({ timeout: 20 });
    assert.equal(seen.name, "wtest.describe");
    assert.equal(seen.id, result.id);
    assert.equal(seen.task, "wtest.describe");
    assert.deepEqual(seen.args, []);
    assert.deepEqual(seen.kwargs, { _tag: "x" });
    assert.equal(seen.retries, 0);
    assert.equal(seen.hostname, worker.hostname);
    assert.deepEqual(seen.deliveryInfo, {
      exchange: "",
      routingKey: queue,
      priority: 0,
      redelivered: false,
    });
    assert.equal(seen.parentId, "parent-1");
    assert.equal(seen.rootId, "root-1");
    assert.equal(seen.headers["x-trace"], "t-1");
    assert.equal(seen.isEager, false);
    assert.match(seen.text, /^<Context: \{.*'id': '[0-9a-f-]{36}'.*\}>$/s);
  });

  if (pool !== "workers") {
    // The workers pool's threads hold their own copy of the app, which has no broker
    // configured here (the threads pool's threads are sent the main thread's settings).
    await t.step("a task sent from a task gets parent and root ids", async () => {
      const parent = await spawn.delay();
      const childId = await parent.get({ timeout: 20 });
      const child = await app.asyncResult<{ parentId: string; rootId: string }>(childId)
        .get({ timeout: 20 });
      assert.equal(child.parentId, parent.id);
      assert.equal(child.rootId, parent.id);
    });
  }

  await t.step("warm shutdown: running tasks finish, waiting ones stay queued", async () => {
    // solo runs one task at a time: its second sleep waits, and stays queued.
    const started = pool === "solo" ? 1 : 2;
    const running = pool === "threads" ? undefined : prerunCount(started);
    const slow = [await sleep.delay(300), await sleep.delay(300)];
    await (running ?? allStarted(slow));
    const waiting = [await add.delay(1, 2), await add.delay(3, 4), await add.delay(5, 6)];
    await worker.stop();
    const states = await Promise.all(slow.map((result) => result.state()));
    assert.deepEqual(states, pool === "solo" ? ["SUCCESS", "PENDING"] : ["SUCCESS", "SUCCESS"]);
    assert.equal(await slow[0].get(), "slept");
    for (const result of waiting) assert.equal(await result.state(), "PENDING");
    const left = await (await app.getBroker()).messageCount(queue);
    assert.equal(left, waiting.length + slow.length - started);
  });
}

/** Registers one test per pool on the location `locate()` makes. */
export function workerScenarios(
  label: string,
  locate: () => Promise<Location>,
  pools: PoolKind[] = POOLS,
): void {
  for (const pool of pools) {
    Deno.test(`worker on ${label}, pool ${pool}`, async (t) => {
      const location = await locate();
      const queue = uniqueName("worker");
      app.conf.update({
        broker_url: location.broker,
        result_backend: location.backend,
        task_default_queue: queue,
        task_track_started: pool === "threads",
      });
      let worker: CeleryWorker | undefined;
      try {
        worker = await app.worker({
          pool,
          concurrency: 2,
          banner: false,
          hostname: `${pool}@%h`,
        });
        await steps(t, worker, pool, queue);
      } finally {
        await worker?.stop();
        await app.close();
        await location.cleanup();
      }
    });
  }
}
