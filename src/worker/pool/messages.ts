/**
 * Messages between the worker's main thread and its worker threads. Plain data
 * only: they cross threads by structured clone.
 *
 * @module
 */

import type { LogLevel } from "../../log.ts";
import type { TaskOutcome } from "../../task/outcome.ts";
import type { TaskRequest } from "../../task/request.ts";
import type { RetryDefaults } from "../../task/run_task.ts";

/** Where a worker thread finds the app: a module URL and, optionally, the export. */
export interface AppLocation {
  /** Module URL to import. */
  moduleUrl: string;
  /** Export holding the app; when absent, the export whose `main` matches. */
  exportName?: string;
  /** The app's main name, to pick among several exported apps. */
  main: string;
}

/** Main thread → worker thread: load the app. */
export interface InitMessage extends AppLocation {
  /** Discriminant. */
  type: "init";
  /** Log level for task logs. */
  logLevel: LogLevel;
  /** Name shown in log lines (`WorkerThread-1`). */
  processName: string;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Report memory after each task (for `worker_max_memory_per_child`). */
  reportMemory: boolean;
  /**
   * Shared with the main thread: `[releases asked for]`. The thread reads it
   * before starting each held task, so no held task starts once a release is
   * asked for, even when the running one never yields to the event loop.
   */
  control: Int32Array;
}

/** One task for a worker thread, numbered by the pool. */
export interface RunJob {
  /** The pool's number for this run: every report names it. */
  seq: number;
  /** The request. */
  request: TaskRequest;
  /** Soft limit in seconds, or null. */
  softTimeLimit: number | null;
}

/**
 * Main thread → worker thread: run these tasks one at a time, in order, after
 * any the thread holds. With `startsNow` the thread is idle and the main
 * thread already counts the first as started; otherwise the thread reports
 * each start (`started`, or `next` in the `done` before it).
 */
export interface RunMessage {
  /** Discriminant. */
  type: "run";
  /** The main thread counted `jobs[0]` as started when it sent them. */
  startsNow: boolean;
  /** The tasks. */
  jobs: RunJob[];
}

/**
 * Main thread → worker thread: give back the tasks not started (posted after
 * raising `control[0]` to `asked`; the thread answers with `released`).
 */
export interface ReleaseMessage {
  /** Discriminant. */
  type: "release";
  /** The release's number (the new value of `control[0]`). */
  asked: number;
}

/** worker thread → main thread: the app is loaded. */
export interface ReadyMessage {
  /** Discriminant. */
  type: "ready";
}

/** worker thread → main thread: the app could not be loaded. */
export interface InitFailedMessage {
  /** Discriminant. */
  type: "init-failed";
  /** Why. */
  message: string;
}

/** worker thread → main thread: an idle thread started a run it was handed earlier. */
export interface StartedMessage {
  /** Discriminant. */
  type: "started";
  /** The run. */
  seq: number;
}

/** worker thread → main thread: a run ended (and, with `next`, the next one started). */
export interface DoneMessage {
  /** Discriminant. */
  type: "done";
  /** The run that ended. */
  seq: number;
  /** The outcome. */
  outcome: TaskOutcome;
  /** The run the thread started right after this one, if any. */
  next?: number;
  /** The thread's memory after the run, KiB (V8 heap + external of its isolate), when asked for. */
  memoryKiB?: number;
}

/** worker thread → main thread: it gave back these runs, none of them started (`release`). */
export interface ReleasedMessage {
  /** Discriminant. */
  type: "released";
  /** The runs given back. */
  seqs: number[];
}

/** Anything the main thread sends. */
export type ToWorker = InitMessage | RunMessage | ReleaseMessage;
/** Anything a worker thread sends. */
export type FromWorker =
  | ReadyMessage
  | InitFailedMessage
  | StartedMessage
  | DoneMessage
  | ReleasedMessage;
