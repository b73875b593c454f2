/**
 * The systems every setup is measured with: celeriac's worker (the CLI, the
 * default pool: 2 threads that consume for themselves; also `-P workers` and
 * with `-E`), the raw
 * broker-client loop (amqplib or ioredis, no task queue), BullMQ (Redis only,
 * concurrency 50) and Python Celery 5.2.6 (`-c 2`, prefork, defaults otherwise).
 *
 * @module
 */

import { BullClient } from "./bullmq/bullmq_client.ts";
import { CeleriacClient } from "./celeriac_client.ts";
import { WatchedProcess } from "./process_watch.ts";
import { PYTHON_DIR, pythonClient, pythonDrained } from "./python_system.ts";
import { RawClient } from "./raw/raw_client.ts";
import type { DrainStamps, StartedWorker, System } from "./session.ts";
import { placeEnv, type RunPlace } from "./setups.ts";

/** The repository root: bench workers run `cli.ts` from here. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/**
 * `deno run` arguments of a celeriac bench worker with `poolArgs` (such as
 * `-c 2 -P workers`): the README's deployment flags, `CELERIAC_BENCH_DENO_FLAGS`.
 */
export function celeriacWorkerArgs(poolArgs: string[]): string[] {
  return [
    "run",
    "--v8-flags=--max-semi-space-size=1,--expose-gc", // as README's deployment section and `deno task worker`
    ...(Deno.env.get("CELERIAC_BENCH_DENO_FLAGS")?.split(" ").filter(Boolean) ?? []),
    "-A",
    "cli.ts",
    "worker",
    "-A",
    "./bench/bench_app.ts",
    ...poolArgs,
    "--loglevel",
    "WARNING",
  ];
}
/** The Python interpreter with Celery 5.2.6. */
export const PYTHON: string = Deno.env.get("CELERIAC_BENCH_PYTHON") ?? "/usr/bin/python3";

function reportingWorker(proc: WatchedProcess): StartedWorker {
  return {
    proc,
    drained: (expect) =>
      expect === 0 ? Promise.resolve({ first: 0, last: 0 }) : proc.report<DrainStamps>("last"),
    ready: async () => void await proc.report("ready"),
  };
}

function denoEnv(place: RunPlace, expect: number): Record<string, string> {
  return { ...placeEnv(place), CELERIAC_BENCH_EXPECT: String(expect), NO_COLOR: "1" };
}

/**
 * A celeriac bench worker for a probe (`round_trip_cpu.ts`, `latency_legs.ts`)
 * with `poolArgs`: it reports when it is ready and never reports a drain.
 */
export function probeWorker(place: RunPlace, poolArgs: string[]): WatchedProcess {
  return new WatchedProcess({
    command: Deno.execPath(),
    args: celeriacWorkerArgs(poolArgs),
    cwd: ROOT,
    env: denoEnv(place, 2 ** 31),
  });
}

/** Threads of the default system (`CELERIAC_BENCH_THREADS`, default 2: the `-c 1/2/4` runs). */
const THREADS_C = Deno.env.get("CELERIAC_BENCH_THREADS") ?? "2";

/** A celeriac bench worker with `poolArgs`, reporting when it is ready and when it drained. */
function celeriacSystem(
  id: string,
  label: string,
  poolArgs: string[],
  supports: System["supports"] = () => true,
): System {
  return {
    id,
    label: () => label,
    supports,
    start: (place, expect) =>
      reportingWorker(
        new WatchedProcess({
          command: Deno.execPath(),
          args: celeriacWorkerArgs(poolArgs),
          cwd: ROOT,
          env: denoEnv(place, expect),
        }),
      ),
    client: (place) => Promise.resolve(new CeleriacClient(place)),
  };
}

/**
 * celeriac's default pool: `cli.ts worker -A bench/bench_app.ts -c 2` (threads that consume for
 * themselves on RabbitMQ and Redis; the workers pool on the embedded SQLite broker).
 */
export const CELERIAC: System = celeriacSystem(
  "celeriac",
  `celeriac, default pool -c ${THREADS_C}`,
  ["-c", THREADS_C],
);

/** celeriac's `-P workers` pool: the main thread consumes and hands each task to a thread. */
export const CELERIAC_WORKERS: System = celeriacSystem(
  "celeriac-workers",
  "celeriac -P workers, 2 worker threads",
  ["-c", "2", "-P", "workers"],
);

/** celeriac with task events on (`-E`): the events cost (issue 16: at most 15 % slower drain). */
export const CELERIAC_EVENTS: System = celeriacSystem(
  "celeriac-events",
  `celeriac -E (task events), default pool -c ${THREADS_C}`,
  ["-c", THREADS_C, "-E"],
  (setup) => setup.broker !== "sqlite",
);

/** The raw client loop: amqplib (prefetch 100) or ioredis (pipelined RPOP 100). */
export const RAW: System = {
  id: "raw",
  label: (setup) => setup.broker === "amqp" ? "raw amqplib loop" : "raw ioredis loop",
  supports: (setup) => setup.broker !== "sqlite",
  start: (place, expect) =>
    reportingWorker(
      new WatchedProcess({
        command: Deno.execPath(),
        args: [
          "run",
          "-A",
          place.setup.broker === "amqp" ? "bench/raw/amqp_worker.ts" : "bench/raw/redis_worker.ts",
        ],
        cwd: ROOT,
        env: { ...denoEnv(place, expect), CELERY_BROKER_URL: place.brokerUrl },
      }),
    ),
  client: (place) => RawClient.open(place),
};

/** BullMQ (Redis only), a `Worker` with concurrency 50: the Node.js task queue peer of issue 15. */
export const BULLMQ: System = {
  id: "bullmq",
  label: () => "BullMQ, concurrency 50",
  supports: (setup) => setup.broker === "redis",
  start: (place, expect) =>
    reportingWorker(
      new WatchedProcess({
        command: Deno.execPath(),
        args: ["run", "-A", "bench/bullmq/bullmq_worker.ts"],
        cwd: ROOT,
        env: { ...denoEnv(place, expect), CELERY_BROKER_URL: place.brokerUrl },
      }),
    ),
  client: (place) => Promise.resolve(new BullClient(place)),
  filler: (place) => new BullClient(place),
};

/** Python Celery 5.2.6: `python3 -m celery -A bench_app worker -c 2 -P prefork`. */
export const PYTHON_CELERY: System = {
  id: "python",
  label: () => "Python Celery 5.2.6, prefork -c 2",
  supports: (setup) => setup.broker !== "sqlite",
  start: (place, expect) => {
    const stats = Deno.makeTempDirSync({ prefix: "celeriac-bench-py-" });
    // Default log level (WARNING) when measuring; INFO only to see "ready." at rest.
    const level = expect === 0 ? ["--loglevel", "INFO"] : [];
    const proc = new WatchedProcess({
      command: PYTHON,
      args: ["-m", "celery", "-A", "bench_app", "worker", "-c", "2", "-P", "prefork", ...level],
      cwd: PYTHON_DIR,
      env: { ...placeEnv(place), CELERIAC_BENCH_STATS_DIR: stats, PYTHONDONTWRITEBYTECODE: "1" },
      onStop: () => Deno.remove(stats, { recursive: true }).catch(() => {}),
    });
    return {
      proc,
      drained: (count) => pythonDrained(stats, count, proc),
      ready: () => pythonReady(proc),
    };
  },
  client: (place) => Promise.resolve(pythonClient(place)),
};

async function pythonReady(proc: WatchedProcess): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!/ready\./.test(proc.stderr)) {
    if (performance.now() > deadline) throw new Error(`Python worker not ready:\n${proc.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every system, in row order. */
export const SYSTEMS: readonly System[] = [
  CELERIAC,
  CELERIAC_WORKERS,
  CELERIAC_EVENTS,
  RAW,
  BULLMQ,
  PYTHON_CELERY,
];
