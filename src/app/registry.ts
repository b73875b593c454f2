/**
 * The task registry: an app's tasks by name, plus the shared tasks every app has.
 *
 * @module
 */

import { ConfigurationError, NotRegistered } from "../errors.ts";
import type { Task } from "../task/task.ts";
import { sharedTaskNamed, sharedTasks } from "./shared_tasks.ts";

/**
 * Tasks by registered name. `get()` finds the app's own tasks first, then
 * shared tasks; it never has side effects.
 */
export class TaskRegistry {
  readonly #tasks = new Map<string, Task>();
  readonly #builtins = new Map<string, Task>();

  /** Adds a task; a second task with the same name is an error. */
  register(task: Task): void {
    if (this.#tasks.has(task.name)) {
      throw new ConfigurationError(
        `A task named "${task.name}" is already registered in this app. ` +
          `Give one of them another name with { name: "..." }.`,
        { taskName: task.name },
      );
    }
    this.#tasks.set(task.name, task);
  }

  /** The task of that name, or undefined. */
  get(name: string): Task | undefined {
    return this.#tasks.get(name) ?? sharedTaskNamed(name) ?? this.#builtins.get(name);
  }

  /**
   * Registers a builtin task (`celery.chord_unlock`, `celery.map`, …): found
   * by name like any task, but not listed by `names()`, as Celery hides `celery.*`.
   */
  registerBuiltin(task: Task): void {
    this.#builtins.set(task.name, task);
  }

  /** The task of that name, or a NotRegistered error. */
  require(name: string): Task {
    const task = this.get(name);
    if (!task) throw new NotRegistered(name);
    return task;
  }

  /** True when a task of that name is known. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** All task names, sorted (own and shared). */
  names(): string[] {
    const names = new Set([...this.#tasks.keys(), ...sharedTasks().map((t) => t.name)]);
    return [...names].sort();
  }

  /** Number of tasks (own and shared). */
  get size(): number {
    return this.names().length;
  }

  /** Iterates `[name, task]` pairs. */
  *entries(): IterableIterator<[string, Task]> {
    for (const name of this.names()) yield [name, this.get(name)!];
  }

  /** Iterates tasks. */
  [Symbol.iterator](): IterableIterator<[string, Task]> {
    return this.entries();
  }
}
