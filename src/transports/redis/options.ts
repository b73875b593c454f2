/**
 * kombu's Redis transport options (`broker_transport_options`), read once
 * into a typed, validated value. Names and defaults are kombu 5.2.4's; options
 * this transport does not know are ignored, as kombu ignores them.
 *
 * @module
 */

import { ConfigurationError } from "../../errors.ts";

/** The transport options the Redis adapter reads, with kombu's defaults applied. */
export interface RedisTransportOptions {
  /** Seconds after which an unacked message of a dead consumer is restored (default 3600). */
  visibilityTimeout: number;
  /** Prepended to every key and channel (default `""`). */
  globalKeyprefix: string;
  /** Separator of priority list names and binding members (default `"\x06\x16"`). */
  sep: string;
  /** Priority steps, ascending (default `[0, 3, 6, 9]`). */
  prioritySteps: number[];
  /** Keep `unacked` / `unacked_index` bookkeeping (default true). */
  ackEmulation: boolean;
  /** Name of the unacked hash (default `unacked`). */
  unackedKey: string;
  /** Name of the unacked sorted set (default `unacked_index`). */
  unackedIndexKey: string;
  /** Name of the restore lock (default `unacked_mutex`). */
  unackedMutexKey: string;
  /** Seconds the restore lock lives (default 300). */
  unackedMutexExpire: number;
  /** Most messages restored per pass; null for all (default null). */
  unackedRestoreLimit: number | null;
  /** Fanout channel prefix: true for `/<db>.`, false for none, or a custom prefix. */
  fanoutPrefix: boolean | string;
  /** Fanout channels carry the routing key (default true). */
  fanoutPatterns: boolean;
  /** Order in which several queues are read. */
  queueOrderStrategy: "round_robin" | "priority" | "sorted";
  /** BRPOP timeout in seconds (kombu 5.6's `polling_interval`, default 1). */
  pollingInterval: number;
  /** Sentinel: name of the monitored master. */
  masterName?: string;
  /** Sentinel: password of the sentinels themselves (`sentinel_kwargs.password`). */
  sentinelPassword?: string;
}

/** kombu 5.2.4's defaults. */
export const DEFAULT_TRANSPORT_OPTIONS: Readonly<RedisTransportOptions> = Object.freeze({
  visibilityTimeout: 3600,
  globalKeyprefix: "",
  sep: "\x06\x16",
  prioritySteps: [0, 3, 6, 9],
  ackEmulation: true,
  unackedKey: "unacked",
  unackedIndexKey: "unacked_index",
  unackedMutexKey: "unacked_mutex",
  unackedMutexExpire: 300,
  unackedRestoreLimit: null,
  fanoutPrefix: true,
  fanoutPatterns: true,
  queueOrderStrategy: "round_robin",
  pollingInterval: 1,
});

function fail(setting: string, key: string, value: unknown, accepted: string): never {
  throw new ConfigurationError(
    `Invalid value for ${setting}[${JSON.stringify(key)}]: ${JSON.stringify(value)}. ` +
      `Accepted: ${accepted}.`,
  );
}

/**
 * Reads kombu's Redis transport options from `broker_transport_options` (or
 * `result_backend_transport_options`); throws a ConfigurationError naming the
 * option, the value and what is accepted.
 *
 * @example
 * ```ts
 * import { parseTransportOptions } from "./options.ts";
 * const options = parseTransportOptions({ visibility_timeout: 60, global_keyprefix: "app:" });
 * console.assert(options.visibilityTimeout === 60 && options.sep === "\x06\x16");
 * ```
 */
export function parseTransportOptions(
  raw: Record<string, unknown>,
  setting = "broker_transport_options",
): RedisTransportOptions {
  const out: RedisTransportOptions = {
    ...DEFAULT_TRANSPORT_OPTIONS,
    prioritySteps: [...DEFAULT_TRANSPORT_OPTIONS.prioritySteps],
  };
  const positive = (key: string): number | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      fail(setting, key, value, "a number greater than 0");
    }
    return value;
  };
  const text = (key: string, allowEmpty: boolean): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || (!allowEmpty && value === "")) {
      fail(setting, key, value, allowEmpty ? "a string" : "a non-empty string");
    }
    return value;
  };
  const flag = (key: string): boolean | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") fail(setting, key, value, "true or false");
    return value;
  };
  out.visibilityTimeout = positive("visibility_timeout") ?? out.visibilityTimeout;
  out.globalKeyprefix = text("global_keyprefix", true) ?? out.globalKeyprefix;
  out.sep = text("sep", false) ?? out.sep;
  out.ackEmulation = flag("ack_emulation") ?? out.ackEmulation;
  out.unackedKey = text("unacked_key", false) ?? out.unackedKey;
  out.unackedIndexKey = text("unacked_index_key", false) ?? out.unackedIndexKey;
  out.unackedMutexKey = text("unacked_mutex_key", false) ?? out.unackedMutexKey;
  out.unackedMutexExpire = positive("unacked_mutex_expire") ?? out.unackedMutexExpire;
  const limit = positive("unacked_restore_limit");
  out.unackedRestoreLimit = limit === undefined ? null : Math.floor(limit);
  out.fanoutPatterns = flag("fanout_patterns") ?? out.fanoutPatterns;
  out.pollingInterval = positive("polling_interval") ?? out.pollingInterval;
  out.masterName = text("master_name", false);
  readFanoutPrefix(raw, setting, out);
  readSteps(raw, setting, out);
  readStrategy(raw, setting, out);
  readSentinelKwargs(raw, setting, out);
  return out;
}

function readFanoutPrefix(
  raw: Record<string, unknown>,
  setting: string,
  out: RedisTransportOptions,
): void {
  const value = raw.fanout_prefix;
  if (value === undefined || value === null) return;
  if (typeof value !== "boolean" && typeof value !== "string") {
    fail(setting, "fanout_prefix", value, "true, false or a prefix string");
  }
  out.fanoutPrefix = value;
}

function readSteps(
  raw: Record<string, unknown>,
  setting: string,
  out: RedisTransportOptions,
): void {
  const value = raw.priority_steps;
  if (value === undefined || value === null) return;
  const ok = Array.isArray(value) && value.length > 0 &&
    value.every((step, i) =>
      Number.isInteger(step) && step >= 0 && (i === 0 || step > (value[i - 1] as number))
    );
  if (!ok) fail(setting, "priority_steps", value, "a non-empty ascending list of integers ≥ 0");
  out.prioritySteps = [...(value as number[])];
}

function readStrategy(
  raw: Record<string, unknown>,
  setting: string,
  out: RedisTransportOptions,
): void {
  const value = raw.queue_order_strategy;
  if (value === undefined || value === null) return;
  if (value !== "round_robin" && value !== "priority" && value !== "sorted") {
    fail(setting, "queue_order_strategy", value, `"round_robin", "priority" or "sorted"`);
  }
  out.queueOrderStrategy = value;
}

function readSentinelKwargs(
  raw: Record<string, unknown>,
  setting: string,
  out: RedisTransportOptions,
): void {
  const value = raw.sentinel_kwargs;
  if (value === undefined || value === null) return;
  if (typeof value !== "object" || Array.isArray(value)) {
    fail(setting, "sentinel_kwargs", value, "an object such as {password: '…'}");
  }
  const password = (value as Record<string, unknown>).password;
  if (password !== undefined && password !== null) {
    if (typeof password !== "string") {
      fail(setting, "sentinel_kwargs.password", password, "a string");
    }
    out.sentinelPassword = password;
  }
}
