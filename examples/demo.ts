/**
 * `deno task demo`: celeriac end to end on the embedded default broker and
 * result backend, with nothing to install or start. It starts a worker with
 * two worker threads in this process, sends the seed examples (`add`, a failing
 * task, a bound task, a shared task), prints each result, stops the worker
 * and exits.
 *
 * The Worker threads import this module to find the app and its tasks, so the
 * demonstration itself only runs when this is the main module.
 *
 * @module
 */

import { type BoundTask, Celery, RemoteError, setupLogging } from "../mod.ts";
import { mul } from "./shared_tasks/library.ts";

/** The demo app: nothing configured, so the embedded default is used. */
export const app = new Celery("demo");

/** A Python-named error, so a Python client would rebuild a ValueError. */
class ValueError extends Error {
  override name = "ValueError";
}

/** Adds two numbers. */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});

/** Always fails, to show how failures come back. */
export const fail = app.task(function fail(reason: string): never {
  throw new ValueError(reason);
});

/** A bound task: its first argument is the task itself, with its request. */
export const whoami = app.task(function whoami(self: BoundTask) {
  const { id, hostname, retries } = self.request;
  return `${self.name}[${id}] ran on ${hostname}, retries=${retries}`;
}, { bind: true });

async function main(): Promise<void> {
  // A queue of its own per run: a demo never takes (or leaves) another run's tasks.
  app.conf.task_default_queue = `demo.${crypto.randomUUID().slice(0, 8)}`;
  // Celery-style log lines on stderr (`Task demo.add[…] received`, `… succeeded in …`).
  await setupLogging({ level: "INFO" });
  const worker = await app.worker({ concurrency: 2, logLevel: "INFO" });
  try {
    const sum = await add.delay(4, 4);
    console.log(`add(4, 4) = ${await sum.get({ timeout: 20 })}`);

    const failed = await fail.delay("this task always fails");
    const error = await failed.get({ timeout: 20, propagate: false });
    if (error instanceof RemoteError) {
      console.log(`fail(...) raised ${error.excType}: ${error.message}`);
    }

    const bound = await whoami.delay();
    console.log(`whoami() = ${await bound.get({ timeout: 20 })}`);

    const product = await mul.delay(6, 7);
    console.log(`mul(6, 7) (a shared task) = ${await product.get({ timeout: 20 })}`);
  } finally {
    await worker.stop();
    await app.close();
  }
  console.log("demo finished: the worker stopped after finishing its tasks.");
}

if (import.meta.main) await main();
