/**
 * The worker's canvas rules that need no Python peer, on the memory broker
 * with a worker in this process: a canvas the worker cannot apply fails the
 * task with a clear error (never a SUCCESS with the next steps silently
 * dropped), the rest of the chain fails with it, and the worker goes on.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type AsyncResult,
  type BoundTask,
  Celery,
  chain,
  chord,
  group,
  RemoteError,
} from "../../mod.ts";
import { uniqueName } from "../services.ts";

function memoryApp() {
  const app = new Celery(uniqueName("canvas"), {
    broker: "memory://",
    backend: "memory://",
    setAsCurrent: false,
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const xsum = app.task(function xsum(numbers: number[]) {
    return numbers.reduce((a, b) => a + b, 0);
  });
  const replaceWithAdd = app.task(async function replace_with_add(self: BoundTask, x: number) {
    return await self.replace(add.s(x, 10));
  }, { bind: true });
  const replaceWithGroup = app.task(async function replace_with_group(self: BoundTask, x: number) {
    return await self.replace(group([add.s(x, 1), add.s(x, 2)]));
  }, { bind: true });
  const failed: string[] = [];
  const noteFailure = app.task(function note_failure(taskId: string) {
    failed.push(taskId);
  });
  const newStyle: string[] = [];
  const noteNewStyle = app.task(function note_new_style(request: { id: string }, exc: Error) {
    newStyle.push(`${request.id}: ${exc.message}`);
  });
  const boom = app.task(function boom(message: string) {
    throw new Error(message);
  });
  return {
    app,
    add,
    xsum,
    replaceWithAdd,
    replaceWithGroup,
    boom,
    noteFailure,
    failed,
    noteNewStyle,
    newStyle,
  };
}

/** Polls `condition` until it holds or `ms` pass. */
async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

Deno.test("a malformed callback fails the task with a clear error; the chain fails with it", async () => {
  const { app, add } = memoryApp();
  await using _app = app;
  const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
  try {
    // As a client could send it: the first step's callback is a chain whose tasks are not a list.
    const first = add.s(1, 1);
    first.options.link = [{ task: "x", subtask_type: "chain", kwargs: { tasks: 3 } }];
    const last = await chain(first, add.s(2)).applyAsync();
    const error = await last.get({ timeout: 10, propagate: false }) as RemoteError;
    assert.ok(error instanceof RemoteError);
    assert.equal(error.name, "ProtocolError");
    assert.match(error.message, /Invalid signature for "x": its tasks are not a list/);
    assert.equal(await last.state(), "FAILURE", "the next step is failed, not left PENDING");
    await assert.rejects(last.parent!.get({ timeout: 10 }), /its tasks are not a list/);
    // Nothing else is lost: the worker goes on.
    assert.equal(await (await add.delay(2, 3)).get({ timeout: 10 }), 5);
  } finally {
    await worker.stop();
  }
});

Deno.test("memory:// joins a chord with celery.chord_unlock and chains after the body", async () => {
  const { app, add, xsum } = memoryApp();
  await using _app = app;
  const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
  try {
    const total = await chain(chord([add.s(1, 1), add.s(2, 2)], xsum.s()), add.s(100))
      .applyAsync();
    assert.equal(await total.get({ timeout: 20 }), 106);
    const eager = await chain(add.s(1, 1), add.s(2)).apply();
    assert.equal(await eager.get(), 4, "apply() runs a whole canvas in this process");
  } finally {
    await worker.stop();
  }
});

Deno.test("self.replace(sig): the replacement takes the task's id and the rest of its chain", async () => {
  const { app, add, replaceWithAdd, replaceWithGroup } = memoryApp();
  await using _app = app;
  const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
  try {
    const steps = await chain(add.s(1, 1), replaceWithAdd.s(), add.s(100)).applyAsync();
    assert.equal(await steps.get({ timeout: 10 }), 112);
    assert.equal(await steps.parent!.get({ timeout: 10 }), 12, "the replaced step's id has 2 + 10");
    const grouped = await replaceWithGroup.delay(5);
    assert.deepEqual(await grouped.get({ timeout: 20 }), [6, 7], "a group is joined by accumulate");
  } finally {
    await worker.stop();
  }
});

Deno.test("children() and collect() follow the callbacks a worker sent", async () => {
  const { app, add } = memoryApp();
  await using _app = app;
  const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
  try {
    const result = await add.applyAsync([1, 1], { link: [add.s(10), add.s(20)] });
    assert.equal(await result.get({ timeout: 10 }), 2);
    const [callbacks] = await result.children();
    assert.deepEqual(await callbacks.get({ timeout: 10 }), [12, 22], "two callbacks: one group");
    const seen = [];
    for await (const [, value] of result.collect({ timeout: 10 })) seen.push(value);
    assert.deepEqual(seen, [2, [12, 22], 12, 22]);
  } finally {
    await worker.stop();
  }
});

Deno.test("a failing step stops the chain: later steps FAILURE, never run; errbacks of both styles run", async () => {
  const { app, add, boom, noteFailure, failed, noteNewStyle, newStyle } = memoryApp();
  await using _app = app;
  let laterRan = false;
  app.addEventListener("task_prerun", (event) => {
    if ((event as CustomEvent).detail.args?.[0] === "never") laterRan = true;
  });
  const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
  try {
    const steps = chain(add.s(1, 1), boom.si("step 2"), add.s(3), add.si(0, 0))
      .onError(noteFailure.s())
      .onError(noteNewStyle.s());
    const last = await steps.applyAsync();
    await assert.rejects(last.get({ timeout: 10 }), /step 2/);
    assert.equal(await last.state(), "FAILURE");
    assert.equal(await (last.parent as AsyncResult).state(), "FAILURE", "the next step too");
    const failedId = last.parent!.parent!.id;
    await waitFor(() => failed.length > 0 && newStyle.length > 0);
    assert.deepEqual(failed, [failedId], "old style: sent as a task with the failed id");
    assert.deepEqual(newStyle, [`${failedId}: step 2`], "new style: called with request and error");
    assert.equal(laterRan, false);
  } finally {
    await worker.stop();
  }
});

Deno.test("task_always_eager: applyAsync runs a whole canvas in this process", async () => {
  const { app, add, xsum } = memoryApp();
  await using _app = app;
  app.conf.update({ task_always_eager: true });
  const steps = await chain(add.s(1, 1), add.s(2)).applyAsync();
  assert.equal(await steps.get(), 4);
  const joined = await chord([add.s(1, 1), add.s(2, 2)], xsum.s()).applyAsync();
  assert.equal(await joined.get(), 6);
});
