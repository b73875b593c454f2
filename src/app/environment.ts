/**
 * Celery's environment overrides: `CELERY_BROKER_URL` and
 * `CELERY_RESULT_BACKEND` win over every other way of setting the broker and
 * the result backend, as in Celery (whose `conf.broker_url` reads the
 * environment first).
 *
 * @module
 */

import type { ResolvedConfig } from "./settings.ts";

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

/**
 * `config` with the environment's URLs in place of the configured ones.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "./settings.ts";
 * import { withEnvironmentUrls } from "./environment.ts";
 * const config = withEnvironmentUrls({ ...DEFAULT_SETTINGS, broker_url: "memory://" });
 * console.assert(config.broker_url === (Deno.env.get("CELERY_BROKER_URL") || "memory://"));
 * ```
 */
export function withEnvironmentUrls(config: ResolvedConfig): ResolvedConfig {
  const { broker_url, result_backend } = environmentUrls();
  if (broker_url === undefined && result_backend === undefined) return config;
  return Object.freeze({
    ...config,
    broker_url: broker_url ?? config.broker_url,
    result_backend: result_backend ?? config.result_backend,
  });
}
