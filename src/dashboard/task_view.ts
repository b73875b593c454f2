/**
 * A task as the dashboard and its HTTP API show it: Flower's field names
 * (`uuid`, `name`, `state`, `received`, `started`, `runtime`, `worker`, …),
 * plus `children` when known.
 *
 * @module
 */

import type { TaskInfo } from "../events/state.ts";

/** A task as JSON (Flower's shape). */
export interface TaskView {
  /** Task id. */
  uuid: string;
  /** Task name, or null while unknown. */
  name: string | null;
  /** State. */
  state: string;
  /** Node that ran it. */
  worker: string | null;
  /** Repr of its arguments. */
  args: string | null;
  /** Repr of its keyword arguments. */
  kwargs: string | null;
  /** Repr of its result. */
  result: string | null;
  /** Repr of its exception. */
  exception: string | null;
  /** Its traceback. */
  traceback: string | null;
  /** Unix seconds of each step, or null. */
  sent: number | null;
  /** When received. */
  received: number | null;
  /** When started. */
  started: number | null;
  /** When it succeeded. */
  succeeded: number | null;
  /** When it failed. */
  failed: number | null;
  /** When retried. */
  retried: number | null;
  /** When revoked. */
  revoked: number | null;
  /** When rejected. */
  rejected: number | null;
  /** Time of its last event. */
  timestamp: number;
  /** Seconds it ran. */
  runtime: number | null;
  /** Retries so far. */
  retries: number | null;
  /** ETA. */
  eta: string | null;
  /** Expiry. */
  expires: string | null;
  /** Root task id. */
  root_id: string | null;
  /** Parent task id. */
  parent_id: string | null;
  /** Ids of its children, when asked. */
  children?: string[];
}

/** The JSON view of a task; `children` when given. */
export function taskView(task: TaskInfo, children?: TaskInfo[]): TaskView {
  const view: TaskView = {
    uuid: task.uuid,
    name: task.name ?? null,
    state: task.state,
    worker: task.worker ?? null,
    args: task.args ?? null,
    kwargs: task.kwargs ?? null,
    result: task.result ?? null,
    exception: task.exception ?? null,
    traceback: task.traceback ?? null,
    sent: task.sent ?? null,
    received: task.received ?? null,
    started: task.started ?? null,
    succeeded: task.succeeded ?? null,
    failed: task.failed ?? null,
    retried: task.retried ?? null,
    revoked: task.revoked ?? null,
    rejected: task.rejected ?? null,
    timestamp: task.timestamp,
    runtime: task.runtime ?? null,
    retries: task.retries ?? null,
    eta: task.eta ?? null,
    expires: task.expires ?? null,
    root_id: task.root_id ?? null,
    parent_id: task.parent_id ?? null,
  };
  if (children) view.children = children.map((child) => child.uuid);
  return view;
}
