/**
 * Redis URLs as kombu and Celery read them: `redis://[user:password@]host[:port][/db]`,
 * `rediss://` for TLS (options from the URL query or `broker_use_ssl`), and
 * `sentinel://host:26379[/db];sentinel://host2:26379` with the master name in
 * the transport options.
 *
 * @module
 */

import { ConfigurationError } from "../../errors.ts";
import { maskUrl } from "../../app/mask_url.ts";
import { defaultPort, SCHEMES } from "../schemes.ts";

/** TLS settings, as Node's `tls.connect` options. */
export interface RedisTlsOptions {
  /** Verify the server certificate (false for `ssl_cert_reqs=CERT_NONE`). */
  rejectUnauthorized: boolean;
  /** CA bundle (PEM text) from `ssl_ca_certs`. */
  ca?: string;
  /** Client certificate (PEM text) from `ssl_certfile`. */
  cert?: string;
  /** Client key (PEM text) from `ssl_keyfile`. */
  key?: string;
}

/** Where and how to connect. */
export interface RedisConnectOptions {
  /** The URL as given (mask it before printing). */
  url: string;
  /** Host of a plain server. */
  host: string;
  /** Port of a plain server. */
  port: number;
  /** Database number. */
  db: number;
  /** ACL user name, when given. */
  username?: string;
  /** Password, when given. */
  password?: string;
  /** TLS options; undefined for plain TCP. */
  tls?: RedisTlsOptions;
  /** Sentinel addresses; set for `sentinel://` URLs. */
  sentinels?: { host: string; port: number }[];
}

/** The Redis schemes (`redis`, `rediss`, `sentinel`), from the one scheme table. */
const REDIS_SCHEMES = Object.keys(SCHEMES).filter((s) => SCHEMES[s].transport === "redis");
const SSL_KEYS = ["ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"] as const;
/** Query options a Redis URL may carry; any other is an error naming the URL. */
const QUERY_KEYS: readonly string[] = [...SSL_KEYS, "virtual_host"];

/** `maskUrl` for each address of a `;`-separated sentinel URL. */
export function maskRedisUrl(url: string): string {
  return url.split(";").map(maskUrl).join(";");
}

function invalid(url: string, why: string): never {
  throw new ConfigurationError(`Invalid Redis URL ${JSON.stringify(maskRedisUrl(url))}: ${why}.`);
}

/** `host:port`: the port, when given, must be a number from 1 to 65535. */
function checkPort(hostPart: string, url: string): void {
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
  if (port === undefined || port === "") return;
  const number = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(number >= 1 && number <= 65535)) {
    invalid(url, `the port must be a number from 1 to 65535, not ${JSON.stringify(port)}`);
  }
}

function decodePart(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    invalid(url, `${JSON.stringify(text)} is not valid percent-encoding`);
  }
}

interface UrlPart {
  scheme: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  query: URLSearchParams;
}

function parseOne(url: string, whole: string): UrlPart {
  const match = /^([a-z]+):\/\/(.*)$/i.exec(url.trim());
  if (!match) invalid(whole, "expected scheme://host[:port][/db]");
  const scheme = match[1].toLowerCase();
  if (!REDIS_SCHEMES.includes(scheme)) invalid(whole, `unknown scheme "${scheme}"`);
  // `redis://:pw@/0` has an empty host, which WHATWG URLs refuse: use the default.
  const authorityEnd = match[2].search(/[/?#]/);
  const authority = authorityEnd < 0 ? match[2] : match[2].slice(0, authorityEnd);
  const at = authority.lastIndexOf("@") + 1;
  const hostPart = authority.slice(at);
  const rest = hostPart === "" || hostPart.startsWith(":")
    ? authority.slice(0, at) + "127.0.0.1" + hostPart + match[2].slice(authority.length)
    : match[2];
  checkPort(hostPart, whole);
  let parsed: URL;
  try {
    parsed = new URL(`http://${rest}`);
  } catch {
    invalid(whole, "the host part cannot be parsed");
  }
  for (const key of parsed.searchParams.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      invalid(whole, `unknown option ${JSON.stringify(key)} (accepted: ${QUERY_KEYS.join(", ")})`);
    }
  }
  const path = decodePart(parsed.pathname, whole).replace(/^\/+|\/+$/g, "");
  const dbText = parsed.searchParams.get("virtual_host") ?? path;
  const db = dbText === "" ? 0 : /^\d+$/.test(dbText) ? Number(dbText) : NaN;
  if (!Number.isSafeInteger(db)) {
    invalid(whole, `the database must be an integer 0 or more, not ${JSON.stringify(dbText)}`);
  }
  return {
    scheme,
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : defaultPort(scheme)!,
    db,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    query: parsed.searchParams,
  };
}

function certReqs(value: unknown, url: string): boolean {
  if (value === undefined || value === null) return true;
  const text = String(value).toUpperCase().replace(/^CERT_/, "");
  if (text === "NONE" || text === "0") return false;
  if (text === "REQUIRED" || text === "OPTIONAL" || text === "2" || text === "1") return true;
  invalid(url, `ssl_cert_reqs must be CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE, not ${value}`);
}

function readPem(path: unknown, key: string, url: string): string | undefined {
  if (path === undefined || path === null || path === "") return undefined;
  try {
    return Deno.readTextFileSync(String(path));
  } catch (error) {
    invalid(url, `cannot read ${key} ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

/** TLS options from the URL query and a `broker_use_ssl`-style object (the object wins). */
function tlsOptions(
  query: URLSearchParams,
  ssl: Record<string, unknown> | boolean | null,
  url: string,
): RedisTlsOptions {
  const given: Record<string, unknown> = {};
  for (const key of SSL_KEYS) {
    const value = query.get(key);
    if (value !== null) given[key] = value;
  }
  if (ssl && typeof ssl === "object") Object.assign(given, ssl);
  return {
    rejectUnauthorized: certReqs(given.ssl_cert_reqs, url),
    ca: readPem(given.ssl_ca_certs, "ssl_ca_certs", url),
    cert: readPem(given.ssl_certfile, "ssl_certfile", url),
    key: readPem(given.ssl_keyfile, "ssl_keyfile", url),
  };
}

/**
 * Parses a `redis://`, `rediss://` or `sentinel://` URL. `ssl` is
 * `broker_use_ssl` (for the broker) or undefined; a `redis://` URL with TLS
 * options in its query is refused, as Celery refuses it.
 *
 * @example
 * ```ts
 * import { parseRedisUrl } from "./url.ts";
 * const options = parseRedisUrl("redis://:s3cret@cache:6380/2");
 * console.assert(options.host === "cache" && options.port === 6380 && options.db === 2);
 * console.assert(options.password === "s3cret" && options.tls === undefined);
 * ```
 */
export function parseRedisUrl(
  url: string,
  ssl: Record<string, unknown> | boolean | null = null,
): RedisConnectOptions {
  const parts = url.split(";").filter((part) => part.trim() !== "").map((p) => parseOne(p, url));
  if (parts.length === 0) invalid(url, "it is empty");
  const first = parts[0];
  if (parts.some((part) => (part.scheme === "sentinel") !== (first.scheme === "sentinel"))) {
    invalid(url, "sentinel:// addresses cannot be mixed with other schemes");
  }
  if (first.scheme !== "sentinel" && parts.length > 1) {
    invalid(url, "only sentinel:// URLs may list several addresses separated by ';'");
  }
  // kombu turns TLS on for any scheme when `broker_use_ssl` is set.
  const wantsTls = first.scheme === "rediss" || Boolean(ssl);
  if (first.scheme === "redis" && SSL_KEYS.some((key) => first.query.has(key))) {
    invalid(url, "TLS parameters were given but the scheme is redis://; use rediss://");
  }
  const options: RedisConnectOptions = {
    url,
    host: first.host,
    port: first.port,
    db: first.db,
    username: first.username,
    password: first.password,
    tls: wantsTls ? tlsOptions(first.query, ssl, url) : undefined,
  };
  if (first.scheme === "sentinel") {
    options.sentinels = parts.map((part) => ({ host: part.host, port: part.port }));
  }
  return options;
}
