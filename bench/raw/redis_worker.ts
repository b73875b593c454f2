/**
 * The raw ioredis loop, as a worker process: `RPOP <queue> 100` (BRPOP when
 * the list is empty), parse each kombu envelope and its base64 body, add,
 * and for tasks that want a result SET + PUBLISH the result key, one
 * pipeline per batch. No unacked bookkeeping: the practical ceiling of the
 * Redis client. Reports as bench_app.ts does.
 *
 * Environment: CELERY_BROKER_URL, CELERY_RESULT_BACKEND, CELERIAC_BENCH_QUEUE,
 * CELERIAC_BENCH_EXPECT, and, for `bench/window_cost.ts`, which runs the
 * loop with Celery's window: CELERIAC_BENCH_RAW_PREFETCH (the most popped at
 * once, default 100) and CELERIAC_BENCH_RAW_CHANNELS (loops, each with its
 * own connections, as celeriac's threads; default 1).
 *
 * @module
 */

import { Redis } from "ioredis";
import { epochMs, rawResult } from "./messages.ts";

const url = Deno.env.get("CELERY_BROKER_URL")!;
const backend = Deno.env.get("CELERY_RESULT_BACKEND") || url;
const queue = Deno.env.get("CELERIAC_BENCH_QUEUE")!;
const expect = Number(Deno.env.get("CELERIAC_BENCH_EXPECT") ?? 0);
const report = (fields: Record<string, number>) => console.log(`@@bench ${JSON.stringify(fields)}`);

const prefetch = Number(Deno.env.get("CELERIAC_BENCH_RAW_PREFETCH") ?? 100);
const loops = Number(Deno.env.get("CELERIAC_BENCH_RAW_CHANNELS") ?? 1);
const connections: Redis[] = [];
let running = true;
let count = 0;
let first = 0;

function handle(raw: string, pipeline: ReturnType<Redis["pipeline"]>): void {
  const at = epochMs();
  if (count === 0) first = at;
  if (++count === expect) report({ first, last: at, count });
  const envelope = JSON.parse(raw);
  const [args] = JSON.parse(atob(envelope.body));
  const result = args[0] + args[1];
  if (envelope.headers.ignore_result) return;
  const key = `celery-task-meta-${envelope.headers.id}`;
  const text = rawResult(envelope.headers.id, result);
  pipeline.set(key, text, "EX", 86400).publish(key, text);
}

report({ ready: epochMs() });
const stop = () => {
  running = false;
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
/** One consumer: pops up to `prefetch`, runs them, stores their results in one pipeline. */
async function consume(): Promise<void> {
  const commands = new Redis(url);
  const blocking = new Redis(url);
  const results = backend === url ? commands : new Redis(backend);
  connections.push(commands, blocking, results);
  while (running) {
    let items = await commands.rpop(queue, prefetch);
    if (!items || items.length === 0) {
      const popped = await blocking.brpop(queue, 1);
      items = popped ? [popped[1]] : [];
    }
    if (items.length === 0) continue;
    const pipeline = results.pipeline();
    for (const raw of items) handle(raw, pipeline);
    if (pipeline.length) await pipeline.exec();
  }
}

await Promise.all(Array.from({ length: loops }, () => consume()));
for (const connection of new Set(connections)) connection.disconnect();
Deno.exit(0);
