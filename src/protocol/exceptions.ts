/**
 * Errors on the wire: Celery stores an exception as
 * `{exc_type, exc_message, exc_module}`. This file turns JavaScript errors
 * into that shape and stored shapes back into a `RemoteError`.
 *
 * @module
 */

import { CeleriacError } from "../errors.ts";
import type { EncodedException } from "../backend/types.ts";

/** Python builtin exception names: an error with one of these names is stored as `builtins`. */
const PYTHON_BUILTINS = new Set([
  "Exception",
  "ValueError",
  "TypeError",
  "RuntimeError",
  "KeyError",
  "IndexError",
  "ZeroDivisionError",
  "AttributeError",
  "NotImplementedError",
  "AssertionError",
  "OSError",
  "ArithmeticError",
  "LookupError",
  "NameError",
  "MemoryError",
  "OverflowError",
  "PermissionError",
  "FileNotFoundError",
  "ConnectionError",
  "TimeoutError",
]);

/**
 * Names celery.exceptions (5.2.6) defines as `Exception` subclasses: a celeriac
 * error of one of these names is stored with `exc_module: "celery.exceptions"`
 * so Python rebuilds Celery's class. Its `SystemExit` subclasses
 * (`WorkerShutdown`, `WorkerTerminate`, `SystemTerminate`) are left out on purpose:
 * raising one in a Python client would exit it.
 */
const CELERY_EXCEPTIONS = new Set([
  "AlreadyRegistered",
  "AlwaysEagerIgnored",
  "BackendError",
  "BackendGetMetaError",
  "BackendStoreError",
  "CeleryError",
  "ChordError",
  "Ignore",
  "ImproperlyConfigured",
  "IncompleteStream",
  "InvalidTaskError",
  "MaxRetriesExceededError",
  "NotConfigured",
  "NotRegistered",
  "OperationalError",
  "QueueNotFound",
  "Reject",
  "Retry",
  "SecurityError",
  "SoftTimeLimitExceeded",
  "TaskError",
  "TaskPredicate",
  "TaskRevokedError",
  "Terminated",
  "TimeLimitExceeded",
  "TimeoutError",
  "WorkerLostError",
]);

/**
 * The Python module to name for an error class: Celery's own classes, Python
 * builtins, or otherwise `celeriac.errors`, which no Python process has, so a
 * Python client synthesizes a class of the same name (never a `SecurityError`).
 */
function pythonModuleFor(name: string, celeryModule: string | undefined): string {
  if (celeryModule !== undefined && celeryModule !== "celery.exceptions") return celeryModule;
  if (celeryModule !== undefined && CELERY_EXCEPTIONS.has(name)) return "celery.exceptions";
  return PYTHON_BUILTINS.has(name) ? "builtins" : "celeriac.errors";
}

/**
 * Maps a JavaScript error to its Celery encoding; the class name and message
 * survive. `Error` becomes Python's `Exception`.
 *
 * @example
 * ```ts
 * import { encodeException } from "./exceptions.ts";
 * const encoded = encodeException(Object.assign(new Error("boom"), { name: "ValueError" }));
 * console.assert(encoded.exc_module === "builtins" && encoded.exc_message[0] === "boom");
 * ```
 */
export function encodeException(error: unknown): EncodedException {
  if (error instanceof RemoteError) {
    return { exc_type: error.excType, exc_message: error.excArgs, exc_module: error.excModule };
  }
  if (error instanceof CeleriacError) {
    return {
      exc_type: error.name,
      exc_message: [error.message],
      exc_module: pythonModuleFor(error.name, error.pythonModule),
    };
  }
  if (error instanceof Error) {
    const name = error.name === "Error" ? "Exception" : error.name;
    const args = (error as { args?: unknown }).args;
    return {
      exc_type: name,
      exc_message: Array.isArray(args) ? args : [error.message],
      exc_module: pythonModuleFor(name, undefined),
    };
  }
  return { exc_type: "Exception", exc_message: [String(error)], exc_module: "builtins" };
}

/** A traceback text for a JavaScript error (its stack), or null. */
export function formatTraceback(error: unknown): string | null {
  if (error instanceof RemoteError) return error.traceback;
  if (error instanceof Error && error.stack) return `${error.stack}\n`;
  return null;
}

/**
 * An error a task raised in another process (celeriac or Python Celery),
 * rebuilt from its stored result. `name` is the remote class name.
 */
export class RemoteError extends Error {
  /** Remote class name, e.g. `ValueError`. */
  readonly excType: string;
  /** Remote module, e.g. `builtins`. */
  readonly excModule: string;
  /** The exception's args. */
  readonly excArgs: unknown[];
  /** Remote traceback text, when stored. */
  readonly traceback: string | null;
  /** Task id. */
  readonly taskId?: string;

  /** Rebuilds the error from a stored encoding. */
  constructor(encoded: EncodedException, traceback: string | null, taskId?: string) {
    const args = Array.isArray(encoded.exc_message) ? encoded.exc_message : [encoded.exc_message];
    super(args.length === 1 ? String(args[0]) : args.map((a) => JSON.stringify(a)).join(", "));
    this.name = encoded.exc_type;
    this.excType = encoded.exc_type;
    this.excModule = encoded.exc_module;
    this.excArgs = args;
    this.traceback = traceback;
    this.taskId = taskId;
    if (traceback) this.stack = `${this.name}: ${this.message}\n${traceback}`;
  }
}

/** True when a stored result looks like an encoded exception. */
export function isEncodedException(value: unknown): value is EncodedException {
  return typeof value === "object" && value !== null && "exc_type" in value &&
    typeof (value as EncodedException).exc_type === "string";
}
