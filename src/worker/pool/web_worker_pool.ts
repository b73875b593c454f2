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
 * Under load, each thread also holds its next few runs (LOOKAHEAD), sent
 * several per message, and starts each as soon as it reported the last: a
 * message that wakes a sleeping thread costs far more than a trivial task
 * (docs/benchmarks.md). Runs held by a thread are not started: they are not
 * acknowledged, and come back (`release`) when another thread would
 * otherwise idle behind a long task, at warm shutdown, or when their
 * message can no longer be acknowledged.
 *
 * (Longer than most files: the thread life cycle and the hand-out of runs
 * share every field of a slot.)
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

/** Runs a thread may hold besides the one it is running. */
const LOOKAHEAD = 3;
/** A thread is topped up once it holds this many or fewer. */
const REFILL_AT = 1;
/** How long runs may wait behind a long task while another thread is idle. */
const STEAL_AFTER_MS = 5;

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
  /** The run in progress. */
  job?: QueuedJob;
  /** Runs handed to the thread ahead of time, not started yet, in order. */
  queued: QueuedJob[];
  /** A `release` was sent and its answer has not come back. */
  releasing: boolean;
  /** Abandonment signals already watched for this thread's queued runs. */
  watched: WeakSet<AbortSignal>;
  /** Shared with the thread: `[releases asked for]` (see `InitMessage.control`). */
  control: Int32Array;
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
  /** `cancelPending()` was called: runs given back by threads end as `not-started`. */
  #cancelled = false;
  #idleWaiters: (() => void)[] = [];
  #balanceTimer?: ReturnType<typeof setTimeout>;

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
      queued: [],
      releasing: false,
      watched: new WeakSet(),
      control: new Int32Array(new SharedArrayBuffer(4)),
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
        } else if (message.type === "released") {
          this.#released(slot);
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
      reportMemory: (this.#options.maxMemoryPerChild ?? 0) > 0,
      control: slot.control,
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
    // Start at once on an idle thread, or top up a thread about to run dry;
    // otherwise let runs gather and go out together on the next `done`.
    if (this.#slots.some((slot) => slot.state === "idle" || this.#runningDry(slot))) this.#pump();
    return result;
  }

  /** Runs each thread may hold besides its running one (0: hand out one at a time). */
  get #lookahead(): number {
    const recycles = (this.#options.maxTasksPerChild ?? 0) > 0 ||
      (this.#options.maxMemoryPerChild ?? 0) > 0;
    return recycles || this.#closing || this.#cancelled ? 0 : LOOKAHEAD;
  }

  #runningDry(slot: Slot): boolean {
    return slot.state === "busy" && !slot.releasing && slot.queued.length === 0 &&
      this.#lookahead > 0;
  }

  /**
   * Hands out waiting runs: one to each idle thread (it starts at once), then,
   * while runs are waiting, a share of them to each thread holding at most
   * REFILL_AT, up to LOOKAHEAD, in one message per thread. A thread that has
   * its next runs starts each as soon as it reported the last, without waiting
   * for a message (a wake-up per task is most of a trivial task's cost).
   */
  #pump(): void {
    if (this.#queue.length === 0) return;
    const lookahead = this.#lookahead;
    const open = this.#slots.filter((slot) =>
      slot.state === "idle" ||
      (slot.state === "busy" && !slot.releasing && slot.queued.length <= REFILL_AT &&
        slot.queued.length < lookahead)
    ).sort((a, b) => (a.state === "idle" ? 0 : 1) - (b.state === "idle" ? 0 : 1));
    for (let i = 0; i < open.length && this.#queue.length > 0; i++) {
      const slot = open[i];
      const room = (slot.state === "idle" ? 1 : 0) + lookahead - slot.queued.length;
      const share = Math.min(room, Math.ceil(this.#queue.length / (open.length - i)));
      const batch: QueuedJob[] = [];
      while (batch.length < share) {
        const next = this.#queue.shift();
        if (!next) break;
        batch.push(next);
      }
      this.#send(slot, batch);
    }
  }

  /** Posts `batch` to the thread; on an idle thread the first starts now. */
  #send(slot: Slot, batch: QueuedJob[]): void {
    const idle = slot.state === "idle";
    slot.queued.push(...batch);
    for (const { job } of batch) if (job.abandoned) this.#watchAbandoned(slot, job.abandoned);
    this.#post(slot, {
      type: "run",
      jobs: batch.map(({ job }) => ({ request: job.request, softTimeLimit: job.softTimeLimit })),
    });
    if (idle) this.#startNext(slot);
  }

  /** The thread started its next queued run (the early-ack point). */
  #startNext(slot: Slot): void {
    const queued = slot.queued.shift();
    if (!queued) return;
    slot.state = "busy";
    slot.job = queued;
    slot.startedAt = performance.now();
    queued.onStart();
    const { hardTimeLimit } = queued.job;
    if (hardTimeLimit !== null && hardTimeLimit > 0) {
      slot.hardTimer = setTimeout(() => this.#timeLimit(slot, hardTimeLimit), hardTimeLimit * 1000);
    }
  }

  /**
   * Head-of-line blocking: runs wait behind a long task on one thread while
   * another is idle. After STEAL_AFTER_MS of that, the busy thread is asked
   * to give back what it has not started (`release`), to go to the idle one.
   */
  #balance(): void {
    if (this.#queue.length > 0 || !this.#slots.some((slot) => slot.state === "idle")) return;
    const now = performance.now();
    let next = Infinity;
    for (const slot of this.#slots) {
      if (slot.state !== "busy" || slot.releasing || slot.queued.length === 0) continue;
      const due = slot.startedAt + STEAL_AFTER_MS;
      if (due <= now) this.#release(slot);
      else next = Math.min(next, due);
    }
    if (next < Infinity && this.#balanceTimer === undefined) {
      this.#balanceTimer = setTimeout(() => {
        this.#balanceTimer = undefined;
        this.#balance();
      }, next - now);
    }
  }

  /**
   * A run whose message can no longer be acknowledged must not start (its
   * channel closed; the broker redelivers it). If that happens while such runs
   * wait in a thread, they are asked back; the job queue then drops them.
   * One listener per thread and signal (a signal is shared by a channel's deliveries).
   */
  #watchAbandoned(slot: Slot, signal: AbortSignal): void {
    if (slot.watched.has(signal)) return;
    slot.watched.add(signal);
    signal.addEventListener("abort", () => {
      const affected = slot.queued.some((queued) => queued.job.abandoned?.aborted);
      if (affected && slot.state === "busy" && !slot.releasing) this.#release(slot);
    }, { once: true });
  }

  #release(slot: Slot): void {
    slot.releasing = true;
    Atomics.add(slot.control, 0, 1); // seen before the thread reports its running task
    this.#post(slot, { type: "release" }); // answered at once if the thread is waiting
  }

  /** The thread gave back what it had not started: back to the front of the line (or cancelled). */
  #released(slot: Slot): void {
    slot.releasing = false;
    const back = slot.queued.splice(0);
    if (this.#closing || this.#cancelled) {
      for (const job of back) job.finish({ kind: "not-started" });
    } else this.#queue.unshift(back);
    this.#notifyIdle();
    this.#pump();
  }

  /** Ends the runs a lost or terminated thread had not started. */
  #dropQueued(slot: Slot): void {
    slot.releasing = false;
    for (const job of slot.queued.splice(0)) job.finish({ kind: "not-started" });
  }

  #finishJob(slot: Slot, result: PoolResult, memoryKiB?: number): void {
    const job = slot.job;
    clearTimeout(slot.hardTimer);
    slot.job = undefined;
    slot.tasksRun++;
    if (slot.state === "busy") slot.state = "idle";
    job?.finish(result);
    if (slot.state === "idle" && slot.queued.length > 0) this.#startNext(slot);
    else if (slot.state === "idle" && !this.#closing) {
      const recycle = this.#recycleReason(slot, memoryKiB);
      if (recycle) this.#replace(slot, recycle);
    }
    this.#notifyIdle();
    this.#pump();
    this.#balance();
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
    this.#dropQueued(slot);
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
    this.#dropQueued(slot);
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
    if (this.#slots.some((slot) => slot.state === "busy" || slot.releasing)) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves waiting runs with `not-started`, asking threads for those they have not started. */
  cancelPending(): void {
    this.#cancelled = true;
    this.#queue.cancelAll();
    for (const slot of this.#slots) {
      if (slot.state === "busy" && slot.queued.length > 0 && !slot.releasing) this.#release(slot);
    }
  }

  /** Waits for running tasks, then terminates every thread. */
  async close(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    if (this.#slots.some((slot) => slot.state === "busy" || slot.releasing)) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.terminate();
  }

  /** Terminates every thread (running tasks end as `worker-lost`); resolves once all exited. */
  async terminate(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    clearTimeout(this.#balanceTimer);
    for (const slot of this.#slots) {
      const job = slot.job;
      clearTimeout(slot.hardTimer);
      slot.state = "gone";
      slot.job = undefined;
      void slot.worker.terminate();
      this.#dropQueued(slot);
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
