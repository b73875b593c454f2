/**
 * The app beat's end-to-end tests run with `celeriac beat -A` and
 * `celeriac worker -B -A`: one entry every half second whose task appends
 * its id to `$BEAT_TEST_DIR/executed.txt`, a 3-second leader lease (take-over
 * within 3 × 4/3 = 4 s), and a name (lease, task names, queue) from
 * `$BEAT_TEST_APP`. The broker is `$CELERY_BROKER_URL`, else the embedded
 * default in `$CELERIAC_HOME`.
 *
 * @module
 */

import { type BoundTask, Celery } from "../../mod.ts";

const name = Deno.env.get("BEAT_TEST_APP") ?? "beatcli";
const dir = Deno.env.get("BEAT_TEST_DIR") ?? ".";

/** Seconds between runs of the `tick` entry. */
export const EVERY = 0.5;

/** Seconds the leader lease lasts without renewal. */
export const LEASE_TTL = 3;

/** The app. */
export const app: Celery = new Celery(name, {
  config: {
    task_default_queue: name,
    beat_lease_ttl: LEASE_TTL,
    beat_max_loop_interval: 1,
    beat_schedule: { tick: { task: `${name}.record`, schedule: EVERY, args: ["tick"] } },
  },
});

/** Records that it ran: `<task id> <entry>` on a line of `executed.txt`. */
export const record = app.task(async function record(self: BoundTask, entry: string) {
  const line = `${self.request.id} ${entry}\n`;
  await Deno.writeTextFile(`${dir}/executed.txt`, line, { append: true });
}, { bind: true });
