/**
 * Logging, behind one small module so the backing library (LogTape today,
 * `@std/log` later) is a one-file change. Lines look like Celery's:
 * `[2026-11-22 03:24:42,275: INFO/MainProcess] message`.
 *
 * @module
 */

import {
  configure,
  getLogger as getLogTapeLogger,
  type Logger as LogTapeLogger,
  type LogLevel as LogTapeLevel,
  type LogRecord,
  reset,
  // deno-lint-ignore no-import-prefix -- inline npm: keeps mod.ts usable by URL without an import map
} from "npm:@logtape/logtape@2.4.2";
import { censorText } from "./app/mask_url.ts";

/** Celery's level names. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/** The logging calls celeriac uses. */
export interface Logger {
  /** Debug detail. */
  debug(message: string): void;
  /** Normal operation. */
  info(message: string): void;
  /** Something unexpected that celeriac handled. */
  warning(message: string): void;
  /** A failure. */
  error(message: string): void;
  /** A failure that stops a component. */
  critical(message: string): void;
  /**
   * Whether a message of `level` would be written: check it before building
   * an expensive message (a task's result repr) on a hot path.
   */
  isEnabledFor(level: LogLevel): boolean;
}

const TO_LOGTAPE: Record<LogLevel, LogTapeLevel> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warning",
  ERROR: "error",
  CRITICAL: "fatal",
};

const FROM_LOGTAPE: Record<LogTapeLevel, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

const SEVERITY: Record<LogTapeLevel, number> = {
  trace: 0,
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  fatal: 50,
};

let processName = "MainProcess";
/** Lowest severity written, once `setupLogging` ran (0: not set up, LogTape decides). */
let threshold = 0;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** Formats a time as Celery's `YYYY-MM-DD HH:MM:SS,mmm` (local time). */
export function formatLogTime(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())},` +
    pad(date.getMilliseconds(), 3);
}

/** `\n`, `\r`, `\t` and other C0/C1 control characters (and U+2028/9) as escapes. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * A value from a message (task id, name, queue, reason) made safe for one
 * log line: control characters are written as escapes (`\n`, `\x1b`), so a
 * newline in a task id cannot start a forged line.
 *
 * @example
 * ```ts
 * import { printable } from "./log.ts";
 * console.assert(printable("id\n[FORGED") === "id\\n[FORGED");
 * ```
 */
export function printable(text: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL, (char) =>
    NAMED_ESCAPES[char] ??
      (char.charCodeAt(0) > 0xff
        ? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`
        : `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

function formatRecord(record: LogRecord): string {
  const text = censorText(
    record.message.map((part) => typeof part === "string" ? part : String(part)).join(""),
  );
  return `[${formatLogTime(new Date(record.timestamp))}: ${
    FROM_LOGTAPE[record.level]
  }/${processName}] ${text}`;
}

/** Parses a level name such as `info` or `INFO`; throws naming the value when unknown. */
export function parseLogLevel(name: string): LogLevel {
  const upper = name.toUpperCase() === "WARN" ? "WARNING" : name.toUpperCase();
  if (upper in TO_LOGTAPE) return upper as LogLevel;
  throw new Error(
    `Invalid log level ${JSON.stringify(name)}. Accepted: DEBUG, INFO, WARNING, ERROR, CRITICAL.`,
  );
}

/** Options of `setupLogging`. */
export interface LoggingOptions {
  /** Lowest level written. Default WARNING. */
  level?: LogLevel;
  /** Shown after the level (`MainProcess`, `WorkerThread-1`). */
  processName?: string;
}

/** Sends celeriac's log lines to stderr in Celery's format. Safe to call again to change level. */
export async function setupLogging(options: LoggingOptions = {}): Promise<void> {
  processName = options.processName ?? processName;
  threshold = SEVERITY[TO_LOGTAPE[options.level ?? "WARNING"]];
  await configure({
    reset: true,
    sinks: {
      stderr: (record: LogRecord) => console.error(formatRecord(record)),
    },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["stderr"] },
      {
        category: ["celeriac"],
        lowestLevel: TO_LOGTAPE[options.level ?? "WARNING"],
        sinks: ["stderr"],
      },
    ],
  });
}

/** Stops logging (tests call it to leave no configured sinks behind). */
export async function stopLogging(): Promise<void> {
  threshold = 0;
  await reset();
}

/** A logger for one part of celeriac, e.g. `getLogger("worker")`. */
export function getLogger(category: string): Logger {
  const logger: LogTapeLogger = getLogTapeLogger(["celeriac", category]);
  // Messages are passed pre-formatted; braces in them must not be read as placeholders.
  // Below the configured level, return before LogTape builds a record (hot paths log per task).
  const write = (level: LogTapeLevel, message: string) => {
    if (SEVERITY[level] >= threshold) logger[level]("{text}", { text: message });
  };
  return {
    debug: (message) => write("debug", message),
    info: (message) => write("info", message),
    warning: (message) => write("warning", message),
    error: (message) => write("error", message),
    critical: (message) => write("fatal", message),
    isEnabledFor: (level) => SEVERITY[TO_LOGTAPE[level]] >= threshold,
  };
}
