/**
 * The `workers` pool (`-P workers`; the default on `memory://` and the
 * embedded SQLite broker): N worker threads (see `thread_entry.ts` for why they
 * are `node:worker_threads` Workers), each importing the app module and
 * running one task at a time. A hard time limit terminates the thread running
 * the task, even in a CPU-bound loop, and starts a replacement; a thread that
 * dies (an uncaught error, `Deno.exit()`) is replaced and its task reported
 * lost; after `worker_max_tasks_per_child` tasks, or once above
 * `worker_max_memory_per_child` KiB after a task, a thread is recycled.
 *
 * Under load each thread also holds its next few runs (LOOKAHEAD), sent
 * several per message, and starts each as soon as it reported the last: a
 * message that wakes a sleeping thread costs far more than a trivial task
 * (docs/benchmarks.md). A lookahead run is not started, so not acknowledged; the
 * thread names each start, and lookahead runs come back (`release`) when another
 * thread would otherwise idle behind a long task (Celery's `-Ofair`), at
 * shutdown, or when their message can no longer be acknowledged. Runs are
 * numbered, and every report names its run, so no outcome can be credited
 * to another task.
 *
 * A V8 out-of-memory in a thread ends the whole process (no per-thread heap
 * limit is set): acks_late tasks then run again after a restart.
 *
 * (Longer than most files: handing runs out, taking them back and replacing
 * threads all change the same state — the waiting queue, each slot's running
 * and lookahead runs, their numbers — and each step is only correct together with
 * the others; `thread_slot.ts` holds what belongs to one thread alone.)
 *
 * @module
 */

import { setLongTimeout } from "../long_timeout.ts";
import { ConfigurationError } from "../../errors.ts";
import type { Logger, LogLevel } from "../../log.ts";
import type { RetryDefaults } from "../../task/run_task.ts";
import { spawnPoolThread } from "./thread_spawn.ts";
import { JobQueue, type QueuedJob } from "./job_queue.ts";
import type { AppLocation, DoneMessage, FromWorker } from "./messages.ts";
import { ThreadSlot } from "./thread_slot.ts";
import type { Pool, PoolJob, PoolKind, PoolResult } from "./types.ts";

/** Runs a thread may hold besides the one it is running. */
const LOOKAHEAD = 3;
/** A thread is topped up once it holds this many or fewer. */
const REFILL_AT = 1;
/** How long lookahead runs may wait behind a long task while another thread is idle. */
const STEAL_AFTER_MS = 5;

/** What the pool needs. */
export interface ThreadPoolOptions {
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

/** Runs tasks in worker threads. */
export class ThreadPool implements Pool {
  readonly kind: PoolKind = "workers";
  size: number;
  readonly #options: ThreadPoolOptions;
  readonly #queue = new JobQueue();
  readonly #slots: ThreadSlot[] = [];
  readonly #exits = new Set<Promise<void>>();
  #nextSeq = 1;
  #closing = false;
  /** `cancelPending()` was called: runs given back by threads end as `not-started`. */
  #cancelled = false;
  #idleWaiters: (() => void)[] = [];
  #balanceTimer?: ReturnType<typeof setTimeout>;

  /** Creates the pool (no thread starts before `start()`). */
  constructor(options: ThreadPoolOptions) {
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

  #spawn(index: number): ThreadSlot {
    const worker = spawnPoolThread();
    const slot = new ThreadSlot(index, worker);
    this.#exits.add(slot.exited);
    void slot.exited.then(() => this.#exits.delete(slot.exited));
    slot.ready = new Promise<void>((resolve, reject) => {
      const failStart = (why: string) => {
        slot.state = "gone";
        void worker.terminate();
        reject(new ConfigurationError(why));
      };
      worker.on("message", (message: FromWorker) => {
        if (slot.state === "gone") return; // a late message from a terminated thread
        if (message.type === "ready") {
          slot.state = "ready";
          resolve();
          this.#replaced(slot);
          this.#pump();
        } else if (message.type === "init-failed") {
          failStart(`Cannot load the app in a worker thread: ${message.message}`);
        } else this.#onReport(slot, message);
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
    slot.post({
      type: "init",
      ...this.#options.app,
      logLevel: this.#options.logLevel,
      processName: `WorkerThread-${index + 1}`,
      retryDefaults: this.#options.retryDefaults,
      reportMemory: (this.#options.maxMemoryPerChild ?? 0) > 0,
      control: slot.control,
    });
    return slot;
  }

  /** A `started`, `done` or `released` report from a ready thread. */
  #onReport(slot: ThreadSlot, message: Exclude<FromWorker, { type: "ready" | "init-failed" }>) {
    if (message.type === "started") this.#started(slot, message.seq);
    else if (message.type === "done") this.#done(slot, message);
    else this.#released(slot, message.seqs);
  }

  /** Queues a run. */
  run(job: PoolJob, onStart: () => void): Promise<PoolResult> {
    if (this.#closing) return Promise.resolve({ kind: "not-started" });
    const result = this.#queue.push(job, onStart);
    // Start at once on an idle thread, or top up a thread about to run dry;
    // otherwise let runs gather and go out together on the next report.
    if (this.#slots.some((slot) => slot.idle || this.#runningDry(slot))) this.#pump();
    return result;
  }

  /** Runs each thread may hold besides its running one (0: hand out one at a time). */
  get #lookahead(): number {
    const recycles = (this.#options.maxTasksPerChild ?? 0) > 0 ||
      (this.#options.maxMemoryPerChild ?? 0) > 0;
    return recycles || this.#closing || this.#cancelled ? 0 : LOOKAHEAD;
  }

  #runningDry(slot: ThreadSlot): boolean {
    return slot.state === "ready" && !slot.releasing && slot.busy && slot.lookahead.size === 0 &&
      this.#lookahead > 0;
  }

  /** Whether `slot` may be handed more runs now, and how many at most. */
  #room(slot: ThreadSlot, lookahead: number): number {
    if (slot.index >= this.size) return 0; // retiring (pool_shrink)
    if (slot.idle) return 1 + lookahead;
    if (slot.state !== "ready" || slot.releasing || slot.lookahead.size > REFILL_AT) return 0;
    return Math.max(0, lookahead - slot.lookahead.size);
  }

  /**
   * Hands out waiting runs: idle threads first (their first run starts now),
   * then threads holding at most REFILL_AT, up to LOOKAHEAD each, a fair share
   * of what is waiting, in one message per thread.
   */
  #pump(): void {
    if (this.#queue.length === 0) return this.#balanceSoon();
    const lookahead = this.#lookahead;
    const open = this.#slots.filter((slot) => this.#room(slot, lookahead) > 0)
      .sort((a, b) => Number(b.idle) - Number(a.idle));
    for (let i = 0; i < open.length && this.#queue.length > 0; i++) {
      const slot = open[i];
      const share = Math.min(
        this.#room(slot, lookahead),
        Math.ceil(this.#queue.length / (open.length - i)),
      );
      const batch: QueuedJob[] = [];
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        batch.push(next);
        if (batch.length >= share) break;
      }
      if (batch.length) this.#hand(slot, batch);
    }
  }

  /** Posts `batch` to the thread; on an idle thread the first starts now. */
  #hand(slot: ThreadSlot, batch: QueuedJob[]): void {
    const startsNow = slot.idle;
    const jobs = batch.map((queued) => {
      const seq = this.#nextSeq++;
      slot.lookahead.set(seq, queued);
      for (const signal of queued.job.abandoned ?? []) this.#watchAbandoned(slot, signal);
      return { seq, request: queued.job.request, softTimeLimit: queued.job.softTimeLimit };
    });
    slot.post({ type: "run", startsNow, jobs });
    if (startsNow) this.#started(slot, jobs[0].seq);
  }

  /**
   * A lost delivery takes back what the thread holds (the runs whose message
   * can no longer be acknowledged are then dropped from the line). One
   * listener per thread and signal: deliveries of a channel share their
   * `lost` signal (a run's revoke signal is its own).
   */
  #watchAbandoned(slot: ThreadSlot, abandoned: AbortSignal): void {
    if (slot.watched.has(abandoned)) return;
    slot.watched.add(abandoned);
    abandoned.addEventListener("abort", () => slot.release(), { once: true });
  }

  /** The thread started lookahead run `seq` (the early-ack point). */
  #started(slot: ThreadSlot, seq: number): void {
    const queued = slot.start(seq);
    if (!queued) {
      this.#options.logger.error(
        `WorkerThread-${slot.index + 1} started run ${seq}, not handed to it`,
      );
      return;
    }
    const { hardTimeLimit } = queued.job;
    if (hardTimeLimit !== null && hardTimeLimit > 0) {
      slot.hardTimer = setLongTimeout(
        () => this.#timeLimit(slot, hardTimeLimit),
        hardTimeLimit * 1000,
      );
    }
    queued.onStart();
    this.#watchTerminate(slot, queued);
  }

  /** A revoke with `terminate` stops the thread running it, as a hard time limit does. */
  #watchTerminate(slot: ThreadSlot, running: QueuedJob): void {
    const signal = running.job.terminate;
    if (!signal) return;
    const stop = () => {
      if (slot.running !== running || slot.state !== "ready") return;
      const since = performance.now();
      const runtime = (since - slot.runningSince) / 1000;
      this.#stopThread(slot, { kind: "terminated", signal: String(signal.reason), runtime });
      this.#replace(slot, "terminated by revoke", since);
    };
    if (signal.aborted) queueMicrotask(stop);
    else signal.addEventListener("abort", stop, { once: true });
  }

  #done(slot: ThreadSlot, message: DoneMessage): void {
    if (slot.runningSeq !== message.seq) {
      this.#options.logger.error(
        `WorkerThread-${slot.index + 1} reported run ${message.seq}, but runs ${slot.runningSeq}`,
      );
      return;
    }
    slot.takeRunning()!.finish({ kind: "outcome", outcome: message.outcome });
    slot.tasksRun++;
    if (message.next !== undefined) this.#started(slot, message.next);
    if (this.#slots.length > this.size) this.#retireSurplus();
    if (!slot.busy && !this.#closing) {
      const recycle = this.#recycleReason(slot, message.memoryKiB);
      if (recycle) this.#replace(slot, recycle);
    }
    this.#notifyIdle();
    this.#pump();
  }

  /** The thread gave back `seqs` unstarted: they wait again, first in line. */
  #released(slot: ThreadSlot, seqs: number[]): void {
    this.#requeue(slot.takeReleased(seqs));
    if (this.#slots.length > this.size) this.#retireSurplus();
    this.#notifyIdle();
    this.#pump();
  }

  /** Runs no thread started go back to the front of the line, or end as `not-started` when stopping. */
  #requeue(jobs: QueuedJob[]): void {
    if (this.#closing || this.#cancelled) {
      for (const queued of jobs) queued.finish({ kind: "not-started" });
    } else this.#queue.unshift(jobs);
  }

  /**
   * Celery's `-Ofair`: while a thread is idle with nothing waiting, the lookahead runs
   * of a thread busy for over STEAL_AFTER_MS are taken back and handed out again.
   */
  #balanceSoon(): void {
    if (this.#balanceTimer !== undefined) return;
    if (!this.#slots.some((slot) => slot.idle)) return;
    if (!this.#slots.some((slot) => slot.lookahead.size > 0 && !slot.releasing)) return;
    this.#balanceTimer = setTimeout(() => {
      this.#balanceTimer = undefined;
      if (!this.#slots.some((slot) => slot.idle)) return;
      const now = performance.now();
      for (const slot of this.#slots) {
        const since = slot.running ? slot.runningSince : now;
        if (slot.lookahead.size > 0 && now - since >= STEAL_AFTER_MS) slot.release();
      }
      this.#balanceSoon();
    }, STEAL_AFTER_MS);
  }

  /** Why an idle thread should be replaced now (max tasks or max memory), if it should. */
  #recycleReason(slot: ThreadSlot, memoryKiB: number | undefined): string | undefined {
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

  #timeLimit(slot: ThreadSlot, limit: number): void {
    if (!slot.running || slot.state !== "ready") return;
    const since = performance.now();
    this.#stopThread(slot, {
      kind: "time-limit",
      limit,
      runtime: (since - slot.runningSince) / 1000,
    });
    this.#replace(slot, `hard time limit (${limit}s)`, since);
  }

  /** The thread died: Celery's "Process … exited with …" line, its task lost, a replacement. */
  #lose(slot: ThreadSlot, how: string): void {
    const since = performance.now();
    this.#options.logger.error(`Process 'WorkerThread-${slot.index + 1}' exited with '${how}'`);
    const runtime = (since - (slot.running ? slot.runningSince : since)) / 1000;
    this.#stopThread(slot, { kind: "worker-lost", reason: how, runtime });
    this.#replace(slot, how, since);
  }

  /**
   * Terminates the thread: its running task ends with `result`, its lookahead runs
   * wait again (or end as `not-started` when stopping).
   */
  #stopThread(slot: ThreadSlot, result: PoolResult): void {
    slot.state = "gone";
    void slot.worker.terminate();
    const running = slot.takeRunning();
    const lookahead = slot.takeAllLookahead();
    running?.finish(result);
    this.#requeue(lookahead);
    this.#notifyIdle();
    this.#pump();
  }

  #replace(slot: ThreadSlot, reason: string, since = performance.now()): void {
    // "gone" first: terminate() can emit "exit" at once, which must not count as a loss.
    const running = slot.state !== "gone";
    slot.state = "gone";
    if (running) void slot.worker.terminate();
    if (this.#closing) return;
    if (slot.index >= this.size) return this.#retireSurplus(); // retiring: not replaced
    const fresh = this.#spawn(slot.index);
    fresh.replacing = { reason, since };
    this.#slots[slot.index] = fresh;
    fresh.ready.catch((error) => {
      this.#options.logger.critical(`Cannot replace WorkerThread-${slot.index + 1}: ${error}`);
    });
  }

  #replaced(slot: ThreadSlot): void {
    if (!slot.replacing) return;
    const ms = (performance.now() - slot.replacing.since).toFixed(1);
    this.#options.logger.debug(
      `WorkerThread-${slot.index + 1} replaced (${slot.replacing.reason}); ready after ${ms} ms`,
    );
    slot.replacing = undefined;
  }

  #notifyIdle(): void {
    if (this.#slots.some((slot) => slot.state !== "gone" && slot.busy)) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * `pool_grow` / `pool_shrink`: threads are added at once; surplus threads
   * (the last ones) stop when idle, a busy one after its run (its lookahead runs
   * go back to the line).
   */
  resize(delta: number): string | undefined {
    if (this.#closing) return "the pool is stopping";
    const target = Math.max(1, this.size + delta);
    for (let index = this.#slots.length; index < target; index++) {
      const slot = this.#spawn(index);
      this.#slots.push(slot);
      slot.ready.catch((error) =>
        this.#options.logger.critical(`Cannot start WorkerThread-${index + 1}: ${error}`)
      );
    }
    this.size = target;
    this.#retireSurplus();
    return undefined;
  }

  /** Stops surplus threads from the end while they are idle; asks a busy one to give back what it holds. */
  #retireSurplus(): void {
    while (this.#slots.length > this.size) {
      const last = this.#slots.at(-1)!;
      if (last.state !== "gone" && last.busy) {
        last.release();
        return;
      }
      this.#slots.pop();
      if (last.state !== "gone") {
        last.state = "gone";
        void last.worker.terminate();
      }
    }
  }

  /** Resolves waiting runs, and the lookahead runs of threads, with `not-started`. */
  cancelPending(): void {
    this.#cancelled = true;
    this.#queue.cancelAll();
    for (const slot of this.#slots) slot.release();
  }

  /** Waits for running tasks, then terminates every thread. */
  async close(): Promise<void> {
    this.#closing = true;
    this.cancelPending();
    if (this.#slots.some((slot) => slot.state !== "gone" && slot.busy)) {
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
      if (slot.state === "gone") continue;
      const runtime = (performance.now() - (slot.running ? slot.runningSince : 0)) / 1000;
      this.#stopThread(slot, { kind: "worker-lost", reason: "cold shutdown", runtime });
    }
    this.#notifyIdle();
    await Promise.all([...this.#exits]);
  }
}
