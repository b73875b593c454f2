/**
 * What the prefetch window costs the broker (issue 15): drains N queued
 * `bench.add` tasks with the raw amqplib loop at several prefetch counts and
 * with celeriac's default pool, and reads, from `/proc`, the CPU the worker
 * process and the RabbitMQ server (`beam.smp`) each spent between the
 * worker's ready report and the N-th task start. The last column is the
 * drain a machine of `--cores` cores could reach if worker and broker kept
 * them all busy: cores ÷ (worker + broker µs per task).
 *
 * ```sh
 * deno run -A bench/window_cost.ts [--count 20000] [--runs 3] [--prefetch 100,8,4] [--cores 2]
 * ```
 *
 * Shapes run in turn within each round, so a slow spell of the host falls on all of them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { brokerServerPid, treeCpuMs, WatchedProcess } from "./process_watch.ts";
import { cleanPlace, newPlace, placeEnv, SETUPS } from "./setups.ts";
import { median } from "./stats.ts";
import { celeriacWorkerArgs, ROOT } from "./systems.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    prefetch: { type: "string", default: "100,8,4" },
    cores: { type: "string", default: "2" },
  },
});
const count = Number(values.count);
const cores = Number(values.cores);

/** One way of draining the queue: a label and the worker process to start. */
interface Shape {
  label: string;
  args: string[];
  env: Record<string, string>;
}

const shapes: Shape[] = [
  ...values.prefetch!.split(",").map((prefetch) => ({
    label: `raw amqplib loop, prefetch ${prefetch}`,
    args: ["run", "-A", "bench/raw/amqp_worker.ts"],
    env: { CELERIAC_BENCH_RAW_PREFETCH: prefetch },
  })),
  {
    label: "celeriac, default pool -c 2 (prefetch 2 × 4)",
    args: celeriacWorkerArgs(["-c", "2"]),
    env: {},
  },
];

/** Drains `count` tasks with `shape`; returns drained/s and worker / broker µs per task. */
async function drain(shape: Shape): Promise<[number, number, number]> {
  const place = newPlace(SETUPS.find((s) => s.id === "rabbitmq")!);
  let worker: WatchedProcess | undefined;
  try {
    const filler = new CeleriacClient(place);
    await filler.fill(count);
    await filler.close();
    worker = new WatchedProcess({
      command: Deno.execPath(),
      args: shape.args,
      cwd: ROOT,
      env: {
        ...placeEnv(place),
        ...shape.env,
        CELERIAC_BENCH_EXPECT: String(count),
        NO_COLOR: "1",
      },
    });
    await worker.report("ready");
    const beam = brokerServerPid("amqp");
    const [workerBefore, brokerBefore] = [treeCpuMs(worker.pid), treeCpuMs(beam)];
    const stamps = await worker.report<{ first: number; last: number }>("last", 600_000);
    const [workerAfter, brokerAfter] = [treeCpuMs(worker.pid), treeCpuMs(beam)];
    return [
      count / ((stamps.last - stamps.first) / 1000),
      (workerAfter - workerBefore) * 1000 / count,
      (brokerAfter - brokerBefore) * 1000 / count,
    ];
  } finally {
    await worker?.stop();
    await cleanPlace(place);
  }
}

const measured = new Map<Shape, [number, number, number][]>(shapes.map((s) => [s, []]));
for (let run = 0; run < Number(values.runs); run++) {
  for (const shape of shapes) measured.get(shape)!.push(await drain(shape));
}

console.log(
  `| RabbitMQ, drain of ${count} | drained/s | worker µs/task | broker µs/task | ` +
    `${cores}-core ceiling/s |`,
);
console.log("|---|--:|--:|--:|--:|");
for (const [shape, rows] of measured) {
  const [rate, workerUs, brokerUs] = [0, 1, 2].map((i) => median(rows.map((r) => r[i])));
  console.log(
    `| ${shape.label} | ${rate.toFixed(0)} | ${workerUs.toFixed(0)} | ${brokerUs.toFixed(0)} | ` +
      `${(cores * 1e6 / (workerUs + brokerUs)).toFixed(0)} |`,
  );
}
