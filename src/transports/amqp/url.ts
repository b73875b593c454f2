/**
 * Reading an AMQP broker URL the way kombu does: `amqp://`, `pyamqp://` and
 * `amqps://`, the virtual host from the path (`//` is `/`, `/lafoglia` is
 * `lafoglia`), guest/guest and localhost when left out, and TLS options from
 * `broker_use_ssl` (kombu's `ssl` names or Node's).
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { maskUrl } from "../../app/mask_url.ts";
import { ConfigurationError } from "../../errors.ts";
import { defaultPort, SCHEMES, schemesFor } from "../schemes.ts";

/** The AMQP URL schemes this adapter accepts as a broker (`amqp`, `pyamqp`, `amqps`). */
export const AMQP_SCHEMES: readonly string[] = schemesFor("broker")
  .filter((scheme) => SCHEMES[scheme].transport === "amqp");

/** TLS options passed to `node:tls` (a subset of `tls.ConnectionOptions`). */
export interface AmqpTlsOptions {
  /** Client private key (PEM). */
  key?: string;
  /** Client certificate (PEM). */
  cert?: string;
  /** Trusted CA certificates (PEM). */
  ca?: string;
  /** Passphrase of `key`. */
  passphrase?: string;
  /** Server name for SNI and certificate checks. */
  servername?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

/** Everything needed to open a connection, read from a URL and the config. */
export interface AmqpEndpoint {
  /** Host name or IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** User name. */
  username: string;
  /** Password. */
  password: string;
  /** Virtual host, `/` by default. */
  vhost: string;
  /** AMQP heartbeat in seconds (0 = none). */
  heartbeat: number;
  /** Socket connect timeout in milliseconds. */
  connectTimeoutMs: number;
  /** TLS options, or undefined for plain TCP. */
  tls?: AmqpTlsOptions;
  /** The URL with its password masked, for messages. */
  maskedUrl: string;
}

const CERT_REQS: Record<string, boolean> = {
  "0": false,
  "1": true,
  "2": true,
  CERT_NONE: false,
  CERT_OPTIONAL: true,
  CERT_REQUIRED: true,
};

async function readPem(path: unknown, key: string): Promise<string> {
  try {
    return await Deno.readTextFile(String(path));
  } catch (error) {
    throw new ConfigurationError(
      `Invalid broker_use_ssl.${key} ${JSON.stringify(path)}: cannot read the file ` +
        `(${(error as Error).message}).`,
      { cause: error },
    );
  }
}

/**
 * Turns `broker_use_ssl` into Node TLS options. Accepts kombu's names
 * (`keyfile`, `certfile`, `ca_certs`, `cert_reqs`, `server_hostname`) and
 * Node's (`key`, `cert`, `ca`, `passphrase`, `servername`, `rejectUnauthorized`).
 */
export async function tlsOptionsFrom(
  useSsl: Record<string, unknown> | boolean | null,
): Promise<AmqpTlsOptions> {
  if (useSsl === null || typeof useSsl === "boolean") return {};
  const tls: AmqpTlsOptions = {};
  for (const [key, value] of Object.entries(useSsl)) {
    switch (key) {
      case "keyfile":
        tls.key = await readPem(value, key);
        break;
      case "certfile":
        tls.cert = await readPem(value, key);
        break;
      case "ca_certs":
        tls.ca = await readPem(value, key);
        break;
      case "cert_reqs":
        if (!(String(value) in CERT_REQS)) {
          throw new ConfigurationError(
            `Invalid broker_use_ssl.cert_reqs ${JSON.stringify(value)}. Accepted: ` +
              `CERT_NONE (0), CERT_OPTIONAL (1), CERT_REQUIRED (2).`,
          );
        }
        tls.rejectUnauthorized = CERT_REQS[String(value)];
        break;
      case "server_hostname":
      case "servername":
        tls.servername = String(value);
        break;
      case "key":
      case "cert":
      case "ca":
      case "passphrase":
        tls[key] = String(value);
        break;
      case "rejectUnauthorized":
        tls.rejectUnauthorized = Boolean(value);
        break;
      default:
        throw new ConfigurationError(
          `Unknown broker_use_ssl option ${JSON.stringify(key)}. Accepted: keyfile, certfile, ` +
            `ca_certs, cert_reqs, server_hostname, key, cert, ca, passphrase, servername, ` +
            `rejectUnauthorized.`,
        );
    }
  }
  return tls;
}

function decode(part: string, fallback: string): string {
  return part === "" ? fallback : decodeURIComponent(part);
}

/** Query options an AMQP URL may carry; any other is an error naming the URL. */
const QUERY_KEYS: readonly string[] = ["heartbeat"];

function invalidUrl(url: string, why: string): never {
  throw new ConfigurationError(`Invalid broker URL ${JSON.stringify(maskUrl(url))}: ${why}.`);
}

/** The port as written (WHATWG URLs drop `:5672`-style defaults and refuse others with no reason). */
function checkPort(url: string): void {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port === undefined || port === "") return;
  const number = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(number >= 1 && number <= 65535)) {
    invalidUrl(url, `the port must be a number from 1 to 65535, not ${JSON.stringify(port)}`);
  }
}

/** The virtual host from the path (`//` is `/`); bad percent-encoding is an error naming the URL. */
function virtualHost(path: string, url: string): string {
  try {
    return decode(path, "/");
  } catch {
    return invalidUrl(
      url,
      `the virtual host ${JSON.stringify(path)} is not valid percent-encoding`,
    );
  }
}

/** `?heartbeat=N`: a number of seconds, 0 or more. */
function queryHeartbeat(query: URLSearchParams, url: string): number | undefined {
  for (const key of query.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      invalidUrl(url, `unknown option ${JSON.stringify(key)} (accepted: ${QUERY_KEYS.join(", ")})`);
    }
  }
  const text = query.get("heartbeat");
  if (text === null) return undefined;
  const seconds = text.trim() === "" ? NaN : Number(text);
  if (!(seconds >= 0 && Number.isFinite(seconds))) {
    invalidUrl(
      url,
      `heartbeat must be a number of seconds, 0 or more, not ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

/**
 * Reads an AMQP URL (kombu's rules) and the connection settings of `config`.
 *
 * @example
 * ```ts
 * import { parseAmqpUrl } from "./url.ts";
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const endpoint = await parseAmqpUrl("amqp://guest:guest@localhost:5672//", DEFAULT_SETTINGS);
 * console.assert(endpoint.vhost === "/");
 * ```
 */
export async function parseAmqpUrl(url: string, config: ResolvedConfig): Promise<AmqpEndpoint> {
  checkPort(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigurationError(
      `Invalid broker URL ${JSON.stringify(maskUrl(url))}: not a URL.`,
      { cause: error },
    );
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (!AMQP_SCHEMES.includes(scheme)) {
    throw new ConfigurationError(
      `Invalid broker URL ${JSON.stringify(maskUrl(url))}: the AMQP adapter accepts ` +
        `${AMQP_SCHEMES.map((s) => `${s}://`).join(", ")}.`,
    );
  }
  const useTls = scheme === "amqps" || Boolean(config.broker_use_ssl);
  const path = parsed.pathname.startsWith("/") ? parsed.pathname.slice(1) : parsed.pathname;
  const heartbeat = queryHeartbeat(parsed.searchParams, url) ?? config.broker_heartbeat ?? 0;
  return {
    hostname: decode(parsed.hostname.replace(/^\[|\]$/g, ""), "localhost"),
    port: parsed.port ? Number(parsed.port) : defaultPort(useTls ? "amqps" : "amqp")!,
    username: decode(parsed.username, "guest"),
    password: decode(parsed.password, "guest"),
    vhost: virtualHost(path, url),
    heartbeat: Number.isFinite(heartbeat) && heartbeat > 0 ? Math.round(heartbeat) : 0,
    connectTimeoutMs: Math.max(1, config.broker_connection_timeout) * 1000,
    tls: useTls ? await tlsOptionsFrom(config.broker_use_ssl) : undefined,
    maskedUrl: maskUrl(url),
  };
}
