/**
 * Result documents: the ones a real Python 5.2.6 worker wrote (fixtures) read
 * here, celeriac's documents have the same layout, and Python's client code
 * (decode_result / meta_from_decoded / exception_to_python, AsyncResult.get)
 * rebuilds the right exception class from what celeriac stores.
 */

import assert from "node:assert/strict";
import type { ResultMeta } from "../src/backend/types.ts";
import * as errors from "../src/errors.ts";
import { encodeException, isEncodedException, RemoteError } from "../src/protocol/exceptions.ts";
import { parseJson, stringifyJson } from "../src/protocol/json_content.ts";
import { buildResultMeta, errorResultMeta } from "../src/protocol/result_meta.ts";
import { fixtureNames, readFixture, type ResultFixture } from "./fixtures/protocol_fixtures.ts";
import { okValue, runPython } from "./protocol_python/harness.ts";

const NAIVE_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

function stored(name: string): { fixture: ResultFixture; meta: ResultMeta } {
  const fixture = readFixture<ResultFixture>(`result_${name}`);
  return { fixture, meta: parseJson(fixture.raw) as ResultMeta };
}

function pyError(name: string, args: unknown[]): Error {
  return Object.assign(new Error(String(args[0])), { name, args });
}

Deno.test("result fixtures: every state a Python worker wrote reads here", () => {
  assert.deepEqual(fixtureNames("result_"), [
    "result_failure",
    "result_not_registered",
    "result_retry",
    "result_revoked_expired",
    "result_success",
  ]);
  const success = stored("success");
  assert.deepEqual(
    [success.meta.status, success.meta.result, success.meta.task_id, success.meta.traceback],
    ["SUCCESS", 5, success.fixture.task_id, null],
  );
  assert.match(success.meta.date_done!, NAIVE_UTC);
  const cases: [string, string, string, unknown[], string][] = [
    ["failure", "FAILURE", "ValueError", ["boom", 42], "builtins"],
    ["not_registered", "FAILURE", "NotRegistered", ["tasks.nope"], "celery.exceptions"],
    ["revoked_expired", "REVOKED", "TaskRevokedError", ["expired"], "celery.exceptions"],
    ["retry", "RETRY", "KeyError", ["later"], "builtins"],
  ];
  for (const [name, state, type, args, module] of cases) {
    const { fixture, meta } = stored(name);
    assert.equal(meta.status, state, name);
    assert.equal(meta.task_id, fixture.task_id);
    assert.ok(isEncodedException(meta.result), name);
    const error = new RemoteError(meta.result, meta.traceback, meta.task_id);
    assert.deepEqual([error.name, error.excArgs, error.excModule], [type, args, module], name);
    assert.deepEqual(encodeException(error), meta.result, `${name}: re-encodes unchanged`);
    if (state === "RETRY") assert.equal(meta.date_done, null);
    else assert.match(meta.date_done!, NAIVE_UTC);
  }
  assert.match(stored("failure").meta.traceback!, /ValueError: \('boom', 42\)\n$/);
});

Deno.test("result documents: celeriac writes Python's layout and encodings", () => {
  const context = { taskId: "eeeeeeee-0000-4000-8000-000000000001" };
  const ours: [string, ResultMeta][] = [
    ["success", buildResultMeta(context, "SUCCESS", 5)],
    ["failure", errorResultMeta(context, "FAILURE", pyError("ValueError", ["boom", 42]))],
    [
      "not_registered",
      errorResultMeta(context, "FAILURE", new errors.NotRegistered("tasks.nope"), false),
    ],
    [
      "revoked_expired",
      errorResultMeta(context, "REVOKED", new errors.TaskRevokedError("expired"), false),
    ],
    ["retry", errorResultMeta(context, "RETRY", pyError("KeyError", ["later"]))],
  ];
  for (const [name, meta] of ours) {
    const theirs = stored(name).meta;
    assert.deepEqual(Object.keys(meta), Object.keys(theirs), `${name}: keys and order`);
    assert.deepEqual(meta.result, theirs.result, `${name}: result`);
    assert.equal(meta.status, theirs.status);
    assert.equal(meta.date_done === null, theirs.date_done === null, `${name}: date_done`);
    if (meta.date_done) assert.match(meta.date_done, NAIVE_UTC);
  }
  const grouped = buildResultMeta(
    { ...context, groupId: "g", parentId: "p" },
    "SUCCESS",
    1,
  );
  assert.deepEqual(Object.keys(grouped), [
    "status",
    "result",
    "traceback",
    "children",
    "date_done",
    "group_id",
    "parent_id",
    "task_id",
  ]);
});

interface PythonResultView {
  state: string;
  ready: boolean;
  traceback: string | null;
  date_done: string | null;
  result?: unknown;
  get?: unknown;
  exception?: { class: string; module: string; args: unknown[]; is_builtin: boolean };
  raised?: [string, string, boolean] | null;
}

class MyCustomError extends Error {
  args = ["custom", 42];
  constructor() {
    super("custom");
    this.name = "MyCustomError";
  }
}

const NOW = new Date(Date.UTC(2026, 10, 22, 3, 30, 12, 95));

/** [label, document, expected Python class (module, qualname), args or undefined for any] */
const EXCEPTION_CASES: [string, ResultMeta, [string, string], unknown[] | undefined][] = [
  [
    "ValueError stays ValueError",
    errorResultMeta({ taskId: "t1" }, "FAILURE", pyError("ValueError", ["boom"])),
    ["builtins", "ValueError"],
    ["boom"],
  ],
  [
    "JS TypeError is Python's TypeError",
    errorResultMeta({ taskId: "t2" }, "FAILURE", new TypeError("bad type")),
    ["builtins", "TypeError"],
    ["bad type"],
  ],
  [
    "plain Error is Exception",
    errorResultMeta({ taskId: "t3" }, "FAILURE", new Error("plain")),
    ["builtins", "Exception"],
    ["plain"],
  ],
  [
    "NotRegistered from celery.exceptions",
    errorResultMeta({ taskId: "t4" }, "FAILURE", new errors.NotRegistered("tasks.nope"), false),
    ["celery.exceptions", "NotRegistered"],
    ["tasks.nope"],
  ],
  [
    "unknown JS error name becomes a synthesized class of that name",
    errorResultMeta({ taskId: "t5" }, "FAILURE", new MyCustomError()),
    ["celery.exceptions", "MyCustomError"],
    ["custom", 42],
  ],
  [
    "REVOKED expired is TaskRevokedError",
    errorResultMeta({ taskId: "t6" }, "REVOKED", new errors.TaskRevokedError("expired"), false),
    ["celery.exceptions", "TaskRevokedError"],
    ["expired"],
  ],
  [
    "RETRY state holds the cause",
    errorResultMeta({ taskId: "t7" }, "RETRY", pyError("KeyError", ["later"])),
    ["builtins", "KeyError"],
    ["later"],
  ],
];

/** Every error class celeriac defines, as Python rebuilds it: [label, error, module, class]. */
const CELERIAC_ERRORS: [string, Error, string, string][] = [
  ["CeleriacError", new errors.CeleriacError("x"), "celery.exceptions", "CeleriacError"],
  [
    "ConfigurationError",
    new errors.ConfigurationError("x"),
    "celery.exceptions",
    "ConfigurationError",
  ],
  ["ProtocolError", new errors.ProtocolError("x"), "celery.exceptions", "ProtocolError"],
  [
    "ContentDisallowed",
    new errors.ContentDisallowed("x"),
    "celery.exceptions",
    "ContentDisallowed",
  ],
  [
    "BrokerConnectionError",
    new errors.BrokerConnectionError("x"),
    "celery.exceptions",
    "BrokerConnectionError",
  ],
  ["TimeoutError", new errors.TimeoutError(), "celery.exceptions", "TimeoutError"],
  ["NoResultBackendError", new errors.NoResultBackendError(), "builtins", "NotImplementedError"],
  [
    "TimeLimitExceeded",
    new errors.TimeLimitExceeded(60),
    "billiard.exceptions",
    "TimeLimitExceeded",
  ],
  [
    "SoftTimeLimitExceeded",
    new errors.SoftTimeLimitExceeded(5),
    "billiard.exceptions",
    "SoftTimeLimitExceeded",
  ],
  ["WorkerLostError", new errors.WorkerLostError("x"), "billiard.exceptions", "WorkerLostError"],
  [
    "MaxRetriesExceededError",
    new errors.MaxRetriesExceededError("x"),
    "celery.exceptions",
    "MaxRetriesExceededError",
  ],
  ["Retry", new errors.Retry("x"), "celery.exceptions", "Retry"],
  ["Reject", new errors.Reject("x"), "celery.exceptions", "Reject"],
  ["Ignore", new errors.Ignore("x"), "celery.exceptions", "Ignore"],
];

Deno.test("Python's client rebuilds the right exception from celeriac's documents", async (t) => {
  const success = buildResultMeta({ taskId: "t0" }, "SUCCESS", { n: 2n ** 70n, s: "ü" }, null, NOW);
  const documents = [
    success,
    ...EXCEPTION_CASES.map(([, doc]) => doc),
    ...CELERIAC_ERRORS.map(([, error], i) =>
      errorResultMeta({ taskId: `c${i}` }, "FAILURE", error)
    ),
  ];
  const answers = await runPython<PythonResultView>(
    documents.map((doc) => ({ op: "result", task_id: doc.task_id, raw: stringifyJson(doc) })),
  );
  await t.step("SUCCESS: value, state and date_done", () => {
    const view = okValue(answers[0], "success");
    assert.deepEqual([view.state, view.ready, view.result, view.get], [
      "SUCCESS",
      true,
      { n: 2n ** 70n, s: "ü" },
      { n: 2n ** 70n, s: "ü" },
    ]);
    assert.equal(view.date_done, "2026-11-22T03:30:12.095000");
  });
  for (const [i, [label, doc, [module, name], args]] of EXCEPTION_CASES.entries()) {
    await t.step(label, () => {
      const view = okValue(answers[i + 1], label);
      assert.equal(view.state, doc.status);
      assert.deepEqual([view.exception?.module, view.exception?.class], [module, name]);
      if (args) assert.deepEqual(view.exception?.args, args);
      assert.equal(view.traceback, doc.traceback);
      if (doc.status === "RETRY") assert.equal(view.ready, false);
      else assert.deepEqual(view.raised, [module, name, true], "AsyncResult.get() raises it");
    });
  }
  for (const [j, [label, , module, name]] of CELERIAC_ERRORS.entries()) {
    await t.step(`celeriac ${label} → ${module}.${name}`, () => {
      const view = okValue(answers[1 + EXCEPTION_CASES.length + j], label);
      assert.deepEqual([view.exception?.module, view.exception?.class], [module, name]);
      assert.equal(view.raised?.[1], name, "no SecurityError");
    });
  }
});
