/**
 * The pool seam: where task bodies run. Kinds, as Celery's `-P`: `workers`
 * (`node:worker_threads` threads, one task at a time each, fed by the main
 * thread), `async` (N concurrent on the main thread) and `solo` (one at a
 * time on the main thread). `threads` (threads that consume for themselves,
 * `../consumer_threads/`) is not a `Pool`: the worker supervises it.
 *
 * @module
 */

import type { TaskOutcome } from "../../task/outcome.ts";
import type { TaskRequest } from "../../task/request.ts";

/** Pool kinds, as given to `-P`. */
export type PoolKind = "workers" | "threads" | "async" | "solo";

/** One task run handed to a pool. */
export interface PoolJob {
  /** The request the body sees. */
  request: TaskRequest;
  /** Seconds before the body's signal aborts with SoftTimeLimitExceeded, or null. */
  softTimeLimit: number | null;
  /** Seconds before the run is stopped and TimeLimitExceeded stored, or null. */
  hardTimeLimit: number | null;
  /**
   * The job is abandoned once any of these aborts: its message can no longer
   * be acknowledged (its delivery was lost with the connection; the broker
   * redelivers it), or it was revoked before it started. A pool must not
   * start it then, and finishes it as `not-started`. (Sources, not one
   * combined signal: combining costs a controller and listeners per run.)
   */
  abandoned?: readonly AbortSignal[];
  /**
   * Aborts to stop the run (a revoke with `terminate`); its reason is the
   * signal name. The run ends as `terminated`, as a hard time limit ends it.
   */
  terminate?: AbortSignal;
}

/** How a run ended: the task's own outcome, or the pool lost it. */
export type PoolResult =
  | { kind: "outcome"; outcome: TaskOutcome }
  /** The worker thread running it died (crash, `Deno.exit`, out of memory). */
  | { kind: "worker-lost"; reason: string; runtime: number }
  /** The hard time limit passed; the worker thread was terminated and replaced. */
  | { kind: "time-limit"; limit: number; runtime: number }
  /** A revoke with `terminate` stopped it (`signal` is the signal name). */
  | { kind: "terminated"; signal: string; runtime: number }
  /** Shutdown came before the run started; the message should be requeued. */
  | { kind: "not-started" };

/** A pool of executors. */
export interface Pool {
  /** Pool kind. */
  readonly kind: PoolKind;
  /** How many tasks run at once. */
  readonly size: number;
  /** Starts the executors; resolves when all are ready to run tasks. */
  start(): Promise<void>;
  /**
   * Queues a run. `onStart` is called on the main thread at the moment the
   * run begins (the early-ack point, Celery's "accepted").
   */
  run(job: PoolJob, onStart: () => void): Promise<PoolResult>;
  /** Resolves every queued, not yet started run with `not-started`. */
  cancelPending(): void;
  /** Waits for running tasks, then stops the executors (warm). */
  close(): Promise<void>;
  /** Stops the executors now; running tasks end as `worker-lost` (cold). */
  terminate(): Promise<void>;
  /** Optional: grows (delta > 0) or shrinks the pool; returns why it cannot, or undefined. */
  resize?(delta: number): string | undefined;
}
