/**
 * Celery's signals, dispatched on the app (an `EventTarget`), with their
 * documented payloads: publish signals on the client, task and worker
 * signals on an in-process worker.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, type SignalDetails, type SignalName } from "../../mod.ts";
import { uniqueName } from "../services.ts";

type Received = { [K in SignalName]?: SignalDetails[K][] };

/** Records every payload of the given signals. */
function record(app: Celery, names: SignalName[]): Received {
  const received: Received = {};
  for (const name of names) {
    const list: unknown[] = [];
    (received as Record<string, unknown[]>)[name] = list;
    app.addEventListener(name, (event) => list.push((event as CustomEvent).detail));
  }
  return received;
}

function memoryApp(): Celery {
  const url = `memory://${uniqueName("signals")}`;
  return new Celery("proj", { broker: url, backend: url, setAsCurrent: false });
}

Deno.test("before_task_publish and after_task_publish carry headers, body and route", async () => {
  await using app = memoryApp();
  const received = record(app, ["before_task_publish", "after_task_publish"]);
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const result = await add.applyAsync([1, 2], { kwargs: {}, queue: "signals" });
  const [before] = received.before_task_publish!;
  assert.equal(received.before_task_publish!.length, 1);
  assert.equal(before.sender, "proj.add");
  assert.equal(before.headers.id, result.id);
  assert.equal(before.headers.task, "proj.add");
  assert.deepEqual(before.body, [[1, 2], {}, {
    callbacks: null,
    errbacks: null,
    chain: null,
    chord: null,
  }]);
  assert.equal(before.exchange, "");
  assert.equal(before.routingKey, "signals");
  const [after] = received.after_task_publish!;
  assert.equal(after.sender, "proj.add");
  assert.equal(after.headers.id, result.id);
  assert.equal(after.routingKey, "signals");
});

Deno.test("task and worker signals fire with their payloads", async () => {
  await using app = memoryApp();
  const received = record(app, [
    "task_prerun",
    "task_postrun",
    "task_success",
    "task_failure",
    "worker_ready",
    "worker_shutdown",
  ]);
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const fail = app.task(function fail(): never {
    throw new TypeError("bad input");
  });
  const worker = await app.worker({ pool: "async", banner: false, hostname: "sig@host" });
  assert.deepEqual(received.worker_ready, [{ sender: "sig@host" }]);
  const ok = await add.applyAsync([2], { kwargs: { y: 5 } });
  assert.equal(await ok.get({ timeout: 10 }), 7);
  const bad = await fail.delay();
  await bad.get({ timeout: 10, propagate: false });
  await worker.stop();
  assert.deepEqual(received.worker_shutdown, [{ sender: "sig@host" }]);

  assert.deepEqual(received.task_prerun, [
    { sender: "proj.add", taskId: ok.id, args: [2], kwargs: { y: 5 } },
    { sender: "proj.fail", taskId: bad.id, args: [], kwargs: {} },
  ]);
  assert.deepEqual(received.task_success, [{ sender: "proj.add", taskId: ok.id, result: 7 }]);
  const [failure] = received.task_failure!;
  assert.equal(received.task_failure!.length, 1);
  assert.equal(failure.sender, "proj.fail");
  assert.equal(failure.taskId, bad.id);
  assert.deepEqual(failure.exception, { type: "TypeError", message: "bad input" });
  assert.match(failure.traceback ?? "", /TypeError: bad input/);
  const postrun = received.task_postrun!;
  assert.deepEqual(postrun.map((p) => [p.sender, p.taskId, p.state]), [
    ["proj.add", ok.id, "SUCCESS"],
    ["proj.fail", bad.id, "FAILURE"],
  ]);
  assert.equal(postrun[0].retval, 7);
});

Deno.test("receivers are typed by the signal's payload", async () => {
  await using app = memoryApp();
  const ids: string[] = [];
  const receiver = (event: CustomEvent<SignalDetails["after_task_publish"]>) => {
    const id: unknown = event.detail.headers.id;
    ids.push(String(id));
  };
  app.addEventListener("after_task_publish", receiver);
  app.addEventListener("task_success", (event) => {
    const taskId: string = event.detail.taskId;
    // @ts-expect-error: task_success has no `exception`
    return [taskId, event.detail.exception];
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const first = await add.delay(1, 1);
  app.removeEventListener("after_task_publish", receiver);
  await add.delay(2, 2);
  assert.deepEqual(ids, [first.id]);
});

Deno.test("a signal receiver that throws does not break sending", async () => {
  await using app = memoryApp();
  app.addEventListener("before_task_publish", () => {
    throw new Error("receiver bug");
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const result = await add.delay(1, 1);
  assert.equal(typeof result.id, "string");
  assert.equal(await (await app.getBroker()).messageCount("celery"), 1);
});
