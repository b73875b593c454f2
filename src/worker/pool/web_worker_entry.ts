/**
 * The code each worker thread of the `workers` pool runs: it imports the app
 * module once, then runs one task at a time as the main thread asks. The
 * message listener is set before anything is awaited, so no message is lost.
 *
 * The threads are `node:worker_threads` Workers (Deno's own implementation)
 * rather than `new Worker()` Web Workers, because in Deno 2.9 only they can
 * be stopped in the middle of a CPU-bound loop: each task runs while its
 * thread holds a Web Lock (`navigator.locks`), and terminating a Node-type
 * worker that holds a lock interrupts its JavaScript at once. A Web
 * Worker's `terminate()` leaves such a loop spinning forever. They also
 * report how they ended (`exit` with `Deno.exit()`'s code, `error` for an
 * uncaught error), which Web Workers do not for `Deno.exit()`.
 *
 * After each task the thread reports its memory (its isolate's V8 heap plus
 * external memory; `rss` would be the whole process's) for
 * `worker_max_memory_per_child`.
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
import type { FromWorker, InitMessage, RunMessage, ToWorker } from "./messages.ts";

/** The part of the Web Locks API used here (Deno has it; its type declarations do not yet). */
interface LockManager {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

const port = parentPort!;
const locks = (globalThis.navigator as unknown as { locks: LockManager }).locks;
/** Held while a task runs, so terminating this thread interrupts even a busy loop. */
const RUN_LOCK = `celeriac-task-run-${crypto.randomUUID()}`;
let app: AppShape | undefined;
let init: InitMessage | undefined;
const log = getLogger("worker");

function send(message: FromWorker): void {
  port.postMessage(message);
}

function memoryKiB(): number {
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

async function run(message: RunMessage): Promise<void> {
  const { request } = message;
  const task = app?.tasks.get(request.task);
  if (!task || !init) {
    send({ type: "done", outcome: failure(new NotRegistered(request.task)), memoryKiB: 0 });
    return;
  }
  const defaults = init.retryDefaults;
  const soft = armSoftLimit(message.softTimeLimit, request.id, request.task, () => {
    log.warning(softLimitMessage(message.softTimeLimit!, request.task, request.id));
  });
  try {
    const outcome = await locks.request(
      RUN_LOCK,
      () => runTask(task, request, soft.signal, defaults),
    );
    try {
      send({ type: "done", outcome, memoryKiB: memoryKiB() });
    } catch (cloneError) {
      // The return value cannot cross threads (a function, a class with private state…).
      const runtime = "runtime" in outcome ? outcome.runtime : 0;
      send({ type: "done", outcome: failure(cloneError, runtime), memoryKiB: memoryKiB() });
    }
  } finally {
    soft.clear();
  }
}

port.on("message", (message: ToWorker) => {
  if (message.type === "init") void load(message);
  else void run(message);
});
