import assert from "node:assert/strict";
import { NotRegistered, ProtocolError, TaskRevokedError, TimeoutError } from "../errors.ts";
import { encodeException, formatTraceback, isEncodedException, RemoteError } from "./exceptions.ts";

Deno.test("encodeException: Python builtins, Celery's classes, or a synthesized name", () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });
  const cases: [unknown, string, string, unknown[]][] = [
    [named("ValueError", "boom"), "ValueError", "builtins", ["boom"]],
    [new TypeError("t"), "TypeError", "builtins", ["t"]],
    [new Error("plain"), "Exception", "builtins", ["plain"]],
    [new RangeError("r"), "RangeError", "celeriac.errors", ["r"]],
    [Object.assign(named("MyError", "a"), { args: ["a", 1] }), "MyError", "celeriac.errors", [
      "a",
      1,
    ]],
    [new NotRegistered("tasks.nope"), "NotRegistered", "celery.exceptions", ["tasks.nope"]],
    [new TaskRevokedError("expired"), "TaskRevokedError", "celery.exceptions", ["expired"]],
    [new TimeoutError(), "TimeoutError", "celery.exceptions", ["The operation timed out."]],
    [new ProtocolError("bad"), "ProtocolError", "celeriac.errors", ["bad"]],
    ["a string", "Exception", "builtins", ["a string"]],
  ];
  for (const [error, type, module, args] of cases) {
    assert.deepEqual(encodeException(error), {
      exc_type: type,
      exc_message: args,
      exc_module: module,
    });
  }
  // Names that are SystemExit subclasses in celery.exceptions never point there.
  const shutdown = Object.assign(new ProtocolError("x"), { name: "WorkerShutdown" });
  assert.equal(encodeException(shutdown).exc_module, "celeriac.errors");
});

Deno.test("RemoteError rebuilds a stored exception and re-encodes it unchanged", () => {
  const encoded = { exc_type: "ValueError", exc_message: ["boom", 42], exc_module: "builtins" };
  const error = new RemoteError(encoded, "Traceback ...\n", "id-1");
  assert.deepEqual([error.name, error.excArgs, error.taskId], ["ValueError", ["boom", 42], "id-1"]);
  assert.deepEqual(encodeException(error), encoded);
  assert.equal(formatTraceback(error), "Traceback ...\n");
  const single = new RemoteError({ exc_type: "X", exc_message: "text", exc_module: "m" }, null);
  assert.deepEqual([single.message, single.excArgs], ["text", ["text"]]);
  assert.ok(isEncodedException(encoded));
  assert.ok(!isEncodedException({ exc_type: 1 }) && !isEncodedException(null));
});
