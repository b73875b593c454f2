/**
 * `celeriac worker`: runs a worker until SIGINT/SIGTERM. SIGTERM and the
 * first SIGINT are a warm shutdown; a second SIGINT, or SIGQUIT, is cold.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { setupLogging } from "../log.ts";
import type { PoolKind } from "../worker/pool/types.ts";
import type { AppLocation } from "../worker/pool/messages.ts";
import { CeleryWorker, type WorkerOptions } from "../worker/worker.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  intFlag,
  logLevelFlag,
  parseFlags,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The worker's flags. */
export const WORKER_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  concurrency: {
    type: "string",
    short: "c",
    help: "tasks run at once (default: number of CPUs)",
    value: "N",
  },
  pool: {
    type: "string",
    short: "P",
    help: "threads (default; workers on memory:// and SQLite), workers, async or solo",
    value: "POOL",
  },
  queues: {
    type: "string",
    short: "Q",
    help: "queues to consume, comma-separated",
    value: "QUEUES",
  },
  hostname: { type: "string", short: "n", help: "node name (default celery@%h)", value: "NAME" },
  beat: { type: "boolean", short: "B", help: "also run beat, the periodic task scheduler" },
  schedule: { type: "string", short: "s", help: "beat's schedule file (with -B)", value: "FILE" },
  "prefetch-multiplier": {
    type: "string",
    help: "messages reserved per concurrent task (default 4)",
    value: "N",
  },
  "max-tasks-per-child": {
    type: "string",
    help: "recycle a worker thread after N tasks",
    value: "N",
  },
  "time-limit": { type: "string", help: "hard time limit per task, seconds", value: "SECONDS" },
  "eta-hold-limit": {
    type: "string",
    help: "longest hold of a message waiting for its ETA, seconds (RabbitMQ default 900)",
    value: "SECONDS",
  },
  "soft-time-limit": {
    type: "string",
    help: "soft time limit per task, seconds",
    value: "SECONDS",
  },
  "without-banner": { type: "boolean", help: "do not print the start-up banner" },
  "task-events": {
    type: "boolean",
    short: "E",
    help: "send task events (celery events, Flower, app.events())",
  },
  "without-mingle": {
    type: "boolean",
    help: "do not ask other workers for their revoked tasks at start",
  },
  statedb: {
    type: "string",
    help: "file that keeps revoked task ids across restarts",
    value: "FILE",
  },
  "heartbeat-interval": {
    type: "string",
    help: "seconds between heartbeat events (default 2)",
    value: "SECONDS",
  },
};

/** `celeriac worker --help`. */
export const WORKER_HELP = helpText(
  "celeriac worker --app ./app.ts[:export] [options]",
  "Start a worker that runs the app's tasks.",
  WORKER_FLAGS,
);

const POOLS: readonly PoolKind[] = ["workers", "threads", "async", "solo"];

/** What the worker's flags say. */
export interface WorkerCommandOptions extends WorkerOptions {
  /** `-A`. */
  app?: string;
  /** `--help`. */
  help?: boolean;
  /** `--prefetch-multiplier`. */
  prefetchMultiplier?: number;
  /** `--max-tasks-per-child`. */
  maxTasksPerChild?: number;
  /** `--time-limit`. */
  timeLimit?: number;
  /** `--soft-time-limit`. */
  softTimeLimit?: number;
}

/** Worker options from command-line flags (throws UsageError naming a bad flag). */
export function workerOptionsFromArgs(args: string[]): WorkerCommandOptions {
  const { values, positionals } = parseFlags(args, WORKER_FLAGS, "worker");
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "worker");
  }
  const pool = values.pool as string | undefined;
  if (pool !== undefined && !POOLS.includes(pool as PoolKind)) {
    throw new UsageError(
      `invalid value for -P/--pool: ${
        JSON.stringify(pool)
      } (choose from workers, threads, async, solo)`,
      "worker",
    );
  }
  const queues = typeof values.queues === "string"
    ? values.queues.split(",").map((queue) => queue.trim()).filter(Boolean)
    : undefined;
  return {
    app: values.app as string | undefined,
    help: values.help === true,
    concurrency: intFlag(values.concurrency, "-c/--concurrency", "worker", 1),
    pool: pool as PoolKind | undefined,
    queues,
    hostname: values.hostname as string | undefined,
    logLevel: logLevelFlag(values.loglevel, "worker"),
    beat: values.beat === true,
    scheduleFile: values.schedule as string | undefined,
    banner: values["without-banner"] !== true,
    prefetchMultiplier: intFlag(values["prefetch-multiplier"], "--prefetch-multiplier", "worker"),
    maxTasksPerChild: intFlag(values["max-tasks-per-child"], "--max-tasks-per-child", "worker", 1),
    timeLimit: intFlag(values["time-limit"], "--time-limit", "worker", 1),
    softTimeLimit: intFlag(values["soft-time-limit"], "--soft-time-limit", "worker", 1),
    etaHoldLimit: intFlag(values["eta-hold-limit"], "--eta-hold-limit", "worker", 1),
    events: values["task-events"] === true ? true : undefined,
    mingle: values["without-mingle"] !== true,
    stateDb: values.statedb as string | undefined,
    heartbeatInterval: intFlag(values["heartbeat-interval"], "--heartbeat-interval", "worker", 1),
  };
}

function notice(text: string): void {
  console.error(`\n${text}`);
}

/**
 * Runs a worker for `app` until it is signalled to stop; returns the exit
 * code. `location` tells worker threads where the app is (the `-A` module).
 */
export async function runWorkerCommand(
  app: Celery,
  args: string[],
  location?: AppLocation,
): Promise<number> {
  const options = workerOptionsFromArgs(args);
  if (options.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  await setupLogging({ level: options.logLevel, processName: "MainProcess" });
  app.conf.update({
    worker_prefetch_multiplier: options.prefetchMultiplier,
    worker_max_tasks_per_child: options.maxTasksPerChild,
    task_time_limit: options.timeLimit,
    task_soft_time_limit: options.softTimeLimit,
  });
  const worker = new CeleryWorker(app, { ...options, appLocation: location });
  let signals = 0;
  const onInterrupt = () => {
    signals++;
    if (signals === 1) {
      notice("worker: Hitting Ctrl+C again will terminate all running tasks!");
      notice("worker: Warm shutdown (MainProcess)");
      void worker.stop("warm");
    } else {
      notice("worker: Cold shutdown (MainProcess)");
      void worker.stop("cold");
    }
  };
  const onTerminate = () => {
    notice("worker: Warm shutdown (MainProcess)");
    void worker.stop("warm");
  };
  const onQuit = () => {
    notice("worker: Cold shutdown (MainProcess)");
    void worker.stop("cold");
  };
  const listeners: [Deno.Signal, () => void][] = [["SIGINT", onInterrupt]];
  if (Deno.build.os !== "windows") listeners.push(["SIGTERM", onTerminate], ["SIGQUIT", onQuit]);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  try {
    await worker.start();
    await worker.finished;
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    await app.close();
  }
  if (worker.failure) {
    console.error(`celeriac: error: the worker stopped: ${worker.failure.message}`);
    return 1;
  }
  return 0;
}
