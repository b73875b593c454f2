/**
 * The pool inside a consumer thread: runs up to `slots` task bodies at once
 * on the thread itself (one by default: `-c` keeps its meaning of one running
 * task per thread). Each run is written into the shared running table while
 * it lasts, so the supervisor can stop the thread at the hard time limit
 * without a message per task, and each slot runs inside a Web Lock, which is
 * what lets `terminate()` stop a thread spinning in a CPU-bound loop (see
 * `bench/busy_loop/busy_loop_stop.ts`). The slot keeps its lock across back
 * to back runs and while it waits for the next, so the lock costs nothing per
 * task.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { ResolvedConfig } from "../../app/settings.ts";
import type { Logger } from "../../log.ts";
import { type RetryDefaults, runTask } from "../../task/run_task.ts";
import type { TaskDefinition } from "../../task/task.ts";
import { JobQueue, type QueuedJob } from "../pool/job_queue.ts";
import { armSoftLimit, softLimitMessage } from "../pool/time_limits.ts";
import type { Pool, PoolJob, PoolKind, PoolResult } from "../pool/types.ts";
import type { RunningTable } from "./running_table.ts";

/** Longest a slot runs tasks back to back before it lets the event loop turn. */
const YIELD_EVERY_MS = 1;

/** The part of the Web Locks API used here (Deno has it; its type declarations do not yet). */
interface LockManager {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** What a slot pool needs. */
export interface SlotPoolOptions {
  /** Runs at once on this thread. */
  slots: number;
  /** The shared running table. */
  table: RunningTable;
  /** This thread's first slot in the table. */
  firstSlot: number;
  /** Finds a task by name. */
  lookup: (name: string) => TaskDefinition | undefined;
  /** Resolved settings (acks_late and reject_on_worker_lost defaults). */
  config: ResolvedConfig;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Where soft-limit warnings go. */
  logger: Logger;
  /**
   * Whether to let the event loop turn between a run's start and its body:
   * what the start wrote (its ack, a STARTED state, a task-started event) is
   * otherwise only sent when the body yields, never if it loops.
   */
  yieldsBeforeBody?: (job: PoolJob) => boolean;
  /**
   * The handling of task `id`'s delivery, if it is still going on: resolves
   * once its outcome is stored and its message settled (and recorded as such).
   */
  handlingOf?: (id: string) => Promise<void> | undefined;
  /**
   * Called after each run (the supervisor's `processed`); returning true
   * retires the pool: it starts nothing more, and what waits ends as
   * `not-started` (max tasks or memory per child).
   */
  onFinished?: () => boolean | void;
}

/** Runs tasks on a consumer thread, each in a slot of the running table. */
export class SlotPool implements Pool {
  readonly kind: PoolKind = "workers";
  readonly size: number;
  readonly #options: SlotPoolOptions;
  readonly #queue = new JobQueue();
  readonly #busy: boolean[];
  /** Wakes each slot's loop when it waits for a run (undefined while it runs or has not started). */
  readonly #wake: (PromiseWithResolvers<void> | undefined)[];
  /** When each slot's current run started (performance.now()), 0 when it runs none. */
  readonly #since: number[];
  readonly #locks: LockManager;
  readonly #lockPrefix = `celeriac-slot-${crypto.randomUUID()}`;
  /** Reports of runs that ended here and are still being stored and settled. */
  readonly #reporting = new Set<Promise<void>>();
  #closed = false;
  /** Set by `stopStarting()`: queued runs wait (for `cancelPending`), none starts. */
  #holding = false;
  #idle = Promise.withResolvers<void>();

  /** Creates the pool. */
  constructor(options: SlotPoolOptions) {
    this.size = Math.max(1, options.slots);
    this.#options = options;
    this.#busy = Array.from({ length: this.size }, () => false);
    this.#since = Array.from({ length: this.size }, () => 0);
    this.#wake = Array.from({ length: this.size }, () => undefined);
    this.#locks = (globalThis.navigator as unknown as { locks: LockManager }).locks;
    this.#idle.resolve();
  }

  /** Nothing to start. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs that are waiting for a free slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Slots running a task now. */
  get running(): number {
    return this.#busy.filter(Boolean).length;
  }

  /** How long the oldest run in progress has been running, ms (0 when none runs). */
  get busyForMs(): number {
    const now = performance.now();
    return this.#since.reduce(
      (longest, since) => since ? Math.max(longest, now - since) : longest,
      0,
    );
  }

  /** Resolves once no slot runs a task. */
  idle(): Promise<void> {
    return this.#idle.promise;
  }

  /** Queues a run; it starts as soon as a slot is free. */
  run(job: PoolJob, onStart: () => void): Promise<PoolResult> {
    if (this.#closed) return Promise.resolve({ kind: "not-started" });
    const result = this.#queue.push(job, onStart);
    const free = this.#busy.indexOf(false);
    if (free < 0 || this.#holding) return result;
    this.#markBusy(free);
    const waiting = this.#wake[free];
    if (waiting) {
      this.#wake[free] = undefined;
      waiting.resolve();
    } else this.#startSlot(free);
    return result;
  }

  #markBusy(slot: number): void {
    if (this.#busy.every((busy) => !busy)) this.#idle = Promise.withResolvers<void>();
    this.#busy[slot] = true;
  }

  #markFree(slot: number): void {
    this.#busy[slot] = false;
    if (this.#busy.every((busy) => !busy)) this.#idle.resolve();
  }

  /**
   * Starts `slot`'s loop inside the slot's Web Lock: it runs queued jobs
   * back to back and, when none is left, waits for `run()` to wake it,
   * keeping the lock until the pool closes (one lock request per slot, not
   * per batch).
   */
  #startSlot(slot: number): void {
    void this.#locks.request(`${this.#lockPrefix}-${slot}`, async () => {
      try {
        while (true) {
          let turnStarted = performance.now();
          for (let next = this.#next(); next; next = this.#next()) {
            await this.#execute(slot, next);
            if (performance.now() - turnStarted >= YIELD_EVERY_MS) {
              // Back-to-back runs resolve by microtasks only: let timers and I/O in
              // (batched acks, fetches, soft limits) at least this often.
              await new Promise((resolve) => setTimeout(resolve, 0));
              turnStarted = performance.now();
            }
          }
          // In the same step as the empty queue was seen: a run queued from now on wakes the slot.
          this.#markFree(slot);
          if (this.#closed) return;
          const wake = Promise.withResolvers<void>();
          this.#wake[slot] = wake;
          await wake.promise;
          if (this.#closed) return;
        }
      } finally {
        this.#wake[slot] = undefined;
        this.#markFree(slot);
      }
    });
  }

  /** The next queued run to start, unless runs are held (`stopStarting`). */
  #next(): QueuedJob | undefined {
    return this.#holding ? undefined : this.#queue.shift();
  }

  /**
   * Warm shutdown begins: from now on no queued run starts, not even when a
   * slot frees up before the queued ones are given back (`cancelPending`).
   */
  stopStarting(): void {
    this.#holding = true;
  }

  /** Lets every waiting slot loop end (the pool is closing). */
  #wakeAll(): void {
    for (const [slot, waiting] of this.#wake.entries()) {
      this.#wake[slot] = undefined;
      waiting?.resolve();
    }
  }

  async #execute(slot: number, { job, onStart, finish }: QueuedJob): Promise<void> {
    const { request } = job;
    const { table, firstSlot, config, logger } = this.#options;
    const task = this.#options.lookup(request.task);
    if (!task) {
      finish({ kind: "worker-lost", reason: `task ${request.task} vanished`, runtime: 0 });
      return;
    }
    // The supervisor terminates this thread if this run passes its hard limit:
    // what ran before must be stored and settled first, or it is lost with the thread.
    if (job.hardTimeLimit !== null) await this.#earlierRunsReported();
    const started = performance.now();
    this.#since[slot] = started;
    table.write(firstSlot + slot, {
      id: request.id,
      retries: request.retries,
      task: request.task,
      replyTo: request.replyTo || undefined,
      correlationId: request.correlationId || undefined,
      hardTimeLimit: job.hardTimeLimit,
      acksLate: task.options.acksLate ?? config.task_acks_late,
      rejectOnWorkerLost: task.options.rejectOnWorkerLost ?? config.task_reject_on_worker_lost,
      args: request.args,
      kwargs: request.kwargs,
      deliveryInfo: request.deliveryInfo,
    });
    const soft = armSoftLimit(job.softTimeLimit, request.id, request.task, () => {
      logger.warning(softLimitMessage(job.softTimeLimit!, request.task, request.id));
    });
    // Code on this thread cannot be stopped from here: a terminated run is
    // reported as such at once and its outcome dropped.
    let settled = false;
    const terminate = () => {
      if (settled) return;
      settled = true;
      const runtime = (performance.now() - started) / 1000;
      finish({ kind: "terminated", signal: String(job.terminate?.reason), runtime });
    };
    job.terminate?.addEventListener("abort", terminate, { once: true });
    try {
      onStart();
      if (this.#options.yieldsBeforeBody?.(job)) await new Promise((done) => setImmediate(done));
      const outcome = await runTask(task, request, soft.signal, this.#options.retryDefaults);
      if (!settled) finish({ kind: "outcome", outcome });
      settled = true;
    } finally {
      this.#trackReport(this.#options.handlingOf?.(request.id));
      table.clear(firstSlot + slot);
      this.#since[slot] = 0;
      soft.clear();
      job.terminate?.removeEventListener("abort", terminate);
      if (this.#options.onFinished?.() === true) this.terminate();
    }
  }

  #trackReport(reported: Promise<void> | undefined): void {
    if (!reported) return;
    this.#reporting.add(reported);
    void reported.finally(() => this.#reporting.delete(reported));
  }

  /** Once every earlier run here is reported, and its settle recorded. */
  async #earlierRunsReported(): Promise<void> {
    if (this.#reporting.size > 0) await Promise.all(this.#reporting);
  }

  /** Resolves waiting runs with `not-started`. */
  cancelPending(): void {
    this.#queue.cancelAll();
  }

  /** Waits for running tasks. */
  async close(): Promise<void> {
    this.#closed = true;
    this.cancelPending();
    this.#wakeAll();
    await this.#idle.promise;
  }

  /** Stops queuing; running code on this thread cannot be stopped from inside it. */
  terminate(): Promise<void> {
    this.#closed = true;
    this.cancelPending();
    this.#wakeAll();
    return Promise.resolve();
  }
}
