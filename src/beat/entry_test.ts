import assert from "node:assert/strict";
import { addPeriodicTask, entriesFromConfig, signatureRepr, toSchedule } from "./entry.ts";
import { crontab } from "./crontab.ts";
import { ConfigurationError } from "../errors.ts";

Deno.test("addPeriodicTask names entries like Celery's signature repr", () => {
  const table = {};
  assert.equal(addPeriodicTask(table, 10, "tasks.add", { args: [2, 2] }), "tasks.add(2, 2)");
  assert.equal(
    addPeriodicTask(table, 10, { name: "tasks.echo" }, { args: ["a"], kwargs: { k: "v" } }),
    "tasks.echo('a', k='v')",
  );
  assert.equal(addPeriodicTask(table, 30, "tasks.ping"), "tasks.ping()");
  const key = addPeriodicTask(table, crontab({ hour: 7, minute: 30, dayOfWeek: 1 }), "tasks.test", {
    name: "monday morning",
    args: ["Happy Mondays!"],
    options: { queue: "q", expires: 10 },
  });
  assert.equal(key, "monday morning");
  assert.deepEqual(Object.keys(table), [
    "tasks.add(2, 2)",
    "tasks.echo('a', k='v')",
    "tasks.ping()",
    "monday morning",
  ]);
  const entry = (table as Record<string, { options: unknown; args: unknown }>)["monday morning"];
  assert.deepEqual(entry.options, { queue: "q", expires: 10 });
  assert.deepEqual(entry.args, ["Happy Mondays!"]);
  assert.equal(signatureRepr("t", [], {}), "t()");
});

Deno.test("addPeriodicTask with a signature: its args first, its kwargs and options overridden", () => {
  const table = {};
  const signature = {
    task: "tasks.mul",
    args: [2],
    kwargs: { a: 1, b: 1 },
    options: { queue: "q", priority: 1 },
  };
  const key = addPeriodicTask(table, 5, signature, {
    args: [3],
    kwargs: { b: 2 },
    options: { priority: 9 },
  });
  assert.equal(key, "tasks.mul(2, 3, a=1, b=2)");
  assert.deepEqual((table as Record<string, unknown>)[key], {
    task: "tasks.mul",
    schedule: 5,
    args: [2, 3],
    kwargs: { a: 1, b: 2 },
    options: { queue: "q", priority: 9 },
  });
  assert.deepEqual(signature.args, [2], "the signature is not modified");
  assert.throws(
    () => addPeriodicTask(table, 5, {} as never),
    (error: unknown) =>
      error instanceof ConfigurationError && /needs a task name/.test(error.message),
  );
});

Deno.test("a bad schedule is a ConfigurationError naming the entry", () => {
  for (const bad of [0, -5, "30", null, {}] as unknown[]) {
    assert.throws(
      () => toSchedule(bad as number, "my-entry"),
      (error: unknown) =>
        error instanceof ConfigurationError && error.message.includes(`"my-entry"`),
    );
  }
  assert.throws(() => addPeriodicTask({}, -1, "t"), ConfigurationError);
});

Deno.test("entriesFromConfig: defaults, copies, and a missing task name", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const args = [1];
  const entries = entriesFromConfig({ a: { task: "t.a", schedule: 5, args } }, now);
  const a = entries.get("a")!;
  assert.deepEqual([a.args, a.kwargs, a.options, a.totalRunCount], [[1], {}, {}, 0]);
  assert.equal(a.lastRunAt, now);
  a.args.push(2);
  assert.deepEqual(args, [1], "the config is not modified");
  assert.throws(
    () => entriesFromConfig({ b: { schedule: 5 } as never }, now),
    /beat_schedule entry "b": "task" must be a task name/,
  );
});
