/**
 * Celery's result key names on Redis (spec §5.3.1), with the
 * `global_keyprefix` of `result_backend_transport_options` applied as
 * Celery 5.5+ does: the prefix, then `_` unless the prefix already ends in
 * one of `:_-.`, then `celery-task-meta-<id>`. (Celery 5.3 and 5.4 always
 * add the `_`; the two agree for prefixes that do not end in a separator.)
 * The pub/sub channel of a result is its key.
 *
 * @module
 */

/** Celery's prefix of task result keys. */
export const TASK_KEYPREFIX = "celery-task-meta-";
/** Celery's prefix of group result keys. */
export const GROUP_KEYPREFIX = "celery-taskset-meta-";

/**
 * The key (and channel) of a task's result.
 *
 * @example
 * ```ts
 * import { ResultKeys } from "./result_keys.ts";
 * console.assert(new ResultKeys("").task("42") === "celery-task-meta-42");
 * console.assert(new ResultKeys("app").task("42") === "app_celery-task-meta-42");
 * console.assert(new ResultKeys("app:").task("42") === "app:celery-task-meta-42");
 * ```
 */
export class ResultKeys {
  /** The prefix of task keys, global prefix included. */
  readonly taskPrefix: string;
  /** The prefix of group keys, global prefix included. */
  readonly groupPrefix: string;

  /** Applies `global_keyprefix` (may be empty). */
  constructor(globalKeyprefix: string) {
    let prefix = globalKeyprefix;
    if (prefix && !":_-.".includes(prefix.at(-1) ?? "")) prefix += "_";
    this.taskPrefix = prefix + TASK_KEYPREFIX;
    this.groupPrefix = prefix + GROUP_KEYPREFIX;
  }

  /** `celery-task-meta-<taskId>` with the prefix. */
  task(taskId: string): string {
    return this.taskPrefix + taskId;
  }

  /** The task id of a task key. */
  taskIdOf(key: string): string {
    return key.slice(this.taskPrefix.length);
  }
}
