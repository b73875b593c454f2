/**
 * The main thread's view of one worker thread of the `workers` pool: its
 * life-cycle state, the run it is executing and the runs handed to it ahead
 * of time that it has not started (lookahead). Runs are named by the pool's
 * sequence number, so every report from the thread settles exactly the run it
 * names.
 *
 * @module
 */

import type { LongTimeout } from "../long_timeout.ts";
import type { Worker } from "node:worker_threads";
import type { QueuedJob } from "./job_queue.ts";
import type { ToWorker } from "./messages.ts";

/** One worker thread, as the pool tracks it. */
export class ThreadSlot {
  /** Position in the pool (names the thread `WorkerThread-<index + 1>`). */
  readonly index: number;
  /** The thread. */
  readonly worker: Worker;
  /** Shared with the thread: `[releases asked for]`. */
  readonly control: Int32Array = new Int32Array(new SharedArrayBuffer(4));
  /** Loading the app, ready for runs, or terminated. */
  state: "starting" | "ready" | "gone" = "starting";
  /** The run in progress. */
  running?: QueuedJob;
  /** The pool's number for the run in progress. */
  runningSeq?: number;
  /** When the run in progress started (`performance.now()`). */
  runningSince = 0;
  /** The hard time limit's timer for the run in progress, if any. */
  hardTimer?: LongTimeout;
  /** Runs handed over and not started, by number, in order. */
  readonly lookahead: Map<number, QueuedJob> = new Map();
  /** A release was asked for and its answer has not come back. */
  releasing = false;
  /** Abandonment signals already watched for runs handed to this thread. */
  readonly watched: WeakSet<AbortSignal> = new WeakSet();
  /** Runs finished by this thread (for `worker_max_tasks_per_child`). */
  tasksRun = 0;
  /** Resolves once the app is loaded; rejects if it cannot be. */
  ready: Promise<void> = Promise.resolve();
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
  /** Set while this slot replaces a lost thread (for the "ready after" debug line). */
  replacing?: { reason: string; since: number };

  /** Wraps a freshly created thread. */
  constructor(index: number, worker: Worker) {
    this.index = index;
    this.worker = worker;
    this.exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  }

  /** Ready, running nothing, holding nothing, no release under way. */
  get idle(): boolean {
    return this.state === "ready" && !this.running && this.lookahead.size === 0 && !this.releasing;
  }

  /** Running a task or holding runs. */
  get busy(): boolean {
    return this.running !== undefined || this.lookahead.size > 0;
  }

  /** Posts a message to the thread. */
  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /**
   * Asks the thread to give back the runs it holds (answered by `released`).
   * The shared counter is raised first, so the thread sees it before starting
   * another run even while its current task never yields.
   */
  release(): void {
    if (this.releasing || this.lookahead.size === 0 || this.state !== "ready") return;
    this.releasing = true;
    this.post({ type: "release", asked: Atomics.add(this.control, 0, 1) + 1 });
  }

  /** Removes and returns the lookahead runs named in `seqs` (given back by the thread). */
  takeReleased(seqs: number[]): QueuedJob[] {
    const back: QueuedJob[] = [];
    for (const seq of seqs) {
      const queued = this.lookahead.get(seq);
      if (!queued) continue;
      this.lookahead.delete(seq);
      back.push(queued);
    }
    this.releasing = false;
    return back;
  }

  /** Removes and returns every lookahead run (the thread is gone). */
  takeAllLookahead(): QueuedJob[] {
    const all = [...this.lookahead.values()];
    this.lookahead.clear();
    this.releasing = false;
    return all;
  }

  /** Records that lookahead run `seq` started now; returns it, or undefined if it is not in its lookahead. */
  start(seq: number): QueuedJob | undefined {
    const queued = this.lookahead.get(seq);
    if (!queued) return undefined;
    this.lookahead.delete(seq);
    this.running = queued;
    this.runningSeq = seq;
    this.runningSince = performance.now();
    return queued;
  }

  /** Ends the running run's bookkeeping and returns it. */
  takeRunning(): QueuedJob | undefined {
    const running = this.running;
    this.hardTimer?.clear();
    this.hardTimer = undefined;
    this.running = undefined;
    this.runningSeq = undefined;
    return running;
  }
}
