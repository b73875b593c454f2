/**
 * Golden fixtures captured from Python Celery 5.2.6: every captured message
 * decodes with every field right, and what celeriac encodes for the same call
 * has the same headers (keys and order), properties and body shape.
 */

import assert from "node:assert/strict";
import {
  decodeTaskMessage,
  encodeTaskMessage,
  type TaskCall,
} from "../src/protocol/task_message.ts";
import { acceptedContentTypes, parseJson } from "../src/protocol/json_content.ts";
import type { WireMessage } from "../src/broker/types.ts";
import {
  type AmqpFixture,
  amqpToWire,
  fixtureNames,
  messageFixture,
  readFixture,
} from "./fixtures/protocol_fixtures.ts";

const JSON_ONLY = acceptedContentTypes(["json"]);
const CELERY_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function decodeAll(name: string): { calls: TaskCall[]; wires: WireMessage[]; resultId: string } {
  const { fixture, wires } = messageFixture(name);
  assert.equal(fixture.captured_with.celery, "5.2.6");
  return {
    calls: wires.map((w) => decodeTaskMessage(w, JSON_ONLY)),
    wires,
    resultId: fixture.result_id,
  };
}

function only(name: string): { call: TaskCall; wire: WireMessage; resultId: string } {
  const { calls, wires, resultId } = decodeAll(name);
  assert.equal(calls.length, 1, `${name}: one message captured`);
  return { call: calls[0], wire: wires[0], resultId };
}

/** Python's datetime (µs) as JavaScript keeps it (ms, truncated). */
function pythonInstant(iso: string, plusSeconds = 0): number {
  const [, head, micros = "0"] = /^(.*?\d\d:\d\d:\d\d)(?:\.(\d+))?\+00:00$/.exec(iso)!;
  return Date.parse(`${head}Z`) + Math.floor(Number(micros.padEnd(6, "0")) / 1000) +
    plusSeconds * 1000;
}

const EMPTY_EMBED = { callbacks: null, errbacks: null, chain: null, chord: null };

Deno.test("fixtures: plain add decodes with every field", () => {
  const { call, wire } = only("plain_add");
  const id = "55555555-5555-4555-8555-555555555555";
  assert.deepEqual({ ...call, origin: "", replyTo: "" }, {
    id,
    task: "tasks.add",
    args: [2, 3],
    kwargs: {},
    embed: EMPTY_EMBED,
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: "",
    ignoreResult: false,
    argsrepr: "(2, 3)",
    kwargsrepr: "{}",
    customHeaders: {},
    replyTo: "",
    correlationId: id,
    priority: 0,
    deliveryMode: 2,
  });
  assert.match(call.origin, /^gen\d+@/);
  assert.equal(call.replyTo, wire.properties.replyTo);
  assert.match(call.replyTo, /^[0-9a-f-]{36}$/);
});

Deno.test("fixtures: countdown, expires, priority and custom headers", () => {
  const { fixture } = messageFixture("countdown_expires_priority_headers");
  const { call, wire } = only("countdown_expires_priority_headers");
  const [before, after] = fixture.sent_between;
  assert.ok(call.eta && call.expires);
  assert.ok(call.eta.getTime() >= pythonInstant(before, 10) - 1, "eta >= send time + 10 s");
  assert.ok(call.eta.getTime() <= pythonInstant(after, 10), "eta <= send time + 10 s");
  assert.equal(call.expires.getTime() - call.eta.getTime(), 50_000);
  assert.equal(call.eta.getTime(), pythonInstant(wire.headers.eta as string));
  assert.equal(call.priority, 7);
  assert.equal(wire.properties.expiration, "60000");
  assert.deepEqual(call.customHeaders, { "x-custom": "hello", "x-number": 1, "x-list": [1, "a"] });
});

Deno.test("fixtures: explicit aware and naive eta/expires are exact instants (naive = UTC)", () => {
  const aware = only("explicit_eta_expires").call;
  assert.equal(aware.eta?.getTime(), Date.UTC(2030, 0, 2, 3, 4, 5, 123));
  assert.equal(aware.expires?.getTime(), Date.UTC(2030, 0, 2, 4, 0, 0));
  assert.equal(only("naive_eta").call.eta?.getTime(), Date.UTC(2030, 0, 2, 3, 4, 5));
});

Deno.test("fixtures: kwargs and unicode arguments", () => {
  const kw = only("kwargs").call;
  assert.deepEqual([kw.task, kw.args, kw.kwargs], [
    "tasks.echo",
    [1],
    { a: 1, b: [1, 2], c: { d: null }, e: 1.5 },
  ]);
  assert.equal(kw.kwargsrepr, "{'a': 1, 'b': [1, 2], 'c': {'d': None}, 'e': 1.5}");
  const uni = only("unicode_args").call;
  assert.deepEqual(uni.args, ["ü€😀", "日本語", "it's", "a\nb", "tab\there"]);
  assert.deepEqual(uni.kwargs, { "ключ": "значение", emoji: "🎉" });
  assert.equal(uni.argsrepr, "('ü€😀', '日本語', 'it\\'s', 'a\nb', 'tab\there')");
});

Deno.test("fixtures: link, link_error and time limits [hard, soft]", () => {
  const { call } = only("link_timelimits");
  assert.deepEqual(call.timeLimit, [60, 50]);
  const sig = (task: string, args: unknown[]) => ({
    task,
    args,
    kwargs: {},
    options: {},
    subtask_type: null,
    immutable: false,
  });
  assert.deepEqual(call.embed, {
    callbacks: [sig("tasks.add", [10])],
    errbacks: [sig("tasks.echo", ["err"])],
    chain: null,
    chord: null,
  });
});

Deno.test("fixtures: retries, root/parent, shadow, ignore_result, group/group_index", () => {
  const { call } = only("workflow_fields");
  assert.deepEqual(
    [
      call.retries,
      call.rootId,
      call.parentId,
      call.shadow,
      call.ignoreResult,
      call.group,
      call.groupIndex,
    ],
    [
      3,
      "77777777-0000-4000-8000-000000000001",
      "77777777-0000-4000-8000-000000000002",
      "add-alias",
      true,
      "77777777-0000-4000-8000-000000000003",
      4,
    ],
  );
  assert.notEqual(call.id, call.rootId);
});

Deno.test("fixtures: chain rides in embed.chain, last step first", () => {
  const { call, resultId } = only("chain");
  assert.deepEqual(call.args, [1, 2]);
  const chain = call.embed.chain!;
  assert.deepEqual(chain.map((s) => [s.task, s.args]), [["tasks.add", [4]], ["tasks.add", [3]]]);
  assert.equal(chain[0].options.task_id, resultId, "the client waits on the last step");
  for (const step of chain) {
    assert.match(String(step.options.task_id), UUID);
    assert.equal(step.options.reply_to, call.replyTo);
  }
});

Deno.test("fixtures: group members share the group id, no group_index", () => {
  const { calls, resultId } = decodeAll("group");
  assert.deepEqual(calls.map((c) => c.args), [[1, 1], [2, 2]]);
  assert.equal(calls[0].group, resultId);
  for (const call of calls) {
    assert.equal(call.group, calls[0].group);
    assert.equal(call.groupIndex, null);
    assert.equal(call.rootId, call.id);
    assert.deepEqual(call.embed, EMPTY_EMBED);
  }
});

Deno.test("fixtures: chord header members carry group_index and the chord body", () => {
  const { calls, resultId } = decodeAll("chord");
  assert.deepEqual(calls.map((c) => [c.args, c.groupIndex]), [[[1, 1], 0], [[2, 2], 1]]);
  for (const call of calls) {
    assert.match(call.group!, UUID);
    assert.equal(call.group, calls[0].group);
    assert.equal(call.embed.chord?.task, "tasks.tsum");
    assert.equal(call.embed.chord?.options.task_id, resultId);
    assert.equal(call.embed.chord?.subtask_type, null);
  }
});

Deno.test("fixtures: nested canvas (chain into a chord, linked group) keeps its structure", () => {
  const { call, resultId } = only("nested_canvas");
  const [chordSig] = call.embed.chain!;
  assert.equal(chordSig.task, "celery.chord");
  assert.equal(chordSig.subtask_type, "chord");
  const header = chordSig.kwargs.header as {
    subtask_type: string;
    kwargs: { tasks: { args: unknown[] }[] };
  };
  assert.equal(header.subtask_type, "group");
  assert.deepEqual(header.kwargs.tasks.map((t) => t.args), [[3], [4]]);
  assert.equal(
    (chordSig.kwargs.body as { options: { task_id: string } }).options.task_id,
    resultId,
  );
  const [link] = chordSig.options.link as {
    subtask_type: string;
    kwargs: { tasks: { immutable: boolean }[] };
  }[];
  assert.equal(link.subtask_type, "group");
  assert.ok(link.kwargs.tasks.every((t) => t.immutable));
});

Deno.test("fixtures: the RabbitMQ basic_get capture decodes like the Redis one", () => {
  const fixture = readFixture<AmqpFixture>("message_amqp_plain_add");
  const call = decodeTaskMessage(amqpToWire(fixture), JSON_ONLY);
  assert.deepEqual([call.id, call.task, call.args, call.rootId, call.argsrepr], [
    "66666666-6666-4666-8666-666666666666",
    "tasks.add",
    [2, 3],
    "66666666-6666-4666-8666-666666666666",
    "(2, 3)",
  ]);
  assert.equal(fixture.delivery_info.exchange, "", "published to the default exchange");
  assert.match(fixture.delivery_info.routing_key, /^celeriac-capture-/, "routing key = queue name");
  const redis = messageFixture("plain_add").wires[0];
  assert.deepEqual(Object.keys(fixture.properties.application_headers), Object.keys(redis.headers));
});

// ---- encode: celeriac's message for the same call has Python's shape ----

/** Re-encodes a decoded call with reprs left for celeriac to compute. */
function reencode(call: TaskCall): WireMessage {
  return encodeTaskMessage({ ...call, argsrepr: "", kwargsrepr: "" });
}

/**
 * Python shows args as a list when the caller passed a list (`args=[1]` → `[1]`);
 * celeriac's args are always shown as the tuple form (`(1,)`), like `apply_async((1,))`.
 */
function tupleForm(key: string, value: unknown, args: unknown[]): unknown {
  if (key !== "argsrepr" || typeof value !== "string" || !value.startsWith("[")) return value;
  return `(${value.slice(1, -1)}${args.length === 1 ? "," : ""})`;
}

const ALL_MESSAGES = fixtureNames("message_").filter((n) => n !== "message_amqp_plain_add");

Deno.test("fixtures: at least the twelve captured call shapes are present", () => {
  assert.ok(ALL_MESSAGES.length >= 12, ALL_MESSAGES.join(", "));
});

for (const name of ALL_MESSAGES) {
  Deno.test(`encode matches Python's shape: ${name}`, () => {
    const { wires } = messageFixture(name.slice("message_".length));
    for (const wire of wires) {
      const call = decodeTaskMessage(wire, JSON_ONLY);
      const ours = reencode(call);
      // Header keys, in Python's order, then custom headers.
      assert.deepEqual(Object.keys(ours.headers), Object.keys(wire.headers));
      for (const [key, value] of Object.entries(wire.headers)) {
        if (key === "eta" || key === "expires") continue;
        assert.deepEqual(ours.headers[key], tupleForm(key, value, call.args), `header ${key}`);
      }
      for (const key of ["eta", "expires"] as const) {
        const theirs = wire.headers[key] as string | null;
        if (theirs === null) {
          assert.equal(ours.headers[key], null);
          continue;
        }
        assert.match(ours.headers[key] as string, CELERY_DATE);
        const instant = theirs.endsWith("+00:00")
          ? pythonInstant(theirs)
          : Date.parse(`${theirs}Z`);
        assert.equal(Date.parse(ours.headers[key] as string), instant, key);
      }
      const p = wire.properties;
      assert.deepEqual(
        [
          ours.properties.correlationId,
          ours.properties.replyTo,
          ours.properties.deliveryMode,
          ours.properties.priority,
        ],
        [p.correlationId, p.replyTo, p.deliveryMode, p.priority],
      );
      assert.equal(
        ours.properties.expiration === undefined,
        p.expiration === undefined,
        "expiration",
      );
      assert.deepEqual([ours.contentType, ours.contentEncoding], [
        wire.contentType,
        wire.contentEncoding,
      ]);
      const theirBody = parseJson(new TextDecoder().decode(wire.body)) as unknown[];
      const ourBody = parseJson(new TextDecoder().decode(ours.body)) as unknown[];
      assert.deepEqual(ourBody, theirBody);
      assert.deepEqual(Object.keys(ourBody[2] as object), [
        "callbacks",
        "errbacks",
        "chain",
        "chord",
      ]);
    }
  });
}

Deno.test("encode: a countdown's expiration property is the milliseconds left", () => {
  const { call } = only("countdown_expires_priority_headers");
  const now = Date.now();
  const ours = encodeTaskMessage({ ...call, expires: new Date(now + 60_000) });
  const ms = Number(ours.properties.expiration);
  assert.ok(ms > 59_000 && ms <= 60_000, String(ms));
  const past = encodeTaskMessage({ ...call, expires: new Date(now - 5_000) });
  assert.equal(past.properties.expiration, "0");
});
