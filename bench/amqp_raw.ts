/**
 * RabbitMQ throughput floors, measured the way BENCHMARKS.md describes:
 *
 * - raw amqplib drain: 10,000 Celery-shaped task messages queued first, then
 *   consumed with prefetch 8 (2 × multiplier 4) and acked one by one; time
 *   from the first delivery to the N-th.
 * - adapter drain: the same through celeriac's amqp broker (`consume()`
 *   stream, `ack()`), including decoding each message.
 * - adapter round trip: an in-process "worker" made of the broker and rpc
 *   backend answers `add(i, i)`; a client publishes N tasks with rpc reply
 *   queues and waits for all N results.
 *
 * Median of 3 runs each. `deno run -A bench/amqp_raw.ts [--count 10000] [--url amqp://…]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connect } from "../src/broker/amqp/amqplib.ts";
import { DEFAULT_SETTINGS } from "../src/app/settings.ts";
import { createBroker } from "../src/broker/amqp/broker.ts";
import { createResultBackend } from "../src/backend/rpc/backend.ts";
import type { QueueSpec } from "../src/broker/types.ts";
import { acceptedContentTypes } from "../src/protocol/json_content.ts";
import { buildResultMeta } from "../src/protocol/result_meta.ts";
import {
  decodeTaskMessage,
  emptyEmbed,
  encodeTaskMessage,
  type TaskCall,
} from "../src/protocol/task_message.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672//" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
  },
});
const COUNT = Number(values.count);
const URL = values.url!;
const RUNS = Number(values.runs);
const PREFETCH = Number(Deno.env.get("PREFETCH") ?? 8);
const config = Object.freeze({ ...DEFAULT_SETTINGS, broker_url: URL });
const accepted = acceptedContentTypes(["json"]);

function addCall(i: number, replyTo = ""): TaskCall {
  const id = crypto.randomUUID();
  return {
    id,
    task: "bench.add",
    args: [i, i],
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
    origin: `gen${Deno.pid}@bench`,
    ignoreResult: replyTo === "",
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: {},
    replyTo,
    correlationId: id,
    priority: 0,
    deliveryMode: 2,
  };
}

function queueSpec(name: string): QueueSpec {
  return {
    name,
    exchange: name,
    exchangeType: "direct",
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: {},
  };
}

/** Fills `queue` with COUNT task messages through the adapter (confirmed), then returns. */
async function fill(queue: QueueSpec): Promise<void> {
  const broker = await createBroker(URL, config);
  try {
    for (let i = 0; i < COUNT; i += 500) {
      const batch = Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => i + j);
      await Promise.all(batch.map((n) =>
        broker.publish(encodeTaskMessage(addCall(n)), {
          exchange: "",
          routingKey: queue.name,
          queue,
        })
      ));
    }
  } finally {
    await broker.close();
  }
}

async function rawDrain(queue: QueueSpec): Promise<number> {
  await fill(queue);
  const model = await connect(URL, { noDelay: true });
  const channel = await model.createChannel();
  await channel.prefetch(PREFETCH, true);
  let first = 0;
  let seen = 0;
  const done = Promise.withResolvers<number>();
  await channel.consume(queue.name, (message) => {
    if (!message) return;
    if (seen === 0) first = performance.now();
    JSON.parse(message.content.toString());
    channel.ack(message);
    if (++seen === COUNT) done.resolve(performance.now() - first);
  });
  const ms = await done.promise;
  await model.close();
  return ms;
}

async function adapterDrain(queue: QueueSpec): Promise<number> {
  await fill(queue);
  const broker = await createBroker(URL, config);
  let first = 0;
  let seen = 0;
  for await (const delivery of broker.consume({ queues: [queue], prefetch: PREFETCH })) {
    if (seen === 0) first = performance.now();
    decodeTaskMessage(delivery.message, accepted);
    await delivery.ack();
    if (++seen === COUNT) break;
  }
  const ms = performance.now() - first;
  await broker.close();
  return ms;
}

async function adapterRoundTrip(queue: QueueSpec): Promise<number> {
  const workerBroker = await createBroker(URL, config);
  const workerBackend = await createResultBackend("rpc://", config);
  const serving = (async () => {
    for await (const delivery of workerBroker.consume({ queues: [queue], prefetch: PREFETCH })) {
      // Like a worker with a pool: the next delivery is taken while results are stored.
      const call = decodeTaskMessage(delivery.message, accepted);
      const [x, y] = call.args as number[];
      workerBackend.store(buildResultMeta({ taskId: call.id }, "SUCCESS", x + y), {
        replyTo: call.replyTo,
        correlationId: call.correlationId,
      }).then(() => delivery.ack());
    }
  })();
  const client = await createBroker(URL, config);
  const backend = await createResultBackend("rpc://", config);
  const send = async (i: number) => {
    const call = addCall(i, await backend.prepare(""));
    await client.publish(encodeTaskMessage(call), { exchange: "", routingKey: queue.name, queue });
    return call.id;
  };
  for (let i = 0; i < 20; i++) await backend.waitFor(await send(i), { intervalMs: 100 });
  const started = performance.now();
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < COUNT; i += 500) {
    const ids = await Promise.all(
      Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => send(i + j)),
    );
    waits.push(...ids.map((id) => backend.waitFor(id, { intervalMs: 100, timeoutMs: 120_000 })));
  }
  await Promise.all(waits);
  const ms = performance.now() - started;
  await Promise.all([client.close(), backend.close(), workerBroker.close()]);
  await serving;
  await workerBackend.close();
  return ms;
}

async function measure(name: string, run: (queue: QueueSpec) => Promise<number>) {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const queue = queueSpec(`bench-amqp-${crypto.randomUUID().slice(0, 8)}`);
    try {
      times.push(await run(queue));
    } finally {
      const model = await connect(URL);
      const channel = await model.createChannel();
      await channel.deleteQueue(queue.name);
      await channel.deleteExchange(queue.name);
      await model.close();
    }
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${name.padEnd(26)} ${String(Math.round(COUNT / (median / 1000))).padStart(7)} tasks/s ` +
      `(median ${median.toFixed(0)} ms of ${times.map((t) => t.toFixed(0)).join(", ")})`,
  );
}

console.log(
  `RabbitMQ ${URL.replace(/:[^:@/]*@/, ":**@")}, ${COUNT} messages, prefetch ${PREFETCH}`,
);
const only = values.only;
if (!only || only === "raw") await measure("raw amqplib drain", rawDrain);
if (!only || only === "drain") await measure("adapter drain", adapterDrain);
if (!only || only === "rpc") await measure("adapter rpc round trip", adapterRoundTrip);
