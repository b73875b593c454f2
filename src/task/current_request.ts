/**
 * The request of the task running in this async context, so tasks sent from
 * inside a task get its id as `parent_id` and its root as `root_id`.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { TaskRequest } from "./request.ts";

const storage = new AsyncLocalStorage<TaskRequest>();

/** Runs `body` with `request` as the current task request. */
export function withCurrentRequest<T>(request: TaskRequest, body: () => T): T {
  return storage.run(request, body);
}

/** The request of the running task, or undefined outside a task. */
export function currentRequest(): TaskRequest | undefined {
  return storage.getStore();
}
