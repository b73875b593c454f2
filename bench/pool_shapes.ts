/**
 * Drains one queue with the same prefetch window in three worker shapes, for
 * the pool-design question in docs/benchmarks.md: the default pool (tasks
 * handed to worker threads), `-P async` (tasks run on the consuming thread),
 * and two `-P async -c 1` processes that each consume for themselves (what
 * worker threads consuming from the broker would do).
 *
 * `deno run -A bench/pool_shapes.ts [--broker URL] [--count N] [--runs N]`
 *
 * The drain is timed from outside, by the queue's depth (2.5 %–97.5 % of it,
 * so start-up and the tail do not count), and the workers' CPU is read from
 * `/proc/<pid>/stat` over the same span. Tasks are `bench.add` sent by
 * celeriac's client with results disabled; the queue is deleted after.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { connect } from "../src/broker/amqp/amqplib.ts";
import { Celery } from "../mod.ts";

/** One worker shape: how many processes, with which flags. */
interface Shape {
  label: string;
  processes: number;
  args: string[];
}

const SHAPES: Shape[] = [
  { label: "default pool, -c 2", processes: 1, args: ["-c", "2"] },
  { label: "-P async -c 2", processes: 1, args: ["-P", "async", "-c", "2"] },
  { label: "2 × -P async -c 1", processes: 2, args: ["-P", "async", "-c", "1"] },
];

/** Sends `count` `bench.add` tasks to `queue`, 1,000 in flight. */
async function fill(brokerUrl: string, queue: string, count: number): Promise<void> {
  const app = new Celery("bench", {
    broker: brokerUrl,
    config: { task_default_queue: queue, task_ignore_result: true },
    setAsCurrent: false,
  });
  try {
    let pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      pending.push(app.sendTask("bench.add", [i, i]));
      if (pending.length === 1000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await app.close();
  }
}

/** The queue's depth, read by the raw client, and how to delete the queue. */
async function depthOf(
  brokerUrl: string,
  queue: string,
): Promise<{ depth: () => Promise<number>; remove: () => Promise<void> }> {
  if (/^amqps?:/.test(brokerUrl)) {
    const model = await connect(brokerUrl);
    const channel = await model.createChannel();
    return {
      depth: async () => (await channel.checkQueue(queue)).messageCount,
      remove: async () => {
        await channel.deleteQueue(queue);
        await model.close();
      },
    };
  }
  const redis = new Redis(brokerUrl);
  return {
    depth: async () => await redis.llen(queue),
    remove: async () => {
      await redis.del(queue, `_kombu.binding.${queue}`);
      redis.disconnect();
    },
  };
}

/** User + system CPU of `pids`, in clock ticks (1/100 s). */
function cpuTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* ended */ }
  }
  return ticks;
}

/** Drains `count` tasks with `shape`; returns tasks/s and CPU µs per task. */
async function drain(
  brokerUrl: string,
  count: number,
  shape: Shape,
): Promise<{ rate: number; cpuMicros: number }> {
  const queue = `bench-shapes-${crypto.randomUUID().slice(0, 8)}`;
  await fill(brokerUrl, queue, count);
  const { depth, remove } = await depthOf(brokerUrl, queue);
  const env = { CELERY_BROKER_URL: brokerUrl, CELERIAC_BENCH_QUEUE: queue };
  const workers = Array.from(
    { length: shape.processes },
    (_, i) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--v8-flags=--max-semi-space-size=1",
          "-A",
          "cli.ts",
          "worker",
          "-A",
          "./bench/bench_app.ts",
          "-n",
          `shape${i}@%h`,
          "--loglevel",
          "WARNING",
          ...shape.args,
        ],
        env,
        stdout: "null",
        stderr: "null",
      }).spawn(),
  );
  const pids = workers.map((worker) => worker.pid);
  let exited = false;
  for (const worker of workers) void worker.status.then(() => exited = true);
  try {
    const from = count - Math.round(count * 0.025);
    const to = Math.round(count * 0.025);
    let startedAt = 0;
    let ticksAtStart = 0;
    for (let left = await depth(); left > to; left = await depth()) {
      if (exited) throw new Error(`a worker (${shape.label}) exited during the drain`);
      if (!startedAt && left <= from) {
        startedAt = performance.now();
        ticksAtStart = cpuTicks(pids);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const tasks = from - to;
    return {
      rate: tasks / seconds,
      cpuMicros: (cpuTicks(pids) - ticksAtStart) * 10_000 / tasks,
    };
  } finally {
    for (const worker of workers) worker.kill("SIGTERM");
    await Promise.all(workers.map((worker) => worker.status));
    await remove();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      broker: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672//" },
      count: { type: "string", default: "40000" },
      runs: { type: "string", default: "2" },
    },
  });
  const count = Number(values.count);
  console.log(`${values.broker}, ${count.toLocaleString("en-US")} queued tasks`);
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const shape of SHAPES) {
      const { rate, cpuMicros } = await drain(values.broker, count, shape);
      console.log(
        `run ${run}: ${shape.label}: ${Math.round(rate).toLocaleString("en-US")} tasks/s, ` +
          `worker CPU ${Math.round(cpuMicros)} µs per task`,
      );
    }
  }
}
