/**
 * BullMQ as a bench peer (issue 15): a BullMQ `Worker` with concurrency 50
 * on the run's queue, processing `add` jobs (`{ x, y }` → `x + y`; BullMQ
 * stores the return value with the job, as it always does). Reports as
 * bench_app.ts does: `@@bench {"ready":…}` when connected, then
 * `@@bench {"first":…,"last":…,"count":N}` once N jobs have started.
 *
 * Environment: CELERY_BROKER_URL (Redis), CELERIAC_BENCH_QUEUE,
 * CELERIAC_BENCH_EXPECT.
 *
 * @module
 */

import { Worker } from "bullmq";
import { epochMs } from "../raw/messages.ts";
import { BULL_PREFIX, bullConnection } from "./bullmq_client.ts";

const url = Deno.env.get("CELERY_BROKER_URL")!;
const queue = Deno.env.get("CELERIAC_BENCH_QUEUE")!;
const expect = Number(Deno.env.get("CELERIAC_BENCH_EXPECT") ?? 0);
const report = (fields: Record<string, number>) => console.log(`@@bench ${JSON.stringify(fields)}`);

let count = 0;
let first = 0;
const worker = new Worker<{ x: number; y: number }, number>(
  queue,
  (job) => {
    const at = epochMs();
    if (count === 0) first = at;
    if (++count === expect) report({ first, last: at, count });
    return Promise.resolve(job.data.x + job.data.y);
  },
  { connection: bullConnection(url), prefix: BULL_PREFIX, concurrency: 50 },
);
await worker.waitUntilReady();
report({ ready: epochMs() });

const stop = async () => {
  await worker.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
