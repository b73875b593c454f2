/**
 * What the prefetch window costs (issue 15). On RabbitMQ and Redis, for the
 * raw client loop (`bench/raw/`) at several windows and for celeriac's
 * default pool, it measures a
 * drain of N queued `bench.add` tasks (results off) and N round trips (rpc
 * results, up to 1,000 in flight; the raw loop with its own client, which
 * waits for no publisher confirm), and reads from `/proc` the CPU the worker
 * process and the broker server (`beam.smp`, `redis-server`) spent on each, per task. The
 * last column of the drain is what a machine of `--cores` cores could reach
 * if worker and broker kept them busy: cores ÷ (worker + broker µs per task).
 *
 * ```sh
 * deno run -A bench/window_cost.ts [--only rabbitmq,redis] [--count 20000] [--runs 3] \
 *   [--windows 100,1x8,2x4] [--cores 2]
 * ```
 *
 * `--windows` lists the raw loop's shapes as `<consumers>x<prefetch>` (each
 * consumer on its own connection, as celeriac's threads) or `<prefetch>`,
 * with a `g` after it for a global `basic.qos` on RabbitMQ (`1x4g`); on
 * Redis the prefetch is the most one `RPOP` takes.
 * Shapes run in turn within each round, so a slow spell of the host falls on
 * all of them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { brokerServerPid, treeCpuMs, WatchedProcess } from "./process_watch.ts";
import { RawClient } from "./raw/raw_client.ts";
import { cleanPlace, newPlace, placeEnv, type RunPlace, type Setup, SETUPS } from "./setups.ts";
import { median } from "./stats.ts";
import { celeriacWorkerArgs, ROOT } from "./systems.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "rabbitmq,redis" },
    count: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    windows: { type: "string", default: "100,1x8,2x4" },
    cores: { type: "string", default: "2" },
  },
});
const count = Number(values.count);
const cores = Number(values.cores);

/** A client that sends N tasks and waits for their results; resolves to milliseconds. */
interface RoundTripper {
  roundTrip(count: number): Promise<number>;
  close(): Promise<void>;
}

/** One way of consuming the queue: a label, the worker process and its client. */
interface Shape {
  label: string;
  args: string[];
  env: Record<string, string>;
  client(place: RunPlace): Promise<RoundTripper>;
}

/** The raw loop at each of `--windows`, then celeriac's default pool. */
function shapesFor(setup: Setup): Shape[] {
  const raw = setup.broker === "amqp"
    ? ["raw amqplib loop", "bench/raw/amqp_worker.ts"]
    : ["raw ioredis loop", "bench/raw/redis_worker.ts"];
  return [
    ...values.windows!.split(",").map((window): Shape => {
      const global = window.endsWith("g");
      const shape = global ? window.slice(0, -1) : window;
      const [consumers, prefetch] = shape.includes("x") ? shape.split("x") : ["1", shape];
      return {
        label: `${raw[0]}, ${consumers} × prefetch ${prefetch}${global ? " (global)" : ""}`,
        args: ["run", "-A", raw[1]],
        env: {
          CELERIAC_BENCH_RAW_PREFETCH: prefetch,
          CELERIAC_BENCH_RAW_CHANNELS: consumers,
          CELERIAC_BENCH_RAW_GLOBAL: global ? "1" : "0",
        },
        client: (place) => RawClient.open(place),
      };
    }),
    {
      label: "celeriac, default pool -c 2 (2 × prefetch 4)",
      args: celeriacWorkerArgs(["-c", "2"]),
      env: {},
      client: (place) => Promise.resolve(new CeleriacClient(place)),
    },
  ];
}

/** Drained/s or round trips/s, then worker and broker µs per task. */
type Row = [number, number, number];

/** CPU of the worker and of the broker server while `work` runs, per task. */
async function measured(
  place: RunPlace,
  worker: WatchedProcess,
  work: () => Promise<number>,
): Promise<Row> {
  const server = brokerServerPid(place.brokerUrl);
  const [workerBefore, brokerBefore] = [treeCpuMs(worker.pid), treeCpuMs(server)];
  const ms = await work();
  const [workerAfter, brokerAfter] = [treeCpuMs(worker.pid), treeCpuMs(server)];
  return [
    count / (ms / 1000),
    (workerAfter - workerBefore) * 1000 / count,
    (brokerAfter - brokerBefore) * 1000 / count,
  ];
}

function startWorker(shape: Shape, place: RunPlace, expect: number): WatchedProcess {
  return new WatchedProcess({
    command: Deno.execPath(),
    args: shape.args,
    cwd: ROOT,
    env: { ...placeEnv(place), ...shape.env, CELERIAC_BENCH_EXPECT: String(expect), NO_COLOR: "1" },
  });
}

/** Drains `count` queued tasks with `shape`. */
async function drain(setup: Setup, shape: Shape): Promise<Row> {
  const place = newPlace(setup);
  let worker: WatchedProcess | undefined;
  try {
    await CeleriacClient.fillPlace(place, count);
    worker = startWorker(shape, place, count);
    await worker.report("ready");
    const started = worker;
    return await measured(place, worker, async () => {
      const stamps = await started.report<{ first: number; last: number }>("last", 600_000);
      return stamps.last - stamps.first;
    });
  } finally {
    await worker?.stop();
    await cleanPlace(place);
  }
}

/** `count` round trips with `shape`, after 2,000 to warm up. */
async function roundTrips(setup: Setup, shape: Shape): Promise<Row> {
  const place = newPlace(setup);
  const worker = startWorker(shape, place, 2 ** 31);
  let client: RoundTripper | undefined;
  try {
    await worker.report("ready");
    client = await shape.client(place);
    await client.roundTrip(2000);
    const warm = client;
    return await measured(place, worker, () => warm.roundTrip(count));
  } finally {
    await client?.close();
    await worker.stop();
    await cleanPlace(place);
  }
}

const medians = (rows: Row[]) => [0, 1, 2].map((i) => median(rows.map((r) => r[i])));
for (const setup of SETUPS.filter((s) => values.only!.split(",").includes(s.id))) {
  const shapes = shapesFor(setup);
  const drains = new Map<Shape, Row[]>(shapes.map((s) => [s, []]));
  const trips = new Map<Shape, Row[]>(shapes.map((s) => [s, []]));
  for (let run = 0; run < Number(values.runs); run++) {
    for (const shape of shapes) {
      drains.get(shape)!.push(await drain(setup, shape));
      trips.get(shape)!.push(await roundTrips(setup, shape));
    }
  }
  console.log(
    `\n| ${setup.label}, ${count} tasks, median of ${values.runs} | drained/s | worker µs/task | ` +
      `broker µs/task | ${cores}-core ceiling/s | round trips/s | worker µs/task | ` +
      `broker µs/task |`,
  );
  console.log("|---|--:|--:|--:|--:|--:|--:|--:|");
  for (const shape of shapes) {
    const [rate, workerUs, brokerUs] = medians(drains.get(shape)!);
    const [tripRate, tripWorkerUs, tripBrokerUs] = medians(trips.get(shape)!);
    console.log(
      `| ${shape.label} | ${rate.toFixed(0)} | ${workerUs.toFixed(0)} | ${brokerUs.toFixed(0)} | ` +
        `${(cores * 1e6 / (workerUs + brokerUs)).toFixed(0)} | ${tripRate.toFixed(0)} | ` +
        `${tripWorkerUs.toFixed(0)} | ${tripBrokerUs.toFixed(0)} |`,
    );
  }
}
