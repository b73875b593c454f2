/**
 * `app.conf`: Celery's settings as plain data. Values are checked when they
 * are set through `update()` and again when `resolve()` freezes them into the
 * `ResolvedConfig` that brokers, backends and workers read.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { censorValue } from "./mask_url.ts";
import { unknownSettingProblem } from "./setting_typos.ts";
import {
  type CelerySettings,
  DEFAULT_SETTINGS,
  OLD_SETTING_NAMES,
  type ResolvedConfig,
} from "./settings.ts";

export type { CeleryConfig, CelerySettings, ResolvedConfig } from "./settings.ts";

const ENUMS: Partial<Record<keyof CelerySettings, readonly unknown[]>> = {
  task_default_exchange_type: ["direct", "topic", "fanout"],
  task_default_delivery_mode: ["persistent", "transient", 1, 2],
  task_default_queue_type: ["classic", "quorum"],
  worker_pool: ["workers", "threads", "async", "solo"],
  task_serializer: ["json"],
  result_serializer: ["json"],
};

/** Settings whose value may be a number or null even though the default differs. */
const NULLABLE = new Set<string>([
  "broker_url",
  "result_backend",
  "result_expires",
  "task_time_limit",
  "task_soft_time_limit",
  "worker_concurrency",
  "worker_max_tasks_per_child",
  "worker_max_memory_per_child",
  "worker_eta_hold_limit",
  "worker_control_allow",
  "worker_state_db",
  "timezone",
  "task_default_exchange",
  "task_default_routing_key",
  "task_default_priority",
  "task_queues",
  "task_routes",
  "task_queue_max_priority",
  "task_default_rate_limit",
  "task_max_retries",
  "broker_connection_max_retries",
  "broker_connection_retry_on_startup",
  "broker_use_ssl",
  "result_accept_content",
]);

const SETTING_TYPES: Partial<Record<keyof CelerySettings, string>> = {
  broker_url: "string",
  result_backend: "string",
  result_expires: "number",
  task_time_limit: "number",
  task_soft_time_limit: "number",
  worker_concurrency: "number",
  worker_max_tasks_per_child: "number",
  worker_max_memory_per_child: "number",
  worker_eta_hold_limit: "number",
  timezone: "string",
  task_default_exchange: "string",
  task_default_routing_key: "string",
  task_default_priority: "number",
  task_queues: "array",
  task_routes: "object",
  task_queue_max_priority: "number",
  task_default_rate_limit: "string",
  task_max_retries: "number",
  broker_connection_max_retries: "number",
  result_accept_content: "array",
  worker_control_allow: "array",
  worker_state_db: "string",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Checks one setting; throws a ConfigurationError naming the key, the value and what is accepted. */
export function validateSetting(key: string, value: unknown): void {
  if (!(key in DEFAULT_SETTINGS)) return; // a user's own setting: kept as given
  const name = key as keyof CelerySettings;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  const allowed = ENUMS[name];
  if (allowed) {
    if (!allowed.includes(value)) {
      const list = allowed.map((v) => JSON.stringify(v)).join(", ");
      throw new ConfigurationError(
        `Invalid value for setting "${key}": ${shown}. Accepted: ${list}.`,
      );
    }
    return;
  }
  if (value === null && NULLABLE.has(key)) return;
  if (key === "broker_use_ssl") {
    if (typeof value === "boolean" || kindOf(value) === "object") return;
    throw new ConfigurationError(
      `Invalid value for setting "broker_use_ssl": ${shown} (a ${kindOf(value)}). Accepted: ` +
        `true, an object of TLS options ({ ca_certs, cert_reqs, keyfile, certfile, ... }), or null.`,
    );
  }
  const expected = SETTING_TYPES[name] ?? kindOf(DEFAULT_SETTINGS[name]);
  if (kindOf(value) !== expected) {
    throw new ConfigurationError(
      `Invalid value for setting "${key}": ${shown} (a ${kindOf(value)}). ` +
        `Accepted: a ${expected}${NULLABLE.has(key) ? " or null" : ""}.`,
    );
  }
  if (expected === "number" && (!Number.isFinite(value) || (value as number) < 0)) {
    throw new ConfigurationError(
      `Invalid value for setting "${key}": ${shown}. Accepted: a number of 0 or more.`,
    );
  }
  if (key === "worker_eta_hold_limit" && value === 0) {
    throw new ConfigurationError(
      `Invalid value for setting "${key}": 0. Accepted: a number of seconds above 0, or null.`,
    );
  }
  if (key === "accept_content" || key === "result_accept_content") {
    for (const item of value as unknown[]) {
      if (item !== "json" && item !== "application/json") {
        throw new ConfigurationError(
          `Invalid value for setting "${key}": ${JSON.stringify(value)}. ` +
            `celeriac only deserializes JSON; accepted: ["json"]. Pickle is never accepted.`,
        );
      }
    }
  }
}

/** Maps an old uppercase name (`BROKER_URL`) or a namespaced one (`CELERY_BROKER_URL`) to its setting. */
export function settingNameFor(key: string, namespace?: string): string | undefined {
  if (key in DEFAULT_SETTINGS) return key;
  if (key in OLD_SETTING_NAMES) return OLD_SETTING_NAMES[key];
  if (namespace) {
    const prefix = `${namespace}_`;
    if (!key.startsWith(prefix)) return undefined;
    const rest = key.slice(prefix.length).toLowerCase();
    if (rest in DEFAULT_SETTINGS) return rest;
    return undefined;
  }
  return undefined;
}

/** Options of `humanize()` and `table()`. */
export interface TableOptions {
  /** Include settings still at their default (default false). */
  withDefaults?: boolean;
  /** Hide secrets (default true). */
  censored?: boolean;
}

/**
 * The app's settings, as plain properties under Celery's names. Read and
 * assign them directly (`app.conf.enable_utc = true`) or use `update()`;
 * `resolve()` validates everything and returns a frozen copy.
 *
 * @example
 * ```ts
 * import { Settings } from "./config.ts";
 * const conf = new Settings();
 * conf.task_default_queue = "jobs";
 * console.assert(conf.resolve().task_default_queue === "jobs");
 * ```
 */
export interface Settings extends CelerySettings {}

/** The app's settings (see the interface of the same name). */

export class Settings {
  #snapshotKeys: string[] = [];
  #snapshotValues: unknown[] = [];
  #resolved?: ResolvedConfig;
  readonly #strict: boolean;
  readonly #reported = new Set<string>();

  /**
   * Creates settings holding Celery's defaults, then `initial`. With
   * `strict`, an unknown setting that looks like a mistyped Celery setting is
   * a ConfigurationError; otherwise it is a warning, once per key.
   */
  constructor(initial: Record<string, unknown> = {}, options: { strict?: boolean } = {}) {
    this.#strict = options.strict ?? false;
    Object.assign(this, structuredClone({ ...DEFAULT_SETTINGS }));
    this.update(initial);
  }

  /**
   * Sets several settings; old uppercase names and a namespace prefix are
   * mapped. Throws on a bad value. An unknown key that looks like a Celery
   * setting (`task_serialiser`) is reported with the closest name; the
   * user's own keys (`MY_API_KEY`, or any key without the namespace) are kept.
   */
  update(settings: Record<string, unknown>, namespace?: string): this {
    const values = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(settings)) {
      if (value === undefined) continue;
      const name = settingNameFor(key, namespace);
      if (name === undefined) {
        if (namespace && !key.startsWith(`${namespace}_`)) continue; // not a setting: the user's
        const own = namespace ? key.slice(namespace.length + 1).toLowerCase() : key;
        this.#checkUnknown(own, key);
        if (!namespace) values[key] = value;
        continue;
      }
      validateSetting(name, value);
      values[name] = value;
    }
    return this;
  }

  /** Reports `name` (given as `given`) once when it looks like a mistyped Celery setting. */
  #checkUnknown(name: string, given: string = name): void {
    if (name in DEFAULT_SETTINGS || name in OLD_SETTING_NAMES) return;
    const problem = unknownSettingProblem(name);
    if (!problem || this.#reported.has(given)) return;
    const message = `${problem.replace(JSON.stringify(name), JSON.stringify(given))}.`;
    if (this.#strict) {
      throw new ConfigurationError(`Invalid configuration: ${message} (strict settings)`);
    }
    this.#reported.add(given);
    // console.warn, not the logger: a client script has no logging set up.
    console.warn(
      `celeriac: warning: ${message} It is kept but Celery does not read it; ` +
        `strict mode (CELERIAC_STRICT=1) makes this an error.`,
    );
  }

  /** Validates every value and returns a frozen copy (the same object while nothing changed). */
  resolve(): ResolvedConfig {
    const values = this as unknown as Record<string, unknown>;
    if (this.#resolved && this.#unchanged(values)) return this.#resolved;
    for (const [key, value] of Object.entries(values)) {
      this.#checkUnknown(key); // assigned directly (`app.conf.task_serialiser = …` in JavaScript)
      validateSetting(key, value);
    }
    const copy = { ...values } as unknown as CelerySettings;
    if (copy.result_accept_content === null) copy.result_accept_content = copy.accept_content;
    this.#snapshotKeys = Object.keys(values);
    this.#snapshotValues = Object.values(values);
    this.#resolved = Object.freeze(copy);
    return this.#resolved;
  }

  /** Whether every own key still holds the value it had at the last resolve (and no key came or went). */
  #unchanged(values: Record<string, unknown>): boolean {
    const keys = this.#snapshotKeys;
    const before = this.#snapshotValues;
    if (Object.keys(values).length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const value = values[keys[i]];
      if (value !== before[i] || (value === undefined && !Object.hasOwn(values, keys[i]))) {
        return false;
      }
    }
    return true;
  }

  /** The settings as an object, optionally without defaults and with secrets hidden. */
  table(options: TableOptions = {}): Record<string, unknown> {
    const { withDefaults = false, censored = true } = options;
    const out: Record<string, unknown> = {};
    const entries = Object.entries(this as unknown as Record<string, unknown>);
    for (const [key, value] of entries.sort(([a], [b]) => a < b ? -1 : 1)) {
      const fallback = (DEFAULT_SETTINGS as unknown as Record<string, unknown>)[key];
      if (!withDefaults && JSON.stringify(value) === JSON.stringify(fallback)) continue;
      out[key] = censored ? censorValue(value, key) : value;
    }
    return out;
  }

  /** The settings as `key: value` lines, like Celery's `app.conf.humanize()`. */
  humanize(options: TableOptions = {}): string {
    return Object.entries(this.table(options))
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join("\n");
  }
}
