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
  /** Name shown in log lines (`WebWorker-1`). */
  processName: string;
  /** Retry settings. */
  retryDefaults: RetryDefaults;
  /** Report memory after each task (for `worker_max_memory_per_child`). */
  reportMemory: boolean;
  /**
   * Shared with the main thread: `[releases asked for]`. The thread reads it
   * before reporting each task, so a `release` takes effect before the next
   * task starts even when the running one never yields to the event loop.
   */
  control: Int32Array;
}

/** One task for a worker thread. */
export interface RunJob {
  /** The request. */
  request: TaskRequest;
  /** Soft limit in seconds, or null. */
  softTimeLimit: number | null;
}

/**
 * Main thread → worker thread: run these tasks, one at a time, in order,
 * after any it already has. The thread reports each with a `done` message
 * and starts its next one right after (so the main thread knows it started).
 */
export interface RunMessage {
  /** Discriminant. */
  type: "run";
  /** The tasks. */
  jobs: RunJob[];
}

/** Main thread → worker thread: give back the tasks not started yet (after raising `control[0]`). */
export interface ReleaseMessage {
  /** Discriminant. */
  type: "release";
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

/** worker thread → main thread: a run ended. */
export interface DoneMessage {
  /** Discriminant. */
  type: "done";
  /** The outcome. */
  outcome: TaskOutcome;
  /** The thread's memory after the run, KiB (V8 heap + external of its isolate), when asked for. */
  memoryKiB?: number;
}

/** worker thread → main thread: it dropped the `count` tasks it had not started (`release`). */
export interface ReleasedMessage {
  /** Discriminant. */
  type: "released";
  /** How many. */
  count: number;
}

/** Anything the main thread sends. */
export type ToWorker = InitMessage | RunMessage | ReleaseMessage;
/** Anything a worker thread sends. */
export type FromWorker = ReadyMessage | InitFailedMessage | DoneMessage | ReleasedMessage;
