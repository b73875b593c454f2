/**
 * The code each Web Worker of the `workers` pool runs: it imports the app
 * module once, then runs one task at a time as the main thread asks.
 * `self.onmessage` is set before anything is awaited, so no message is lost.
 *
 * @module
 */

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import { getLogger, setupLogging } from "../../log.ts";
import { runTask } from "../../task/run_task.ts";
import { encodeException, formatTraceback } from "../../protocol/exceptions.ts";
import { pythonRepr } from "../../protocol/python_repr.ts";
import { NotRegistered } from "../../errors.ts";
import { type AppShape, findApp } from "./find_app.ts";
import { armSoftLimit, softLimitMessage } from "./time_limits.ts";
import type { FromWorker, InitMessage, RunMessage, ToWorker } from "./messages.ts";

let app: AppShape | undefined;
let init: InitMessage | undefined;
const log = getLogger("worker");

function send(message: FromWorker): void {
  self.postMessage(message);
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
    send({ type: "ready" });
  } catch (error) {
    send({ type: "init-failed", message: (error as Error)?.message ?? String(error) });
  }
}

async function run(message: RunMessage): Promise<void> {
  const { request } = message;
  const task = app?.tasks.get(request.task);
  if (!task || !init) {
    const error = new NotRegistered(request.task);
    send({
      type: "done",
      outcome: {
        state: "FAILURE",
        exception: encodeException(error),
        traceback: formatTraceback(error),
        runtime: 0,
        repr: pythonRepr(error),
      },
    });
    return;
  }
  const soft = armSoftLimit(message.softTimeLimit, request.id, request.task, () => {
    log.warning(softLimitMessage(message.softTimeLimit!, request.task, request.id));
  });
  try {
    const outcome = await runTask(task, request, soft.signal, init.retryDefaults);
    try {
      send({ type: "done", outcome });
    } catch (cloneError) {
      // The return value cannot cross threads (a function, a class with private state…).
      send({
        type: "done",
        outcome: {
          state: "FAILURE",
          exception: encodeException(cloneError),
          traceback: formatTraceback(cloneError),
          runtime: "runtime" in outcome ? outcome.runtime : 0,
          repr: pythonRepr(cloneError),
        },
      });
    }
  } finally {
    soft.clear();
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "init") void load(message);
  else void run(message);
};
