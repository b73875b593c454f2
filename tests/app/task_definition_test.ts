/**
 * Defining tasks, Celery style: names, the registry, typing, local calls,
 * `apply()` and Python-style keyword arguments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type BoundTask, Celery, ConfigurationError, EagerResult, RemoteError } from "../../mod.ts";
import { uniqueName } from "../services.ts";

function memoryApp(main = "proj"): Celery {
  const url = `memory://${uniqueName("tasks")}`;
  return new Celery(main, { broker: url, backend: url, setAsCurrent: false });
}

Deno.test("a task is named <main>.<function name>; an explicit name wins", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const sum = app.task(function add2(x: number, y: number) {
    return x + y;
  }, { name: "sum-of-two-numbers" });
  assert.equal(add.name, "proj.add");
  assert.equal(sum.name, "sum-of-two-numbers");
  assert.equal(app.tasks.get("proj.add"), add);
  assert.equal(app.tasks.get("sum-of-two-numbers"), sum);
  assert.equal(app.tasks.get("proj.add2"), undefined);
  assert.deepEqual(app.tasks.names(), ["proj.add", "sum-of-two-numbers"]);
});

Deno.test("a function without a name is a clear error", async () => {
  await using app = memoryApp();
  const anonymous = [(x: number) => x][0];
  assert.equal(anonymous.name, "");
  assert.throws(
    () => app.task(anonymous),
    (error: unknown) =>
      error instanceof ConfigurationError && /needs a name/.test(error.message) &&
      /\{ name: "…" \}/.test(error.message),
  );
  // With an explicit name the same function is accepted.
  assert.equal(app.task(anonymous, { name: "proj.identity" }).name, "proj.identity");
});

Deno.test("two tasks with one name in one app are an error naming it", async () => {
  await using app = memoryApp();
  app.task(function add(x: number, y: number) {
    return x + y;
  });
  assert.throws(
    () =>
      app.task(function add(x: number) {
        return x;
      }),
    (error: unknown) =>
      error instanceof ConfigurationError && error.taskName === "proj.add" &&
      error.message.includes('"proj.add" is already registered'),
  );
  // Another app may use the same name.
  await using other = memoryApp();
  assert.equal(
    other.task(function add(x: number) {
      return x;
    }).name,
    "proj.add",
  );
});

Deno.test("tasks are typed by their function", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  // Only type checking is exercised here: the calls below are never made.
  const neverCalled = async () => {
    // @ts-expect-error: "a" is not a number
    await add.delay("a", 1);
    // @ts-expect-error: too few arguments
    await add.delay(1);
    const result = await add.delay(1, 2);
    const value: number = await result.get();
    // @ts-expect-error: get() is typed number, not string
    const text: string = await result.get();
    return [value, text];
  };
  assert.equal(typeof neverCalled, "function");
  const local: number = await add(2, 3);
  assert.equal(local, 5);
});

Deno.test("calling a task runs its body in this process (Celery's add(2, 3))", async () => {
  await using app = memoryApp();
  let runs = 0;
  const add = app.task(function add(x: number, y: number) {
    runs++;
    return x + y;
  });
  assert.equal(await add(2, 3), 5);
  assert.equal(runs, 1);
  // Nothing was sent: the queue is empty.
  const broker = await app.getBroker();
  assert.equal(await broker.messageCount("celery"), 0);
});

Deno.test("apply() runs eagerly and returns an EagerResult", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const fail = app.task(function fail(message: string) {
    throw new RangeError(message);
  });
  const ok = await add.apply([4, 4], { taskId: "fixed-id" });
  assert.ok(ok instanceof EagerResult);
  assert.equal(ok.id, "fixed-id");
  assert.equal(ok.taskName, "proj.add");
  assert.equal(await ok.state(), "SUCCESS");
  assert.equal(await ok.ready(), true);
  assert.equal(await ok.successful(), true);
  assert.equal(await ok.get(), 8);

  const failed = await fail.apply(["no way"]);
  assert.equal(await failed.state(), "FAILURE");
  assert.equal(await failed.failed(), true);
  await assert.rejects(() => failed.get(), (error: unknown) => {
    return error instanceof RemoteError && error.excType === "RangeError" &&
      error.message === "no way";
  });
  const returned = await failed.get({ propagate: false }) as Error;
  assert.equal(returned.message, "no way");
  assert.match((await failed.traceback()) ?? "", /RangeError: no way/);
  // A local call rethrows the error.
  await assert.rejects(() => fail("again"), /again/);
});

Deno.test("keyword arguments bind to named parameters, as in Python", async () => {
  await using app = memoryApp();
  const add = app.task(function add(x: number, y: number) {
    return x - y;
  });
  const withDefault = app.task(function scale(value: number, factor = 10) {
    return value * factor;
  });
  const options = app.task(function greet(name: string, { greeting = "Hello" } = {}) {
    return `${greeting}, ${name}`;
  });
  const arrow = app.task((a: number, b: number) => a * 100 + b, { name: "proj.arrow" });
  assert.equal(await (await add.apply([], { kwargs: { x: 10, y: 3 } })).get(), 7);
  assert.equal(await (await add.apply([], { kwargs: { y: 3, x: 10 } })).get(), 7);
  assert.equal(await (await add.apply([10], { kwargs: { y: 4 } })).get(), 6);
  assert.equal(await (await withDefault.apply([2])).get(), 20);
  assert.equal(await (await withDefault.apply([2], { kwargs: { factor: 3 } })).get(), 6);
  assert.equal(
    await (await options.apply(["Ada"], { kwargs: { greeting: "Hi" } })).get(),
    "Hi, Ada",
  );
  assert.equal(await (await arrow.apply([], { kwargs: { b: 2, a: 1 } })).get(), 102);

  const unknown = await add.apply([1, 2], { kwargs: { z: 1 } });
  await assert.rejects(
    () => unknown.get(),
    (error: unknown) =>
      error instanceof RemoteError && error.excType === "TypeError" &&
      error.message === "proj.add() got an unexpected keyword argument 'z'",
  );
  const twice = await add.apply([1], { kwargs: { x: 1 } });
  await assert.rejects(
    () => twice.get(),
    /proj\.add\(\) got multiple values for argument 'x'/,
  );
});

Deno.test("argNames names the parameters when they cannot be read", async () => {
  await using app = memoryApp();
  const body = (...values: number[]) => values[0] - values[1];
  const sub = app.task(body, { name: "proj.sub", argNames: ["x", "y"] });
  assert.deepEqual(sub.paramNames, ["x", "y"]);
  assert.equal(await (await sub.apply([], { kwargs: { y: 1, x: 5 } })).get(), 4);
});

Deno.test("a bound task gets itself as `self`, with its request", async () => {
  await using app = memoryApp();
  const whoami = app.task(function whoami(self: BoundTask, tag: string) {
    return `${self.name}:${self.request.id}:${tag}:${self.request.isEager}`;
  }, { bind: true });
  assert.deepEqual(whoami.paramNames, ["tag"]);
  const result = await whoami.apply([], { taskId: "t-1", kwargs: { tag: "x" } });
  assert.equal(await result.get(), "proj.whoami:t-1:x:true");
});
