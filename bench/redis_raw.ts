/**
 * Redis throughput and latency floors, measured as BENCHMARKS.md describes
 * (10,000 Celery-shaped `add(i, i)` messages, median of 3 runs, every system
 * in the same invocation):
 *
 * - raw pipelined drain: ioredis `RPOP <list> 100` + JSON parse, no bookkeeping.
 * - raw kombu-shaped drain: what kombu sends per message, each awaited:
 *   BRPOP, MULTI ZADD+HSET (unacked), MULTI ZREM+HDEL (ack).
 * - adapter drain: celeriac's Redis broker, prefetch 8 (2 × multiplier 4),
 *   decoding each message and acking it.
 * - kombu drain: Python kombu 5.2.4's Redis transport, same prefetch, acking.
 * - Python Celery worker drain (`-c 2`, prefork): from "ready." until the
 *   queue and `unacked` are empty (includes a little start-up, so it flatters nothing).
 * - adapter round trip: an in-process worker of the Redis broker + Redis
 *   backend answers N tasks; the client waits for all N results.
 * - latency: 1,000 sequential submit → result, p50 / p99, for the adapters and
 *   for a raw ioredis loop (LPUSH, BRPOP, SET+PUBLISH, SUBSCRIBE).
 *
 * `deno run -A bench/redis_raw.ts [--count 10000] [--runs 3] [--only name]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { DEFAULT_SETTINGS } from "../src/app/settings.ts";
import { createBroker } from "../src/broker/redis/broker.ts";
import { createResultBackend } from "../src/backend/redis/backend.ts";
import type { Broker, QueueSpec } from "../src/broker/types.ts";
import { acceptedContentTypes } from "../src/protocol/json_content.ts";
import { buildResultMeta } from "../src/protocol/result_meta.ts";
import { decodeTaskMessage, encodeTaskMessage } from "../src/protocol/task_message.ts";
import { addCall, pythonCeleryDrain, pythonKombuDrain, queueSpec } from "./redis_bench_tools.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    url: { type: "string", default: "redis://127.0.0.1:6379/0" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
  },
});
const COUNT = Number(values.count);
const URL = values.url!;
const RUNS = Number(values.runs);
const PREFETCH = 8;
const PREFIX = `bench-${crypto.randomUUID().slice(0, 8)}:`;
const config = Object.freeze({
  ...DEFAULT_SETTINGS,
  broker_transport_options: { global_keyprefix: PREFIX },
  result_backend_transport_options: { global_keyprefix: PREFIX },
});
const accepted = acceptedContentTypes(["json"]);

async function fill(broker: Broker, queue: QueueSpec, count = COUNT): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, count - i) },
        (_, j) =>
          broker.publish(encodeTaskMessage(addCall(i + j)), {
            exchange: "",
            routingKey: queue.name,
            queue,
          }),
      ),
    );
  }
}

async function filled(queue: QueueSpec): Promise<void> {
  const broker = await createBroker(URL, config);
  await fill(broker, queue);
  await broker.close();
}

async function rawPipelined(queue: QueueSpec): Promise<number> {
  await filled(queue);
  const redis = new Redis(URL);
  const started = performance.now();
  let seen = 0;
  while (seen < COUNT) {
    const items = await redis.rpop(PREFIX + queue.name, 100) ?? [];
    for (const item of items) JSON.parse(item);
    seen += items.length;
  }
  const ms = performance.now() - started;
  redis.disconnect();
  return ms;
}

async function rawKombuShaped(queue: QueueSpec): Promise<number> {
  await filled(queue);
  const redis = new Redis(URL);
  const [unacked, index] = [`${PREFIX}unacked`, `${PREFIX}unacked_index`];
  const started = performance.now();
  for (let seen = 0; seen < COUNT; seen++) {
    const [, raw] = (await redis.brpop(PREFIX + queue.name, 1))!;
    const tag = JSON.parse(raw).properties.delivery_tag;
    await redis.multi().zadd(index, Date.now() / 1000, tag).hset(unacked, tag, `[${raw}, "", "q"]`)
      .exec();
    await redis.multi().zrem(index, tag).hdel(unacked, tag).exec();
  }
  const ms = performance.now() - started;
  redis.disconnect();
  return ms;
}

async function adapterDrain(queue: QueueSpec): Promise<number> {
  await filled(queue);
  const broker = await createBroker(URL, config);
  let first = 0;
  let seen = 0;
  for await (const delivery of broker.consume({ queues: [queue], prefetch: PREFETCH })) {
    if (seen === 0) first = performance.now();
    decodeTaskMessage(delivery.message, accepted);
    delivery.ack();
    if (++seen === COUNT) break;
  }
  const ms = performance.now() - first;
  await broker.close();
  return ms;
}

/** Starts an in-process worker: the Redis broker plus the Redis backend answering add(i, i). */
async function startWorker(queue: QueueSpec) {
  const broker = await createBroker(URL, config);
  const backend = await createResultBackend(URL, config);
  const serving = (async () => {
    for await (const delivery of broker.consume({ queues: [queue], prefetch: PREFETCH })) {
      const call = decodeTaskMessage(delivery.message, accepted);
      const [x, y] = call.args as number[];
      backend.store(buildResultMeta({ taskId: call.id }, "SUCCESS", x + y), {})
        .then(() => delivery.ack());
    }
  })();
  return async () => {
    await broker.close();
    await serving;
    await backend.close();
  };
}

async function adapterRoundTrip(queue: QueueSpec): Promise<number> {
  const stop = await startWorker(queue);
  const client = await createBroker(URL, config);
  const backend = await createResultBackend(URL, config);
  const send = async (i: number) => {
    const call = addCall(i, "");
    await backend.prepare(call.id);
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
  await Promise.all([client.close(), backend.close(), stop()]);
  return ms;
}

function percentiles(samples: number[]): string {
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))];
  return `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`;
}

async function adapterLatency(queue: QueueSpec): Promise<string> {
  const stop = await startWorker(queue);
  const client = await createBroker(URL, config);
  const backend = await createResultBackend(URL, config);
  const samples: number[] = [];
  for (let i = 0; i < 1020; i++) {
    const started = performance.now();
    const call = addCall(i, "");
    await backend.prepare(call.id);
    await client.publish(encodeTaskMessage(call), { exchange: "", routingKey: queue.name, queue });
    await backend.waitFor(call.id, { intervalMs: 100 });
    if (i >= 20) samples.push(performance.now() - started);
  }
  await Promise.all([client.close(), backend.close(), stop()]);
  return percentiles(samples);
}

async function rawLatency(queue: QueueSpec): Promise<string> {
  const [client, worker, subscriber] = [new Redis(URL), new Redis(URL), new Redis(URL)];
  const list = PREFIX + queue.name;
  let running = true;
  const serving = (async () => {
    while (running) {
      const popped = await worker.brpop(list, 1);
      if (!popped) continue;
      const id = JSON.parse(popped[1]).headers.id;
      const result = JSON.stringify({ status: "SUCCESS", result: 2, task_id: id });
      await worker.multi().setex(`${PREFIX}r-${id}`, 60, result).publish(`${PREFIX}r-${id}`, result)
        .exec();
    }
  })();
  let wake: () => void = () => {};
  subscriber.on("message", () => wake());
  const samples: number[] = [];
  for (let i = 0; i < 1020; i++) {
    const started = performance.now();
    const call = addCall(i, "");
    await subscriber.subscribe(`${PREFIX}r-${call.id}`);
    const done = new Promise<void>((resolve) => wake = resolve);
    await client.lpush(
      list,
      JSON.stringify({ headers: { id: call.id }, body: "W1sxLDFdLHt9LHt9XQ==" }),
    );
    await done;
    await subscriber.unsubscribe(`${PREFIX}r-${call.id}`);
    if (i >= 20) samples.push(performance.now() - started);
  }
  running = false;
  await serving;
  [client, worker, subscriber].forEach((r) => r.disconnect());
  return percentiles(samples);
}

async function cleanup(): Promise<void> {
  const redis = new Redis(URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
}

async function measure(name: string, run: (queue: QueueSpec) => Promise<number>) {
  if (values.only && !name.includes(values.only)) return;
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    times.push(await run(queueSpec(`bench-redis-${crypto.randomUUID().slice(0, 8)}`)));
    await cleanup();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${name.padEnd(30)} ${String(Math.round(COUNT / (median / 1000))).padStart(7)} tasks/s ` +
      `(median ${median.toFixed(0)} ms of ${times.map((t) => t.toFixed(0)).join(", ")})`,
  );
}

async function latency(name: string, run: (queue: QueueSpec) => Promise<string>) {
  if (values.only && !name.includes(values.only)) return;
  console.log(
    `${name.padEnd(30)} ${await run(queueSpec(`bench-lat-${crypto.randomUUID().slice(0, 8)}`))}`,
  );
  await cleanup();
}

console.log(`Redis ${URL}, ${COUNT} messages, prefetch ${PREFETCH}, median of ${RUNS}`);
try {
  await measure("drain: raw ioredis pipelined", rawPipelined);
  await measure("drain: raw kombu-shaped", rawKombuShaped);
  await measure("drain: celeriac adapter", adapterDrain);
  await measure(
    "drain: Python kombu 5.2.4",
    (q) => pythonKombuDrain(q, URL, PREFIX, PREFETCH, filled),
  );
  await measure("drain: Python Celery -c 2", (q) => pythonCeleryDrain(q, URL, PREFIX, filled));
  await measure("round trip: celeriac adapters", adapterRoundTrip);
  await latency("latency: celeriac adapters", adapterLatency);
  await latency("latency: raw ioredis loop", rawLatency);
} finally {
  await cleanup();
}
