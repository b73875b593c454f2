/**
 * The app of the Redis acks_late worker test: one task, `acks_late.hold`,
 * that counts its runs in Redis and, on its first run only, takes `seconds`
 * to finish. Configured from the environment (`CELERY_BROKER_URL`,
 * `CELERY_RESULT_BACKEND`, `CELERIAC_IT_CONFIG` as JSON settings).
 *
 * @module
 */

import { Redis } from "ioredis";
import { Celery } from "../../mod.ts";

/** The app. */
export const app: Celery = new Celery("acks_late", {
  config: JSON.parse(Deno.env.get("CELERIAC_IT_CONFIG") ?? "{}"),
});

/** Adds one to `counterKey` and returns the count; the first run sleeps `seconds` first. */
export const hold = app.task(async function hold(counterKey: string, seconds: number) {
  const redis = new Redis(app.brokerUrl(), { maxRetriesPerRequest: 2 });
  try {
    const runs = await redis.incr(counterKey);
    if (runs === 1) await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return runs;
  } finally {
    await redis.quit();
  }
}, { name: "acks_late.hold" });
