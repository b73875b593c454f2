/**
 * A worker as the dashboard shows it: liveness and heartbeat age from
 * events, counts from task events, pool and queues from `stats` and
 * `active_queues`.
 *
 * @module
 */

import type { State, WorkerInfo } from "../events/state.ts";
import type { WorkerCounts, WorkerDetails } from "./monitor.ts";

/** A worker as JSON. */
export interface WorkerView {
  /** Node name. */
  hostname: string;
  /** Heartbeats keep coming. */
  online: boolean;
  /** Seconds since its last heartbeat, or null. */
  heartbeatAge: number | null;
  /** Seconds between heartbeats. */
  freq: number;
  /** Process id. */
  pid: number | null;
  /** Implementation and version (`celeriac 0.1.0`, `py-celery 5.2.6`). */
  software: string | null;
  /** Pool implementation. */
  pool: string | null;
  /** Pool size. */
  concurrency: number | null;
  /** Tasks running at the last heartbeat. */
  active: number | null;
  /** Tasks accepted since it started. */
  processed: number | null;
  /** Tasks that succeeded / failed, as seen by the dashboard. */
  succeeded: number;
  /** Tasks that failed. */
  failed: number;
  /** Load averages. */
  loadavg: number[] | null;
  /** Queues consumed. */
  queues: string[];
}

/** The JSON view of a worker. */
export function workerView(
  info: WorkerInfo,
  state: State,
  details: WorkerDetails = {},
  counts: WorkerCounts = { succeeded: 0, failed: 0 },
): WorkerView {
  const now = Date.now() / 1000;
  const last = info.heartbeats.at(-1);
  return {
    hostname: info.hostname,
    online: state.isAlive(info, now),
    heartbeatAge: last === undefined ? null : Math.max(0, Math.round((now - last) * 10) / 10),
    freq: info.freq,
    pid: info.pid ?? null,
    software: info.sw_ident ? `${info.sw_ident} ${info.sw_ver ?? ""}`.trim() : null,
    pool: details.pool ?? null,
    concurrency: details.concurrency ?? null,
    active: info.active ?? null,
    processed: info.processed ?? null,
    succeeded: counts.succeeded,
    failed: counts.failed,
    loadavg: info.loadavg ?? null,
    queues: details.queues ?? [],
  };
}
