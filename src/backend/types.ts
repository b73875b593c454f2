/**
 * The ResultBackend seam: where workers store task states and clients read
 * them. Documents keep Celery's field names because they are wire data that
 * Python peers read.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/config.ts";
import type { ConnectOptions } from "../broker/types.ts";

/** Celery's task states. Custom states (for example `PROGRESS`) are strings too. */
export type TaskState =
  | "PENDING"
  | "RECEIVED"
  | "STARTED"
  | "SUCCESS"
  | "FAILURE"
  | "RETRY"
  | "REVOKED"
  | (string & Record<never, never>);

/** States after which a task's state never changes. */
export const READY_STATES: ReadonlySet<string> = new Set(["SUCCESS", "FAILURE", "REVOKED"]);
/** States whose `result` is an encoded exception. */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set(["FAILURE", "RETRY", "REVOKED"]);
/** States that `get()` raises for. */
export const PROPAGATE_STATES: ReadonlySet<string> = new Set(["FAILURE", "REVOKED"]);

/** An exception as Celery's JSON serializer stores it. */
export interface EncodedException {
  /** Class name, e.g. `ValueError`. */
  exc_type: string;
  /** The exception's args. */
  exc_message: unknown[] | string;
  /** Python module of the class, e.g. `builtins` or `celery.exceptions`. */
  exc_module: string;
}

/** A result document, exactly as Celery stores it (`celery-task-meta-<id>`). */
export interface ResultMeta {
  /** Task id. */
  task_id: string;
  /** State name. */
  status: TaskState;
  /** Return value, encoded exception, or `{pid, hostname}` for STARTED. */
  result: unknown;
  /** Traceback text for FAILURE and RETRY. */
  traceback: string | null;
  /** Child results as Celery's tuples. */
  children: unknown[] | null;
  /** When the task reached a ready state (ISO text), or null. */
  date_done: string | null;
  /** Group id, when the task was part of a group. */
  group_id?: string | null;
  /** Parent task id. */
  parent_id?: string | null;
  /** Extended fields (`result_extended`). */
  name?: string;
  /** Extended: positional arguments. */
  args?: unknown[];
  /** Extended: keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Extended: worker node name. */
  worker?: string;
  /** Extended: retry count. */
  retries?: number;
  /** Extended: queue name. */
  queue?: string;
}

/** Where the worker sends a result for reply-queue backends (rpc://). */
export interface ReplyRoute {
  /** The task message's `reply_to`. */
  replyTo?: string;
  /** The task message's `correlation_id`. */
  correlationId?: string;
}

/** Options for waiting on a result. */
export interface WaitOptions {
  /** Give up after this many milliseconds (TimeoutError); undefined waits forever. */
  timeoutMs?: number;
  /** Polling interval for backends that poll. */
  intervalMs: number;
  /** Abort waiting. */
  signal?: AbortSignal;
}

/** What a backend can do; docs and the conformance suite read the same constant. */
export interface BackendCapabilities {
  /** Another process can read the stored results. */
  crossProcess: boolean;
  /** `forget()` deletes a stored result. */
  forget: boolean;
  /** Waiting is pushed (pub/sub, reply queue), not polled. */
  pushNotify: boolean;
  /** Results can be read more than once. */
  rereadable: boolean;
}

/** A result store. Obtain one from `createResultBackend(url, config)`. */
export interface ResultBackend extends AsyncDisposable {
  /** The URL it was created from. */
  readonly url: string;
  /** What this adapter can do. */
  readonly capabilities: BackendCapabilities;
  /**
   * Called by a client before it publishes a task: start listening for its
   * result. Returns the `reply_to` to put on the message, if the backend has one.
   */
  prepare(taskId: string): Promise<string | undefined>;
  /** Stores a state (worker side). Never overwrites a stored SUCCESS. */
  store(meta: ResultMeta, reply: ReplyRoute): Promise<void>;
  /** Reads the latest stored state, or undefined when nothing is stored (PENDING). */
  read(taskId: string): Promise<ResultMeta | undefined>;
  /** Waits until the task reaches a ready state and returns that document. */
  waitFor(taskId: string, options: WaitOptions): Promise<ResultMeta>;
  /** Deletes a stored result. */
  forget(taskId: string): Promise<void>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** What a backend adapter module exports. */
export type ResultBackendFactory = (
  url: string,
  config: ResolvedConfig,
  options?: ConnectOptions,
) => Promise<ResultBackend>;
