/**
 * Running one task body with its request: binds arguments, gives bound tasks
 * their `self`, and turns what happened into a `TaskOutcome`. Used by every
 * pool (worker threads, async, solo) and by eager `apply()`.
 *
 * @module
 */

import { Ignore, MaxRetriesExceededError, Reject, Retry } from "../errors.ts";
import { encodeException, formatTraceback } from "../protocol/exceptions.ts";
import { pythonRepr, safeRepr } from "../protocol/python_repr.ts";
import type { RetryOptions } from "./options.ts";
import type { TaskOutcome } from "./outcome.ts";
import { bindArguments } from "./param_names.ts";
import { checkArguments } from "./arity.ts";
import { withCurrentRequest } from "./current_request.ts";
import type { TaskRequest } from "./request.ts";
import type { BoundTask, TaskDefinition } from "./task.ts";
import { replaceTask } from "../canvas/replace.ts";

/** Settings that shape retries, from the app's config. */
export interface RetryDefaults {
  /** `task_default_retry_delay`. */
  defaultRetryDelay: number;
  /** `task_max_retries`. */
  maxRetries: number | null;
}

function maxRetriesOf(task: TaskDefinition, defaults: RetryDefaults): number | null {
  return task.options.maxRetries !== undefined ? task.options.maxRetries : defaults.maxRetries;
}

function makeBoundTask(
  task: TaskDefinition,
  request: TaskRequest,
  signal: AbortSignal,
  defaults: RetryDefaults,
): BoundTask {
  const maxRetries = maxRetriesOf(task, defaults);
  return {
    name: task.name,
    request,
    signal,
    maxRetries,
    replace: (sig) => replaceTask(task, request, sig),
    retry(options: RetryOptions = {}): never {
      const limit = options.maxRetries !== undefined ? options.maxRetries : maxRetries;
      if (limit !== null && request.retries >= limit) {
        if (options.exc !== undefined) throw options.exc;
        throw new MaxRetriesExceededError(
          `Can't retry ${task.name}[${request.id}] args:${safeRepr(request.args)} ` +
            `kwargs:${safeRepr(request.kwargs)}`,
          { taskName: task.name, taskId: request.id },
        );
      }
      const delay = options.countdown ?? task.options.defaultRetryDelay ??
        defaults.defaultRetryDelay;
      const when = options.eta ?? new Date(Date.now() + delay * 1000);
      // Celery's Retry.humanize(): "in 5s" for a countdown, "at <eta>" for an ETA.
      const humanized = options.eta ? `at ${options.eta.toISOString()}` : `in ${delay}s`;
      throw new Retry(`Retry ${humanized}`, {
        when,
        exc: options.exc,
        args: options.args,
        kwargs: options.kwargs,
        taskName: task.name,
        taskId: request.id,
      });
    },
  };
}

function matchesAutoretry(task: TaskDefinition, error: unknown): boolean {
  const list = task.options.autoretryFor ?? [];
  return list.some((entry) =>
    typeof entry === "string"
      ? (error as Error)?.name === entry
      : error instanceof (entry as unknown as typeof Error)
  );
}

function backoffSeconds(task: TaskDefinition, retries: number): number | undefined {
  const backoff = task.options.retryBackoff;
  if (!backoff) return undefined;
  // Celery: factor = int(max(1.0, retry_backoff)).
  const base = backoff === true ? 1 : Math.trunc(Math.max(1, backoff));
  const ceiling = task.options.retryBackoffMax ?? 600;
  const delay = Math.min(ceiling, base * 2 ** retries);
  return task.options.retryJitter === false ? delay : Math.floor(Math.random() * (delay + 1));
}

function describeRetry(error: Retry): string {
  const cause = error.exc === undefined ? "" : `: ${pythonRepr(error.exc)}`;
  return `${error.message}${cause}`;
}

/** Runs the body; never throws: every ending is a `TaskOutcome`. */
export async function runTask(
  task: TaskDefinition,
  request: TaskRequest,
  signal: AbortSignal,
  defaults: RetryDefaults,
): Promise<TaskOutcome> {
  const started = performance.now();
  const runtime = () => (performance.now() - started) / 1000;
  const self = makeBoundTask(task, request, signal, defaults);
  try {
    checkArguments(task, request.args, request.kwargs);
    const args = bindArguments(task.name, task.paramNames, request.args, request.kwargs);
    const result = await withCurrentRequest(
      request,
      () => task.options.bind ? task.fn(self, ...args) : task.fn(...args),
    );
    return { state: "SUCCESS", result: result === undefined ? null : result, runtime: runtime() };
  } catch (thrown) {
    let error = thrown;
    if (!(error instanceof Retry) && matchesAutoretry(task, error)) {
      try {
        self.retry({ exc: error, countdown: backoffSeconds(task, request.retries) });
      } catch (retryOrFinal) {
        error = retryOrFinal;
      }
    }
    if (error instanceof Retry) {
      const exc = error.exc ?? error;
      return {
        state: "RETRY",
        eta: error.when?.getTime() ?? Date.now(),
        exception: encodeException(exc),
        traceback: formatTraceback(exc),
        reason: describeRetry(error),
        args: error.args,
        kwargs: error.kwargs,
        runtime: runtime(),
      };
    }
    if (error instanceof Reject) {
      return { state: "REJECTED", requeue: error.requeue, reason: error.message };
    }
    if (error instanceof Ignore) return { state: "IGNORED" };
    return {
      state: "FAILURE",
      exception: encodeException(error),
      traceback: formatTraceback(error),
      runtime: runtime(),
      repr: pythonRepr(error),
    };
  }
}
