/**
 * An app that uses the shared tasks of `library.ts`: importing the library is
 * all it takes, as with Celery's `@shared_task` in a reusable Django app.
 * Worker threads import this module, so the worker part is guarded by
 * `import.meta.main`.
 *
 * ```sh
 * deno run -A examples/shared_tasks/app.ts
 * ```
 *
 * @module
 */

import { Celery, currentApp } from "../../mod.ts";
import { mul, xsum } from "./library.ts";

/** The app; it becomes the current app, so the shared tasks go through it. */
export const app = new Celery("shared_example", {
  config: { task_default_queue: "examples.shared_tasks" },
});

if (import.meta.main) {
  console.log(`current app: ${currentApp()}`);
  console.log(`tasks: ${app.tasks.names().join(", ")}`);
  const worker = await app.worker({ concurrency: 1, banner: false });
  try {
    console.log(`mul(6, 7) = ${await (await mul.delay(6, 7)).get({ timeout: 20 })}`);
    console.log(`xsum([1, 2, 3]) = ${await (await xsum.delay([1, 2, 3])).get({ timeout: 20 })}`);
  } finally {
    await worker.stop();
    await app.close();
  }
}
