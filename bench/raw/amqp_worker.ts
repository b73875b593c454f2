/**
 * The raw amqplib loop, as a worker process: consume the queue with prefetch
 * 100, parse each body, add, reply (rpc: to `reply_to`; redis: SET + PUBLISH
 * of the result key, auto-pipelined), ack. No task queue on top: the
 * practical ceiling of the broker client. Reports as bench_app.ts does.
 *
 * Environment: CELERY_BROKER_URL, CELERY_RESULT_BACKEND (`rpc://` or
 * `redis://…`), CELERIAC_BENCH_QUEUE, CELERIAC_BENCH_EXPECT, and, for
 * `bench/window_cost.ts`, which runs the loop with Celery's window:
 * CELERIAC_BENCH_RAW_PREFETCH (default 100), CELERIAC_BENCH_RAW_CHANNELS
 * (consumers, each on its own connection as celeriac's threads; default 1)
 * and CELERIAC_BENCH_RAW_GLOBAL=1 (a global `basic.qos`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { connect } from "../../src/transports/amqp/amqplib.ts";
import { epochMs, rawResult } from "./messages.ts";

const url = Deno.env.get("CELERY_BROKER_URL")!;
const backend = Deno.env.get("CELERY_RESULT_BACKEND") ?? "";
const queue = Deno.env.get("CELERIAC_BENCH_QUEUE")!;
const expect = Number(Deno.env.get("CELERIAC_BENCH_EXPECT") ?? 0);
const prefetch = Number(Deno.env.get("CELERIAC_BENCH_RAW_PREFETCH") ?? 100);
const report = (fields: Record<string, number>) => console.log(`@@bench ${JSON.stringify(fields)}`);

const channels = Number(Deno.env.get("CELERIAC_BENCH_RAW_CHANNELS") ?? 1);
const redis = backend.startsWith("redis")
  ? new Redis(backend, { enableAutoPipelining: true })
  : undefined;

let count = 0;
let first = 0;
const models: Awaited<ReturnType<typeof connect>>[] = [];
for (let i = 0; i < channels; i++) {
  const model = await connect(url, { noDelay: true });
  models.push(model);
  const channel = await model.createChannel();
  await channel.prefetch(prefetch, Deno.env.get("CELERIAC_BENCH_RAW_GLOBAL") === "1");
  await channel.assertQueue(queue, { durable: true });
  await channel.consume(queue, (message) => {
    if (!message) return;
    const at = epochMs();
    if (count === 0) first = at;
    if (++count === expect) report({ first, last: at, count });
    const [args] = JSON.parse(message.content.toString());
    const result = args[0] + args[1];
    const headers = message.properties.headers ?? {};
    const id = String(headers.id ?? message.properties.correlationId);
    if (!headers.ignore_result) {
      const text = rawResult(id, result);
      if (redis) {
        const key = `celery-task-meta-${id}`;
        void redis.set(key, text, "EX", 86400);
        void redis.publish(key, text);
      } else if (message.properties.replyTo) {
        channel.sendToQueue(message.properties.replyTo, Buffer.from(text), {
          correlationId: message.properties.correlationId,
          contentType: "application/json",
          contentEncoding: "utf-8",
        });
      }
    }
    channel.ack(message);
  });
}
report({ ready: epochMs() });

const stop = async () => {
  for (const model of models) await model.close().catch(() => {});
  redis?.disconnect();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
