/**
 * Shared tasks: defined once, in a library, and present in every app. They
 * live in plain module state; calling one sends it through `currentApp()`.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { Task } from "../task/task.ts";

const shared = new Map<string, Task>();

/** Records a shared task; one name can be shared once. */
export function addSharedTask(task: Task): void {
  const existing = shared.get(task.name);
  if (existing && existing.fn !== task.fn) {
    throw new ConfigurationError(
      `A shared task named "${task.name}" already exists. Give one of them another name.`,
      { taskName: task.name },
    );
  }
  shared.set(task.name, task);
}

/** The shared task of that name, if any. */
export function sharedTaskNamed(name: string): Task | undefined {
  return shared.get(name);
}

/** Every shared task. */
export function sharedTasks(): Task[] {
  return [...shared.values()];
}
