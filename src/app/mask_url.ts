/**
 * Hiding passwords in URLs before they are printed or logged.
 *
 * @module
 */

/**
 * Replaces the password of a URL with `**`, as Celery's banner does.
 *
 * @example
 * ```ts
 * import { maskUrl } from "./mask_url.ts";
 * console.assert(maskUrl("amqp://guest:secret@host:5672//") === "amqp://guest:**@host:5672//");
 * ```
 */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:**@");
}
