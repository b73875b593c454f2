/**
 * Arguments that do not fit a task's parameters fail as in Python Celery:
 * `delay`/`applyAsync` throw Python's TypeError before anything is sent
 * (Celery's `typing`), and a worker receiving such a message (from a Python
 * client, or by name) stores a TypeError failure instead of running the body
 * with `undefined`. Parameters with defaults, rest and destructured ones are
 * optional; `typing: false` turns the check off.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { RemoteError } from "../../src/protocol/exceptions.ts";

function makeApp() {
  const queue = `arity-${crypto.randomUUID()}`;
  const app = new Celery("proj", {
    broker: "memory://",
    backend: "memory://",
    config: { task_default_queue: queue },
    setAsCurrent: false,
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  });
  const scale = app.task(function scale(value: number, factor = 10) {
    return value * factor;
  });
  const total = app.task(function total(first: number, ...rest: number[]) {
    return rest.reduce((sum, n) => sum + n, first);
  });
  const greet = app.task(function greet(name: string, { greeting = "Hello" } = {}) {
    return `${greeting}, ${name}`;
  });
  const loose = app.task(function loose(x: number, y: number) {
    return [x, y ?? "none"];
  }, { typing: false });
  return { app, queue, add, scale, total, greet, loose };
}

Deno.test("delay() with too few or too many arguments throws Python's TypeError", async () => {
  const { app, queue, add } = makeApp();
  try {
    await assert.rejects(
      add.delay(...([1] as unknown as [number, number])),
      { name: "TypeError", message: "proj.add() missing 1 required positional argument: 'y'" },
    );
    await assert.rejects(
      add.applyAsync([] as unknown as [number, number]),
      { message: "proj.add() missing 2 required positional arguments: 'x' and 'y'" },
    );
    await assert.rejects(
      add.applyAsync([1, 2, 3] as unknown as [number, number]),
      { name: "TypeError", message: "proj.add() takes 2 positional arguments but 3 were given" },
    );
    await assert.rejects(
      add.applyAsync([1] as unknown as [number, number], { kwargs: { z: 2 } }),
      { message: "proj.add() got an unexpected keyword argument 'z'" },
    );
    const broker = await app.getBroker();
    assert.equal(await broker.messageCount(queue), 0, "nothing was sent");
  } finally {
    await app.close();
  }
});

Deno.test("keyword arguments, defaults, rest and destructured parameters pass the check", async () => {
  const { app, queue, add, scale, total, greet } = makeApp();
  try {
    await add.applyAsync([1] as unknown as [number, number], { kwargs: { y: 2 } });
    await add.applyAsync([] as unknown as [number, number], { kwargs: { x: 1, y: 2 } });
    await scale.delay(3);
    await total.delay(1, 2, 3, 4);
    await total.delay(1);
    await greet.delay("Ada");
    const broker = await app.getBroker();
    assert.equal(await broker.messageCount(queue), 6);
  } finally {
    await app.close();
  }
});

Deno.test("typing: false sends any arguments, and the worker runs the body with them", async () => {
  const { app, loose } = makeApp();
  try {
    const worker = await app.worker({ pool: "solo", banner: false });
    try {
      const result = await loose.applyAsync([1] as unknown as [number, number]);
      assert.deepEqual(await result.get({ timeout: 10 }), [1, "none"]);
    } finally {
      await worker.stop();
    }
  } finally {
    await app.close();
  }
});

Deno.test("a worker fails a message whose arguments do not fit with Python's TypeError", async () => {
  const { app } = makeApp();
  try {
    const worker = await app.worker({ pool: "solo", banner: false });
    try {
      // By name, as a Python client would send it: no check on the sending side.
      const missing = await app.sendTask("proj.add", [1]);
      const error = await missing.get({ timeout: 10, propagate: false });
      assert.ok(error instanceof RemoteError);
      assert.equal(error.excType, "TypeError");
      assert.equal(error.message, "proj.add() missing 1 required positional argument: 'y'");
      const extra = await app.sendTask("proj.add", [1, 2, 3]);
      const tooMany = await extra.get({ timeout: 10, propagate: false }) as Error;
      assert.equal(tooMany.message, "proj.add() takes 2 positional arguments but 3 were given");
      assert.equal(await extra.state(), "FAILURE");
    } finally {
      await worker.stop();
    }
  } finally {
    await app.close();
  }
});
