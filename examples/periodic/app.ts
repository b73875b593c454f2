/**
 * Periodic tasks: the seeds' two schedules, kept in the application's code.
 *
 *   every 30 seconds             → periodic.heartbeat
 *   08:00 on the first of a month → periodic.monthly_report (Tokyo time, the app's zone)
 *
 * Run beat on its own and a worker to execute what it sends:
 *
 *   deno task beat                                    # cli.ts beat --app ./examples/periodic/app.ts
 *   deno run -A cli.ts worker --app ./examples/periodic/app.ts
 *
 * or both in one process: `deno run -A cli.ts worker -B --app ./examples/periodic/app.ts`.
 * Beat keeps last-run times in `celerybeat-schedule.json` (`--schedule path`), and
 * any number of beats on one broker send each run once (a leader lease in the broker).
 *
 * @module
 */

import { Celery, crontab } from "../../mod.ts";

/** The app: broker from CELERY_BROKER_URL, else the embedded default. */
export const app = new Celery("periodic", {
  config: {
    timezone: "Asia/Tokyo", // crontabs run on Tokyo's clock; the default is UTC
    beat_schedule: {
      "heartbeat-every-30-seconds": {
        task: "periodic.heartbeat",
        schedule: 30,
        args: ["beat"],
        options: { expires: 25 }, // a run nobody picked up within 25 s is dropped
      },
      "monthly-report": {
        task: "periodic.monthly_report",
        schedule: crontab({ minute: 0, hour: 8, dayOfMonth: 1 }),
        kwargs: { format: "pdf" },
      },
    },
  },
});

/** Runs every 30 seconds. */
export const heartbeat = app.task(function heartbeat(from: string) {
  return `${from}: alive at ${new Date().toISOString()}`;
});

/** Runs at 08:00 on the first of every month. */
export const monthlyReport = app.task(function monthly_report(format: string) {
  const month = new Date().toISOString().slice(0, 7);
  return `report for ${month} as ${format}`;
});

export default app;
