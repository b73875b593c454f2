/**
 * Connecting at start-up, as a Celery worker does: a broker (or result
 * backend) that is not up yet is retried with Celery's backoff (2, 4, 6, …
 * up to 30 seconds between attempts) and log line, under Celery's settings
 * `broker_connection_retry_on_startup` (null: `broker_connection_retry`) and
 * `broker_connection_max_retries` (0 or null: forever). Only connection
 * failures are retried: a bad URL or setting, a wrong password or an unknown
 * virtual host fails at once.
 *
 * @module
 */

import type { ResolvedConfig } from "./config.ts";
import { BrokerConnectionError } from "../errors.ts";
import { humanizeSeconds } from "../beat/schedule.ts";

/** Celery's settings for connecting at start-up. */
export type StartupRetrySettings = Pick<
  ResolvedConfig,
  | "broker_connection_retry_on_startup"
  | "broker_connection_retry"
  | "broker_connection_max_retries"
>;

/** How `connectAtStartup` reports and waits. */
export interface StartupConnectOptions {
  /** What is connected to, password masked (`amqp://guest:**@rabbit:5672//`). */
  target: string;
  /** The settings that decide whether and how long to retry (left out: no retry). */
  config: Partial<StartupRetrySettings>;
  /** Who logs: `consumer` (the worker, Celery's wording) or `beat`. */
  component: "consumer" | "beat";
  /** Logs one error line. */
  logError: (message: string) => void;
  /** Stops retrying (a shutdown during start-up): then resolves with undefined. */
  signal?: AbortSignal;
  /** Waits between attempts (tests pass a fake clock's); default a timer cut short by `signal`. */
  sleep?: (seconds: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Celery's wait before retry number `retries` (0-based): kombu's
 * `interval_start=2, interval_step=2, interval_max=30`.
 *
 * @example
 * ```ts
 * import { startupRetryInterval } from "./startup_connect.ts";
 * console.assert(startupRetryInterval(0) === 2 && startupRetryInterval(1) === 4);
 * console.assert(startupRetryInterval(40) === 30);
 * ```
 */
export function startupRetryInterval(retries: number): number {
  return Math.min(2 + 2 * retries, 30);
}

/**
 * A server that answered and refused (wrong password, unknown vhost): kombu
 * does not retry these (py-amqp's irrecoverable errors), and waiting would
 * not help. Connection refused, time-outs and unknown host names are retried.
 */
function refusedByServer(error: Error): boolean {
  return /ACCESS_REFUSED|NOT_ALLOWED|WRONGPASS|NOAUTH|invalid username-password/.test(
    error.message,
  );
}

/** The reason of a connection error, without its "Cannot connect to <url>:" prefix. */
function reasonOf(error: Error): string {
  return error.message
    .replace(/^Cannot connect to \S+(?: \([^)]*\))?(?: for the beat lease)?: /, "")
    .replace(/\.$/, "");
}

/**
 * Waits `seconds`, or less when `signal` aborts (a retry wait that shutdown cuts short).
 *
 * @example
 * ```ts
 * import { timerSleep } from "./startup_connect.ts";
 * await timerSleep(0.001);
 * ```
 */
export function timerSleep(seconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `connect` until it succeeds, retrying connection failures as Celery
 * does at start-up and logging each as Celery's consumer does:
 * `consumer: Cannot connect to amqp://guest:**@127.0.0.1:5672//: connect
 * ECONNREFUSED 127.0.0.1:5672.` and `Trying again in 2.00 seconds... (1/100)`.
 * Resolves undefined when `signal` aborts first.
 *
 * @example
 * ```ts
 * import { connectAtStartup } from "./startup_connect.ts";
 * import { DEFAULT_SETTINGS } from "./settings.ts";
 * const value = await connectAtStartup(() => Promise.resolve(8), {
 *   target: "memory://",
 *   config: DEFAULT_SETTINGS,
 *   component: "consumer",
 *   logError: console.error,
 * });
 * console.assert(value === 8);
 * ```
 */
export async function connectAtStartup<T>(
  connect: () => Promise<T>,
  options: StartupConnectOptions,
): Promise<T | undefined> {
  const { config, signal } = options;
  const retry = config.broker_connection_retry_on_startup ?? config.broker_connection_retry;
  const max = config.broker_connection_max_retries || null; // 0 or null: forever, as in Celery
  const sleep = options.sleep ?? timerSleep;
  for (let retries = 0;; retries++) {
    try {
      return await connect();
    } catch (error) {
      if (!(error instanceof BrokerConnectionError) || !retry || refusedByServer(error)) {
        throw error;
      }
      if (max !== null && retries >= max) throw error;
      if (signal?.aborted) return undefined;
      const interval = startupRetryInterval(retries);
      options.logError(
        options.component === "beat"
          ? `beat: Connection error: ${reasonOf(error)}. ` +
            `Trying again in ${interval.toFixed(1)} seconds...`
          : `consumer: Cannot connect to ${options.target}: ${reasonOf(error)}.\n` +
            `Trying again ${humanizeSeconds(interval, "in ")}... ` +
            `(${retries + 1}/${config.broker_connection_max_retries ?? "None"})`,
      );
      await sleep(interval, signal);
      if (signal?.aborted) return undefined;
    }
  }
}
