/**
 * Reading results with `AsyncResult`: states, `get()` with timeout,
 * propagate and interval, remote errors, `forget()`, and the error when no
 * result backend is configured. A real worker (async pool) runs the tasks.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type AsyncResult,
  Celery,
  NoResultBackendError,
  RemoteError,
  TimeoutError,
} from "../../mod.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { uniqueName } from "../services.ts";

interface Fixture extends AsyncDisposable {
  app: Celery;
  worker: CeleryWorker;
  add: (x: number, y: number) => Promise<AsyncResult<number>>;
  fail: (message: string) => Promise<AsyncResult<never>>;
  hold: () => Promise<AsyncResult<string>>;
  release: () => void;
}

async function startFixture(): Promise<Fixture> {
  const url = `memory://${uniqueName("results")}`;
  const app = new Celery("proj", { broker: url, backend: url, setAsCurrent: false });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const fail = app.task(function fail(message: string): never {
    throw new RangeError(message);
  });
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const hold = app.task(async function hold() {
    await released;
    return "released";
  }, { trackStarted: true });
  const worker = await app.worker({ pool: "async", concurrency: 4, banner: false });
  return {
    app,
    worker,
    add: (x, y) => add.delay(x, y),
    fail: (message) => fail.delay(message),
    hold: () => hold.delay(),
    release,
    async [Symbol.asyncDispose]() {
      release();
      await worker.stop();
      await app.close();
    },
  };
}

Deno.test("a successful task: state, ready, successful, get", async () => {
  await using fixture = await startFixture();
  const result = await fixture.add(4, 4);
  assert.equal(await result.get({ timeout: 10 }), 8);
  assert.equal(await result.state(), "SUCCESS");
  assert.equal(await result.ready(), true);
  assert.equal(await result.successful(), true);
  assert.equal(await result.failed(), false);
  assert.equal(await result.traceback(), null);
  assert.equal(String(result), `<AsyncResult: ${result.id}>`);
});

Deno.test("an unknown id is PENDING and not ready", async () => {
  await using fixture = await startFixture();
  const result = fixture.app.asyncResult(crypto.randomUUID());
  assert.equal(await result.state(), "PENDING");
  assert.equal(await result.ready(), false);
  assert.equal(await result.successful(), false);
  assert.equal(await result.failed(), false);
});

Deno.test("STARTED is seen while a trackStarted task runs", async () => {
  await using fixture = await startFixture();
  const result = await fixture.hold();
  for (let polls = 0; (await result.state()) !== "STARTED"; polls++) {
    assert.ok(polls < 2000, "the task never reached STARTED");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await result.ready(), false);
  fixture.release();
  assert.equal(await result.get({ timeout: 10, interval: 0.05 }), "released");
});

Deno.test("get() with a timeout throws TimeoutError while the task is not done", async () => {
  await using fixture = await startFixture();
  const result = await fixture.hold();
  await assert.rejects(
    () => result.get({ timeout: 0.1 }),
    (error: unknown) => error instanceof TimeoutError,
  );
  fixture.release();
  assert.equal(await result.get({ timeout: 10 }), "released");
});

Deno.test("a failed task: get() throws the remote type, message and traceback", async () => {
  await using fixture = await startFixture();
  const result = await fixture.fail("out of range");
  const error = await result.get({ timeout: 10 }).then(
    () => assert.fail("get() should have thrown"),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof RemoteError);
  assert.equal(error.name, "RangeError");
  assert.equal(error.excType, "RangeError");
  assert.equal(error.message, "out of range");
  assert.deepEqual(error.excArgs, ["out of range"]);
  assert.equal(error.taskId, result.id);
  assert.match(error.traceback ?? "", /RangeError: out of range/);
  assert.equal(await result.state(), "FAILURE");
  assert.equal(await result.failed(), true);
  assert.equal(await result.successful(), false);
  assert.equal(await result.ready(), true);
  assert.match((await result.traceback()) ?? "", /out of range/);
  const returned = await result.get({ propagate: false });
  assert.ok(returned instanceof RemoteError);
  assert.equal((returned as RemoteError).message, "out of range");
  const meta = await result.meta();
  assert.deepEqual(meta?.result, {
    exc_type: "RangeError",
    exc_message: ["out of range"],
    // Not a Python builtin: a Python client synthesizes a class of this name.
    exc_module: "celeriac.errors",
  });
});

Deno.test("forget() deletes the stored result", async () => {
  await using fixture = await startFixture();
  const result = await fixture.add(1, 1);
  assert.equal(await result.get({ timeout: 10 }), 2);
  await result.forget();
  assert.equal(await result.state(), "PENDING");
  assert.equal(await fixture.app.asyncResult(result.id).state(), "PENDING");
});

Deno.test("an expired task is REVOKED: not failed, get() throws TaskRevokedError", async () => {
  await using fixture = await startFixture();
  const result = await fixture.app.sendTask("proj.add", [1, 1], {
    expires: new Date(Date.now() - 1000),
  });
  const error = await result.get({ timeout: 10 }).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof RemoteError);
  assert.equal(error.excType, "TaskRevokedError");
  assert.equal(await result.state(), "REVOKED");
  assert.equal(await result.failed(), false);
  assert.equal(await result.ready(), true);
});

Deno.test("with a broker but no result backend, get() says so (Celery's wording)", async () => {
  await using app = new Celery("proj", {
    broker: `memory://${uniqueName("no-backend")}`,
    setAsCurrent: false,
  });
  assert.equal(app.backendUrl(), null);
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const result = await add.delay(1, 2);
  const error = await result.get({ timeout: 1 }).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof NoResultBackendError);
  assert.match(error.message, /^No result backend is configured\./);
  assert.match(error.message, /result_backend/);
  await assert.rejects(() => result.state(), NoResultBackendError);
});

Deno.test("with nothing configured, the embedded default is broker and backend", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-home-" });
  const saved = Deno.env.get("CELERIAC_HOME");
  Deno.env.set("CELERIAC_HOME", home);
  try {
    await using app = new Celery("proj", { setAsCurrent: false });
    app.conf.update({ broker_url: null, result_backend: null });
    assert.equal(app.brokerUrl(), `sqlite://${home}/embedded.sqlite3`);
    assert.equal(app.backendUrl(), app.brokerUrl());
  } finally {
    if (saved === undefined) Deno.env.delete("CELERIAC_HOME");
    else Deno.env.set("CELERIAC_HOME", saved);
    await Deno.remove(home, { recursive: true });
  }
});
