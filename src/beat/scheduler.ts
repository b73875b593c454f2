/**
 * Beat's scheduling loop, one tick at a time (Celery's `Scheduler.tick`):
 * look at the entry due earliest; if it is due, record the run (last run =
 * now, count + 1) before sending (Celery's `reserve`), let `reserve` persist
 * that record (a leader shares it through its lease, so a successor never
 * sends the same run again), send it through the `send` callback and ask to
 * be ticked again at once; otherwise say how long to sleep, at most
 * `maxInterval` seconds. Time comes from an injected clock, so years of
 * ticks run in milliseconds in tests.
 *
 * @module
 */

import { getLogger, type Logger } from "../log.ts";
import type { ScheduleEntry } from "./entry.ts";

/** Sends one entry's task; resolves to the task id when known. A throw is logged, not retried. */
export type SendEntry = (entry: Readonly<ScheduleEntry>) => Promise<string | undefined | void>;

/** Options of `new Scheduler(...)`. */
export interface SchedulerOptions {
  /** The entries, by name (their run state is updated in place). */
  entries: Map<string, ScheduleEntry>;
  /** Publishes a due entry's task. */
  send: SendEntry;
  /**
   * Called after a run is recorded on its entry and before it is sent; false
   * (the run may not be sent: the lease is lost) undoes the record and skips
   * the send. Default: always true.
   */
  reserve?: (entry: Readonly<ScheduleEntry>) => Promise<boolean>;
  /** The app time zone crontabs are evaluated in (default UTC). */
  timeZone?: string;
  /** Longest sleep, seconds (`beat_max_loop_interval`, default 300). */
  maxInterval?: number;
  /** The clock (default `() => new Date()`). */
  now?: () => Date;
  /** Logger (default the `beat` category). */
  logger?: Logger;
}

/** Celery subtracts 10 ms from each sleep so it wakes just before an entry is due. */
const DRIFT = 0.01;

/** Runs due entries; see the module docs. */
export class Scheduler {
  /** The entries, by name. */
  readonly entries: Map<string, ScheduleEntry>;
  /** The app time zone. */
  readonly timeZone: string;
  /** Longest sleep in seconds. */
  readonly maxInterval: number;
  readonly #send: SendEntry;
  readonly #reserve: (entry: Readonly<ScheduleEntry>) => Promise<boolean>;
  readonly #now: () => Date;
  readonly #log: Logger;
  #sentSinceSave = 0;

  /** Creates the scheduler; nothing runs until `tick()`. */
  constructor(options: SchedulerOptions) {
    this.entries = options.entries;
    this.#send = options.send;
    this.#reserve = options.reserve ?? (() => Promise.resolve(true));
    this.timeZone = options.timeZone ?? "UTC";
    this.maxInterval = options.maxInterval || 300;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.logger ?? getLogger("beat");
  }

  /** Sends since the last `markSaved()`: the run state to persist changed when this is above 0. */
  get unsaved(): number {
    return this.#sentSinceSave;
  }

  /** Tells the scheduler its run state was persisted. */
  markSaved(): void {
    this.#sentSinceSave = 0;
  }

  /**
   * One iteration: sends at most one due entry (the one due longest) and
   * returns 0, or returns the seconds to sleep before the next tick
   * (`maxInterval` when a due entry's run could not be reserved).
   */
  async tick(): Promise<number> {
    const now = this.#now();
    let due: ScheduleEntry | undefined;
    let dueSince = Infinity;
    let sleep = this.maxInterval;
    for (const entry of this.entries.values()) {
      const state = entry.schedule.isDue(entry.lastRunAt, now, this.timeZone);
      if (state.isDue) {
        // Among due entries, the one whose last run is oldest goes first.
        if (entry.lastRunAt.getTime() < dueSince) {
          [due, dueSince] = [entry, entry.lastRunAt.getTime()];
        }
      } else {
        const wake = state.nextInSeconds > 2 * DRIFT
          ? state.nextInSeconds - DRIFT
          : state.nextInSeconds;
        sleep = Math.min(sleep, wake);
      }
    }
    if (!due) return Math.max(sleep, 0);
    return await this.apply(due, now) ? 0 : this.maxInterval;
  }

  /**
   * Records a run of `entry` at `now` and sends it (Celery's `reserve` +
   * `apply_entry`); false when `reserve` refused the run (nothing was sent).
   */
  async apply(entry: ScheduleEntry, now: Date = this.#now()): Promise<boolean> {
    const previous = { lastRunAt: entry.lastRunAt, totalRunCount: entry.totalRunCount };
    entry.lastRunAt = now;
    entry.totalRunCount += 1;
    if (!await this.#reserve(entry)) {
      Object.assign(entry, previous);
      return false;
    }
    this.#sentSinceSave += 1;
    this.#log.info(`Scheduler: Sending due task ${entry.name} (${entry.task})`);
    try {
      const id = await this.#send(entry);
      this.#log.debug(`${entry.task} sent. id->${id ?? "?"}`);
    } catch (error) {
      const detail = error instanceof Error
        ? `${error.message}\n${error.stack ?? ""}`
        : String(error);
      this.#log.error(`Message Error: Couldn't apply scheduled task ${entry.name}: ${detail}`);
    }
    return true;
  }
}
