/**
 * celeriac → Python: messages celeriac encodes are read by Python Celery
 * 5.2.6's own worker code (kombu Message → celery.worker.request.Request →
 * Request.execute → trace_task), which sees the right task, id, args, kwargs,
 * eta, expires, time limits and headers, and sends callbacks / the next chain
 * step as a Python worker does. One Python run for every case.
 */

import assert from "node:assert/strict";
import { emptyEmbed, encodeTaskMessage, type TaskCall } from "../src/protocol/task_message.ts";
import { pythonRepr } from "../src/protocol/python_repr.ts";
import { okValue, runPython, toBase64 } from "./protocol_python/harness.ts";

interface PythonView {
  id: string;
  name: string;
  task_name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  args_repr: string;
  eta: string | null;
  expires: string | null;
  time_limits: [number | null, number | null];
  root_id: string;
  parent_id: string | null;
  argsrepr: string;
  kwargsrepr: string;
  ignore_result: boolean;
  group: string | null;
  group_index: number | null;
  chord: Record<string, unknown> | null;
  errbacks: unknown[] | null;
  reply_to: string;
  correlation_id: string;
  priority: number;
  expired: boolean;
  retval?: unknown;
  seen?: {
    args: unknown[];
    kwargs: Record<string, unknown>;
    request: Record<string, unknown>;
    custom: Record<string, unknown>;
  };
  published?: {
    task: string;
    headers: Record<string, unknown>;
    body: [unknown[], unknown, Record<string, unknown>];
  }[];
}

let counter = 0;
function call(overrides: Partial<TaskCall>): TaskCall {
  const id = `99999999-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
  return {
    id,
    task: "tasks.record",
    args: [],
    kwargs: {},
    embed: emptyEmbed(),
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: "celeriac@test",
    ignoreResult: false,
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: {},
    replyTo: "reply-celeriac",
    correlationId: id,
    priority: 0,
    deliveryMode: 2,
    ...overrides,
  };
}

const sig = (task: string, args: unknown[], options: Record<string, unknown> = {}) => ({
  task,
  args,
  kwargs: {},
  options,
  subtask_type: null,
  immutable: false,
});

const FUTURE_ETA = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
const FUTURE_EXPIRES = new Date(Date.UTC(2030, 0, 2, 4, 0, 0, 1));

interface Case {
  label: string;
  call: TaskCall;
  custom?: string[];
  check: (view: PythonView, call: TaskCall) => void;
}

const CASES: Case[] = [
  {
    label: "plain call",
    call: call({ args: [2, 3] }),
    check: (v, c) => {
      assert.deepEqual([v.id, v.name, v.task_name, v.args, v.kwargs], [
        c.id,
        c.task,
        c.task,
        [2, 3],
        {},
      ]);
      assert.deepEqual([v.eta, v.expires, v.time_limits], [null, null, [null, null]]);
      assert.deepEqual([v.root_id, v.parent_id, v.argsrepr, v.kwargsrepr], [
        c.id,
        null,
        "(2, 3)",
        "{}",
      ]);
      assert.deepEqual([v.reply_to, v.correlation_id, v.priority], ["reply-celeriac", c.id, 0]);
      assert.deepEqual(v.retval, { ran: "tasks.record" });
      assert.deepEqual(v.seen?.args, [2, 3]);
      assert.deepEqual(v.published, []);
    },
  },
  {
    label: "every header field",
    call: call({
      task: "tasks.record_all",
      args: [1],
      kwargs: { k: "v" },
      eta: FUTURE_ETA,
      expires: FUTURE_EXPIRES,
      retries: 2,
      timeLimit: [60, 50],
      rootId: "77777777-0000-4000-8000-0000000000a1",
      parentId: "77777777-0000-4000-8000-0000000000a2",
      group: "77777777-0000-4000-8000-0000000000a3",
      groupIndex: 5,
      shadow: "shadowed",
      ignoreResult: true,
      customHeaders: { "x-custom": "hello", "x-list": [1, "a"], "x-nested": { n: null } },
      priority: 7,
    }),
    custom: ["x-custom", "x-list", "x-nested"],
    check: (v, c) => {
      assert.equal(v.name, "shadowed", "the shadow name is the display name");
      assert.equal(v.task_name, "tasks.record_all");
      assert.equal(v.eta, "2030-01-02T03:04:05.678000+00:00");
      assert.equal(v.expires, "2030-01-02T04:00:00.001000+00:00");
      assert.deepEqual(v.time_limits, [60, 50], "Python unpacks (hard, soft) = (60, 50)");
      assert.deepEqual([v.root_id, v.parent_id, v.group, v.group_index], [
        c.rootId,
        c.parentId,
        c.group,
        5,
      ]);
      assert.deepEqual([v.ignore_result, v.priority, v.expired], [true, 7, false]);
      const r = v.seen!.request;
      assert.deepEqual([r.retries, r.timelimit, r.shadow, r.origin], [
        2,
        [60, 50],
        "shadowed",
        "celeriac@test",
      ]);
      assert.deepEqual(v.seen!.kwargs, { k: "v" });
      assert.deepEqual(v.seen!.custom, {
        "x-custom": "hello",
        "x-list": [1, "a"],
        "x-nested": { n: null },
      });
    },
  },
  {
    label: "argument shapes: unicode, nested, floats, big ints, None, booleans",
    call: call({
      args: [
        "ü€😀",
        "日本語",
        "a\nb",
        "it's",
        { a: [1, { b: null }] },
        1.5,
        -0.25,
        1e-7,
        2n ** 70n,
        null,
        true,
        false,
        "",
      ],
      kwargs: { "ключ": "значение", big: 12345678901234567890n, list: [] },
    }),
    check: (v, c) => {
      assert.deepEqual(v.args, c.args);
      assert.deepEqual(v.kwargs, c.kwargs);
      assert.equal(v.args_repr, pythonRepr(c.args), "Python's repr() of the args it decoded");
      assert.equal(v.argsrepr, encodeTaskMessage(c).headers.argsrepr);
    },
  },
  {
    label: "Date argument arrives as Celery's date text",
    call: call({ args: [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))] }),
    check: (v) => assert.deepEqual(v.args, ["2024-01-02T03:04:05.678000+00:00"]),
  },
  {
    label: "callbacks get the result prepended; parent/root set",
    call: call({
      args: [1],
      rootId: "77777777-0000-4000-8000-0000000000b1",
      embed: { ...emptyEmbed(), callbacks: [sig("tasks.record_cb", [10])] },
    }),
    check: (v, c) => {
      assert.equal(v.published?.length, 1);
      const [sent] = v.published!;
      assert.equal(sent.task, "tasks.record_cb");
      assert.deepEqual(sent.body[0], [{ ran: "tasks.record" }, 10]);
      assert.deepEqual([sent.headers.parent_id, sent.headers.root_id], [c.id, c.rootId]);
    },
  },
  {
    label: "chain: Python pops the last step and passes the rest on",
    call: call({
      args: [1],
      embed: {
        ...emptyEmbed(),
        chain: [
          sig("tasks.step3", [3], { task_id: "77777777-0000-4000-8000-0000000000c3" }),
          sig("tasks.step2", [2], { task_id: "77777777-0000-4000-8000-0000000000c2" }),
        ],
      },
    }),
    check: (v, c) => {
      assert.equal(v.published?.length, 1);
      const [sent] = v.published!;
      assert.deepEqual([sent.task, sent.headers.id], [
        "tasks.step2",
        "77777777-0000-4000-8000-0000000000c2",
      ]);
      assert.deepEqual(sent.body[0], [{ ran: "tasks.record" }, 2]);
      const chain = sent.body[2].chain as { task: string }[];
      assert.deepEqual(chain.map((s) => s.task), ["tasks.step3"]);
      assert.equal(sent.headers.parent_id, c.id);
    },
  },
  {
    label: "chord member and errbacks are visible on the request",
    call: call({
      group: "77777777-0000-4000-8000-0000000000d0",
      groupIndex: 1,
      embed: {
        ...emptyEmbed(),
        errbacks: [sig("tasks.on_error", [])],
        chord: sig("tasks.body", [], { task_id: "77777777-0000-4000-8000-0000000000d1" }),
      },
    }),
    check: (v) => {
      assert.equal((v.chord as { task: string }).task, "tasks.body");
      assert.deepEqual((v.errbacks as { task: string }[]).map((e) => e.task), ["tasks.on_error"]);
      assert.deepEqual([v.group, v.group_index], ["77777777-0000-4000-8000-0000000000d0", 1]);
    },
  },
  {
    label: "expires in the past: Python marks the task expired (REVOKED)",
    call: call({ expires: new Date(Date.now() - 60_000) }),
    check: (v) => assert.equal(v.expired, true),
  },
];

Deno.test("Python Celery's worker code reads celeriac's messages", async (t) => {
  const requests = CASES.map((c) => {
    const wire = encodeTaskMessage(c.call);
    return {
      op: "request",
      execute: true,
      custom_headers: c.custom ?? [],
      headers: wire.headers,
      properties: {
        correlation_id: wire.properties.correlationId,
        reply_to: wire.properties.replyTo,
        delivery_mode: wire.properties.deliveryMode,
        priority: wire.properties.priority,
        ...(wire.properties.expiration ? { expiration: wire.properties.expiration } : {}),
      },
      content_type: wire.contentType,
      content_encoding: wire.contentEncoding,
      body_b64: toBase64(wire.body),
    };
  });
  const answers = await runPython<PythonView>(requests);
  for (const [i, c] of CASES.entries()) {
    await t.step(c.label, () => c.check(okValue(answers[i], c.label), c.call));
  }
});
