/**
 * The waiting line shared by every pool: jobs wait here until an executor is
 * free, and leave with `not-started` on shutdown.
 *
 * @module
 */

import type { PoolJob, PoolResult } from "./types.ts";

/** A job waiting for an executor, with how to finish it. */
export interface QueuedJob {
  /** The job. */
  job: PoolJob;
  /** Called when it starts. */
  onStart: () => void;
  /** Settles the caller's promise. */
  finish: (result: PoolResult) => void;
}

/** Whether one of the job's `abandoned` signals aborted. */
export function isAbandoned(job: PoolJob): boolean {
  return job.abandoned?.some((signal) => signal.aborted) ?? false;
}

/** A FIFO of jobs, each settled exactly once. */
export class JobQueue {
  readonly #waiting: QueuedJob[] = [];
  #head = 0;

  /** Adds a job; the promise settles when `finish` is called. */
  push(job: PoolJob, onStart: () => void): Promise<PoolResult> {
    return new Promise((resolve) => this.#waiting.push({ job, onStart, finish: resolve }));
  }

  /**
   * The next waiting job, or undefined. Jobs whose `abandoned` signal aborted
   * (their message can no longer be acknowledged) are finished as
   * `not-started` and skipped.
   */
  shift(): QueuedJob | undefined {
    for (let next = this.#take(); next; next = this.#take()) {
      if (!isAbandoned(next.job)) return next;
      next.finish({ kind: "not-started" });
    }
    return undefined;
  }

  #take(): QueuedJob | undefined {
    if (this.#head >= this.#waiting.length) return undefined;
    const next = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined as unknown as QueuedJob;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    return next;
  }

  /** Puts jobs back at the front, in their order (a thread gave them back unstarted). */
  unshift(jobs: QueuedJob[]): void {
    if (jobs.length) this.#waiting.splice(this.#head, 0, ...jobs);
  }

  /** Number of waiting jobs. */
  get length(): number {
    return this.#waiting.length - this.#head;
  }

  /** Finishes every waiting job with `not-started`. */
  cancelAll(): void {
    for (let job = this.shift(); job; job = this.shift()) job.finish({ kind: "not-started" });
  }
}
