/**
 * The start-up banner `celeriac beat` prints, laid out like Celery 5.2.6's
 * (`celery beat v5.2.6 (dawn-chorus) is starting.`, spec §4.1).
 *
 * @module
 */

import { maskUrl } from "../app/mask_url.ts";
import { humanizeSeconds } from "./schedule.ts";

/** What the banner shows. */
export interface BeatBannerInfo {
  /** celeriac's version. */
  version: string;
  /** Broker URL (its password is masked here). */
  brokerUrl: string;
  /** Schedule file, or null when state is kept in memory. */
  scheduleFile: string | null;
  /** Log level name, such as `INFO`. */
  logLevel: string;
  /** Longest sleep in seconds. */
  maxInterval: number;
  /** Lease kind (`redis`, `amqp`, `sqlite`, `local`), or null without a lease. */
  lease: string | null;
  /** Local time shown (default now). */
  now?: Date;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/**
 * The banner text.
 *
 * @example
 * ```ts
 * import { beatBanner } from "./banner.ts";
 * const text = beatBanner({
 *   version: "0.1.0", brokerUrl: "amqp://guest:guest@127.0.0.1:5672//", scheduleFile: "celerybeat-schedule.json",
 *   logLevel: "INFO", maxInterval: 300, lease: "amqp",
 * });
 * console.assert(text.includes(". broker -> amqp://guest:**@127.0.0.1:5672//"));
 * console.assert(text.includes(". maxinterval -> 5.00 minutes (300s)"));
 * ```
 */
export function beatBanner(info: BeatBannerInfo): string {
  const now = info.now ?? new Date();
  const local = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  return [
    `celeriac beat v${info.version} is starting.`,
    "__    -    ... __   -        _",
    `LocalTime -> ${local}`,
    "Configuration ->",
    `    . broker -> ${maskUrl(info.brokerUrl)}`,
    "    . loader -> celeriac app module",
    `    . scheduler -> celeriac PersistentScheduler` +
    (info.lease ? ` (leader lease: ${info.lease})` : ""),
    `    . db -> ${info.scheduleFile ?? "[memory]"}`,
    `    . logfile -> [stderr]@%${info.logLevel}`,
    `    . maxinterval -> ${humanizeSeconds(info.maxInterval)} (${info.maxInterval}s)`,
  ].join("\n");
}
