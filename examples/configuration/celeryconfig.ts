/**
 * The configuration module, as Celery's `celeryconfig.py`: one export per
 * setting, under Celery's names. No broker is set, so the embedded default is
 * used unless CELERY_BROKER_URL says otherwise.
 *
 * @module
 */

/** Serializer for task messages (celeriac speaks JSON only). */
export const task_serializer = "json";
/** Serializer for results. */
export const result_serializer = "json";
/** Content types a worker accepts. */
export const accept_content = ["json"];
/** Time zone for schedules and ETAs shown to people. */
export const timezone = "Europe/Oslo";
/** Keep dates in UTC internally. */
export const enable_utc = true;
/** This example's queue, so it never meets another example's worker. */
export const task_default_queue = "examples.configuration";
/** An old uppercase name: still accepted, mapped to `result_expires`. */
export const CELERY_TASK_RESULT_EXPIRES = 3600;
/** A secret: `app.conf.humanize()` censors it. */
export const api_token = "not-a-real-token";
