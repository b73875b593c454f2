/**
 * The worker's log texts, worded as Celery's (spec §5.2), so log searches and
 * dashboards written for Celery keep working.
 *
 * @module
 */

import { printable } from "../log.ts";
import { pythonRepr, safeRepr } from "../protocol/python_repr.ts";

/**
 * `proj.add[<id>]`, with control characters in the name or id escaped: both
 * come from the message, and a newline in them must not start a forged line.
 */
export function taskLabel(name: string, id: string): string {
  return `${printable(name)}[${printable(id)}]`;
}

/** A runtime as Python's float repr prints it (`6.06e-05`, `0.0012`, `2.0`). */
function pythonFloat(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}.0` : pythonRepr(seconds);
}

/** `Task proj.add[<id>] received`. */
export function receivedLine(name: string, id: string): string {
  return `Task ${taskLabel(name, id)} received`;
}

/** `Task proj.add[<id>] succeeded in 0.0012s: 8`. */
export function succeededLine(name: string, id: string, runtime: number, result: unknown): string {
  return `Task ${taskLabel(name, id)} succeeded in ${pythonFloat(runtime)}s: ${
    safeRepr(result, 1024)
  }`;
}

/** `Task proj.fail[<id>] raised unexpected: ValueError('boom')`, then the traceback. */
export function failedLine(
  name: string,
  id: string,
  repr: string,
  traceback: string | null,
): string {
  const head = `Task ${taskLabel(name, id)} raised unexpected: ${repr}`;
  return traceback ? `${head}\n${traceback.trimEnd()}` : head;
}

/** `Task proj.retrier[<id>] retry: Retry in 1s: KeyError('again')`. */
export function retryLine(name: string, id: string, reason: string): string {
  return `Task ${taskLabel(name, id)} retry: ${reason}`;
}

/** `Task <name>[<id>] ignored`. */
export function ignoredLine(name: string, id: string): string {
  return `Task ${taskLabel(name, id)} ignored`;
}

/** `Task <name>[<id>] Reject(reason, requeue=…)`. */
export function rejectedLine(name: string, id: string, reason: string, requeue: boolean): string {
  return `Task ${taskLabel(name, id)} Reject(${safeRepr(reason)}, requeue=${
    requeue ? "True" : "False"
  })`;
}

/** `Discarding revoked task: proj.add[<id>]`. */
export function discardingLine(name: string, id: string): string {
  return `Discarding revoked task: ${taskLabel(name, id)}`;
}

/** `Hard time limit (2s) exceeded for proj.sleeper[<id>]`. */
export function hardLimitLine(name: string, id: string, limit: number): string {
  return `Hard time limit (${limit}s) exceeded for ${taskLabel(name, id)}`;
}

/** A redelivered message whose run already ended on a stopped or lost thread. */
export function endedElsewhereLine(name: string, id: string, how: string): string {
  return `Task ${taskLabel(name, id)} came back after its thread was stopped (${how}): ` +
    "reported, not run again";
}

/** Celery's unregistered-task explanation, with the message's headers. */
export function unregisteredLine(name: string, id: string): string {
  return `Received unregistered task of type ${safeRepr(printable(name))}.\n` +
    "The message has been ignored and discarded.\n\n" +
    "Did you remember to import the module containing this task?\n" +
    "Or maybe you're using relative imports?\n\n" +
    `The task id was ${printable(id)}; a NotRegistered failure was stored for it.`;
}

/** A malformed message: what was wrong, and where it came from. */
export function malformedLine(queue: string, reason: string): string {
  return `Rejected a malformed message from queue ${safeRepr(queue)}: ${printable(reason)}`;
}

/** An unexpected error while handling one message: it was rejected; the worker goes on. */
export function internalErrorLine(queue: string, name: string, id: string, error: string): string {
  return `Internal error handling ${taskLabel(name, id)} from queue ${safeRepr(queue)}; ` +
    `the message was rejected: ${error}`;
}
