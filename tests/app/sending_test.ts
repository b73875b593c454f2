/**
 * Sending tasks: `delay`, `applyAsync` with every call option, and
 * `sendTask` by name. Each test consumes the message from the broker and
 * asserts on what is on the wire.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AsyncResult, Celery } from "../../mod.ts";
import type { Delivery } from "../../src/broker/types.ts";
import { formatCeleryDate } from "../../src/protocol/dates.ts";
import { parseJson } from "../../src/protocol/json_content.ts";
import { findQueue } from "../../src/app/routing.ts";
import { uniqueName } from "../services.ts";

function memoryApp(): Celery {
  const url = `memory://${uniqueName("sending")}`;
  return new Celery("proj", { broker: url, backend: url, setAsCurrent: false });
}

/** Takes the next message from `queue` and acks it. */
async function takeOne(app: Celery, queue = "celery"): Promise<Delivery> {
  const broker = await app.getBroker();
  const spec = findQueue(queue, app.conf.resolve());
  const reader = broker.consume({ queues: [spec], prefetch: 1 }).getReader();
  try {
    const { value } = await reader.read();
    assert.ok(value, `no message on ${queue}`);
    await value.ack();
    return value;
  } finally {
    await reader.cancel();
  }
}

function bodyOf(delivery: Delivery): [unknown[], Record<string, unknown>, unknown] {
  return parseJson(new TextDecoder().decode(delivery.message.body)) as [
    unknown[],
    Record<string, unknown>,
    unknown,
  ];
}

Deno.test("delay sends a protocol v2 message and returns an AsyncResult", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const result = await add.delay(4, 4);
  assert.ok(result instanceof AsyncResult);
  assert.equal(result.taskName, "proj.add");
  const delivery = await takeOne(app);
  const { headers, properties, contentType, contentEncoding } = delivery.message;
  assert.equal(headers.task, "proj.add");
  assert.equal(headers.id, result.id);
  assert.equal(headers.lang, "py");
  assert.equal(headers.root_id, result.id);
  assert.equal(headers.parent_id, null);
  assert.equal(headers.eta, null);
  assert.equal(headers.expires, null);
  assert.equal(headers.retries, 0);
  assert.deepEqual(headers.timelimit, [null, null]);
  assert.equal(headers.argsrepr, "(4, 4)");
  assert.equal(headers.kwargsrepr, "{}");
  assert.match(String(headers.origin), /^gen\d+@/);
  assert.equal(properties.correlationId, result.id);
  assert.equal(properties.deliveryMode, 2);
  assert.equal(contentType, "application/json");
  assert.equal(contentEncoding, "utf-8");
  assert.deepEqual(bodyOf(delivery), [[4, 4], {}, {
    callbacks: null,
    errbacks: null,
    chain: null,
    chord: null,
  }]);
  assert.equal(delivery.routingKey, "celery");
});

Deno.test("applyAsync puts every call option on the wire", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  // "jobs" is bound to exchange "tasks" with key "jobs.add": the routing key must be honoured.
  app.conf.task_queues = [{ name: "jobs", exchange: "tasks", routingKey: "jobs.add" }];
  const eta = new Date("2020-01-02T03:04:05.678Z");
  const before = Date.now();
  const result = await add.applyAsync([4], {
    kwargs: { y: 5 },
    eta,
    expires: 3600,
    queue: "jobs",
    exchange: "tasks",
    routingKey: "jobs.add",
    priority: 7,
    taskId: "my-id",
    headers: { "x-trace": "abc", tenant: 42 },
  });
  assert.equal(result.id, "my-id");
  const delivery = await takeOne(app, "jobs");
  const { headers, properties } = delivery.message;
  assert.equal(headers.id, "my-id");
  assert.equal(headers.eta, "2020-01-02T03:04:05.678000+00:00");
  const expires = new Date(String(headers.expires)).getTime();
  assert.ok(expires >= before + 3600_000 && expires <= Date.now() + 3600_000, `${expires}`);
  assert.match(String(headers.expires), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.equal(headers["x-trace"], "abc");
  assert.equal(headers.tenant, 42);
  assert.equal(headers.kwargsrepr, "{'y': 5}");
  assert.equal(properties.priority, 7);
  assert.equal(delivery.exchange, "tasks");
  assert.equal(delivery.routingKey, "jobs.add");
  assert.equal(delivery.queue, "jobs");
  assert.deepEqual(bodyOf(delivery).slice(0, 2), [[4], { y: 5 }]);
});

Deno.test("a direct queue with a routing key but no exchange goes through the default exchange, as in Celery", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  app.conf.task_queues = [{ name: "jobs", exchange: "tasks", routingKey: "jobs.add" }];
  await add.applyAsync([1, 2], { queue: "jobs", routingKey: "other.key" });
  const delivery = await takeOne(app, "jobs");
  assert.equal(delivery.exchange, "");
  assert.equal(delivery.routingKey, "jobs");
});

Deno.test("countdown becomes an eta that many seconds from now", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const before = Date.now();
  await add.applyAsync([1, 2], { countdown: 0.2 });
  const after = Date.now();
  const { headers } = (await takeOne(app)).message;
  const eta = new Date(String(headers.eta)).getTime();
  assert.ok(eta >= before + 200 && eta <= after + 200, `eta ${headers.eta}`);
});

Deno.test("expires can be a Date, and a bad countdown is refused before sending", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const expires = new Date(Date.now() + 60_000);
  await add.applyAsync([1, 2], { expires });
  const { headers, properties } = (await takeOne(app)).message;
  assert.equal(headers.expires, formatCeleryDate(expires));
  assert.ok(Number(properties.expiration) > 0 && Number(properties.expiration) <= 60_000);
  await assert.rejects(
    () => add.applyAsync([1, 2], { countdown: Number.NaN }),
    /Invalid countdown/,
  );
  const broker = await app.getBroker();
  assert.equal(await broker.messageCount("celery"), 0);
});

Deno.test("sendTask sends by name without the task's code", async () => {
  await using app = memoryApp();
  assert.equal(app.tasks.get("proj.remote"), undefined);
  const result = await app.sendTask<number>("proj.remote", [1, 2], {
    kwargs: { z: 3 },
    queue: "remote",
  });
  assert.equal(result.taskName, "proj.remote");
  const delivery = await takeOne(app, "remote");
  assert.equal(delivery.message.headers.task, "proj.remote");
  assert.equal(delivery.message.headers.id, result.id);
  assert.deepEqual(bodyOf(delivery).slice(0, 2), [[1, 2], { z: 3 }]);
});

Deno.test("task_routes and a task's own queue decide where it goes", async () => {
  await using app = memoryApp();
  app.conf.task_routes = { "proj.routed": { queue: "routed" }, "proj.glob.*": "globbed" };
  const routed = app.task(function routed() {
    return 1;
  });
  const own = app.task(function own() {
    return 1;
  }, { queue: "own" });
  const globbed = app.task(function anything() {
    return 1;
  }, { name: "proj.glob.anything" });
  await routed.delay();
  await own.delay();
  await globbed.delay();
  assert.equal((await takeOne(app, "routed")).message.headers.task, "proj.routed");
  assert.equal((await takeOne(app, "own")).message.headers.task, "proj.own");
  assert.equal((await takeOne(app, "globbed")).message.headers.task, "proj.glob.anything");
});

Deno.test("a task sent with ignoreResult: get() returns null at once", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  }, { ignoreResult: true });
  const result = await add.delay(1, 2);
  assert.equal(result.ignored, true);
  assert.equal(await result.get(), null);
  assert.equal((await takeOne(app)).message.headers.ignore_result, true);
});
