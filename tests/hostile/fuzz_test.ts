/**
 * No single message may stop a worker. On each transport (embedded SQLite,
 * Redis, RabbitMQ) a worker process started the plain way (`cli.ts worker`,
 * thread pool, `-c 2`) receives a few hundred generated malformed messages
 * (`malformed_messages.ts`: nesting depth of body and headers, sizes and
 * compression bombs, wrong types, broken encodings) while both threads are
 * busy. Each one is rejected as malformed — one log line each, dead-lettered
 * where the broker can — and afterwards 20 normal tasks run, the tasks that
 * were running complete, and the worker is still the same process and stops
 * cleanly (exit 0).
 */

import assert from "node:assert/strict";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";
import { openWorld, waitUntil, type WorldKind } from "../reliability/worlds.ts";
import { WorkerProcess } from "../reliability/worker_process.ts";
import { FUZZ_MAX_MESSAGE_SIZE, malformedMessages } from "./malformed_messages.ts";

const MESSAGES = 300;
const SEED = 18;
const NORMAL_TASKS = 20;

async function fuzz(kind: WorldKind): Promise<void> {
  await using world = await openWorld(kind, { deadLetter: true });
  if (!world) return;
  const settings = { worker_max_message_size: FUZZ_MAX_MESSAGE_SIZE };
  const app = world.app(settings);
  const broker = await app.getBroker();
  await using worker = await WorkerProcess.start(world, { concurrency: 2, settings });
  const target = { exchange: "", routingKey: world.queue, queue: { ...defaultQueue(world.queue) } };
  const publish = (call: ReturnType<typeof taskCall>) =>
    broker.publish(encodeTaskMessage(call), target).then(() => call.id);
  // Both threads busy (and a few runs queued behind them) while the bad messages arrive.
  const busy = await Promise.all(
    [...Array(4)].map(() => publish(taskCall("fault.record", [world.dir, 300]))),
  );
  const bad = malformedMessages({
    count: MESSAGES,
    seed: SEED,
    // celeriac's own AMQP publisher (the test's client) encodes tables recursively up to ~2,500.
    maxHeaderDepth: kind === "amqp" ? 2000 : 3000,
  });
  const started = performance.now();
  for (const { message } of bad) await broker.publish(message, target);
  // Redis: an element Lua's cjson cannot read (nested over 1000) or longer than the consumer's
  // limit (from worker_max_message_size) is moved to `<queue>.dead` by the broker, unparsed.
  const rejectedLines = () =>
    worker.output.match(/Rejected a malformed message|Moved a malformed message/g)?.length ?? 0;
  await waitUntil(() => rejectedLines() >= bad.length, `${bad.length} rejections`, 45_000)
    .catch((error) => {
      throw new Error(`${error.message}; got ${rejectedLines()}:\n${worker.output.slice(-4000)}`);
    });
  const normal = await Promise.all(
    [...Array(NORMAL_TASKS).keys()].map((i) => publish(taskCall("fault.add", [i, i]))),
  );
  const values = await Promise.all(normal.map((id) => app.asyncResult(id).get({ timeout: 30 })));
  assert.deepEqual(values, [...Array(NORMAL_TASKS).keys()].map((i) => 2 * i));
  for (const id of busy) assert.equal(await app.asyncResult(id).get({ timeout: 30 }), id);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  assert.equal(rejectedLines(), bad.length, "one rejection each, no more");
  assert.doesNotMatch(worker.output, /CRITICAL|Uncaught|RangeError|Internal error/);
  const moved = worker.output.match(/Moved a malformed message/g)?.length ?? 0;
  const dead = await world.deadLetters();
  assert.equal(dead, kind === "redis" ? moved : bad.length, "every rejected message dead-lettered");
  const status = await worker.kill("SIGTERM");
  assert.equal(status.code, 0, `the worker stopped cleanly:\n${worker.output.slice(-2000)}`);
  console.log(
    `${kind}: ${bad.length} malformed sent, ${rejectedLines()} rejected, ` +
      `${dead} dead-lettered${
        kind === "redis" ? " (Redis drops rejects)" : ""
      }; ${busy.length} busy + ` +
      `${NORMAL_TASKS} normal tasks run, 0 lost; worker never exited (${seconds}s)`,
  );
}

/** The queue a world's worker consumes (declared with its dead-letter arguments on RabbitMQ). */
function defaultQueue(name: string) {
  return {
    name,
    exchange: "",
    exchangeType: "direct" as const,
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": `${name}.dlq` },
  };
}

for (const kind of ["sqlite", "redis", "amqp"] as const) {
  Deno.test(`fuzz: ${MESSAGES} malformed messages never stop a worker (${kind})`, () => fuzz(kind));
}
