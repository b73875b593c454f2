/**
 * Settings picked by an environment variable (Celery's `config_from_envvar`):
 *
 * ```sh
 * CELERY_CONFIG_MODULE=./examples/configuration/production.ts deno run -A examples/configuration/app.ts
 * ```
 *
 * @module
 */

/** Track STARTED while a task runs. */
export const task_track_started = true;
/** Acknowledge after the task ran. */
export const task_acks_late = true;
