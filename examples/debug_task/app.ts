/**
 * The seeds' bound `debug_task` (Celery's Django example): a bound task
 * receives itself as `self` and prints its request.
 *
 * ```python
 * @app.task(bind=True, ignore_result=True)
 * def debug_task(self):
 *     print(f'Request: {self.request!r}')
 * ```
 *
 * Run it with a worker in this process:
 *
 * ```sh
 * deno run -A examples/debug_task/app.ts
 * ```
 *
 * or with a worker of its own (`deno run -A cli.ts worker --app ./examples/debug_task/app.ts
 * -Q examples.debug_task`) and `deno run -A cli.ts call proj.debug_task -A
 * ./examples/debug_task/app.ts`.
 *
 * @module
 */

import { type BoundTask, Celery, describeRequest } from "../../mod.ts";

/** The app, on its own queue so no other example's worker takes its tasks. */
export const app = new Celery("proj", {
  config: { task_default_queue: "examples.debug_task" },
});

/**
 * Prints its request. Celery's version ignores its result; this one keeps it
 * (the request's id) so the example can wait for it.
 */
export const debug_task = app.task(function debug_task(self: BoundTask) {
  console.log(`Request: ${describeRequest(self.request)}`);
  return self.request.id;
}, { bind: true });

if (import.meta.main) {
  const worker = await app.worker({ concurrency: 1, banner: false });
  try {
    const result = await debug_task.delay();
    await result.get({ timeout: 20 });
    console.log(`debug_task[${result.id}] done`);
  } finally {
    await worker.stop();
    await app.close();
  }
}
