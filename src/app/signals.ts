/**
 * Celery's signals, dispatched as DOM events on the app (an `EventTarget`):
 * `app.addEventListener("task_success", (e) => e.detail.result)`.
 *
 * @module
 */

import { SignalTarget } from "./signal_target.ts";

/** The payload of each signal (`event.detail`). */
export interface SignalDetails {
  /** Before a task message is published. */
  before_task_publish: {
    sender: string;
    headers: Record<string, unknown>;
    body: unknown[];
    routingKey: string;
    exchange: string;
  };
  /** After a task message is published. */
  after_task_publish: {
    sender: string;
    headers: Record<string, unknown>;
    routingKey: string;
    exchange: string;
  };
  /** Before a task runs (on the worker's main thread). */
  task_prerun: { sender: string; taskId: string; args: unknown[]; kwargs: Record<string, unknown> };
  /** After a task ran, whatever the outcome. */
  task_postrun: { sender: string; taskId: string; state: string; retval: unknown };
  /** A task succeeded. */
  task_success: { sender: string; taskId: string; result: unknown };
  /** A task failed. */
  task_failure: {
    sender: string;
    taskId: string;
    exception: { type: string; message: string };
    traceback: string | null;
  };
  /** A task will be retried. */
  task_retry: { sender: string; taskId: string; reason: string };
  /** A task was revoked or expired. */
  task_revoked: { sender: string; taskId: string; reason: string };
  /** A message named a task this worker does not know. */
  task_unknown: { sender: string; taskId: string; name: string };
  /** A message was rejected as malformed. */
  task_rejected: { sender: string; reason: string };
  /** The worker is consuming. */
  worker_ready: { sender: string };
  /** The worker is shutting down. */
  worker_shutdown: { sender: string };
}

/** Names of Celery signals the app dispatches. */
export type SignalName = keyof SignalDetails;

/** The event type dispatched for a signal. */
export type SignalEvent<K extends SignalName> = CustomEvent<SignalDetails[K]>;

/**
 * Dispatches a signal on a target; listeners that throw are reported, never
 * break the caller. On a `SignalTarget` (the app) a signal without listeners
 * is not dispatched at all.
 */
export function sendSignal<K extends SignalName>(
  target: EventTarget,
  name: K,
  detail: SignalDetails[K],
): void {
  if (target instanceof SignalTarget && !target.hasListeners(name)) return;
  target.dispatchEvent(new CustomEvent(name, { detail }));
}
