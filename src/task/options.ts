/**
 * Options of a task definition and of one call, in Celery's meaning with
 * camelCase names.
 *
 * @module
 */

import type { Signature } from "../canvas/signature.ts";

/** Options given when a task is defined (`app.task(fn, options)`). */
export interface TaskOptions {
  /** Registered name; default `<app main>.<function name>`. */
  name?: string;
  /** Pass the task itself (`self`, with `request`, `retry`, `signal`) as the first argument. */
  bind?: boolean;
  /** Default queue for this task. */
  queue?: string;
  /** Default priority for this task. */
  priority?: number;
  /** Store no SUCCESS result. */
  ignoreResult?: boolean;
  /** Store STARTED when the task starts. */
  trackStarted?: boolean;
  /** Most retries before failing; null retries forever. Default 3. */
  maxRetries?: number | null;
  /** Seconds before a retry when no countdown is given. Default 180. */
  defaultRetryDelay?: number;
  /** Retry automatically on these error classes (or names). */
  autoretryFor?: ReadonlyArray<string | (abstract new (...args: never[]) => Error)>;
  /** Exponential backoff for automatic retries: true (1 s base) or the base in seconds. */
  retryBackoff?: boolean | number;
  /** Upper bound of the backoff, seconds. Default 600. */
  retryBackoffMax?: number;
  /** Randomize backoff delays. Default true. */
  retryJitter?: boolean;
  /** Hard time limit, seconds. */
  timeLimit?: number;
  /** Soft time limit, seconds. */
  softTimeLimit?: number;
  /** Ack after running instead of before. */
  acksLate?: boolean;
  /** Requeue when the worker thread running it dies. */
  rejectOnWorkerLost?: boolean;
  /** Rate limit such as `10/m`. */
  rateLimit?: string;
  /** Parameter names for keyword arguments, when they cannot be read from the function. */
  argNames?: string[];
  /**
   * Check the arguments of each call against the function's parameters, as
   * Python would (Celery's `typing`): in `applyAsync`/`delay` and on the
   * worker, a missing required argument or too many positional ones is a
   * TypeError. Default true; false turns the check off (for a body whose
   * source does not show its defaults, such as a TypeScript `y?: number`).
   */
  typing?: boolean;
  /**
   * Shared tasks only: when no app is current, throw instead of falling back
   * to the implicit `default` app (as global strict mode does).
   */
  strict?: boolean;
}

// deno-lint-ignore no-explicit-any
type AnySignature = Signature<any, any>;

/** Options of one call (`applyAsync(args, options)`, `sendTask(name, args, options)`). */
export interface ApplyOptions {
  /** Keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Run no earlier than this many seconds from now. */
  countdown?: number;
  /** Run no earlier than this time. */
  eta?: Date | string;
  /** Revoke if not started within this many seconds, or by this time. */
  expires?: number | Date | string;
  /** Queue name. */
  queue?: string;
  /** Routing key. */
  routingKey?: string;
  /** Exchange name. */
  exchange?: string;
  /** Message priority. */
  priority?: number;
  /** Use this task id instead of a new one. */
  taskId?: string;
  /** Extra message headers. */
  headers?: Record<string, unknown>;
  /** Hard time limit for this call, seconds. */
  timeLimit?: number;
  /** Soft time limit for this call, seconds. */
  softTimeLimit?: number;
  /** Store no SUCCESS result for this call. */
  ignoreResult?: boolean;
  /** Display name in logs and results. */
  shadow?: string;
  /** Retry count to send (used by retries). */
  retries?: number;
  /** Parent task id (set automatically inside a running task). */
  parentId?: string;
  /** Root task id. */
  rootId?: string;
  /** Group id. */
  groupId?: string;
  /** Position in a chord header. */
  groupIndex?: number;
  /** Signature(s) applied with the result when the task succeeds (Celery's `link`). */
  link?: AnySignature | AnySignature[];
  /** Signature(s) applied when the task fails (Celery's `link_error`). */
  linkError?: AnySignature | AnySignature[];
}

/** Options of `self.retry()` inside a bound task. */
export interface RetryOptions {
  /** Seconds until the retry (default: the task's defaultRetryDelay). */
  countdown?: number;
  /** Time of the retry. */
  eta?: Date;
  /** The error that caused the retry; stored with RETRY and raised past maxRetries. */
  exc?: unknown;
  /** Override maxRetries for this retry. */
  maxRetries?: number | null;
  /** New positional arguments. */
  args?: unknown[];
  /** New keyword arguments. */
  kwargs?: Record<string, unknown>;
}
