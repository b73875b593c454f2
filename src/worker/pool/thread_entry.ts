/**
 * The code each worker thread of the `workers` pool runs: it imports the app
 * module once, then runs one task at a time as the main thread asks. Tasks
 * may arrive ahead of time, several per message: they wait here, in order,
 * and each starts as soon as the one before it is reported, or goes back on
 * `release`. Every report names its run by the pool's number (`seq`). The
 * message listener is set before anything is awaited, so no message is lost.
 *
 * The threads are `node:worker_threads` Workers (Deno's own implementation)
 * rather than `new Worker()` Web Workers, because in Deno 2.9 only they can
 * be stopped in the middle of a CPU-bound loop, and only while the loop runs
 * inside a Web Lock (`navigator.locks`): each task runs while its thread
 * holds one. Measured (`bench/busy_loop/busy_loop_stop.ts`): without the
 * lock such a thread spins on after `terminate()`, and a Web Worker spins
 * on with or without it. `tests/worker/busy_loop_stop_test.ts` pins it. They also
 * report how they ended (`exit` with `Deno.exit()`'s code, `error` for an
 * uncaught error), which Web Workers do not for `Deno.exit()`.
 *
 * With `worker_max_memory_per_child` set, after each task the thread reports
 * its memory (its isolate's V8 heap plus external memory; `rss` would be the
 * whole process's).
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import { getLogger, setupLogging } from "../../log.ts";
import { runTask } from "../../task/run_task.ts";
import { encodeException, formatTraceback } from "../../protocol/exceptions.ts";
import { pythonRepr } from "../../protocol/python_repr.ts";
import { NotRegistered } from "../../errors.ts";
import type { TaskOutcome } from "../../task/outcome.ts";
import { type AppShape, findApp } from "./find_app.ts";
import { armSoftLimit, softLimitMessage } from "./time_limits.ts";
import type { FromWorker, InitMessage, RunJob, RunMessage, ToWorker } from "./messages.ts";
import { startHeapTrim } from "../heap_trim.ts";

/** The part of the Web Locks API used here (Deno has it; its type declarations do not yet). */
interface LockManager {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

const port = parentPort!;
startHeapTrim();
const locks = (globalThis.navigator as unknown as { locks: LockManager }).locks;
/** Held while tasks run, so terminating this thread interrupts even a busy loop. */
const RUN_LOCK = `celeriac-task-run-${crypto.randomUUID()}`;
let app: AppShape | undefined;
let init: InitMessage | undefined;
const log = getLogger("worker");

/** Runs handed over and not started yet, in order (`release` gives them back). */
const pending: RunJob[] = [];
/** A run is in progress (or about to start, waiting for the run lock). */
let busy = false;
/** Releases answered so far; the main thread counts those asked for in `init.control[0]`. */
let releasesAnswered = 0;

function send(message: FromWorker): void {
  port.postMessage(message);
}

function memoryKiB(): number | undefined {
  if (!init?.reportMemory) return undefined; // a system call per task otherwise
  const usage = Deno.memoryUsage();
  return Math.round((usage.heapTotal + usage.external) / 1024);
}

function failure(error: unknown, runtime = 0): TaskOutcome {
  return {
    state: "FAILURE",
    exception: encodeException(error),
    traceback: formatTraceback(error),
    runtime,
    repr: pythonRepr(error),
  };
}

async function load(message: InitMessage): Promise<void> {
  init = message;
  try {
    await setupLogging({ level: message.logLevel, processName: message.processName });
    const module = await import(message.moduleUrl);
    app = findApp(module, {
      specifier: message.moduleUrl,
      exportName: message.exportName,
      main: message.main,
    });
    // `imports` / `include` modules hold tasks too (the main thread imported them the same way).
    await (app as { importDefaultModules?: () => Promise<void> }).importDefaultModules?.();
    send({ type: "ready" });
  } catch (error) {
    send({ type: "init-failed", message: (error as Error)?.message ?? String(error) });
  }
}

/** Runs one task to its outcome (never throws). */
async function execute(job: RunJob): Promise<TaskOutcome> {
  const { request } = job;
  const task = app?.tasks.get(request.task);
  if (!task || !init) return failure(new NotRegistered(request.task));
  const soft = armSoftLimit(job.softTimeLimit, request.id, request.task, () => {
    log.warning(softLimitMessage(job.softTimeLimit!, request.task, request.id));
  });
  try {
    return await runTask(task, request, soft.signal, init.retryDefaults);
  } finally {
    soft.clear();
  }
}

/**
 * The main thread asked for a release this thread has not answered yet
 * (`control[0]` is raised before the `release` message is posted): no held
 * run may start until the message comes and the runs go back.
 */
function holdingBack(): boolean {
  return init !== undefined && Atomics.load(init.control, 0) > releasesAnswered;
}

/** Reports `job`'s outcome and, in the same turn, claims the next pending run (unless holding back). */
function reportDone(job: RunJob, outcome: TaskOutcome): RunJob | undefined {
  const next = holdingBack() ? undefined : pending.shift();
  const base = { type: "done", seq: job.seq, next: next?.seq, memoryKiB: memoryKiB() } as const;
  try {
    send({ ...base, outcome });
  } catch (cloneError) {
    // The return value cannot cross threads (a function, a class with private state…).
    const runtime = "runtime" in outcome ? outcome.runtime : 0;
    send({ ...base, outcome: failure(cloneError, runtime) });
  }
  return next;
}

/**
 * Runs `first`, then each pending run, back to back, under one hold of the run
 * lock. The next run is claimed in the turn that reports the last one, which
 * is when the main thread counts it as started.
 */
async function runFrom(first: RunJob): Promise<void> {
  await locks.request(RUN_LOCK, async () => {
    for (let job: RunJob | undefined = first; job;) job = reportDone(job, await execute(job));
    busy = false;
  });
}

/**
 * Answers release number `asked`: every pending run goes back. Messages
 * arrive in order, so every run handed over before the release is here.
 */
function release(asked: number): void {
  releasesAnswered = Math.max(releasesAnswered, asked);
  const seqs = pending.map((job) => job.seq);
  pending.length = 0;
  send({ type: "released", seqs });
}

function receive(message: RunMessage): void {
  const jobs = message.jobs;
  if (message.startsNow && !busy) {
    // The main thread saw this thread idle and counts jobs[0] as started.
    pending.push(...jobs.slice(1));
    busy = true;
    void runFrom(jobs[0]);
    return;
  }
  if (message.startsNow) log.error(`run ${jobs[0].seq} handed as starting now to a busy thread`);
  pending.push(...jobs);
  if (busy || holdingBack()) return;
  busy = true;
  const first = pending.shift()!;
  send({ type: "started", seq: first.seq });
  void runFrom(first);
}

port.on("message", (message: ToWorker) => {
  if (message.type === "init") void load(message);
  else if (message.type === "run") receive(message);
  else release(message.asked);
});
