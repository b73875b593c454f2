import assert from "node:assert/strict";
import { Celery } from "../app/celery.ts";
import { chain, chord, group, signature } from "./primitives.ts";

const app = new Celery("capapp", {
  broker: "memory://",
  backend: "memory://",
  setAsCurrent: false,
});
const add = app.task(function add(x: number, y: number) {
  return x + y;
});
const mul = app.task(function mul(x: number, y: number) {
  return x * y;
});
const tsum = app.task(function tsum(numbers: number[]) {
  return numbers.reduce((a, b) => a + b, 0);
});
const onErr = app.task(function on_err(_id: string) {});

const plain = (task: string, args: unknown[], immutable = false, options = {}) => ({
  task,
  args,
  kwargs: {},
  options,
  subtask_type: null,
  immutable,
});

// The captured forms of spec §1.1 (json.dumps(sig) in Celery 5.2.6), key order included.
Deno.test("signatures serialize exactly as Celery's six-key dict", () => {
  assert.equal(
    JSON.stringify(add.s(2, 2)),
    '{"task":"capapp.add","args":[2,2],"kwargs":{},"options":{},"subtask_type":null,"immutable":false}',
  );
  assert.deepEqual(add.si(1, 1).toJSON(), plain("capapp.add", [1, 1], true));
  assert.deepEqual(
    add.s(1, 1).set({ countdown: 10, queue: "q1" }).toJSON(),
    plain("capapp.add", [1, 1], false, { countdown: 10, queue: "q1" }),
  );
  assert.deepEqual(add.signature([1, 2], { kwargs: { z: 3 }, countdown: 5 }).toJSON(), {
    ...plain("capapp.add", [1, 2], false, { countdown: 5 }),
    kwargs: { z: 3 },
  });
  assert.deepEqual(add.s(1, 1).onError(onErr.s()).toJSON().options, {
    link_error: [plain("capapp.on_err", [])],
  });
  assert.deepEqual(add.s(1).set({ routingKey: "rk", linkError: [] }).options, {
    routing_key: "rk",
    link_error: [],
  });
});

Deno.test("composite signatures serialize as Celery's chain, group and chord dicts", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(chain(add.s(1, 1), mul.s(3)))), {
    task: "celery.chain",
    args: [],
    kwargs: { tasks: [plain("capapp.add", [1, 1]), plain("capapp.mul", [3])] },
    options: {},
    subtask_type: "chain",
    immutable: false,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(group([add.s(1, 1), add.s(2, 2)]))), {
    task: "celery.group",
    args: [],
    kwargs: { tasks: [plain("capapp.add", [1, 1]), plain("capapp.add", [2, 2])] },
    options: {},
    subtask_type: "group",
    immutable: false,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(chord([add.s(1, 1), add.s(2, 2)], tsum.s()))), {
    task: "celery.chord",
    args: [],
    kwargs: {
      kwargs: {},
      header: [plain("capapp.add", [1, 1]), plain("capapp.add", [2, 2])],
      body: plain("capapp.tsum", []),
    },
    options: {},
    subtask_type: "chord",
    immutable: false,
  });
  assert.deepEqual(add.starmap([[1, 2], [3, 4]]).toJSON(), {
    task: "celery.starmap",
    args: [],
    kwargs: { task: plain("capapp.add", []), it: [[1, 2], [3, 4]] },
    options: {},
    subtask_type: null,
    immutable: true,
  });
  assert.deepEqual(add.chunks([[1, 2], [3, 4], [5, 6]], 2).toJSON().kwargs, {
    task: plain("capapp.add", []),
    it: [[1, 2], [3, 4], [5, 6]],
    n: 2,
  });
});

Deno.test("partial application and option merging (spec §1.2)", () => {
  assert.deepEqual(add.s(2).clone([3]).args, [3, 2]);
  assert.deepEqual(add.si(2, 2).clone([3]).args, [2, 2], "immutable ignores partial args");
  const withGroup = add.s(1).set({ groupId: "g1", queue: "a" });
  const [, , options] = withGroup.merge([], {}, { group_id: "g2", queue: "b" });
  assert.deepEqual(options, { group_id: "g1", queue: "b" }, "an existing group_id is kept");
});

Deno.test("`|` as pipe(): group | task is a chord; a chain ending in a group then a task too", () => {
  const upgraded = group([add.s(1), add.s(2)]).pipe(tsum.s());
  assert.equal(upgraded.subtaskType, "chord");
  const steps = chain(add.s(1, 1), group([add.s(1), add.s(2)]), tsum.s());
  const tasks = steps.kwargs.tasks as { subtaskType: string }[];
  assert.deepEqual(tasks.map((t) => t.subtaskType), [null, "chord"]);
  const unrolled = chain(add.s(1, 1), group([add.s(1)]));
  assert.deepEqual((unrolled.kwargs.tasks as { task: string }[]).map((t) => t.task), [
    "capapp.add",
    "capapp.add",
  ], "a group of one is unrolled");
});

Deno.test("signature(dict) rebuilds a Python client's canvas; malformed ones name the problem", () => {
  const dict = {
    task: "celery.chord",
    args: [],
    kwargs: {
      kwargs: {},
      header: {
        task: "celery.group",
        args: [],
        kwargs: { tasks: [plain("capapp.mul", [2]), plain("capapp.mul", [3])] },
        options: { task_id: "07d26670" },
        subtask_type: "group",
        immutable: false,
      },
      body: plain("capapp.tsum", [], false, { task_id: "9313c45e" }),
    },
    options: { task_id: "07d26670" },
    subtask_type: "chord",
    immutable: false,
  };
  const sig = signature(dict, app);
  assert.deepEqual(JSON.parse(JSON.stringify(sig)), dict, "round trip");
  assert.throws(() => signature({ args: [] }), /expected a mapping with a "task" name/);
  assert.throws(
    () => signature({ task: "celery.chain", kwargs: { tasks: 3 }, subtask_type: "chain" }),
    /its tasks are not a list/,
  );
  assert.throws(() => signature({ task: "x", args: 1 }), /args is not a list/);
});

Deno.test("freeze() gives every task of a canvas its id before anything is sent", () => {
  const steps = chain(add.s(1, 1), mul.s(3));
  const node = steps.freeze();
  const tasks = steps.kwargs.tasks as { options: Record<string, unknown> }[];
  assert.equal(node.id, tasks[1].options.task_id, "a chain's id is its last task's");
  assert.equal(node.parent?.id, tasks[0].options.task_id);
  const fanOut = group([add.s(1, 1), add.s(2, 2)]);
  const frozen = fanOut.freeze();
  assert.equal(frozen.results?.length, 2);
  assert.equal(frozen.id, fanOut.options.task_id);
});

Deno.test("group() and chain() take generators, as Celery's do", () => {
  function* adds() {
    for (let i = 0; i < 3; i++) yield add.s(i, i);
  }
  assert.equal((group(adds()).kwargs.tasks as unknown[]).length, 3);
  assert.equal((chain(adds()).kwargs.tasks as unknown[]).length, 3);
});
