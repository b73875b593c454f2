/**
 * Beat with a fake clock, for tests: a clock whose `sleep` advances time, a
 * minimal app around a config, a `send` that records what was sent, and the
 * seeds' two schedules.
 *
 * @module
 */

import { crontab } from "../../src/beat/crontab.ts";
import type { ScheduleEntry } from "../../src/beat/entry.ts";
import { type BeatApp, type BeatConfig, runBeat } from "../../src/beat/service.ts";

/** One recorded send. */
export interface Sent {
  at: string;
  name: string;
  task: string;
  args: unknown[];
}

/** A fake clock: `sleep` advances it; beat stops once it reaches `until`. */
export function fakeClock(startIso: string) {
  let t = Date.parse(startIso);
  return {
    now: () => new Date(t),
    set: (iso: string) => t = Date.parse(iso),
    advance: (seconds: number) => t += seconds * 1000,
    run(app: BeatApp, until: string, options: Parameters<typeof runBeat>[1] = {}) {
      const stop = new AbortController();
      const end = Date.parse(until);
      return runBeat(app, {
        lease: false,
        ...options,
        now: () => new Date(t),
        signal: stop.signal,
        sleep: (seconds) => {
          t = Math.min(t + seconds * 1000, end);
          if (t >= end) stop.abort();
          return Promise.resolve();
        },
      });
    },
  };
}

/** An app with `config` over beat's defaults; sending must go through a `send` option. */
export function fakeApp(config: Partial<BeatConfig>): BeatApp {
  const resolved: BeatConfig = {
    beat_schedule: {},
    timezone: null,
    enable_utc: true,
    beat_schedule_filename: "unused",
    beat_max_loop_interval: 300,
    beat_lease_ttl: 30,
    broker_url: null,
    broker_transport_options: {},
    ...config,
  };
  return {
    main: "proj",
    conf: { resolve: () => resolved },
    sendTask: () => Promise.reject(new Error("not used: tests pass send")),
  };
}

/** A `send` that records each entry with the clock's time. */
export function recorder(clock: { now(): Date }, sent: Sent[]) {
  return (entry: Readonly<ScheduleEntry>) => {
    sent.push({
      at: clock.now().toISOString(),
      name: entry.name,
      task: entry.task,
      args: entry.args,
    });
    return Promise.resolve(crypto.randomUUID());
  };
}

/** The seeds' two schedules: every 30 seconds, and 08:00 on the 1st of each month. */
export const SEEDS = {
  "every-30-seconds": { task: "proj.ping", schedule: 30, args: [1] },
  "monthly-report": {
    task: "proj.report",
    schedule: crontab({ minute: 0, hour: 8, dayOfMonth: 1 }),
    kwargs: { kind: "monthly" },
  },
};
