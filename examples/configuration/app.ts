/**
 * Configuring an app as in Celery: settings from a module
 * (`configFromObject`), from a module named by an environment variable
 * (`configFromEnvvar`), `conf.update()` and plain assignment; then
 * `humanize()` shows what differs from Celery's defaults, secrets censored.
 *
 * ```sh
 * deno run -A examples/configuration/app.ts
 * CELERY_CONFIG_MODULE=./examples/configuration/production.ts deno run -A examples/configuration/app.ts
 * CELERY_BROKER_URL=redis://localhost:6379/0 CELERY_RESULT_BACKEND=redis://localhost:6379/1 \
 *   deno run -A examples/configuration/app.ts
 * ```
 *
 * @module
 */

import { Celery } from "../../mod.ts";

/** The app; the broker comes from CELERY_BROKER_URL when set, else the embedded default. */
export const app = new Celery("configuration");
await app.configFromObject(import.meta.resolve("./celeryconfig.ts"));
await app.configFromEnvvar("CELERY_CONFIG_MODULE", { silent: true });
app.conf.update({ result_extended: true });
app.conf.enable_utc = true;

/** Adds two numbers. */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});

if (import.meta.main) {
  console.log(`broker: ${app.describeBroker()}`);
  console.log("settings that differ from Celery's defaults:");
  console.log(app.conf.humanize().replace(/^/gm, "  "));
  const worker = await app.worker({ concurrency: 1, banner: false });
  try {
    const result = await add.delay(2, 3);
    console.log(`add(2, 3) = ${await result.get({ timeout: 20 })}`);
  } finally {
    await worker.stop();
    await app.close();
  }
}
