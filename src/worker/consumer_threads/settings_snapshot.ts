/**
 * The settings a consumer thread applies over its own copy of the app: a
 * thread imports the app module afresh, so whatever the program changed at
 * run time (`app.conf.update(...)` before `worker()`, the CLI's flags, the
 * environment's broker URL) must be sent to it. Values that cannot cross
 * threads (functions, such as a router function in `task_routes`) are left
 * out: the thread has the module's own.
 *
 * @module
 */

import type { Celery } from "../../app/celery.ts";

/** The app's non-default settings that can be cloned, with the effective broker and backend URLs. */
export function settingsForThreads(app: Celery): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(app.conf.table({ censored: false }))) {
    try {
      settings[key] = structuredClone(value);
    } catch {
      // not cloneable: the thread keeps the module's value
    }
  }
  settings.broker_url = app.brokerUrl();
  settings.result_backend = app.backendUrl();
  return settings;
}
