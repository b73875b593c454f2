/**
 * The named errors celeriac throws. Celery's control-flow names (`Retry`,
 * `Reject`, `Ignore`) and its failures keep Celery's class names, so a Python
 * peer rebuilds the same exception type from a stored result.
 *
 * @module
 */

/** Structured fields that many celeriac errors carry. */
export interface TaskErrorFields {
  /** The registered task name, when the error concerns one task. */
  taskName?: string;
  /** The task id, when the error concerns one task message. */
  taskId?: string;
  /** The original error. */
  cause?: unknown;
}

/** Base class of every error celeriac defines. */
export class CeleriacError extends Error {
  /** The registered task name, when known. */
  readonly taskName?: string;
  /** The task id, when known. */
  readonly taskId?: string;
  /** Python module that defines the Celery class of the same name. */
  readonly pythonModule: string = "celery.exceptions";

  /** Creates the error with a message and optional structured fields. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "CeleriacError";
    this.taskName = fields.taskName;
    this.taskId = fields.taskId;
  }
}

/** A setting has a value that is not accepted. Names the key, the value and what is accepted. */
export class ConfigurationError extends CeleriacError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "ConfigurationError";
  }
}

/** A message does not follow Celery's message protocol v2; it is rejected, never executed. */
export class ProtocolError extends CeleriacError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "ProtocolError";
  }
}

/** A message's content type is not in `accept_content` (Celery's `ContentDisallowed`). */
export class ContentDisallowed extends ProtocolError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "ContentDisallowed";
  }
}

/** No task of this name is registered in the app (Celery's `NotRegistered`). */
export class NotRegistered extends CeleriacError {
  /** Creates the error for the unknown task name. */
  constructor(taskName: string, fields: TaskErrorFields = {}) {
    super(taskName, { ...fields, taskName });
    this.name = "NotRegistered";
  }
}

/** A broker or result backend cannot be reached. The message names the URL with its password masked. */
export class BrokerConnectionError extends CeleriacError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "BrokerConnectionError";
  }
}

/** `AsyncResult.get()` waited longer than its timeout (Celery's `TimeoutError`). */
export class TimeoutError extends CeleriacError {
  /** Creates the error. */
  constructor(message = "The operation timed out.", fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "TimeoutError";
  }
}

/** Raised by `AsyncResult` when no result backend is configured (Celery's wording). */
export class NoResultBackendError extends CeleriacError {
  /** Creates the error; the message names the setting to set. */
  constructor() {
    super(
      "No result backend is configured.\nPlease see the documentation for more information. " +
        "Set `result_backend` (for example `redis://localhost:6379/0` or `rpc://`).",
    );
    this.name = "NotImplementedError";
  }
}

/** The task was revoked or expired before it ran (Celery's `TaskRevokedError`). */
export class TaskRevokedError extends CeleriacError {
  /** Creates the error; the message is Celery's reason: `revoked`, `expired` or `terminated`. */
  constructor(reason = "revoked", fields: TaskErrorFields = {}) {
    super(reason, fields);
    this.name = "TaskRevokedError";
  }
}

/** The hard time limit killed the task (Celery's `TimeLimitExceeded`). */
export class TimeLimitExceeded extends CeleriacError {
  /** Creates the error for a limit given in seconds. */
  constructor(seconds: number, fields: TaskErrorFields = {}) {
    super(String(seconds), fields);
    this.name = "TimeLimitExceeded";
  }
}

/** The soft time limit passed; the task's `AbortSignal` aborts with this reason. */
export class SoftTimeLimitExceeded extends CeleriacError {
  /** Creates the error for a limit given in seconds. */
  constructor(seconds: number, fields: TaskErrorFields = {}) {
    super(`SoftTimeLimitExceeded(${seconds})`, fields);
    this.name = "SoftTimeLimitExceeded";
  }
}

/** The worker thread running the task died (Celery's `WorkerLostError`). */
export class WorkerLostError extends CeleriacError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "WorkerLostError";
  }
}

/** A task retried more often than its `maxRetries` (Celery's `MaxRetriesExceededError`). */
export class MaxRetriesExceededError extends CeleriacError {
  /** Creates the error. */
  constructor(message: string, fields: TaskErrorFields = {}) {
    super(message, fields);
    this.name = "MaxRetriesExceededError";
  }
}

/** Control flow: thrown by `task.retry()` to end this run and have the task sent again. */
export class Retry extends CeleriacError {
  /** When the retry will run, if known. */
  readonly when?: Date;
  /** The error that caused the retry. */
  readonly exc?: unknown;
  /** Arguments for the next run, when they change. */
  readonly args?: unknown[];
  /** Keyword arguments for the next run, when they change. */
  readonly kwargs?: Record<string, unknown>;
  /** Creates the signal. */
  constructor(
    message: string,
    options: {
      when?: Date;
      exc?: unknown;
      args?: unknown[];
      kwargs?: Record<string, unknown>;
    } & TaskErrorFields = {},
  ) {
    super(message, options);
    this.name = "Retry";
    this.when = options.when;
    this.exc = options.exc;
    this.args = options.args;
    this.kwargs = options.kwargs;
  }
}

/** Control flow: throw it from a task to reject its message, optionally requeueing it. */
export class Reject extends CeleriacError {
  /** Whether the broker should requeue the message. */
  readonly requeue: boolean;
  /** Creates the signal. */
  constructor(reason = "rejected", options: { requeue?: boolean } & TaskErrorFields = {}) {
    super(reason, options);
    this.name = "Reject";
    this.requeue = options.requeue ?? false;
  }
}

/** Control flow: throw it from a task to ack its message and store no state. */
export class Ignore extends CeleriacError {
  /** Creates the signal. */
  constructor(reason = "ignored") {
    super(reason);
    this.name = "Ignore";
  }
}
