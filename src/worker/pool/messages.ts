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
}

/** Main thread → worker thread: run one task. */
export interface RunMessage {
  /** Discriminant. */
  type: "run";
  /** The request. */
  request: TaskRequest;
  /** Soft limit in seconds, or null. */
  softTimeLimit: number | null;
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
  /** The thread's memory after the run, KiB (V8 heap + external of its isolate). */
  memoryKiB: number;
}

/** Anything the main thread sends. */
export type ToWorker = InitMessage | RunMessage;
/** Anything a worker thread sends. */
export type FromWorker = ReadyMessage | InitFailedMessage | DoneMessage;
