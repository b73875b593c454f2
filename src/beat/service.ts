/**
 * The beat service: `celeriac beat` and `worker -B` call `runBeat(app, …)`.
 * It reads `beat_schedule`, restores run state from the schedule file, and
 * loops: take or renew the leader lease, tick the scheduler (which sends due
 * tasks through the app; the leader shares each run through the lease before
 * sending it), save the schedule file after every send, sleep. It stops when
 * its `AbortSignal` aborts, after saving and releasing the lease.
 *
 * @module
 */

import { connectAtStartup, type StartupRetrySettings, timerSleep } from "../app/startup_connect.ts";
import { whileHoldingProcess } from "../app/process_hold.ts";
import type { ResolvedConfig } from "../app/config.ts";
import { maskUrl } from "../app/mask_url.ts";
import { getLogger } from "../log.ts";
import { entriesFromConfig, type ScheduleEntry } from "./entry.ts";
import { type BeatLease, createLease } from "./leader_lease.ts";
import { humanizeSeconds } from "./schedule.ts";
import { Scheduler, type SendEntry } from "./scheduler.ts";
import { parseSchedule, restoreRunState, ScheduleFile, serializeSchedule } from "./store.ts";
import { appTimeZone } from "./time_zone.ts";

const log = getLogger("beat");

/** The settings beat reads. */
export type BeatConfig =
  & Pick<
    ResolvedConfig,
    | "beat_schedule"
    | "timezone"
    | "enable_utc"
    | "beat_schedule_filename"
    | "beat_max_loop_interval"
    | "beat_lease_ttl"
    | "broker_url"
    | "broker_transport_options"
  >
  & Partial<StartupRetrySettings>;

/** A sent task's handle; only the id is read. */
export interface SentTask {
  /** Task id. */
  readonly id: string;
}

/** What beat needs from the app (a `Celery` instance fits). */
export interface BeatApp {
  /** App name; beats of the same app and broker share one leader lease. */
  readonly main?: string;
  /** Settings. */
  readonly conf: { resolve(): BeatConfig };
  /** The broker URL in use, the embedded default included (the lease lives there). */
  brokerUrl?(): string;
  /** Sends a task by name (`app.sendTask`). */
  sendTask(name: string, args: unknown[], options: Record<string, unknown>): Promise<SentTask>;
  /** Registered tasks: a registered task is sent with `applyAsync`, so its defaults apply. */
  readonly tasks?: {
    get(name: string):
      | { applyAsync(args: unknown[], options: Record<string, unknown>): Promise<SentTask> }
      | undefined;
  };
}

/** Options of `runBeat`. */
export interface RunBeatOptions {
  /** Schedule file (`--schedule`); default `beat_schedule_filename`; null keeps state in memory only. */
  scheduleFile?: string | null;
  /** Stops beat. */
  signal?: AbortSignal;
  /** Clock (default the system clock). */
  now?: () => Date;
  /** How beat waits (default a timer cut short by `signal`); tests pass a fake clock's. */
  sleep?: (seconds: number, signal?: AbortSignal) => Promise<void>;
  /** Longest sleep, seconds (`--max-interval`); default `beat_max_loop_interval`. */
  maxInterval?: number;
  /** Broker URL for the lease; default `app.brokerUrl()`, else `broker_url`. */
  brokerUrl?: string | null;
  /** A lease to use, or false for none (one beat per schedule, as in Celery). */
  lease?: BeatLease | false;
  /** Lease name; default the app's `main`. */
  leaseName?: string;
  /**
   * Lease time-to-live, seconds; default `beat_lease_ttl` (30). The take-over
   * bound is `ttl * 4 / 3`.
   */
  leaseTtl?: number;
  /** How entries are sent; default through `app`. */
  send?: SendEntry;
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Sends an entry as Celery's beat does: through the registered task when
 * there is one (`apply_async`), else by name (`send_task`), with the entry's
 * options (Celery's snake_case names are accepted) and kwargs.
 */
export function sendThroughApp(app: BeatApp): SendEntry {
  return async (entry: Readonly<ScheduleEntry>) => {
    const options: Record<string, unknown> = { kwargs: entry.kwargs };
    for (const [key, value] of Object.entries(entry.options)) options[camelCase(key)] = value;
    const task = app.tasks?.get(entry.task);
    const sent = task
      ? await task.applyAsync([...entry.args], options)
      : await app.sendTask(entry.task, [...entry.args], options);
    return sent.id;
  };
}

/**
 * Runs beat until `options.signal` aborts. Only the holder of the leader
 * lease sends; the others wait and take over within `leaseTtl * 4 / 3`
 * seconds when it dies (see src/beat/leader_lease.ts).
 *
 * @example
 * ```ts ignore
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGTERM", () => stop.abort());
 * await runBeat(app, { scheduleFile: "celerybeat-schedule.json", signal: stop.signal });
 * ```
 */
export async function runBeat(app: BeatApp, options: RunBeatOptions = {}): Promise<void> {
  // The app's connections let an idle process exit: beat keeps it alive while it runs.
  await whileHoldingProcess(() => beatLoop(app, options));
}

async function beatLoop(app: BeatApp, options: RunBeatOptions): Promise<void> {
  // One function on purpose: setup, the loop and the shutdown share the entries, the
  // lease and `leading`, and reading them top to bottom is the whole service.
  const config = app.conf.resolve();
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? timerSleep;
  const { signal } = options;
  const settings = { timezone: config.timezone, enable_utc: config.enable_utc };
  const maxInterval = options.maxInterval || config.beat_max_loop_interval || 300;
  const entries = entriesFromConfig(config.beat_schedule, now());
  const path = options.scheduleFile === undefined
    ? config.beat_schedule_filename
    : options.scheduleFile;
  const file = path === null ? undefined : new ScheduleFile(path);
  if (file) {
    restoreRunState(entries, await file.load(settings));
    // Celery syncs at start: a restart before the first send keeps each entry's start time.
    await file.save(entries.values(), settings);
  }
  const lease = await openLease(app, config, options);
  // When this beat last sent each entry: its own runs win over an older shared state.
  const sentHere = new Map<string, Date>();
  const send = options.send ?? sendThroughApp(app);
  const scheduler = new Scheduler({
    entries,
    // A leader shares each run before sending it: a successor never sends it again.
    reserve: lease ? () => shareRun(lease, entries, settings) : undefined,
    send: (entry) => {
      sentHere.set(entry.name, entry.lastRunAt);
      return send(entry);
    },
    timeZone: appTimeZone(config),
    maxInterval,
    now,
  });
  log.info("beat: Starting...");
  log.debug(`beat: Ticking with max interval->${humanizeSeconds(maxInterval)}`);
  let leading = false;
  const save = async () => {
    scheduler.markSaved();
    log.debug("beat: Synchronizing schedule...");
    await file?.save(entries.values(), settings)
      .catch((error) => log.error(`beat: Could not save the schedule: ${error}`));
  };
  try {
    for (let first = true; !signal?.aborted; first = false) {
      const wasLeading = leading;
      leading = lease ? await lease.acquire() : true;
      if (lease && leading && !wasLeading) {
        leading = await takeOver(lease, entries, settings, sentHere);
      } else if (lease && !leading && (wasLeading || first)) {
        log.info(`beat: Another beat holds the ${lease.kind} leader lease; standing by.`);
      }
      let wait = lease ? lease.ttl / 3 : maxInterval;
      if (leading) {
        wait = Math.min(await scheduler.tick(), wait);
        if (scheduler.unsaved > 0) await save();
      }
      if (wait > 0 && !signal?.aborted) {
        log.debug(`beat: Waking up ${humanizeSeconds(wait, "in ")}.`);
        await sleep(wait, signal);
      }
    }
  } finally {
    await save();
    await lease?.close().catch((error) => log.warning(`beat: Closing the lease failed: ${error}`));
    log.info("beat: Shutting down...");
  }
}

/** Shares the run state, a just-recorded run included; false: the run may not be sent. */
async function shareRun(
  lease: BeatLease,
  entries: Map<string, ScheduleEntry>,
  settings: { timezone: string | null; enable_utc: boolean },
): Promise<boolean> {
  try {
    if (await lease.saveState(serializeSchedule(entries.values(), settings))) return true;
    log.warning(
      `beat: Lost the ${lease.kind} leader lease; the due task is left to the new leader.`,
    );
  } catch (error) {
    log.error(`beat: Could not share the run state through the ${lease.kind} lease: ${error}`);
  }
  return false;
}

/** Becoming leader: continue from the run state the last leader shared. False if it cannot be read. */
async function takeOver(
  lease: BeatLease,
  entries: Map<string, ScheduleEntry>,
  settings: { timezone: string | null; enable_utc: boolean },
  sentHere: ReadonlyMap<string, Date>,
): Promise<boolean> {
  let shared: string | null;
  try {
    shared = await lease.loadState();
  } catch (error) {
    // Sending without the last leader's state could repeat its runs: try again next round.
    log.warning(`beat: Could not read the shared schedule from the ${lease.kind} lease: ${error}`);
    return false;
  }
  if (shared) restoreRunState(entries, parseSchedule(shared, settings, "the lease"), sentHere);
  log.info(`beat: Acquired the ${lease.kind} leader lease; sending due tasks.`);
  return true;
}

async function openLease(
  app: BeatApp,
  config: BeatConfig,
  options: RunBeatOptions,
): Promise<BeatLease | undefined> {
  if (options.lease === false) return undefined;
  if (options.lease) return options.lease;
  const url = options.brokerUrl === undefined
    ? (app.brokerUrl?.() ?? config.broker_url)
    : options.brokerUrl;
  if (!url) return undefined;
  // As Celery's beat, a broker that is not up yet is retried (broker_connection_*).
  const lease = await connectAtStartup(
    () =>
      createLease(url, {
        name: options.leaseName ?? app.main,
        ttl: options.leaseTtl ?? config.beat_lease_ttl,
        config,
      }),
    {
      target: maskUrl(url),
      config,
      component: "beat",
      logError: (message) => log.error(message),
      signal: options.signal,
    },
  );
  if (!lease) return undefined;
  log.debug(`beat: Leader lease on ${maskUrl(url)} (${lease.kind}, ttl ${lease.ttl}s).`);
  return lease;
}
