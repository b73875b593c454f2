/**
 * The default pool: N worker threads (see `web_worker_entry.ts` for why they
 * are `node:worker_threads` Workers), each importing the app module and
 * running one task at a time. A hard time limit terminates the thread running
 * the task, even in a CPU-bound loop, and starts a replacement; a thread that
 * dies (an uncaught error, `Deno.exit()`) is replaced and its task reported
 * lost; after `worker_max_tasks_per_child` tasks, or once above
 * `worker_max_memory_per_child` KiB after a task, a thread is recycled.
 *
 * A V8 out-of-memory in a thread ends the whole process (no per-thread heap
 * limit is set): acks_late tasks then run again after a restart.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import { ConfigurationError } from "../../errors.ts";
import type { Logger, LogLevel } from "../../log.ts";
import type { RetryDefaults } from "../../task/run_task.ts";
import { JobQueue, type QueuedJob } from "./job_queue.ts";
import type { AppLocation, FromWorker, ToWorker } from "./messages.ts";
import type { Pool, PoolJob, PoolKind, PoolResult } from "./types.ts";

/** What the pool needs. */
export interface WebWorkerPoolOptions {
  /** Number of worker threads. */
  size: number;
  /** Where each thread finds the app. */
  app: AppLocation;
  /** Log level inside the threads. */
  logLevel: LogLevel;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Recycle a thread after this many tasks (null: never). */
  maxTasksPerChild: number | null;
  /** Recycle a thread whose memory after a task is above this many KiB (null: never). */
  maxMemoryPerChild?: number | null;
  /** Main-thread logger (replacements, losses). */
  logger: Logger;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  state: "starting" | "idle" | "busy" | "gone";
  job?: QueuedJob;
  startedAt: number;
  hardTimer?: ReturnType<typeof setTimeout>;
  tasksRun: number;
  ready: Promise<void>;
  /** Resolves when the thread has exited. */
  exited: Promise<void>;
  /** Set while this slot replaces a lost thread (for the "ready after" debug line). */
  replacing?: { reason: string; since: number };
}

/** Runs tasks in worker threads. */
export class WebWorkerPool implements Pool {
  readonly kind: PoolKind = "workers";
  readonly size: number;
  readonly #options: WebWorkerPoolOptions;
  readonly #queue = new JobQueue();
  readonly #slots: Slot[] = [];
  readonly #exits = new Set<Promise<void>>();
  #closing = false;
  #idleWaiters: (() => void)[] = [];

  /** Creates the pool (no thread starts before `start()`). */
  constructor(options: WebWorkerPoolOptions) {
    this.size = Math.max(1, options.size);
    this.#options = options;
  }

  /** Starts every thread and waits until each has loaded the app. */
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
    const worker = new Worker(new URL("./web_worker_entry.ts", import.meta.url));
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    this.#exits.add(exited);
    void exited.then(() => this.#exits.delete(exited));
    const slot: Slot = {
      index,
      worker,
      state: "starting",
      startedAt: 0,
      tasksRun: 0,
      ready: Promise.resolve(),
      exited,
    };
    slot.ready = new Promise<void>((resolve, reject) => {
      const failStart = (why: string) => {
        slot.state = "gone";
        void worker.terminate();
        reject(new ConfigurationError(why));
      };
      worker.on("message", (message: FromWorker) => {
        if (slot.state === "gone") return; // a late message from a terminated thread
        if (message.type === "ready") {
          slot.state = "idle";
          resolve();
          this.#replaced(slot);
          this.#pump();
        } else if (message.type === "init-failed") {
          failStart(`Cannot load the app in a worker thread: ${message.message}`);
        } else {
          this.#finishJob(slot, { kind: "outcome", outcome: message.outcome }, message.memoryKiB);
        }
      });
      worker.on("error", (error: unknown) => {
        const reason = String((error as Error)?.message ?? error);
        if (slot.state === "starting") {
          failStart(`A worker thread failed loading the app: ${reason}`);
        } else if (slot.state !== "gone") this.#lose(slot, `uncaught error: ${reason}`);
      });
      worker.on("exit", (code: number) => {
        if (slot.state === "starting") {
          failStart(`A worker thread exited loading the app (${code})`);
        } else if (slot.state !== "gone") this.#lose(slot, `exitcode ${code}`);
      });
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

  #finishJob(slot: Slot, result: PoolResult, memoryKiB?: number): void {
    const job = slot.job;
    clearTimeout(slot.hardTimer);
    slot.job = undefined;
    slot.tasksRun++;
    if (slot.state === "busy") slot.state = "idle";
    job?.finish(result);
    if (slot.state === "idle" && !this.#closing) {
      const recycle = this.#recycleReason(slot, memoryKiB);
      if (recycle) this.#replace(slot, recycle);
    }
    this.#notifyIdle();
    this.#pump();
  }

  /** Why an idle thread should be replaced now (max tasks or max memory), if it should. */
  #recycleReason(slot: Slot, memoryKiB: number | undefined): string | undefined {
    const maxTasks = this.#options.maxTasksPerChild;
    if (maxTasks !== null && maxTasks > 0 && slot.tasksRun >= maxTasks) {
      return `max tasks per child (${maxTasks})`;
    }
    const maxMemory = this.#options.maxMemoryPerChild;
    if (maxMemory != null && maxMemory > 0 && memoryKiB !== undefined && memoryKiB > maxMemory) {
      this.#options.logger.warning(
        `child process exiting after exceeding memory limit (${memoryKiB}KiB / ${maxMemory}KiB)`,
      );
      return `memory limit (${memoryKiB}KiB / ${maxMemory}KiB)`;
    }
    return undefined;
  }

  #timeLimit(slot: Slot, limit: number): void {
    if (slot.state !== "busy") return;
    const since = performance.now();
    const runtime = (since - slot.startedAt) / 1000;
    slot.state = "gone";
    void slot.worker.terminate();
    this.#finishJob(slot, { kind: "time-limit", limit, runtime });
    this.#replace(slot, `hard time limit (${limit}s)`, since);
  }

  /** The thread died: Celery's "Process … exited with …" line, its task lost, a replacement. */
  #lose(slot: Slot, how: string): void {
    const since = performance.now();
    const runtime = (since - slot.startedAt) / 1000;
    this.#options.logger.error(`Process 'WebWorker-${slot.index + 1}' exited with '${how}'`);
    const busy = slot.state === "busy";
    slot.state = "gone";
    void slot.worker.terminate();
    if (busy) this.#finishJob(slot, { kind: "worker-lost", reason: how, runtime });
    this.#replace(slot, how, since);
  }

  #replace(slot: Slot, reason: string, since = performance.now()): void {
    // "gone" first: terminate() can emit "exit" at once, which must not count as a loss.
    const running = slot.state !== "gone";
    slot.state = "gone";
    if (running) void slot.worker.terminate();
    if (this.#closing) return;
    const fresh = this.#spawn(slot.index);
    fresh.replacing = { reason, since };
    this.#slots[slot.index] = fresh;
    fresh.ready.catch((error) => {
      this.#options.logger.critical(`Cannot replace WebWorker-${slot.index + 1}: ${error}`);
    });
  }

  #replaced(slot: Slot): void {
    if (!slot.replacing) return;
    const ms = (performance.now() - slot.replacing.since).toFixed(1);
    this.#options.logger.debug(
      `WebWorker-${slot.index + 1} replaced (${slot.replacing.reason}); ready after ${ms} ms`,
    );
    slot.replacing = undefined;
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

  /** Waits for running tasks, then terminates every thread. */
  async close(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    if (this.#slots.some((slot) => slot.state === "busy")) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.terminate();
  }

  /** Terminates every thread (running tasks end as `worker-lost`); resolves once all exited. */
  async terminate(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    for (const slot of this.#slots) {
      const job = slot.job;
      clearTimeout(slot.hardTimer);
      slot.state = "gone";
      slot.job = undefined;
      void slot.worker.terminate();
      job?.finish({
        kind: "worker-lost",
        reason: "cold shutdown",
        runtime: (performance.now() - slot.startedAt) / 1000,
      });
    }
    this.#notifyIdle();
    await Promise.all([...this.#exits]);
  }
}
