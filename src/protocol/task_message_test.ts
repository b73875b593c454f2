import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { ContentDisallowed, ProtocolError } from "../errors.ts";
import type { WireMessage } from "../broker/types.ts";
import { acceptedContentTypes } from "./json_content.ts";
import {
  decodeTaskMessage,
  emptyEmbed,
  encodeTaskMessage,
  readBody,
  type TaskCall,
} from "./task_message.ts";

const JSON_ONLY = acceptedContentTypes(["json"]);
const ID = "aaaaaaaa-0000-4000-8000-000000000001";

function call(overrides: Partial<TaskCall> = {}): TaskCall {
  return {
    id: ID,
    task: "tasks.add",
    args: [2, 3],
    kwargs: {},
    embed: emptyEmbed(),
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: ID,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: "gen1@host",
    ignoreResult: false,
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: {},
    replyTo: "reply",
    correlationId: ID,
    priority: 0,
    deliveryMode: 2,
    ...overrides,
  };
}

function withBody(
  text: string | Uint8Array,
  headers = encodeTaskMessage(call()).headers,
): WireMessage {
  return {
    ...encodeTaskMessage(call()),
    headers,
    body: typeof text === "string" ? new TextEncoder().encode(text) : text,
  };
}

const headersWithout = (key: string) => {
  const headers = { ...encodeTaskMessage(call()).headers };
  delete headers[key];
  return headers;
};

/** [label, message, pattern the ProtocolError message must match] */
const BAD: [string, () => WireMessage, RegExp][] = [
  [
    "2-element body",
    () => withBody("[[2, 3], {}]"),
    /expected \[args, kwargs, embed\], got 2 elements/,
  ],
  ["4-element body", () => withBody("[[], {}, {}, 1]"), /got 4 elements/],
  ["object body (protocol 1 shape)", () => withBody('{"task": "tasks.add"}'), /got object/],
  ["args not a list", () => withBody('[{"a": 1}, {}, null]'), /args is not an array/],
  [
    "kwargs not a mapping",
    () => withBody("[[], [1], null]"),
    /Task keyword arguments is not a mapping/,
  ],
  ["kwargs null", () => withBody("[[], null, null]"), /keyword arguments is not a mapping/],
  ["embed a list", () => withBody("[[], {}, []]"), /the embed is not an object/],
  [
    "callbacks not a list",
    () => withBody('[[], {}, {"callbacks": "tasks.x"}]'),
    /embed "callbacks" is not a list of signatures/,
  ],
  [
    "chain of non-signatures",
    () => withBody('[[], {}, {"chain": [1, 2]}]'),
    /embed "chain" is not a list/,
  ],
  [
    "chord not a signature",
    () => withBody('[[], {}, {"chord": ["x"]}]'),
    /embed "chord" is not a signature/,
  ],
  ["missing id", () => withBody("[[], {}, null]", headersWithout("id")), /missing "id" header/],
  ["missing task", () => withBody("[[], {}, null]", headersWithout("task")), /no "task" header/],
  [
    "headers not a mapping",
    () => ({ ...withBody("[[], {}, null]"), headers: [] as unknown as Record<string, unknown> }),
    /headers are not a mapping/,
  ],
  [
    "headers null",
    () => ({ ...withBody("[[], {}, null]"), headers: null as unknown as Record<string, unknown> }),
    /headers are not a mapping/,
  ],
  [
    "invalid eta",
    () => withBody("[[], {}, null]", { ...encodeTaskMessage(call()).headers, eta: "not-a-date" }),
    /Invalid ETA value "not-a-date"/,
  ],
  [
    "invalid expires",
    () => withBody("[[], {}, null]", { ...encodeTaskMessage(call()).headers, expires: 17 }),
    /Invalid expires value 17: not a string/,
  ],
  [
    "negative retries",
    () => withBody("[[], {}, null]", { ...encodeTaskMessage(call()).headers, retries: -1 }),
    /Invalid "retries" header -1/,
  ],
  [
    "root_id not a string",
    () => withBody("[[], {}, null]", { ...encodeTaskMessage(call()).headers, root_id: 5n }),
    /Invalid "root_id" header 5: not a string/,
  ],
  [
    "body not UTF-8",
    () => withBody(new Uint8Array([0x5b, 0xc3, 0x28, 0x5d])),
    /Can't decode message body: not valid UTF-8/,
  ],
  ["body not JSON", () => withBody("[[2, 3], {}, {"), /Can't decode message body/],
  [
    "deeply nested body",
    () => withBody("[".repeat(200_000) + "]".repeat(200_000)),
    /Too deeply nested message body: deeper than 256 levels \(setting worker_max_message_depth\)/,
  ],
  [
    "args nested 4,000 deep (an 8 KB message that overflowed the stack)",
    () => withBody(`[${"[".repeat(4000)}${"]".repeat(4000)}, {}, null]`),
    /Too deeply nested message body: deeper than 256 levels/,
  ],
  [
    "headers nested 3,000 deep",
    () => {
      let deep: unknown = 1;
      for (let i = 0; i < 3000; i++) deep = { x: deep };
      return withBody("[[], {}, null]", { ...encodeTaskMessage(call()).headers, deep });
    },
    /Too deeply nested message headers: deeper than 256 levels/,
  ],
  [
    "a gzip bomb (1 MiB inflating beyond worker_max_message_size)",
    () =>
      withBody(deflateSync(new Uint8Array(80 * 1024 * 1024)), {
        ...encodeTaskMessage(call()).headers,
        compression: "application/x-gzip",
      }),
    /inflates beyond the limit of 67108864 bytes \(setting worker_max_message_size\)/,
  ],
  [
    "a body over worker_max_message_size",
    () => withBody(new Uint8Array(64 * 1024 * 1024 + 1)),
    /is 67108865 bytes, over the limit of 67108864 bytes/,
  ],
  [
    "unknown compression",
    () =>
      withBody("[[], {}, null]", {
        ...encodeTaskMessage(call()).headers,
        compression: "application/x-bz2",
      }),
    /unsupported compression/,
  ],
];

for (const [label, make, pattern] of BAD) {
  Deno.test(`decodeTaskMessage rejects: ${label}`, () => {
    assert.throws(() => decodeTaskMessage(make(), JSON_ONLY), (error: unknown) => {
      assert.ok(error instanceof ProtocolError, `${label}: ${error}`);
      assert.match(error.message, pattern);
      return true;
    });
  });
}

Deno.test("decodeTaskMessage: limits are the caller's (worker_max_message_depth/size)", () => {
  const nested = withBody(`[${"[".repeat(300)}${"]".repeat(300)}, {}, null]`);
  const limits = { maxDepth: 400, maxBytes: 1024 };
  assert.equal(decodeTaskMessage(nested, JSON_ONLY, limits).args.length, 1);
  assert.throws(
    () => decodeTaskMessage(nested, JSON_ONLY, { maxDepth: 10, maxBytes: 1024 }),
    /deeper than 10 levels/,
  );
  const text = '[["a \\"[[[[[[[[[[[[ in a string"], {}, null]';
  assert.equal(
    decodeTaskMessage(withBody(text), JSON_ONLY, { maxDepth: 3, maxBytes: 99 }).args.length,
    1,
  );
  const gzip = withBody(
    deflateSync(new TextEncoder().encode(`[["${"x".repeat(5000)}"], {}, null]`)),
    {
      ...encodeTaskMessage(call()).headers,
      compression: "application/x-gzip",
    },
  );
  assert.throws(
    () => decodeTaskMessage(gzip, JSON_ONLY, { maxDepth: 9, maxBytes: 4096 }),
    /inflates beyond/,
  );
  assert.equal(
    (decodeTaskMessage(gzip, JSON_ONLY, { maxDepth: 9, maxBytes: 8192 }).args[0] as string).length,
    5000,
  );
});

Deno.test("decodeTaskMessage: errors about one message carry its task name and id", () => {
  try {
    decodeTaskMessage(withBody("[[2, 3], {}]"), JSON_ONLY);
    assert.fail("no error");
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    assert.deepEqual([error.taskName, error.taskId], ["tasks.add", ID]);
  }
  const pickle = { ...withBody("x"), contentType: "application/x-python-serialize" };
  assert.throws(() => decodeTaskMessage(pickle, JSON_ONLY), (error: unknown) => {
    assert.ok(error instanceof ContentDisallowed);
    assert.equal(error.taskId, ID);
    assert.match(error.message, /Refusing to deserialize untrusted content of type pickle/);
    return true;
  });
});

Deno.test("decodeTaskMessage: a huge payload decodes (no size limit, no crash)", () => {
  const big = "x".repeat(8 * 1024 * 1024);
  const decoded = decodeTaskMessage(
    withBody(JSON.stringify([[big, Array(100_000).fill(1)], {}, null])),
    JSON_ONLY,
  );
  assert.equal((decoded.args[0] as string).length, big.length);
  assert.equal((decoded.args[1] as number[]).length, 100_000);
  const encoded = encodeTaskMessage(call({ args: [big] }));
  assert.ok((encoded.headers.argsrepr as string).length < 1100, "argsrepr stays short");
});

Deno.test("decodeTaskMessage: lenient where Python is (null/{} embed, absent optional headers)", () => {
  const minimal = { lang: "py", task: "tasks.add", id: ID };
  for (const embed of ["null", "{}"]) {
    const decoded = decodeTaskMessage(withBody(`[[1], {"k": 2}, ${embed}]`, minimal), JSON_ONLY);
    assert.deepEqual([decoded.args, decoded.kwargs, decoded.embed], [[1], { k: 2 }, emptyEmbed()]);
    assert.deepEqual(
      [decoded.rootId, decoded.retries, decoded.timeLimit, decoded.argsrepr, decoded.correlationId],
      [ID, 0, [null, null], "", ID],
    );
  }
});

Deno.test("decodeTaskMessage: AMQP 64-bit ints (bigint) in numeric headers are numbers", () => {
  const headers = {
    ...encodeTaskMessage(call()).headers,
    retries: 2n,
    group_index: 1n,
    timelimit: [60n, 50],
  };
  const decoded = decodeTaskMessage(withBody("[[], {}, null]", headers), JSON_ONLY);
  assert.deepEqual([decoded.retries, decoded.groupIndex, decoded.timeLimit], [2, 1, [60, 50]]);
});

Deno.test("encodeTaskMessage: Python's 16 headers in order, then custom ones", () => {
  const wire = encodeTaskMessage(call({
    eta: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)),
    timeLimit: [60, 50],
    customHeaders: { "x-custom": 1, id: "must-not-override" },
  }));
  assert.deepEqual(Object.keys(wire.headers), [
    "lang",
    "task",
    "id",
    "shadow",
    "eta",
    "expires",
    "group",
    "group_index",
    "retries",
    "timelimit",
    "root_id",
    "parent_id",
    "argsrepr",
    "kwargsrepr",
    "origin",
    "ignore_result",
    "x-custom",
  ]);
  assert.deepEqual(
    [wire.headers.id, wire.headers.eta, wire.headers.timelimit, wire.headers.argsrepr],
    [ID, "2030-01-02T03:04:05.006000+00:00", [60, 50], "(2, 3)"],
  );
  assert.equal(
    new TextDecoder().decode(wire.body),
    '[[2,3],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]',
  );
  assert.deepEqual(readBody(JSON.parse(new TextDecoder().decode(wire.body))).embed, emptyEmbed());
});

Deno.test("encodeTaskMessage then decodeTaskMessage is the identity (reprs filled in)", () => {
  const original = call({
    args: ["ü", 2n ** 70n, { a: [null] }],
    kwargs: { k: 1.5 },
    eta: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)),
    expires: new Date(Date.UTC(2030, 0, 3)),
    retries: 4,
    timeLimit: [10, 5],
    parentId: "p",
    group: "g",
    groupIndex: 2,
    shadow: "s",
    ignoreResult: true,
    customHeaders: { "x-a": [1] },
    priority: 9,
    embed: {
      ...emptyEmbed(),
      callbacks: [{
        task: "t",
        args: [],
        kwargs: {},
        options: {},
        subtask_type: null,
        immutable: true,
      }],
    },
  });
  const decoded = decodeTaskMessage(encodeTaskMessage(original), JSON_ONLY);
  assert.deepEqual(decoded, {
    ...original,
    argsrepr: "('ü', 1180591620717411303424, {'a': [None]})",
    kwargsrepr: "{'k': 1.5}",
  });
});
