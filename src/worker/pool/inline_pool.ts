/**
 * Pools on the main thread: `async` runs up to N task bodies concurrently
 * (for I/O-bound tasks), `solo` runs one at a time. A hard time limit cannot
 * stop code on the main thread: the run is reported as TimeLimitExceeded and
 * left to finish on its own, and the slot is only freed when it does.
 *
 * @module
 */

import { type LongTimeout, setLongTimeout } from "../long_timeout.ts";
import type { Logger } from "../../log.ts";
import { type RetryDefaults, runTask } from "../../task/run_task.ts";
import type { TaskDefinition } from "../../task/task.ts";
import { JobQueue, type QueuedJob } from "./job_queue.ts";
import { armSoftLimit, softLimitMessage } from "./time_limits.ts";
import type { Pool, PoolJob, PoolKind, PoolResult } from "./types.ts";

/** What an inline pool needs. */
export interface InlinePoolOptions {
  /** `async` or `solo`. */
  kind: Extract<PoolKind, "async" | "solo">;
  /** Concurrency (forced to 1 for `solo`). */
  size: number;
  /** Finds a task by name. */
  lookup: (name: string) => TaskDefinition | undefined;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Where soft-limit warnings go. */
  logger: Logger;
}

/** Runs tasks on the main thread. */
export class InlinePool implements Pool {
  readonly kind: PoolKind;
  size: number;
  readonly #options: InlinePoolOptions;
  readonly #queue = new JobQueue();
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  /** Creates the pool. */
  constructor(options: InlinePoolOptions) {
    this.kind = options.kind;
    this.size = options.kind === "solo" ? 1 : Math.max(1, options.size);
    this.#options = options;
  }

  /** Nothing to start. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Queues a run. */
  run(job: PoolJob, onStart: () => void): Promise<PoolResult> {
    if (this.#closed) return Promise.resolve({ kind: "not-started" });
    const result = this.#queue.push(job, onStart);
    this.#pump();
    return result;
  }

  #pump(): void {
    while (this.#running.size < this.size) {
      const next = this.#queue.shift();
      if (!next) return;
      const running = this.#execute(next).finally(() => {
        this.#running.delete(running);
        this.#pump();
      });
      this.#running.add(running);
    }
  }

  async #execute({ job, onStart, finish }: QueuedJob): Promise<void> {
    const { request } = job;
    const task = this.#options.lookup(request.task);
    if (!task) {
      finish({ kind: "worker-lost", reason: `task ${request.task} vanished`, runtime: 0 });
      return;
    }
    const started = performance.now();
    const soft = armSoftLimit(job.softTimeLimit, request.id, request.task, () => {
      this.#options.logger.warning(softLimitMessage(job.softTimeLimit!, request.task, request.id));
    });
    let hardTimer: LongTimeout | undefined;
    let settled = false;
    const settle = (result: PoolResult) => {
      if (settled) return;
      settled = true;
      finish(result);
    };
    if (job.hardTimeLimit !== null && job.hardTimeLimit > 0) {
      const limit = job.hardTimeLimit;
      hardTimer = setLongTimeout(() => {
        settle({ kind: "time-limit", limit, runtime: (performance.now() - started) / 1000 });
      }, limit * 1000);
    }
    // Main-thread code cannot be stopped: a terminated run is reported as such and its outcome dropped.
    const terminate = () =>
      settle({
        kind: "terminated",
        signal: String(job.terminate?.reason),
        runtime: (performance.now() - started) / 1000,
      });
    job.terminate?.addEventListener("abort", terminate, { once: true });
    try {
      onStart();
      const outcome = await runTask(task, request, soft.signal, this.#options.retryDefaults);
      settle({ kind: "outcome", outcome });
    } finally {
      soft.clear();
      hardTimer?.clear();
      job.terminate?.removeEventListener("abort", terminate);
    }
  }

  /** `pool_grow` / `pool_shrink` (async only: solo runs one at a time, as Celery's solo pool). */
  resize(delta: number): string | undefined {
    if (this.kind === "solo") return `AttributeError("'TaskPool' object has no attribute 'grow'")`;
    this.size = Math.max(1, this.size + delta);
    this.#pump();
    return undefined;
  }

  /** Resolves waiting runs with `not-started`. */
  cancelPending(): void {
    this.#queue.cancelAll();
  }

  /** Waits for running tasks. */
  async close(): Promise<void> {
    this.#closed = true;
    this.cancelPending();
    await Promise.allSettled([...this.#running]);
  }

  /** Main-thread code cannot be stopped: stops queuing and returns. */
  terminate(): Promise<void> {
    this.#closed = true;
    this.cancelPending();
    return Promise.resolve();
  }
}
