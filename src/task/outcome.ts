/**
 * What running a task produced, as plain data: it crosses from a worker thread
 * to the main thread with `postMessage`, so it holds no functions or classes.
 *
 * @module
 */

import type { EncodedException } from "../backend/types.ts";

/** The task returned a value. */
export interface SuccessOutcome {
  /** Discriminant. */
  state: "SUCCESS";
  /** Return value. */
  result: unknown;
  /** Seconds the body ran. */
  runtime: number;
}

/** The task threw. */
export interface FailureOutcome {
  /** Discriminant. */
  state: "FAILURE";
  /** The error, encoded as Celery stores it. */
  exception: EncodedException;
  /** Traceback text. */
  traceback: string | null;
  /** Seconds the body ran. */
  runtime: number;
  /** Python-style repr of the error, for the log line. */
  repr: string;
}

/** The task asked to run again later. */
export interface RetryOutcome {
  /** Discriminant. */
  state: "RETRY";
  /** When the next run is due (epoch milliseconds). */
  eta: number;
  /** The error that caused the retry. */
  exception: EncodedException;
  /** Traceback of that error. */
  traceback: string | null;
  /** Text for the log line (`Retry in 2s: ValueError('x')`). */
  reason: string;
  /** New args, when changed. */
  args?: unknown[];
  /** New kwargs, when changed. */
  kwargs?: Record<string, unknown>;
  /** Seconds the body ran. */
  runtime: number;
}

/** The task threw `Reject`. */
export interface RejectOutcome {
  /** Discriminant. */
  state: "REJECTED";
  /** Requeue the message. */
  requeue: boolean;
  /** Reason. */
  reason: string;
}

/** The task threw `Ignore`. */
export interface IgnoredOutcome {
  /** Discriminant. */
  state: "IGNORED";
}

/** Any outcome of one run. */
export type TaskOutcome =
  | SuccessOutcome
  | FailureOutcome
  | RetryOutcome
  | RejectOutcome
  | IgnoredOutcome;
