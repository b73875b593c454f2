/**
 * `EagerResult`: the result of `task.apply()`, already known.
 *
 * @module
 */

import type { TaskState } from "../backend/types.ts";
import { RemoteError } from "../protocol/exceptions.ts";
import type { TaskOutcome } from "./outcome.ts";

/** The result of a task run in-process by `apply()`. */
export class EagerResult<R = unknown> {
  /** Task id. */
  readonly id: string;
  /** Task name. */
  readonly taskName: string;
  /** What the run produced. */
  readonly outcome: TaskOutcome;
  readonly #error?: Error;

  /** Wraps an outcome; `error` is the original error object of a failure. */
  constructor(id: string, taskName: string, outcome: TaskOutcome, error?: unknown) {
    this.id = id;
    this.taskName = taskName;
    this.outcome = outcome;
    if (outcome.state === "FAILURE" || outcome.state === "RETRY") {
      this.#error = error instanceof Error
        ? error
        : new RemoteError(outcome.exception, outcome.traceback, id);
    }
  }

  /** SUCCESS, FAILURE, RETRY, or REJECTED / IGNORED outcomes as REVOKED-like states. */
  state(): Promise<TaskState> {
    return Promise.resolve(this.outcome.state);
  }

  /** Always true. */
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** True on SUCCESS. */
  successful(): Promise<boolean> {
    return Promise.resolve(this.outcome.state === "SUCCESS");
  }

  /** True on FAILURE. */
  failed(): Promise<boolean> {
    return Promise.resolve(this.outcome.state === "FAILURE");
  }

  /** The traceback of a failure, or null. */
  traceback(): Promise<string | null> {
    const outcome = this.outcome;
    return Promise.resolve(
      outcome.state === "FAILURE" || outcome.state === "RETRY" ? outcome.traceback : null,
    );
  }

  /** The value, or throws the error. */
  get(options?: { propagate?: true }): Promise<R>;
  /** With `propagate: false`, a failure's error is returned instead of thrown. */
  get(options: { propagate: false }): Promise<R | Error>;
  /** Either of the above, decided at run time. */
  get(options: { propagate?: boolean }): Promise<R | Error>;
  get(options: { propagate?: boolean } = {}): Promise<R | Error> {
    if (this.outcome.state === "SUCCESS") return Promise.resolve(this.outcome.result as R);
    const error = this.#error ?? new Error(`Task ${this.taskName} ended ${this.outcome.state}`);
    if (options.propagate ?? true) return Promise.reject(error);
    return Promise.resolve(error);
  }

  /** Nothing is stored: does nothing. */
  forget(): Promise<void> {
    return Promise.resolve();
  }
}
