/**
 * The two task-level interop scenarios every broker/backend pairing runs,
 * with real Python Celery 5.2.6 and a real celeriac worker process:
 *
 * - a Python client (`delay`, `apply_async(kwargs, countdown, queue)`,
 *   `send_task`, failures, 1,000 in flight) against a celeriac worker
 *   started with `cli.ts worker`;
 * - a celeriac client (`delay`, `applyAsync`, `sendTask`, a Python exception,
 *   1,000 in flight) against a Python worker (`celery worker -c 2`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { RemoteError } from "../../src/protocol/exceptions.ts";
import { startCeleriacWorker } from "./celeriac_worker.ts";
import { type PythonEnv, runPythonClient, startPythonWorker } from "./python/harness.ts";

/** How many tasks each direction keeps in flight. */
export const IN_FLIGHT = 1000;

/** One broker/backend pairing, shared by both sides. */
export interface InteropSetup {
  /** Broker URL. */
  broker: string;
  /** Result backend URL. */
  backend: string;
  /** The default queue. */
  queue: string;
  /** A second queue, reached with `queue=` at call time. */
  otherQueue: string;
  /** Further settings for celeriac (the worker gets them as `CELERIAC_IT_CONFIG`). */
  config: Record<string, unknown>;
  /** The same pairing for the Python app. */
  python: PythonEnv;
  /** Records ids of results the test should delete afterwards. */
  resultIds: string[];
}

/** What one scenario counted. */
export interface ScenarioFigures {
  /** Tasks sent in the bulk. */
  sent: number;
  /** Results received. */
  received: number;
}

function workerEnv(setup: InteropSetup): Record<string, string> {
  return {
    CELERY_BROKER_URL: setup.broker,
    CELERY_RESULT_BACKEND: setup.backend,
    CELERIAC_IT_CONFIG: JSON.stringify({ task_default_queue: setup.queue, ...setup.config }),
  };
}

/** Python's client against a celeriac worker process; asserts every outcome. */
export async function pythonClientToCeleriacWorker(
  setup: InteropSetup,
  pool: "workers" | "async" = "workers",
): Promise<ScenarioFigures> {
  await using _worker = await startCeleriacWorker({
    module: "tests/interop/worker_app.ts",
    env: workerEnv(setup),
    queues: [setup.queue, setup.otherQueue],
    pool,
  });
  const out = await runPythonClient({
    calls: [
      { method: "delay", task: "interop.add", args: [2, 3] },
      { task: "interop.add", kwargs: { x: 20, y: 22 } },
      {
        task: "interop.request",
        args: [1],
        kwargs: { word: "wörd" },
        options: { countdown: 1, queue: setup.otherQueue },
      },
      { method: "send_task", task: "interop.greet", args: ["Ada"], kwargs: { punctuation: "?" } },
      { method: "send_task", task: "interop.greet", kwargs: { name: "Bo", greeting: "ciao" } },
      { method: "send_task", task: "interop.greet", args: ["Cy"], kwargs: { nope: 1 } },
      { task: "interop.fail", args: ["nope"] },
      { task: "interop.fail_custom", args: ["custom", 42] },
    ],
    bulk: { count: IN_FLIGHT, timeout: 120 },
    joinNative: true,
  }, setup.python);
  setup.resultIds.push(...out.calls.map((call) => call.id), ...(out.bulk?.ids ?? []));
  const [add, addKw, request, greet, greetKw, badKw, fail, failCustom] = out.calls;
  assert.equal(add.value, 5);
  assert.equal(addKw.value, 42, "Python kwargs reach the TypeScript parameters x and y");
  const seen = request.value as Record<string, unknown>;
  assert.deepEqual(seen.args, [1]);
  assert.deepEqual(seen.kwargs, { word: "wörd" });
  assert.equal(seen.routing_key, setup.otherQueue);
  assert.ok(typeof seen.eta === "string", "countdown arrives as an eta");
  assert.ok(Date.parse(seen.started as string) >= Date.parse(seen.eta as string), "ran after eta");
  assert.equal(greet.value, "hello, Ada?");
  assert.equal(greetKw.value, "ciao, Bo!");
  assert.equal(badKw.error?.type, "TypeError");
  assert.match(String(badKw.error?.args[0]), /unexpected keyword argument 'nope'/);
  assert.deepEqual(fail.error, { type: "ValueError", module: "builtins", args: ["nope"] });
  assert.equal(failCustom.error?.type, "InteropError");
  assert.equal(failCustom.error?.module, "celery.exceptions", "a class Python synthesizes");
  assert.deepEqual(failCustom.error?.args, ["custom", 42]);
  const bulk = out.bulk!;
  assert.equal(bulk.missing_count, 0, JSON.stringify(bulk.missing));
  assert.deepEqual(bulk.wrong, []);
  assert.equal(bulk.received, IN_FLIGHT);
  assert.equal(new Set(bulk.ids).size, IN_FLIGHT);
  return { sent: bulk.sent, received: bulk.received };
}

function remoteError(type: string, module: string, args: unknown[]) {
  return (error: unknown) => {
    assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${error}`);
    assert.equal(error.name, type);
    assert.equal(error.excModule, module);
    assert.deepEqual(error.excArgs, args);
    return true;
  };
}

/** celeriac's client against a Python worker (`-c 2`); asserts every outcome. */
export async function celeriacClientToPythonWorker(
  setup: InteropSetup,
  pool: "prefork" | "solo" = "prefork",
): Promise<ScenarioFigures> {
  await using _worker = await startPythonWorker({
    env: setup.python,
    queues: [setup.queue, setup.otherQueue],
    concurrency: 2,
    pool,
  });
  await using app = new Celery("client", {
    broker: setup.broker,
    backend: setup.backend,
    config: { task_default_queue: setup.queue, ...setup.config },
    setAsCurrent: false,
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "interop.add" });
  const sent = [
    await add.delay(2, 3),
    await add.applyAsync([], { kwargs: { x: 20, y: 22 } }),
    await app.sendTask("interop.greet", ["Ada"], { kwargs: { greeting: "ciao" } }),
    await app.sendTask("interop.request", [1], {
      kwargs: { word: "wörd" },
      countdown: 1,
      queue: setup.otherQueue,
    }),
    await app.sendTask("interop.fail", ["nope"]),
    await app.sendTask("interop.fail_custom", ["custom", 42]),
  ];
  // The bulk goes out while the countdown task waits for its eta in the Python worker.
  const bulk = await Promise.all(
    Array.from({ length: IN_FLIGHT }, (_, i) => add.delay(i, i)),
  );
  setup.resultIds.push(...sent.map((result) => result.id), ...bulk.map((result) => result.id));
  const values = await Promise.all(bulk.map((result) => result.get({ timeout: 120 })));
  const wrong = values.flatMap((value, i) => value === 2 * i ? [] : [{ i, value }]);
  assert.deepEqual(wrong, []);
  assert.equal(values.length, IN_FLIGHT);
  assert.equal(new Set(bulk.map((result) => result.id)).size, IN_FLIGHT);
  const [sum, sumKw, greet, request, fail, failCustom] = sent;
  assert.equal(await sum.get({ timeout: 30 }), 5);
  assert.equal(await sumKw.get({ timeout: 30 }), 42);
  assert.equal(await greet.get({ timeout: 30 }), "ciao, Ada!");
  await assert.rejects(fail.get({ timeout: 30 }), remoteError("ValueError", "builtins", ["nope"]));
  await assert.rejects(
    failCustom.get({ timeout: 30 }),
    remoteError("InteropError", "celery_app", ["custom", 42]),
  );
  const seen = await request.get({ timeout: 30 }) as Record<string, unknown>;
  assert.deepEqual(seen.args, [1]);
  assert.deepEqual(seen.kwargs, { word: "wörd" });
  assert.equal(seen.routing_key, setup.otherQueue);
  assert.ok(typeof seen.eta === "string", "countdown arrives as an eta");
  return { sent: IN_FLIGHT, received: values.length };
}
