/**
 * The app every celeriac benchmark worker runs: the task `bench.add`, as in
 * BENCHMARKS.md (and `bench.stamp`, for `latency_legs.ts`). Broker, backend and queue come from the environment
 * (`CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`, `CELERIAC_BENCH_QUEUE`; with
 * none of the first two, the embedded default).
 *
 * When `CELERIAC_BENCH_EXPECT` is set to N, the worker's main thread counts task
 * starts (`task_prerun`) and, at the N-th, prints one line
 * `@@bench {"first":…,"last":…,"count":N}` (wall-clock milliseconds): the
 * drain time, stamped inside the worker, with no per-task I/O. It also prints
 * `@@bench {"ready":…}` when the worker is ready. With `-P workers`, `async`
 * and `solo` signals are dispatched on the main thread only; with `-P threads`
 * (the default on RabbitMQ and Redis) each consumer thread counts its own runs
 * and tells the main thread (see below).
 *
 * @module
 */

import { isMainThread, threadId } from "node:worker_threads";
import { Celery } from "../mod.ts";

/** The benchmark app. */
export const app = new Celery("bench");
app.conf.task_default_queue = Deno.env.get("CELERIAC_BENCH_QUEUE") ?? "celery";
// Experiments only (the benchmark keeps Celery's default of 4).
const multiplier = Deno.env.get("CELERIAC_BENCH_PREFETCH_MULTIPLIER");
if (multiplier) app.conf.worker_prefetch_multiplier = Number(multiplier);

/** The benchmark task (a third argument, the growth table's payload, is ignored). */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});

/** When it ran, in wall-clock ms with µs precision (`bench/latency_legs.ts`). */
export const stamp = app.task(function stamp() {
  return performance.timeOrigin + performance.now();
});

const expectText = Deno.env.get("CELERIAC_BENCH_EXPECT");
const now = () => performance.timeOrigin + performance.now();
const report = (fields: Record<string, number>) => console.log(`@@bench ${JSON.stringify(fields)}`);

if (expectText !== undefined) {
  const expect = Number(expectText);
  // With `-P threads` the runs (and their signals) are on the consumer
  // threads: each counts its own and, every few ms while it changes, tells
  // the main thread over a BroadcastChannel, which adds them up.
  const channel = new BroadcastChannel("celeriac-bench-count");
  let count = 0;
  let first = 0;
  let last = 0;
  if (isMainThread) {
    const threads = new Map<number, { count: number; first: number; last: number }>();
    let reported = false;
    channel.onmessage = (event: MessageEvent) => {
      const { thread, ...figures } = event.data;
      threads.set(thread, figures);
      const all = [...threads.values()];
      const total = count + all.reduce((sum, t) => sum + t.count, 0);
      if (reported || total < expect) return;
      reported = true;
      const firsts = all.filter((t) => t.count > 0).map((t) => t.first);
      report({
        first: Math.min(...firsts, count ? first : Infinity),
        last: Math.max(...all.map((t) => t.last), last),
        count: total,
      });
    };
  }
  let sent = 0;
  const tell = () => {
    if (count === sent) return;
    sent = count;
    channel.postMessage({ thread: threadId, count, first, last });
  };
  app.addEventListener("task_prerun", () => {
    const at = now();
    if (count === 0) {
      first = at;
      if (!isMainThread) setInterval(tell, 50); // from the first run on this thread
    }
    last = at;
    if (++count === expect && isMainThread) report({ first, last: at, count });
  });
  app.addEventListener("worker_ready", () => report({ ready: now() }));
}

/** The chord body of the canvas benchmark: the sum of a list. */
export const xsum = app.task(function xsum(numbers: number[]) {
  return numbers.reduce((sum, n) => sum + n, 0);
});
