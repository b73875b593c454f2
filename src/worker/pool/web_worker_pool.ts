/**
 * The default pool: N Deno Web Workers, each importing the app module and
 * running one task at a time. A hard time limit terminates the Web Worker
 * running the task (even a busy loop) and starts a replacement; a Web Worker
 * that dies is replaced and its task reported lost; after
 * `worker_max_tasks_per_child` tasks a Web Worker is recycled.
 *
 * @module
 */

import { ConfigurationError } from "../../errors.ts";
import type { Logger, LogLevel } from "../../log.ts";
import type { RetryDefaults } from "../../task/run_task.ts";
import { JobQueue, type QueuedJob } from "./job_queue.ts";
import type { AppLocation, FromWorker, ToWorker } from "./messages.ts";
import type { Pool, PoolJob, PoolKind, PoolResult } from "./types.ts";

/** What the Web Worker pool needs. */
export interface WebWorkerPoolOptions {
  /** Number of Web Workers. */
  size: number;
  /** Where each Web Worker finds the app. */
  app: AppLocation;
  /** Log level inside the Web Workers. */
  logLevel: LogLevel;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Recycle a Web Worker after this many tasks (null: never). */
  maxTasksPerChild: number | null;
  /** Main-thread logger (replacements, losses). */
  logger: Logger;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  state: "starting" | "idle" | "busy" | "gone";
  job?: QueuedJob;
  startedAt: number;
  hardTimer?: ReturnType<typeof setTimeout>;
  tasksRun: number;
  ready: Promise<void>;
}

/** Runs tasks in Deno Web Workers. */
export class WebWorkerPool implements Pool {
  readonly kind: PoolKind = "workers";
  readonly size: number;
  readonly #options: WebWorkerPoolOptions;
  readonly #queue = new JobQueue();
  readonly #slots: Slot[] = [];
  #closing = false;
  #idleWaiters: (() => void)[] = [];

  /** Creates the pool (no Web Worker starts before `start()`). */
  constructor(options: WebWorkerPoolOptions) {
    this.size = Math.max(1, options.size);
    this.#options = options;
  }

  /** Starts every Web Worker and waits until each has loaded the app. */
  async start(): Promise<void> {
    for (let index = 0; index < this.size; index++) this.#slots.push(this.#spawn(index));
    try {
      await Promise.all(this.#slots.map((slot) => slot.ready));
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  #spawn(index: number): Slot {
    const worker = new Worker(new URL("./web_worker_entry.ts", import.meta.url), {
      type: "module",
      name: `WebWorker-${index + 1}`,
    });
    const slot: Slot = {
      index,
      worker,
      state: "starting",
      startedAt: 0,
      tasksRun: 0,
      ready: Promise.resolve(),
    };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === "ready") {
          slot.state = "idle";
          resolve();
          this.#pump();
        } else if (message.type === "init-failed") {
          slot.state = "gone";
          reject(new ConfigurationError(`Cannot load the app in a Web Worker: ${message.message}`));
        } else {
          this.#finishJob(slot, { kind: "outcome", outcome: message.outcome });
        }
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        const reason = event.message || "uncaught error";
        if (slot.state === "starting") {
          slot.state = "gone";
          reject(new ConfigurationError(`A Web Worker failed while loading the app: ${reason}`));
          return;
        }
        this.#lose(slot, `Web Worker ${slot.index + 1} crashed: ${reason}`);
      };
    });
    slot.ready.catch(() => {});
    this.#post(slot, {
      type: "init",
      ...this.#options.app,
      logLevel: this.#options.logLevel,
      processName: `WebWorker-${index + 1}`,
      retryDefaults: this.#options.retryDefaults,
    });
    return slot;
  }

  #post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  /** Queues a run. */
  run(job: PoolJob, onStart: () => void): Promise<PoolResult> {
    if (this.#closing) return Promise.resolve({ kind: "not-started" });
    const result = this.#queue.push(job, onStart);
    this.#pump();
    return result;
  }

  #pump(): void {
    if (this.#queue.length === 0) return;
    for (const slot of this.#slots) {
      if (slot.state !== "idle") continue;
      const next = this.#queue.shift();
      if (!next) return;
      this.#assign(slot, next);
    }
  }

  #assign(slot: Slot, queued: QueuedJob): void {
    slot.state = "busy";
    slot.job = queued;
    slot.startedAt = performance.now();
    queued.onStart();
    const { hardTimeLimit } = queued.job;
    if (hardTimeLimit !== null && hardTimeLimit > 0) {
      slot.hardTimer = setTimeout(() => this.#timeLimit(slot, hardTimeLimit), hardTimeLimit * 1000);
    }
    this.#post(slot, {
      type: "run",
      request: queued.job.request,
      softTimeLimit: queued.job.softTimeLimit,
    });
  }

  #finishJob(slot: Slot, result: PoolResult): void {
    const job = slot.job;
    clearTimeout(slot.hardTimer);
    slot.job = undefined;
    slot.tasksRun++;
    if (slot.state === "busy") slot.state = "idle";
    job?.finish(result);
    const limit = this.#options.maxTasksPerChild;
    if (limit !== null && limit > 0 && slot.tasksRun >= limit && !this.#closing) {
      this.#replace(slot);
    }
    this.#notifyIdle();
    this.#pump();
  }

  #timeLimit(slot: Slot, limit: number): void {
    if (slot.state !== "busy") return;
    const runtime = (performance.now() - slot.startedAt) / 1000;
    slot.worker.terminate();
    slot.state = "gone";
    this.#finishJob(slot, { kind: "time-limit", limit, runtime });
    this.#replace(slot);
  }

  #lose(slot: Slot, reason: string): void {
    const runtime = (performance.now() - slot.startedAt) / 1000;
    this.#options.logger.error(reason);
    slot.worker.terminate();
    const busy = slot.state === "busy";
    slot.state = "gone";
    if (busy) this.#finishJob(slot, { kind: "worker-lost", reason, runtime });
    this.#replace(slot);
  }

  #replace(slot: Slot): void {
    if (slot.state !== "gone") slot.worker.terminate();
    slot.state = "gone";
    if (this.#closing) return;
    const fresh = this.#spawn(slot.index);
    this.#slots[slot.index] = fresh;
    fresh.ready.catch((error) => {
      this.#options.logger.critical(`Cannot replace Web Worker ${slot.index + 1}: ${error}`);
    });
  }

  #notifyIdle(): void {
    if (this.#slots.some((slot) => slot.state === "busy")) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves waiting runs with `not-started`. */
  cancelPending(): void {
    this.#queue.cancelAll();
  }

  /** Waits for running tasks, then terminates every Web Worker. */
  async close(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    if (this.#slots.some((slot) => slot.state === "busy")) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.terminate();
  }

  /** Terminates every Web Worker; running tasks end as `worker-lost`. */
  terminate(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    for (const slot of this.#slots) {
      const job = slot.job;
      clearTimeout(slot.hardTimer);
      slot.worker.terminate();
      slot.state = "gone";
      slot.job = undefined;
      job?.finish({
        kind: "worker-lost",
        reason: "cold shutdown",
        runtime: (performance.now() - slot.startedAt) / 1000,
      });
    }
    this.#notifyIdle();
    return Promise.resolve();
  }
}
