/**
 * Soft time limits: an `AbortController` whose signal aborts with
 * `SoftTimeLimitExceeded` when the limit passes.
 *
 * @module
 */

import { SoftTimeLimitExceeded } from "../../errors.ts";
import { printable } from "../../log.ts";
import { setLongTimeout } from "../long_timeout.ts";

/** A controller for one run, and how to clear its timer. */
export interface SoftLimit {
  /** The signal the task body sees. */
  signal: AbortSignal;
  /** Stops the timer (the run ended). */
  clear(): void;
}

/** Arms a soft limit (or none when `seconds` is null). `onExceeded` is told when it fires. */
export function armSoftLimit(
  seconds: number | null,
  taskId: string,
  taskName: string,
  onExceeded: () => void,
): SoftLimit {
  const controller = new AbortController();
  if (seconds === null || seconds <= 0) return { signal: controller.signal, clear() {} };
  const timer = setLongTimeout(() => {
    onExceeded();
    controller.abort(
      new SoftTimeLimitExceeded(seconds, { taskId, taskName }),
    );
  }, seconds * 1000);
  return { signal: controller.signal, clear: () => timer.clear() };
}

/** Celery's warning text when a soft limit passes. */
export function softLimitMessage(seconds: number, taskName: string, taskId: string): string {
  return `Soft time limit (${seconds}s) exceeded for ${printable(taskName)}[${printable(taskId)}]`;
}
