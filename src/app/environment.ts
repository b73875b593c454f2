/**
 * Celery's environment overrides: `CELERY_BROKER_URL` and
 * `CELERY_RESULT_BACKEND` win over every other way of setting the broker and
 * the result backend, as in Celery (whose `conf.broker_url` reads the
 * environment first).
 *
 * @module
 */

/** An environment variable, or undefined when unset, empty, or not permitted (no --allow-env). */
export function readEnvironment(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The broker and result backend URLs the environment sets, if any. */
export function environmentUrls(): { broker_url?: string; result_backend?: string } {
  return {
    broker_url: readEnvironment("CELERY_BROKER_URL"),
    result_backend: readEnvironment("CELERY_RESULT_BACKEND"),
  };
}
