/**
 * The one table of URL schemes: which transport folder serves each, for
 * which roles (broker, result backend, beat's leader lease), and on which
 * port by default. Broker, backend and lease resolution, the beat banner,
 * the URL parsers and the CLI's permission check all read it, so they
 * cannot disagree (a `sentinel://` broker gets a Redis lease, and an
 * unknown scheme gets the same error whatever asked).
 *
 * @module
 */

import { maskUrl } from "../app/mask_url.ts";
import { ConfigurationError } from "../errors.ts";

/** The transport folders (`src/transports/<name>/`). */
export type Transport = "amqp" | "redis" | "sqlite" | "memory";

/** What a URL can be used as. */
export type SchemeRole = "broker" | "backend" | "lease";

/** One scheme's row. */
export interface SchemeEntry {
  /** The transport folder that serves it. */
  transport: Transport;
  /** What it can be used as. */
  roles: readonly SchemeRole[];
  /** Port when the URL names none (network transports). */
  defaultPort?: number;
}

const ALL: readonly SchemeRole[] = ["broker", "backend", "lease"];

/** Every scheme celeriac understands. */
export const SCHEMES: Readonly<Record<string, SchemeEntry>> = Object.freeze({
  // As a result backend, `amqp://` is Celery's deprecated name for rpc:// (amqp_alias.ts).
  amqp: { transport: "amqp", roles: ALL, defaultPort: 5672 },
  pyamqp: { transport: "amqp", roles: ["broker", "lease"], defaultPort: 5672 },
  amqps: { transport: "amqp", roles: ["broker", "lease"], defaultPort: 5671 },
  rpc: { transport: "amqp", roles: ["backend"] },
  redis: { transport: "redis", roles: ALL, defaultPort: 6379 },
  rediss: { transport: "redis", roles: ALL, defaultPort: 6379 },
  sentinel: { transport: "redis", roles: ALL, defaultPort: 26379 },
  sqlite: { transport: "sqlite", roles: ALL },
  memory: { transport: "memory", roles: ALL },
  // beat's in-process lease (one beat only), for brokers without one.
  local: { transport: "memory", roles: ["lease"] },
});

const ROLE_NAMES: Record<SchemeRole, string> = {
  broker: "broker",
  backend: "result backend",
  lease: "beat leader lease",
};

/** Scheme of a URL, without the colon (`amqp`, `redis`, …); "" when it has none. */
export function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match ? match[1].toLowerCase() : "";
}

/** The schemes usable as `role`. */
export function schemesFor(role: SchemeRole): string[] {
  return Object.keys(SCHEMES).filter((scheme) => SCHEMES[scheme].roles.includes(role));
}

/** The row of `url`'s scheme when it can serve `role`, else undefined. */
export function findScheme(url: string, role: SchemeRole): SchemeEntry | undefined {
  const entry = SCHEMES[schemeOf(url)];
  return entry?.roles.includes(role) ? entry : undefined;
}

/**
 * The row of `url`'s scheme for `role`; an unknown scheme, or one that
 * cannot serve that role, is a ConfigurationError in the same words for
 * every role, listing the schemes that can.
 *
 * @example
 * ```ts
 * import { schemeFor } from "./schemes.ts";
 * console.assert(schemeFor("sentinel://h:26379", "lease").transport === "redis");
 * ```
 */
export function schemeFor(url: string, role: SchemeRole): SchemeEntry {
  const entry = findScheme(url, role);
  if (entry) return entry;
  const scheme = schemeOf(url);
  const why = SCHEMES[scheme]
    ? `"${scheme}" cannot be a ${ROLE_NAMES[role]}`
    : `unknown scheme "${scheme}"`;
  throw new ConfigurationError(
    `Unsupported ${ROLE_NAMES[role]} URL ${JSON.stringify(maskUrl(url))}: ${why}. ` +
      `Supported: ${schemesFor(role).map((s) => `${s}://`).join(", ")}.`,
  );
}

/** The default port of `scheme`, or undefined (not a network transport). */
export function defaultPort(scheme: string): number | undefined {
  return SCHEMES[scheme]?.defaultPort;
}
