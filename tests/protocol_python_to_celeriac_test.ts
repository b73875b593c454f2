/**
 * Python → celeriac: messages built by Python Celery 5.2.6's own code
 * (`app.amqp.as_task_v2` + kombu's JSON `dumps`, what `send_task` publishes)
 * for many argument shapes decode here to the right values. One Python run.
 */

import assert from "node:assert/strict";
import { decodeTaskMessage, type TaskCall } from "../src/protocol/task_message.ts";
import { acceptedContentTypes } from "../src/protocol/json_content.ts";
import { argsRepr, kwargsRepr } from "../src/protocol/python_repr.ts";
import type { WireMessage } from "../src/broker/types.ts";
import { fromBase64, okValue, runPython } from "./protocol_python/harness.ts";

interface PythonMessage {
  headers: Record<string, unknown>;
  properties: { correlation_id: string; reply_to: string };
  content_type: string;
  content_encoding: string;
  body_b64: string;
}

interface Case {
  label: string;
  args_py?: string;
  kwargs_py?: string;
  options?: Record<string, unknown>;
  compress?: boolean;
  /** What celeriac must decode. */
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** celeriac computes the same argsrepr/kwargsrepr as Python (false where a float is integral). */
  sameRepr?: boolean;
  check?: (call: TaskCall, headers: Record<string, unknown>) => void;
}

const sig = (task: string, args: unknown[], options: Record<string, unknown> = {}) => ({
  task,
  args,
  kwargs: {},
  options,
  subtask_type: null,
  immutable: false,
});

const CASES: Case[] = [
  { label: "ints", args_py: "(2, 3)", args: [2, 3], kwargs: {}, sameRepr: true },
  { label: "no args", args_py: "()", kwargs_py: "{}", args: [], kwargs: {}, sameRepr: true },
  {
    label: "unicode",
    args_py: "('ü€😀', '日本語', 'a\\nb', \"it's\", 'tab\\t', '\\x00\\x7f')",
    kwargs_py: "{'ключ': 'значение', 'emoji': '🎉'}",
    args: ["ü€😀", "日本語", "a\nb", "it's", "tab\t", "\x00\x7f"],
    kwargs: { "ключ": "значение", emoji: "🎉" },
    sameRepr: true,
  },
  {
    label: "nested objects",
    args_py: "([1, {'a': [None, True, False]}, {'nested': {'deep': [1.5, -2.25, {'x': 'y'}]}}],)",
    args: [[1, { a: [null, true, false] }, { nested: { deep: [1.5, -2.25, { x: "y" }] } }]],
    kwargs: {},
    sameRepr: true,
  },
  {
    label: "floats",
    args_py: "(0.1, 1e-07, 1e-05, 0.0001, 1.5e300, -2.5e-300, 123456.789, 1e+16, 1.0, -0.0)",
    // 1e+16, 1.0 and -0.0 are integral: JSON text keeps the float form, JavaScript has one number type.
    args: [0.1, 1e-7, 1e-5, 0.0001, 1.5e300, -2.5e-300, 123456.789, 1e16, 1, -0],
    kwargs: {},
    sameRepr: false,
    check: (call, headers) => {
      assert.equal(
        headers.argsrepr,
        "(0.1, 1e-07, 1e-05, 0.0001, 1.5e+300, -2.5e-300, 123456.789, 1e+16, 1.0, -0.0)",
      );
      assert.equal(
        argsRepr(call.args.slice(0, 7)),
        "(0.1, 1e-07, 1e-05, 0.0001, 1.5e+300, -2.5e-300, 123456.789)",
      );
    },
  },
  {
    label: "big ints survive exactly",
    args_py: "(2**70, -2**63, 2**53, 2**53 - 1, 10**30)",
    kwargs_py: "{'big': 12345678901234567890}",
    args: [2n ** 70n, -(2n ** 63n), 2n ** 53n, 2 ** 53 - 1, 10n ** 30n],
    kwargs: { big: 12345678901234567890n },
    sameRepr: true,
  },
  {
    label: "None, booleans, empties",
    args_py: "(None, True, False, '', [], {})",
    args: [null, true, false, "", [], {}],
    kwargs: {},
    sameRepr: true,
  },
  {
    label: "long args (argsrepr truncated at 1024)",
    args_py: "('x' * 3000, list(range(500)))".replace(
      "list(range(500))",
      `[${Array.from({ length: 500 }, (_, i) => i).join(", ")}]`,
    ),
    args: ["x".repeat(3000), Array.from({ length: 500 }, (_, i) => i)],
    kwargs: {},
    sameRepr: true,
  },
  {
    label: "all options",
    args_py: "(1,)",
    kwargs_py: "{'k': 'v'}",
    options: {
      eta: "2030-01-02T03:04:05.123456+00:00",
      expires: "2030-01-02T04:00:00+00:00",
      time_limit: 30,
      soft_time_limit: 20,
      retries: 2,
      root_id: "77777777-0000-4000-8000-00000000000a",
      parent_id: "77777777-0000-4000-8000-00000000000b",
      group_id: "77777777-0000-4000-8000-00000000000c",
      group_index: 3,
      shadow: "alias",
      ignore_result: true,
      origin: "gen1@py",
      reply_to: "reply-queue",
      callbacks: [sig("tasks.cb", [10])],
      errbacks: [sig("tasks.eb", [], { queue: "errors" })],
      chain: [sig("tasks.last", [3]), sig("tasks.next", [2])],
      chord: sig("tasks.body", [], { task_id: "77777777-0000-4000-8000-00000000000d" }),
    },
    args: [1],
    kwargs: { k: "v" },
    sameRepr: true,
    check: (call) => {
      assert.equal(call.eta?.getTime(), Date.UTC(2030, 0, 2, 3, 4, 5, 123));
      assert.equal(call.expires?.getTime(), Date.UTC(2030, 0, 2, 4));
      assert.deepEqual(call.timeLimit, [30, 20]);
      assert.deepEqual(
        [call.retries, call.rootId, call.parentId, call.group, call.groupIndex, call.shadow],
        [
          2,
          "77777777-0000-4000-8000-00000000000a",
          "77777777-0000-4000-8000-00000000000b",
          "77777777-0000-4000-8000-00000000000c",
          3,
          "alias",
        ],
      );
      assert.deepEqual([call.ignoreResult, call.origin, call.replyTo], [
        true,
        "gen1@py",
        "reply-queue",
      ]);
      assert.deepEqual(call.embed, {
        callbacks: [sig("tasks.cb", [10])],
        errbacks: [sig("tasks.eb", [], { queue: "errors" })],
        chain: [sig("tasks.last", [3]), sig("tasks.next", [2])],
        chord: sig("tasks.body", [], { task_id: "77777777-0000-4000-8000-00000000000d" }),
      });
      assert.deepEqual(call.customHeaders, {});
    },
  },
  {
    label: "countdown",
    args_py: "()",
    options: { countdown: 30, expires: 90 },
    args: [],
    kwargs: {},
    check: (call) => {
      const now = Date.now();
      assert.ok(Math.abs(call.eta!.getTime() - (now + 30_000)) < 5_000);
      assert.equal(call.expires!.getTime() - call.eta!.getTime(), 60_000);
    },
  },
  {
    label: "zlib-compressed body (5.2.6 result_compression quirk)",
    args_py: "('compressed', 'ü' * 100)",
    compress: true,
    args: ["compressed", "ü".repeat(100)],
    kwargs: {},
    check: (call) => assert.equal(call.customHeaders.compression, undefined),
  },
];

const JSON_ONLY = acceptedContentTypes(["json"]);

function toWire(m: PythonMessage): WireMessage {
  return {
    headers: m.headers,
    properties: { correlationId: m.properties.correlation_id, replyTo: m.properties.reply_to },
    contentType: m.content_type,
    contentEncoding: m.content_encoding,
    body: fromBase64(m.body_b64),
  };
}

Deno.test("Python as_task_v2 messages decode in celeriac", async (t) => {
  const requests = CASES.map((c, i) => ({
    op: "as_task_v2",
    id: `88888888-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: `tasks.case${i}`,
    args_py: c.args_py,
    ...(c.kwargs_py ? { kwargs_py: c.kwargs_py } : {}),
    options: c.options ?? {},
    compress: c.compress ?? false,
  }));
  const answers = await runPython<PythonMessage>(requests);
  for (const [i, c] of CASES.entries()) {
    await t.step(c.label, () => {
      const message = okValue(answers[i], c.label);
      const call = decodeTaskMessage(toWire(message), JSON_ONLY);
      assert.equal(call.id, requests[i].id);
      assert.equal(call.task, requests[i].name);
      assert.equal(call.correlationId, requests[i].id);
      assert.deepEqual(call.args, c.args);
      assert.deepEqual(call.kwargs, c.kwargs);
      assert.equal(call.argsrepr, message.headers.argsrepr);
      if (c.sameRepr) {
        assert.equal(argsRepr(call.args), message.headers.argsrepr, "argsrepr");
        assert.equal(kwargsRepr(call.kwargs), message.headers.kwargsrepr, "kwargsrepr");
      }
      c.check?.(call, message.headers);
    });
  }
});
