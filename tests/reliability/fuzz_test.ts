/**
 * Bad input never crashes a worker: on each broker, malformed messages are
 * mixed into good ones (spec §1.6 lists the ones that kill Python's worker:
 * a two-element body, a missing `id`, no content type). Each malformed one
 * is rejected without requeue (dead-lettered where the broker can: SQLite's
 * dead-letter table, a RabbitMQ dead-letter queue; Redis drops rejects and
 * keeps unparseable list elements in `<queue>.dead`), logged once with its
 * reason (one `task_rejected` signal each), and every good one completes.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { WireMessage } from "../../src/broker/types.ts";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { setupLogging, stopLogging } from "../../src/log.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";
import { openWorld, type World, type WorldKind } from "./worlds.ts";

const encoder = new TextEncoder();

function good(): WireMessage {
  return encodeTaskMessage(taskCall("fault.add", [20, 22]));
}

function withHeaders(headers: Record<string, unknown>): WireMessage {
  const message = good();
  return { ...message, headers: { ...message.headers, ...headers } };
}

function withBody(body: string | Uint8Array, contentType = "application/json"): WireMessage {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return { ...good(), body: bytes, contentType };
}

/** Every kind of malformed task message, with a label for failure messages. */
function malformed(): [string, WireMessage][] {
  const noId = good();
  delete noId.headers.id;
  return [
    [
      "pickle content",
      withBody(new Uint8Array([0x80, 0x04, 0x95, 0x00]), "application/x-python-serialize"),
    ],
    ["yaml content", withBody("- [1, 2]\n- {}\n", "application/x-yaml")],
    ["no content type", withBody("[[1, 2], {}, {}]", "")],
    ["invalid JSON", withBody("{not json")],
    ["not UTF-8", withBody(new Uint8Array([0xff, 0xfe, 0x00, 0x5b]))],
    ["headers {} and a list body", { ...withBody("[1, 2]"), headers: {} }],
    ["task header not a string", withHeaders({ task: 123 })],
    ["missing id header", noId],
    ["two-element body", withBody("[[2, 3], {}]")],
    ["object body (protocol 1)", { ...withBody('{"task": "fault.add", "id": "x"}'), headers: {} }],
    ["kwargs not a mapping", withBody("[[1, 2], [3], {}]")],
    ["args not a list", withBody('["x", {}, {}]')],
    ["huge invalid body", withBody("[".repeat(2_000_000))],
    ["invalid eta", withHeaders({ eta: "not-a-date" })],
    ["invalid expires", withHeaders({ expires: "2020-13-45T99:00:00" })],
    ["retries not a number", withHeaders({ retries: "x" })],
    ["bogus compression", withHeaders({ compression: "application/x-gzip" })],
  ];
}

async function fuzz(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind, { deadLetter: true });
  if (!world) return;
  const app = world.app();
  const rejections: string[] = [];
  const unknown: string[] = [];
  app.addEventListener("task_rejected", (event) => rejections.push(event.detail.reason));
  app.addEventListener("task_unknown", (event) => unknown.push(event.detail.name));
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  await setupLogging({ level: "ERROR" });
  const broker = await app.getBroker();
  const worker = await app.worker({ concurrency: 2, pool: "async", banner: false });
  try {
    const bad = malformed();
    // Declared with the message, as Celery's clients do (else RabbitMQ drops it as unroutable).
    const target = { exchange: "", routingKey: world.queue, queue: worker.queues[0] };
    const goodIds: string[] = [];
    const sendGood = async (args: unknown[]) => {
      const call = taskCall("fault.add", args);
      call.argsrepr = call.argsrepr.slice(0, 1024); // as Celery's argsrepr_maxsize
      goodIds.push(call.id);
      await broker.publish(encodeTaskMessage(call), target);
    };
    const unregistered = taskCall("fault.nope", []);
    await broker.publish(encodeTaskMessage(unregistered), target);
    for (let i = 0; i < 50; i++) {
      await sendGood([i, i]);
      if (i < bad.length) await broker.publish(bad[i][1], target);
    }
    const garbage = kind === "redis" ? await pushGarbage(world) : 0;
    await sendGood(["x".repeat(300_000), "!"]);
    for (let i = 50; i < 60; i++) await sendGood([i, i]);
    const values = await Promise.all(
      goodIds.map((id) => app.asyncResult(id).get({ timeout: 30 })),
    );
    assert.deepEqual(values.slice(0, 50), [...Array(50).keys()].map((i) => 2 * i));
    assert.equal((values[50] as string).length, 300_001, "the huge good message ran");
    assert.deepEqual(values.slice(51), [...Array(10).keys()].map((i) => 2 * (i + 50)));
    const failure = await app.asyncResult(unregistered.id).get({
      timeout: 10,
      propagate: false,
    }) as RemoteError;
    assert.equal(failure.excType, "NotRegistered");
    assert.deepEqual(unknown, ["fault.nope"]);
    assert.equal(rejections.length, bad.length, `one rejection each: ${rejections.join("\n")}`);
    const lines = logged.filter((line) => line.includes("Rejected a malformed message"));
    assert.equal(lines.length, bad.length, "each malformed message logged once");
    for (const line of lines) assert.match(line, /from queue '[^']+': \S/, "with its reason");
    const dead = await world.deadLetters();
    const expected = kind === "redis" ? garbage : bad.length + 1;
    console.log(
      `${kind}: ${goodIds.length} good all completed, ${bad.length} malformed + 1 unknown task ` +
        `rejected and logged once each, ${garbage} raw garbage elements, ${dead} dead-lettered`,
    );
    assert.equal(dead, expected, "dead-lettered where the broker can");
  } finally {
    await worker.stop();
    console.error = consoleError;
    await stopLogging();
  }
}

/** Redis only: list elements that are not kombu envelopes at all. */
async function pushGarbage(world: World): Promise<number> {
  const prefix = (world.settings.broker_transport_options as { global_keyprefix: string })
    .global_keyprefix;
  const redis = new Redis(String(world.settings.broker_url));
  try {
    const elements = ["not json", "[1, 2]", '{"body": "x"}', '{"properties": {}}'];
    await redis.lpush(`${prefix}${world.queue}`, ...elements);
    return elements.length;
  } finally {
    redis.disconnect();
  }
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`malformed messages mixed into good ones: rejected, logged once, worker keeps going (${kind})`, () =>
    fuzz(kind));
}
