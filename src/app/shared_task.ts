/**
 * `sharedTask()` and `currentApp()`: tasks defined in a library without an
 * app, sent through whichever app is current when they are called.
 *
 * @module
 */

import type {
  BoundTaskBody,
  BoundTaskFor,
  PlainTaskBody,
  Task,
  TaskBody,
  TaskFor,
} from "../task/task.ts";
import type { TaskOptions } from "../task/options.ts";
import { Celery } from "./celery.ts";
import { defineTask } from "./define_task.ts";
import { currentAppLike, setDefaultAppFactory } from "./current_app.ts";
import { addSharedTask } from "./shared_tasks.ts";
import { createTask } from "../task/task.ts";

setDefaultAppFactory(() => new Celery("default"));

/**
 * The current app: the last one created (unless made with `setAsCurrent:
 * false`), else an implicit app named `default`. Falling back to `default` is
 * logged with its broker; with `CELERIAC_STRICT=1` (or `setStrictMode(true)`)
 * it throws instead.
 */
export function currentApp(): Celery {
  return currentAppLike() as Celery;
}

/**
 * Defines a task every app has, named after the function (no app prefix).
 * Each call goes through the app current at that moment; with no app, the
 * fallback to the default app is logged, or throws with `{ strict: true }`
 * (or global strict mode).
 */
export function sharedTask<F extends PlainTaskBody>(
  fn: F,
  options?: TaskOptions & { bind?: false },
): TaskFor<F>;
/** Defines a bound shared task: its body's first argument is the task itself. */
export function sharedTask<F extends BoundTaskBody>(
  fn: F,
  options: TaskOptions & { bind: true },
): BoundTaskFor<F>;
export function sharedTask(fn: TaskBody, options: TaskOptions = {}): Task {
  const strict = options.strict ?? false;
  const task = createTask(defineTask(fn, options), () => currentAppLike({ strict }) as Celery);
  addSharedTask(task);
  return task;
}
