/**
 * Drains one queue with the same prefetch window in three worker shapes, for
 * the pool-design question in docs/benchmarks.md: `-P workers` (tasks
 * handed to worker threads), `-P async` (tasks run on the consuming thread),
 * and two `-P async -c 1` processes that each consume for themselves (what
 * worker threads consuming from the broker would do).
 *
 * `deno run -A bench/pool_shapes.ts [--only rabbitmq|redis] [--count N] [--runs N]`
 *
 * The drain is timed from outside, by the queue's depth (2.5 %–97.5 % of it,
 * so start-up and the tail do not count), and the workers' CPU is read from
 * `/proc/<pid>/stat` over the same span. Tasks are `bench.add` sent by
 * celeriac's client with results disabled; each run's queue is removed after.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { cleanPlace, newPlace, placeEnv, type Setup, SETUPS } from "./setups.ts";
import { celeriacWorkerArgs, ROOT } from "./systems.ts";

/** One worker shape: how many processes, with which pool flags. */
interface Shape {
  label: string;
  processes: number;
  poolArgs: string[];
}

const SHAPES: Shape[] = [
  { label: "-P workers -c 2", processes: 1, poolArgs: ["-P", "workers", "-c", "2"] },
  { label: "-P async -c 2", processes: 1, poolArgs: ["-P", "async", "-c", "2"] },
  { label: "2 × -P async -c 1", processes: 2, poolArgs: ["-P", "async", "-c", "1"] },
];

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
  setup: Setup,
  count: number,
  shape: Shape,
): Promise<{ rate: number; cpuMicros: number }> {
  const place = newPlace(setup);
  try {
    await using client = new CeleriacClient(place);
    await client.fill(count);
    const broker = await client.app.getBroker();
    const workers = Array.from(
      { length: shape.processes },
      (_, i) =>
        new Deno.Command(Deno.execPath(), {
          args: [...celeriacWorkerArgs(shape.poolArgs), "-n", `shape${i}@%h`],
          cwd: ROOT,
          env: placeEnv(place),
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
      for (let left = count; left > to; left = await broker.messageCount(place.queue)) {
        if (exited) throw new Error(`a worker (${shape.label}) exited during the drain`);
        if (!startedAt && left <= from) {
          startedAt = performance.now();
          ticksAtStart = cpuTicks(pids);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const tasks = from - to;
      return {
        rate: tasks / ((performance.now() - startedAt) / 1000),
        cpuMicros: (cpuTicks(pids) - ticksAtStart) * 10_000 / tasks,
      };
    } finally {
      for (const worker of workers) worker.kill("SIGTERM");
      await Promise.all(workers.map((worker) => worker.status));
    }
  } finally {
    await cleanPlace(place);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string", default: "rabbitmq,redis" },
      count: { type: "string", default: "40000" },
      runs: { type: "string", default: "2" },
    },
  });
  const count = Number(values.count);
  for (const id of values.only.split(",")) {
    const setup = SETUPS.find((candidate) => candidate.id === id && candidate.broker !== "sqlite");
    if (!setup) throw new Error(`--only: unknown setup ${JSON.stringify(id)} (rabbitmq, redis)`);
    console.log(`${setup.label}: ${count.toLocaleString("en-US")} queued tasks`);
    for (let run = 1; run <= Number(values.runs); run++) {
      for (const shape of SHAPES) {
        const { rate, cpuMicros } = await drain(setup, count, shape);
        console.log(
          `run ${run}: ${shape.label}: ${Math.round(rate).toLocaleString("en-US")} tasks/s, ` +
            `worker CPU ${Math.round(cpuMicros)} µs per task`,
        );
      }
    }
  }
}
