/**
 * The one censoring function family: everything celeriac prints (the banner,
 * log lines, `conf.humanize()` and `conf.table()`, error messages, debug
 * output) goes through it, so a secret cannot reach one output while another
 * hides it.
 *
 * - `maskUrl` / `censorText`: the password of every URL in a text becomes
 *   `**`, for any number of URLs (`sentinel://:p1@h1;sentinel://:p2@h2`) and
 *   a raw `@` in a password (the last `@` of the authority ends it).
 * - `censorValue`: settings, options and error objects at any depth: values
 *   under secret-named keys (Celery's `API|TOKEN|KEY|SECRET|PASS|SIGNATURE|
 *   DATABASE`, routing keys excepted) become `********`, URLs in strings are
 *   masked, and the arguments of a Redis `AUTH`/`HELLO` command are hidden.
 *
 * @module
 */

/** What a hidden value is shown as. */
export const CENSORED = "********";

/** Celery's `HIDDEN_SETTINGS` words. */
const SECRET_KEY = /API|TOKEN|KEY|SECRET|PASS|SIGNATURE|DATABASE/i;
const NOT_SECRET_KEY = /routing_key$/i;

/** `scheme://` followed by an authority (it ends at `/`, `?`, `#`, `;`, white space or a quote). */
const URL_AUTHORITY = /([a-z][a-z0-9+.-]*:\/\/)([^/?#;\s"'`]*)/gi;

/** Commands whose arguments are credentials (ioredis errors carry them). */
const CREDENTIAL_COMMANDS = /^(auth|hello|migrate)$/i;

function maskAuthority(scheme: string, authority: string): string {
  const at = authority.lastIndexOf("@");
  if (at < 0) return scheme + authority;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(":");
  if (colon < 0) return scheme + authority;
  return `${scheme}${userinfo.slice(0, colon)}:**${authority.slice(at)}`;
}

/**
 * Replaces the password of a URL (of every URL in the text) with `**`, as
 * Celery's banner does.
 *
 * @example
 * ```ts
 * import { maskUrl } from "./mask_url.ts";
 * console.assert(maskUrl("amqp://guest:secret@host:5672//") === "amqp://guest:**@host:5672//");
 * console.assert(maskUrl("amqp://u:x@tail@host//") === "amqp://u:**@host//");
 * console.assert(
 *   maskUrl("sentinel://:p1@h1;sentinel://:p2@h2") === "sentinel://:**@h1;sentinel://:**@h2",
 * );
 * ```
 */
export function maskUrl(url: string): string {
  if (!url.includes("://")) return url;
  return url.replace(
    URL_AUTHORITY,
    (_, scheme: string, authority: string) => maskAuthority(scheme, authority),
  );
}

/** Masks URL passwords in free text (an error message, a log line). */
export const censorText: (text: string) => string = maskUrl;

/** True for a setting or option name whose value is a secret (`password`, `api_token`). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

/**
 * A copy of `value` with every secret hidden: values under secret-named keys
 * at any depth, URL passwords in strings, credential command arguments. An
 * `Error` becomes a plain object with its name, message, stack, own fields and
 * cause (all censored). Cycles and depth beyond 32 are cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { censorValue } from "./mask_url.ts";
 * assert.deepEqual(
 *   censorValue({ visibility_timeout: 60, sentinel_kwargs: { password: "p" } }),
 *   { visibility_timeout: 60, sentinel_kwargs: { password: "********" } },
 * );
 * ```
 */
export function censorValue(value: unknown, key = ""): unknown {
  return censorAt(value, key, 0, new WeakSet());
}

function censorAt(value: unknown, key: string, depth: number, seen: WeakSet<object>): unknown {
  if (key && isSecretKey(key) && value !== null && value !== undefined && value !== "") {
    return CENSORED;
  }
  if (typeof value === "string") return maskUrl(value);
  if (value === null || typeof value !== "object" || typeof value === "function") return value;
  if (seen.has(value) || depth > 32) return "[…]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => censorAt(item, "", depth + 1, seen));
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    out.name = value.name;
    out.message = maskUrl(value.message);
    if (value.stack) out.stack = maskUrl(value.stack);
  }
  const credentialCommand = typeof source.name === "string" &&
    CREDENTIAL_COMMANDS.test(source.name) && Array.isArray(source.args);
  for (const field of Object.keys(source)) {
    out[field] = credentialCommand && field === "args"
      ? (source.args as unknown[]).map(() => CENSORED)
      : censorAt(source[field], field, depth + 1, seen);
  }
  if (value instanceof Error && value.cause !== undefined) {
    out.cause = censorAt(value.cause, "", depth + 1, seen);
  }
  return out;
}
