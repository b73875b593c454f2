/**
 * Celery's events as typed values (spec §2.3, §2.5). Every event carries the
 * common fields; receivers add `local_received`. Fields a Python sender may
 * leave out (a heartbeat asked for by the `heartbeat` command has no
 * `active`) are optional.
 *
 * @module
 */

/** Fields of every event. */
export interface EventCommon {
  /** Event type, such as `worker-heartbeat` or `task-succeeded`. */
  type: string;
  /** Sender's node name (`celery@host`, or `gen<pid>@host` for clients). */
  hostname: string;
  /** Sender's wall clock, Unix seconds (receivers correct it by `utcoffset`). */
  timestamp: number;
  /** Sender's offset from UTC in hours, positive west of UTC (Python's `time.timezone // 3600`). */
  utcoffset: number;
  /** Sender's process id. */
  pid: number;
  /** Sender's Lamport clock. */
  clock: number;
  /** Receiver's wall clock when the event arrived (set by receivers). */
  local_received?: number;
  /** Any other field. */
  [field: string]: unknown;
}

/** `worker-online`, `worker-heartbeat`, `worker-offline`. */
export interface WorkerEvent extends EventCommon {
  /** The event type. */
  type: "worker-online" | "worker-heartbeat" | "worker-offline";
  /** Seconds between heartbeats. */
  freq: number;
  /** Tasks running now. */
  active?: number;
  /** Tasks accepted since start. */
  processed?: number;
  /** 1/5/15-minute load averages. */
  loadavg?: number[];
  /** Implementation (`py-celery`, `celeriac`). */
  sw_ident?: string;
  /** Its version. */
  sw_ver?: string;
  /** Its operating system. */
  sw_sys?: string;
}

/** Every `task-*` event; which fields are set depends on the type (spec §2.5). */
export interface TaskEvent extends EventCommon {
  /** The event type. */
  type:
    | "task-sent"
    | "task-received"
    | "task-started"
    | "task-succeeded"
    | "task-failed"
    | "task-retried"
    | "task-rejected"
    | "task-revoked";
  /** The task id. */
  uuid: string;
  /** Task name (task-sent, task-received). */
  name?: string;
  /** Repr of the positional arguments (task-sent, task-received). */
  args?: string;
  /** Repr of the keyword arguments (task-sent, task-received). */
  kwargs?: string;
  /** Retries so far. */
  retries?: number;
  /** ETA, ISO 8601, or null. */
  eta?: string | null;
  /** Expiry, ISO 8601, or null. */
  expires?: string | null;
  /** Root task id. */
  root_id?: string;
  /** Parent task id. */
  parent_id?: string | null;
  /** Repr of the return value (task-succeeded). */
  result?: string;
  /** Seconds the task ran (task-succeeded). */
  runtime?: number;
  /** Repr of the exception (task-failed, task-retried). */
  exception?: string;
  /** Formatted traceback (task-failed, task-retried). */
  traceback?: string;
  /** Whether a revoked task was running and was terminated (task-revoked). */
  terminated?: boolean;
  /** Signal number used to terminate it, or null (task-revoked). */
  signum?: number | null;
  /** Revoked because it expired (task-revoked). */
  expired?: boolean;
  /** Whether a rejected message went back to the queue (task-rejected). */
  requeue?: boolean;
}

/** Any event; custom types (`task-progress`, …) arrive as `EventCommon`. */
export type CeleryEvent = WorkerEvent | TaskEvent | EventCommon;

/** The group of an event type: the text before the first `-` (`task`, `worker`). */
export function eventGroup(type: string): string {
  const dash = type.indexOf("-");
  return dash < 0 ? type : type.slice(0, dash);
}

/** The routing key of an event type: every `-` becomes `.` (`task-sent` → `task.sent`). */
export function eventRoutingKey(type: string): string {
  return type.replaceAll("-", ".");
}

/** True for a worker event. */
export function isWorkerEvent(event: CeleryEvent): event is WorkerEvent {
  return eventGroup(event.type) === "worker";
}

/** True for a task event. */
export function isTaskEvent(event: CeleryEvent): event is TaskEvent {
  return eventGroup(event.type) === "task" && typeof event.uuid === "string";
}

/**
 * This host's offset from UTC as Celery sends it: hours, positive west of
 * UTC (Python's `time.timezone // 3600`, `time.altzone` in summer time).
 */
export function utcOffsetHours(now = new Date()): number {
  return Math.floor(now.getTimezoneOffset() / 60);
}
