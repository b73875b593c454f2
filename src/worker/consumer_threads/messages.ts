/**
 * Messages between the supervisor and its consumer threads. None is sent
 * per task: a thread consumes, runs, stores and acknowledges by itself, and
 * what it runs is in the shared running table. Plain data only (structured
 * clone).
 *
 * @module
 */

import type { QueueSpec } from "../../broker/types.ts";
import type { LogLevel } from "../../log.ts";
import type { AppLocation } from "../pool/messages.ts";
import type { PoolResult } from "../pool/types.ts";

/**
 * How a run ended outside its thread, for the message the broker may
 * redeliver: stopped or lost by the supervisor, or `settled` (finished and
 * settled on a thread that stopped before the settle reached the broker).
 */
export type EndedRun =
  | Extract<PoolResult, { kind: "time-limit" | "worker-lost" | "terminated" }>
  | { kind: "settled"; dropped: boolean };

/**
 * Names the message of one attempt of a task: its id, and its retries when
 * it is a retry (a retry is a new message with the same id), e.g. in the
 * settled ring and in the supervisor's record of runs that ended elsewhere.
 */
export function runKey(id: string, retries: number): string {
  return retries > 0 ? `${id}#${retries}` : id;
}

/** Supervisor → thread: load the app, connect and consume. */
export interface ConsumerInit extends AppLocation {
  /** Discriminant. */
  type: "init";
  /** The main thread's settings that differ from the module's (applied before connecting). */
  settings: Record<string, unknown>;
  /** The worker's node name (events, `hostname` in requests). */
  hostname: string;
  /** Queues to consume. */
  queues: QueueSpec[];
  /** This thread's prefetch window (0: none). */
  prefetch: number;
  /** Runs at once on this thread. */
  slots: number;
  /** This thread's first slot in the running table. */
  firstSlot: number;
  /** The running table's memory. */
  table: SharedArrayBuffer;
  /** Runs finished per thread (`Int32Array`), for heartbeats and `inspect stats`. */
  counters: SharedArrayBuffer;
  /** The pool's number of threads now (`Int32Array` of one; `pool_grow` / `pool_shrink` change it). */
  poolSize: SharedArrayBuffer;
  /** This thread's table of unsettled deliveries (`unsettled_table.ts`). */
  unsettled: SharedArrayBuffer;
  /** This thread's ring of settled task ids (`settled_ring.ts`). */
  settled: SharedArrayBuffer;
  /** The worker's rate-limit buckets (`shared_token_bucket.ts`) and the task names they are for. */
  buckets: { buffer: SharedArrayBuffer; names: string[] };
  /** This thread's index in `counters`. */
  index: number;
  /** Log level. */
  logLevel: LogLevel;
  /** Name in log lines (`WorkerThread-1`). */
  processName: string;
  /** Send task events. */
  taskEvents: boolean;
  /** Longest time an ETA message is held unacked, ms. */
  holdLimitMs: number;
  /** Revoked ids known to the worker. */
  revoked: string[];
}

/** Supervisor → thread: stop consuming; warm lets running tasks finish. */
export interface ConsumerStop {
  /** Discriminant. */
  type: "stop";
}

/** Supervisor → thread: ids revoked (queued ones are discarded; running ones the supervisor stops). */
export interface ConsumerRevoke {
  /** Discriminant. */
  type: "revoke";
  /** The ids. */
  ids: string[];
}

/**
 * Supervisor → thread: the answer to an `ended-query`: how the run of a
 * message ended outside its thread (settle the message as that), or null (run it).
 */
export interface ConsumerEndedAnswer {
  /** Discriminant. */
  type: "ended-answer";
  /** The message asked about (`runKey`). */
  key: string;
  /** How it ended, if it did. */
  result: EndedRun | null;
}

/** Supervisor → thread: list the requests held in `phase` (`inspect reserved` / `scheduled`). */
export interface ConsumerRequests {
  /** Discriminant. */
  type: "requests";
  /** Which. */
  phase: "reserved" | "scheduled";
  /** Matches the answer. */
  query: number;
}

/** Supervisor → thread: the `rate_limit` command. */
export interface ConsumerRateLimit {
  /** Discriminant. */
  type: "rate-limit";
  /** Task name. */
  task: string;
  /** Tasks per second, or null for none. */
  perSecond: number | null;
}

/**
 * Supervisor → thread: consume these queues from now on (`add_consumer` /
 * `cancel_consumer`); the thread answers `queues-set` once its new stream
 * is open.
 */
export interface ConsumerQueues {
  /** Discriminant. */
  type: "queues";
  /** Every queue to consume (none: consume nothing). */
  queues: QueueSpec[];
  /** Matches the answer. */
  query: number;
}

/** Supervisor → thread: `enable_events` / `disable_events`. */
export interface ConsumerTaskEvents {
  /** Discriminant. */
  type: "task-events";
  /** Send task events from now on. */
  on: boolean;
}

/** Anything the supervisor sends. */
export type ToConsumer =
  | ConsumerTaskEvents
  | ConsumerQueues
  | ConsumerInit
  | ConsumerStop
  | ConsumerRevoke
  | ConsumerEndedAnswer
  | ConsumerRequests
  | ConsumerRateLimit;

/** Anything a consumer thread sends. */
export type FromConsumer =
  /** Connected and consuming. */
  | { type: "ready" }
  /** Could not load the app or connect. */
  | { type: "init-failed"; message: string }
  /** Stopped (after `stop`), every delivery settled. */
  | { type: "stopped" }
  /** Stopped on its own, every delivery settled, to be replaced (max tasks or memory per child). */
  | { type: "retired"; reason: string }
  /** The consumer failed in a way it cannot recover from. */
  | { type: "failed"; message: string }
  /** The answer to `requests`: `inspect reserved` / `scheduled` entries. */
  | { type: "requests-answer"; query: number; entries: Record<string, unknown>[] }
  /** The answer to `queues`: consuming the new list. */
  | { type: "queues-set"; query: number }
  /** A redelivered message (`runKey`): did a run of it end on a thread that is gone? */
  | { type: "ended-query"; key: string };
