/**
 * An in-memory picture of a cluster built from events, like Celery's
 * `celery.events.state.State` (what `celery events` and Flower keep): workers
 * with their liveness, tasks with their state and fields. Bounded: the
 * oldest tasks and workers are forgotten past `maxTasks` / `maxWorkers`.
 * A monitor feeds it every event (`state.event(e)`) and reads it.
 *
 * @module
 */

import {
  type CeleryEvent,
  isTaskEvent,
  isWorkerEvent,
  type TaskEvent,
  type WorkerEvent,
} from "./event_types.ts";

/** A worker as seen through its events. */
export interface WorkerInfo {
  /** Node name. */
  hostname: string;
  /** Main process id. */
  pid?: number;
  /** Seconds between heartbeats. */
  freq: number;
  /** Local receive times of the last heartbeats (at most 4); empty after worker-offline. */
  heartbeats: number[];
  /** Tasks running at the last heartbeat. */
  active?: number;
  /** Tasks accepted since it started. */
  processed?: number;
  /** Load averages at the last heartbeat. */
  loadavg?: number[];
  /** Implementation, version, system. */
  sw_ident?: string;
  /** Implementation version. */
  sw_ver?: string;
  /** Operating system. */
  sw_sys?: string;
  /** Its last Lamport clock. */
  clock: number;
  /** Last event type received from it. */
  lastEvent: string;
}

/** Task states as Celery's monitors name them. */
export type MonitoredTaskState =
  | "PENDING"
  | "RECEIVED"
  | "STARTED"
  | "SUCCESS"
  | "FAILURE"
  | "RETRY"
  | "REVOKED"
  | "REJECTED";

/** A task as seen through its events. */
export interface TaskInfo {
  /** Task id. */
  uuid: string;
  /** Task name, once known. */
  name?: string;
  /** Latest state. */
  state: MonitoredTaskState;
  /** Node that reported it last. */
  worker?: string;
  /** Timestamp of its last event. */
  timestamp: number;
  /** Times of each step (event timestamps), when seen. */
  sent?: number;
  /** When a worker received it. */
  received?: number;
  /** When it started. */
  started?: number;
  /** When it succeeded. */
  succeeded?: number;
  /** When it failed. */
  failed?: number;
  /** When it was retried. */
  retried?: number;
  /** When it was revoked. */
  revoked?: number;
  /** When it was rejected. */
  rejected?: number;
  /** Repr of the arguments. */
  args?: string;
  /** Repr of the keyword arguments. */
  kwargs?: string;
  /** Repr of the result. */
  result?: string;
  /** Repr of the exception. */
  exception?: string;
  /** Traceback. */
  traceback?: string;
  /** Run time in seconds. */
  runtime?: number;
  /** Retries so far. */
  retries?: number;
  /** ETA. */
  eta?: string | null;
  /** Expiry. */
  expires?: string | null;
  /** Root id. */
  root_id?: string;
  /** Parent id. */
  parent_id?: string | null;
  /** Its last Lamport clock. */
  clock: number;
}

const STATE_OF: Record<TaskEvent["type"], MonitoredTaskState> = {
  "task-sent": "PENDING",
  "task-received": "RECEIVED",
  "task-started": "STARTED",
  "task-succeeded": "SUCCESS",
  "task-failed": "FAILURE",
  "task-retried": "RETRY",
  "task-revoked": "REVOKED",
  "task-rejected": "REJECTED",
};

/** Celery's state precedence: a late RECEIVED does not undo a SUCCESS. */
const PRECEDENCE: MonitoredTaskState[] = [
  "PENDING",
  "RECEIVED",
  "STARTED",
  "RETRY",
  "REJECTED",
  "REVOKED",
  "FAILURE",
  "SUCCESS",
];

const TIME_FIELD: Record<MonitoredTaskState, keyof TaskInfo> = {
  PENDING: "sent",
  RECEIVED: "received",
  STARTED: "started",
  SUCCESS: "succeeded",
  FAILURE: "failed",
  RETRY: "retried",
  REVOKED: "revoked",
  REJECTED: "rejected",
};

const COPIED = [
  "name",
  "args",
  "kwargs",
  "result",
  "exception",
  "traceback",
  "runtime",
  "retries",
  "eta",
  "expires",
  "root_id",
  "parent_id",
] as const;

/** Options of a `State`. */
export interface StateOptions {
  /** Tasks kept (Celery's `max_tasks_in_memory`, default 10 000). */
  maxTasks?: number;
  /** Workers kept (Celery's `max_workers_in_memory`, default 5 000). */
  maxWorkers?: number;
}

/**
 * The cluster as events describe it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { State } from "./state.ts";
 * const state = new State();
 * const common = { hostname: "w@h", utcoffset: 0, pid: 1, timestamp: Date.now() / 1000 };
 * state.event({ ...common, clock: 1, type: "worker-heartbeat", freq: 2, local_received: Date.now() / 1000 });
 * state.event({ ...common, clock: 2, type: "task-received", uuid: "t1", name: "proj.add" });
 * state.event({ ...common, clock: 3, type: "task-succeeded", uuid: "t1", result: "4", runtime: 0.1 });
 * assert.equal(state.tasks.get("t1")?.state, "SUCCESS");
 * assert.equal(state.tasks.get("t1")?.name, "proj.add");
 * assert.deepEqual(state.aliveWorkers().map((w) => w.hostname), ["w@h"]);
 * ```
 */
export class State {
  /** Workers by node name, least recently heard first. */
  readonly workers: Map<string, WorkerInfo> = new Map();
  /** Tasks by id, least recently changed first. */
  readonly tasks: Map<string, TaskInfo> = new Map();
  /** Events seen. */
  eventCount = 0;
  /** Task events seen. */
  taskEventCount = 0;
  readonly #maxTasks: number;
  readonly #maxWorkers: number;

  /** An empty state. */
  constructor(options: StateOptions = {}) {
    this.#maxTasks = options.maxTasks ?? 10_000;
    this.#maxWorkers = options.maxWorkers ?? 5_000;
  }

  /** Applies one event; returns the worker or task it changed, if any. */
  event(event: CeleryEvent): WorkerInfo | TaskInfo | undefined {
    this.eventCount++;
    if (isWorkerEvent(event)) return this.#workerEvent(event);
    if (isTaskEvent(event)) {
      this.taskEventCount++;
      this.#touchWorker(event);
      return this.#taskEvent(event);
    }
    return undefined;
  }

  /** True while the worker's heartbeats keep coming (within `freq × 2` seconds, as Celery). */
  isAlive(worker: WorkerInfo, now: number = Date.now() / 1000): boolean {
    const last = worker.heartbeats.at(-1);
    return last !== undefined && now < last + worker.freq * 2;
  }

  /** Workers whose heartbeats keep coming. */
  aliveWorkers(now: number = Date.now() / 1000): WorkerInfo[] {
    return [...this.workers.values()].filter((worker) => this.isAlive(worker, now));
  }

  /** Tasks, most recent first, at most `limit`. */
  tasksByTime(limit = Infinity): TaskInfo[] {
    const out: TaskInfo[] = [];
    const all = [...this.tasks.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) out.push(all[i]);
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.workers.clear();
    this.tasks.clear();
    this.eventCount = 0;
    this.taskEventCount = 0;
  }

  #workerEvent(event: WorkerEvent): WorkerInfo {
    const worker = this.#touchWorker(event);
    worker.freq = typeof event.freq === "number" ? event.freq : worker.freq;
    for (const key of ["active", "processed", "loadavg", "sw_ident", "sw_ver", "sw_sys"] as const) {
      if (event[key] !== undefined) {
        (worker as unknown as Record<string, unknown>)[key] = event[key];
      }
    }
    if (event.type === "worker-offline") worker.heartbeats = [];
    else {
      worker.heartbeats.push(event.local_received ?? Date.now() / 1000);
      if (worker.heartbeats.length > 4) worker.heartbeats.shift();
    }
    return worker;
  }

  /** The sender's record, moved to the recent end (created when new). */
  #touchWorker(event: CeleryEvent): WorkerInfo {
    let worker = this.workers.get(event.hostname);
    if (worker) this.workers.delete(event.hostname);
    worker ??= { hostname: event.hostname, freq: 2, heartbeats: [], clock: 0, lastEvent: "" };
    worker.pid = event.pid ?? worker.pid;
    worker.clock = Math.max(worker.clock, event.clock ?? 0);
    worker.lastEvent = event.type;
    this.workers.set(event.hostname, worker);
    if (this.workers.size > this.#maxWorkers) {
      this.workers.delete(this.workers.keys().next().value!);
    }
    return worker;
  }

  #taskEvent(event: TaskEvent): TaskInfo {
    const newState = STATE_OF[event.type] ?? "PENDING";
    let task = this.tasks.get(event.uuid);
    if (task) this.tasks.delete(event.uuid);
    task ??= { uuid: event.uuid, state: newState, timestamp: 0, clock: 0 };
    const newer = event.timestamp >= task.timestamp;
    const stronger = PRECEDENCE.indexOf(newState) >= PRECEDENCE.indexOf(task.state);
    // A retried task starts a new cycle: RECEIVED after RETRY is progress.
    if (newer && (stronger || task.state === "RETRY")) {
      task.state = newState;
      task.timestamp = event.timestamp;
    }
    (task as unknown as Record<string, unknown>)[TIME_FIELD[newState]] = event.timestamp;
    if (event.type !== "task-sent") task.worker = event.hostname;
    for (const key of COPIED) {
      if (event[key] !== undefined) (task as unknown as Record<string, unknown>)[key] = event[key];
    }
    task.clock = Math.max(task.clock, event.clock ?? 0);
    this.tasks.set(event.uuid, task);
    if (this.tasks.size > this.#maxTasks) this.tasks.delete(this.tasks.keys().next().value!);
    return task;
  }
}
